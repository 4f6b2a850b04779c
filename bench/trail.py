"""Rows 9 and 10: offline trail verification, and inclusion proofs at two sizes.

Row 9 exports the whole log of a real trail (``Trail.export_jsonl``: the events dataset
replayed by the trail projection) and times ``client.trail_verify.verify_export`` with
the public key, against a plain loop taking SHA-256 of each line of the same file.

Row 10 times ``Trail.inclusion_proof`` (what ``GET /v1/trail/proof`` runs) for random
leaves on the big and the small views datasets, alternately; median of each.
"""

from __future__ import annotations

import hashlib
import random
import time

from bench.accesslog import cached_datasets, size_label, sizes_note, view_store
from bench.cli import Options
from bench.datasets import events_dataset
from bench.env import BenchEnv
from bench.report import Report, Row
from bench.timing import interleaved, median, percentile

DESCRIBE_VERIFY = {"9": ("offline trail verification", "entries/s", ">=", 0.3, "ratio")}
DESCRIBE_PROOFS = {"10": ("inclusion proof, big vs small", "ms", "<=", 2.0, "ratio")}


def _signer() -> object:
    # proofs sign nothing: any trail key will do
    from keys.checkpoint import CheckpointSigner

    return CheckpointSigner.from_entry(CheckpointSigner.generate())


def run_verify(env: BenchEnv, report: Report, opts: Options) -> None:
    """Row 9."""
    from client.trail_verify import verify_export
    from coffre.bootstrap import build
    from projections.trail_export import TrailQuery
    from vault.blobstore_memory import MemoryBlobStore

    count = opts.verify_events
    # quick: the log row 6 has just replayed (same scratch database), else a cached one
    dbname = env.scratch_name("events") if opts.quick else f"coffre_bench_verify_{count}"
    dataset = events_dataset(env, count, dbname=dbname)
    coffre = build(env.settings(dataset.dbname, "unused"), blobs=MemoryBlobStore())
    path = env.work / "trail-export.jsonl"
    try:
        while coffre.runner.step("trail") > 0:  # cached after the first run
            pass
        with coffre.views.transaction() as cursor:
            # checkpoints of earlier runs were signed with their own (random) master key
            cursor.execute("DELETE FROM trail_checkpoints")
        trail = coffre.trail
        with path.open("w") as out:
            summary = trail.export_jsonl(TrailQuery(), out)
        public_key = trail.signer.public_key
    finally:
        coffre.close()
    entries = getattr(summary, "count", None) or dataset.count

    def ours() -> None:
        verify_export(path, public_key)

    def base() -> None:
        sha256 = hashlib.sha256
        with path.open("rb") as handle:
            for line in handle:
                sha256(line).digest()

    reps = 1 if opts.quick else 3
    a, b = interleaved(ours, base, reps)
    report.add(
        Row(
            "9",
            f"offline trail verification ({entries:,}-entry log export)",
            "entries/s",
            entries / median(a),
            entries / median(b),
            "plain loop, SHA-256 of each line",
            ">=",
            0.3,
            notes=[f"export of {path.stat().st_size / 1024**2:.0f} MiB, median of {reps}"],
        )
    )


def run_proofs(env: BenchEnv, report: Report, opts: Options) -> None:
    """Row 10."""
    from projections.trail_query import Trail

    big, small = cached_datasets(env, opts)
    samples = 200 if opts.quick else 2000
    rng = random.Random(5)
    signer = _signer()
    stores = {"big": view_store(env, big.dbname), "small": view_store(env, small.dbname)}
    try:
        trails = {k: Trail(s, signer) for k, s in stores.items()}  # type: ignore[arg-type]
        sizes = {k: t.size() for k, t in trails.items()}
        times: dict[str, list[float]] = {"big": [], "small": []}

        def proof(which: str) -> None:
            size = sizes[which]
            start = time.perf_counter()
            trails[which].inclusion_proof(rng.randrange(size), size)
            times[which].append(time.perf_counter() - start)

        for _ in range(30):
            proof("big")
            proof("small")
        for key in times:
            times[key].clear()
        for _ in range(samples):
            proof("big")
            proof("small")
    finally:
        for store in stores.values():
            store.close()
    p50 = {k: median(v) * 1000 for k, v in times.items()}
    p99 = {k: percentile(v, 99) * 1000 for k, v in times.items()}
    report.add(
        Row(
            "10",
            f"inclusion proof at {size_label(sizes['big'])} vs "
            f"{size_label(sizes['small'])} entries",
            "ms",
            p50["big"],
            p50["small"],
            f"median at {size_label(sizes['small'])}",
            "<=",
            2.0,
            notes=[
                sizes_note(big, small),
                f"{samples} proofs each, interleaved; "
                f"p99 {p99['big']:.2f} vs {p99['small']:.2f} ms",
            ],
        )
    )

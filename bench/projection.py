"""Row 6: projection catch-up over a log of valid events, against raw COPY.

The views are emptied (bench database only), then ``ProjectionRunner`` as
``coffre.bootstrap.build`` makes it (every projection it wires) replays the whole log
with ``catch_up``, exactly what ``coffre projections run`` does after a rebuild or a long
outage: each batch read and decoded once, then applied by each projection in its own
transaction. Events/s = events in the log / wall time of the whole catch-up; the note
splits that time into reading the log and each projection's batches (rows and commit).

The baseline COPYs rows of the same size and shape (``vault_events``' columns and
indexes, the same generated events, COPY text prepared beforehand) into a scratch table
of the same database.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from bench.cli import Options
from bench.datasets import event_rows, events_dataset
from bench.env import BenchEnv
from bench.report import Report, Row

DESCRIBE = {
    "6": ("projection catch-up (all projections)", "events/s", ">=", 0.1, "ratio"),
    "6b": ("projection catch-up, the trail in a worker of its own", "events/s", "", 0.0, "ratio"),
}
#: row 6b's two workers, as docs/operations.md deploys them (``projections run --only``)
WORKERS = (("trail",), ("access_log", "notifications", "access_views_facts", "representations"))

COPY_TABLE = """
DROP TABLE IF EXISTS bench_copy;
CREATE TABLE bench_copy (
    originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text,
    state bytea, notification_id bigint NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX bench_copy_nid ON bench_copy (notification_id);
"""


def raw_copy_rate(env: BenchEnv, dbname: str, count: int) -> float:
    """Rows/s of a raw COPY of ``count`` event rows (text prepared beforehand)."""
    lines = [
        f"{oid}\t{version}\t{topic}\t\\\\x{state.hex()}\t{nid}\n"
        for oid, version, topic, state, nid in event_rows(count)
    ]
    blocks = ["".join(lines[i : i + 2000]) for i in range(0, len(lines), 2000)]
    with env.connect(dbname) as conn:
        conn.execute(COPY_TABLE)
        conn.commit()
        start = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY bench_copy (originator_id, originator_version, topic, state, notification_id)"
                " FROM STDIN"
            ) as copy,
        ):
            for block in blocks:
                copy.write(block)
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE bench_copy")
    return len(lines) / elapsed


def reset_views(runner: Any, store: Any) -> None:
    """Empty every projection's tables and positions (a bench database only)."""
    tables = [t for p in runner.projections.values() for t in p.tables]
    with store.transaction() as cursor:
        cursor.execute(f"TRUNCATE {', '.join([*tables, 'trail_checkpoints'])}")
        for name in runner.projections:
            # Only the projections' positions: the recorder keeps its own row there.
            cursor.untrack(name)


def run(env: BenchEnv, report: Report, opts: Options) -> None:
    """Row 6."""
    from coffre.bootstrap import build
    from vault.blobstore_memory import MemoryBlobStore

    dbname = env.scratch_name("events") if opts.quick else None
    dataset = events_dataset(env, opts.events, dbname=dbname)
    coffre = build(env.settings(dataset.dbname, "unused"), blobs=MemoryBlobStore())
    try:
        runner = coffre.runner
        reset_views(runner, coffre.views)
        start = time.perf_counter()
        runner.catch_up()
        elapsed = time.perf_counter() - start
        per = dict(runner.seconds)
        batch = runner.batch_size
        positions = {name: coffre.views.position(name) for name in runner.projections}
    finally:
        coffre.close()
    assert all(p >= dataset.count for p in positions.values()), positions
    baseline = raw_copy_rate(env, dataset.dbname, min(dataset.count, 200_000))
    split = two_workers(env, dataset.dbname)
    how = "cached" if dataset.cached else f"loaded in {dataset.load_seconds:.0f} s"
    # events/s of each share of the wall time: reading and decoding the log once, then
    # each projection's own batches (its rows and its commit)
    detail = ", ".join(f"{name} {dataset.count / s:,.0f} events/s" for name, s in per.items())
    report.add(
        Row(
            "6",
            f"projection catch-up ({len(per) - 1} projections), {dataset.count:,} events",
            "events/s",
            dataset.count / elapsed,
            baseline,
            "raw COPY of event rows, rows/s",
            ">=",
            0.1,
            notes=[
                f"{elapsed:.0f} s for {dataset.count:,} events, {batch} per batch; split of that "
                f"time, as events/s of each part: {detail}; dataset {how}"
            ],
        )
    )
    slowest = max(split.values())
    report.add(
        Row(
            "6b",
            f"projection catch-up, trail in a worker of its own, {dataset.count:,} events",
            "events/s",
            dataset.count / slowest,
            baseline,
            "raw COPY of event rows, rows/s: row 6's",
            "",
            0.0,
            notes=[
                "two processes started together, each `coffre projections run --only` as "
                "docs/operations.md deploys them: "
                + ", ".join(f"{'+'.join(names)} {s:.1f} s" for names, s in split.items())
                + "; the figure is the slower one's"
            ],
        )
    )


def two_workers(env: BenchEnv, dbname: str) -> dict[tuple[str, ...], float]:
    """Seconds each of ``WORKERS`` takes to catch up from empty views, started at once
    in processes of their own (spawned: nothing of this process is shared)."""
    from coffre.bootstrap import build
    from vault.blobstore_memory import MemoryBlobStore

    settings = env.settings(dbname, "unused")
    coffre = build(settings, blobs=MemoryBlobStore())
    try:
        reset_views(coffre.runner, coffre.views)
    finally:
        coffre.close()
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    workers = [
        context.Process(target=_worker, args=(settings, names, ready, go, results))
        for names in WORKERS
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            ready.get(timeout=120)  # built: the clock starts with the catch-ups
        go.set()
        seconds = dict(results.get(timeout=3600) for _ in workers)
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    return seconds


def _worker(settings: Any, names: tuple[str, ...], ready: Any, go: Any, results: Any) -> None:
    from coffre.bootstrap import build
    from vault.blobstore_memory import MemoryBlobStore

    coffre = build(settings, blobs=MemoryBlobStore())
    try:
        runner = coffre.runner.select(list(names))
        ready.put(names)
        go.wait()
        start = time.perf_counter()
        runner.catch_up()
        results.put((names, time.perf_counter() - start))
    finally:
        coffre.close()

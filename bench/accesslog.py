"""Rows 7 and 8: a patient's access-log page (50 entries), p99, at two sizes and raw.

``AccessLog.page`` (what ``GET .../access-log`` runs) on the big views dataset
(10M entries; 100 per patient) and on the small one (10k), queried alternately for
random patients; and a raw indexed ``SELECT`` of the same 50 rows on the big one through
a bare prepared psycopg connection.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

import psycopg

from bench.cli import Options
from bench.datasets_views import ViewsDataset, views_dataset
from bench.env import BenchEnv
from bench.report import Report, Row
from bench.timing import percentile

DESCRIBE = {
    "7": ("access-log page p99, big vs small", "ms", "<=", 1.5, "ratio"),
    "8": ("access-log page p99 vs raw indexed SELECT", "ms", "<=", 3.0, "ratio"),
}

RAW = "SELECT * FROM access_log WHERE space_id = %s ORDER BY entry_id DESC LIMIT 50"


def size_label(n: int) -> str:
    """10000000 -> 10M, 10000 -> 10k."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def datasets(env: BenchEnv, opts: Options) -> tuple[ViewsDataset, ViewsDataset]:
    """The big and the small views datasets (cached; scratch ones in quick mode)."""
    quick = opts.quick

    def say(message: str) -> None:
        print(f"   {message}", file=sys.stderr, flush=True)

    big = views_dataset(
        env,
        opts.views_size,
        budget=opts.load_budget,
        dbname=env.scratch_name("views_big") if quick else None,
        progress=None if quick else say,
    )
    small = views_dataset(
        env, opts.views_small, dbname=env.scratch_name("views_small") if quick else None
    )
    return big, small


_CACHE: dict[str, tuple[ViewsDataset, ViewsDataset]] = {}


def cached_datasets(env: BenchEnv, opts: Options) -> tuple[ViewsDataset, ViewsDataset]:
    """``datasets`` once per run (rows 7, 8 and 10 share them), their indexes read into
    the cache (``prewarm``)."""
    if env.run_id not in _CACHE:
        loaded = datasets(env, opts)
        for dataset in loaded:
            PREWARMED[dataset.dbname] = prewarm(env, dataset.dbname)
        _CACHE[env.run_id] = loaded
    return _CACHE[env.run_id]


#: what rows 7, 8 and 10 read: the log's covering page index, the trail's node table
WARM_RELATIONS = ("access_log_page", "trail_nodes", "trail_nodes_pkey")
#: per database, how its relations were warmed (a note of rows 7 and 10)
PREWARMED: dict[str, str] = {}


def prewarm(env: BenchEnv, dbname: str) -> str:
    """Read the relations the timed queries use into the operating system's cache
    (``pg_prewarm``, mode ``read``) and say how long it took.

    A server answering these pages all day holds them in memory; without this, the
    big dataset's p99 measures the disk after an earlier row (row 6's catch-up of 1M
    events) evicted it: 46 ms at 10M against 2 ms at 10k on 2026-12-04.
    """
    start = time.perf_counter()
    try:
        with env.connect(dbname, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            blocks = sum(
                conn.execute("SELECT pg_prewarm(%s, 'read')", [name]).fetchone()[0]
                for name in WARM_RELATIONS
            )
    except psycopg.Error as error:
        return f"not prewarmed ({type(error).__name__})"
    mib, seconds = blocks * 8192 / 2**20, time.perf_counter() - start
    return f"{mib:,.0f} MiB of indexes and nodes read into the cache first, {seconds:.0f} s"


def view_store(env: BenchEnv, dbname: str) -> Any:
    """The product's view store on ``dbname``."""
    from projections.store import PostgresViewStore

    return PostgresViewStore({**env.pg_params, "dbname": dbname})


def sizes_note(big: ViewsDataset, small: ViewsDataset) -> str:
    """Which sizes were measured, and how the big one was made."""
    reached = (
        f"{size_label(big.size)} entries"
        if big.size >= big.target
        else f"{big.size:,} entries (PARTIAL: {size_label(big.target)} target; loading "
        "resumes next run)"
    )
    how = "cached" if big.cached else f"loaded {big.load_seconds:.0f} s so far"
    warmed = PREWARMED.get(big.dbname)
    return (
        f"big = {reached}, {big.spaces:,} patients ({how}"
        + (f"; {warmed}" if warmed else "")
        + f"); small = {size_label(small.size)} entries, {small.spaces:,} patients"
    )


def run(env: BenchEnv, report: Report, opts: Options) -> None:
    """Rows 7 and 8."""
    from projections.access_log import AccessLog

    big, small = cached_datasets(env, opts)
    samples = 300 if opts.quick else 3000
    rng = random.Random(11)
    big_store, small_store = view_store(env, big.dbname), view_store(env, small.dbname)
    raw = env.connect(big.dbname, autocommit=True)
    try:
        logs = {"big": AccessLog(big_store), "small": AccessLog(small_store)}
        spaces = {"big": big, "small": small}
        times: dict[str, list[float]] = {"big": [], "small": [], "raw": []}

        def once(which: str) -> None:
            dataset = spaces["big" if which == "raw" else which]
            space = dataset.space_id(
                rng.randrange(min(dataset.spaces, max(1, dataset.size // 100)))
            )
            start = time.perf_counter()
            if which == "raw":
                rows = raw.execute(RAW, [space], prepare=True).fetchall()
            else:
                rows = logs[which].page(space, limit=50).entries
            times[which].append(time.perf_counter() - start)
            assert len(rows) == 50, (which, len(rows))

        for _ in range(50):  # warm caches and pools
            for which in ("big", "small", "raw"):
                once(which)
        for key in times:
            times[key].clear()
        for _ in range(samples):
            for which in ("big", "small", "raw"):
                once(which)
    finally:
        raw.close()
        big_store.close()
        small_store.close()
    p99 = {k: percentile(v, 99) * 1000 for k, v in times.items()}
    p50 = {k: percentile(v, 50) * 1000 for k, v in times.items()}
    medians = ", ".join(f"{k} {v:.2f} ms" for k, v in p50.items())
    report.add(
        Row(
            "7",
            f"access-log page (50) p99 at {size_label(big.size)} vs "
            f"{size_label(small.size)} entries",
            "ms",
            p99["big"],
            p99["small"],
            f"p99 at {size_label(small.size)}",
            "<=",
            1.5,
            notes=[sizes_note(big, small), f"{samples} pages each, interleaved; p50: {medians}"],
        )
    )
    report.add(
        Row(
            "8",
            f"access-log page (50) p99 at {size_label(big.size)} vs raw indexed SELECT",
            "ms",
            p99["big"],
            p99["raw"],
            "raw prepared SELECT of 50 rows, p99",
            "<=",
            3.0,
        )
    )

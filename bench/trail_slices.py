"""Does the trail slow down as the log grows? Its catch-up alone, slice by slice.

Issue 12 (item 4) measured the trail ≈ 3 times slower per event over 1M events than over
50k. This builds the trail alone from empty views over the events dataset (row 6's,
cached) and prints, for each slice of the log, its events/s in wall and in process CPU
time and the ratio of each to the first slice's, measured in the same run::

    python -m bench.trail_slices                 # 1,000,000 events, 50,000 per slice
    python -m bench.trail_slices --events 200000 --slice 20000

A ratio near 1.0 at the last slice means no per-event growth with the log's size. It
takes about as long as row 6's trail share (≈ 4 min for 1M on 2 cores), so it is not
part of ``python -m bench``.
"""

from __future__ import annotations

import argparse
import time

from bench.datasets import events_dataset
from bench.env import BenchEnv
from bench.projection import reset_views


def main(argv: list[str] | None = None) -> None:
    """Run the measurement and print one line per slice."""
    parser = argparse.ArgumentParser(prog="python -m bench.trail_slices")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--slice", type=int, default=50_000, dest="width")
    args = parser.parse_args(argv)
    if args.events <= 0 or not 0 < args.width <= args.events:
        parser.error("need 0 < --slice <= --events")

    from coffre.bootstrap import build
    from vault.blobstore_memory import MemoryBlobStore

    env = BenchEnv.from_environ(quick=False)
    dataset = events_dataset(env, args.events)
    coffre = build(env.settings(dataset.dbname, "unused"), blobs=MemoryBlobStore())
    try:
        reset_views(coffre.runner, coffre.views)
        trail = coffre.runner.select(["trail"])
        marks = [(0, time.perf_counter(), time.process_time())]
        first: list[tuple[float, float]] = []
        print(f"trail alone over {dataset.count:,} events, {args.width:,} per slice")
        print(f"{'up to':>10} {'wall ev/s':>10} {'cpu ev/s':>10} {'÷ first (wall, cpu)':>22}")

        def progress(_name: str, position: int, head: int) -> None:
            if position - marks[-1][0] < args.width and position < head:
                return
            marks.append((position, time.perf_counter(), time.process_time()))
            (p0, w0, c0), (p1, w1, c1) = marks[-2], marks[-1]
            wall, cpu = (p1 - p0) / (w1 - w0), (p1 - p0) / max(c1 - c0, 1e-9)
            if not first:
                first.append((wall, cpu))
            print(
                f"{p1:>10,} {wall:>10,.0f} {cpu:>10,.0f} "
                f"{wall / first[0][0]:>11.2f} {cpu / first[0][1]:>10.2f}",
                flush=True,
            )

        started = time.perf_counter()
        trail.catch_up(progress)
        elapsed = time.perf_counter() - started
        print(f"all: {marks[-1][0] / elapsed:,.0f} events/s in {elapsed:.0f} s")
    finally:
        coffre.close()


if __name__ == "__main__":
    main()

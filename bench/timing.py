"""Small measuring helpers: interleaved repetitions, percentiles, fixed-duration loads."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100), nearest-rank on the sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(
    ours: Callable[[], Any], base: Callable[[], Any], reps: int
) -> tuple[list[float], list[float]]:
    """Time ``ours`` and ``base`` alternately ``reps`` times each (ABBA order), so that
    a noisy neighbour hits both sides alike. Returns both lists of seconds."""
    a: list[float] = []
    b: list[float] = []
    for n in range(reps):
        if n % 2 == 0:
            a.append(timed(ours))
            b.append(timed(base))
        else:
            b.append(timed(base))
            a.append(timed(ours))
    return a, b


def median(values: list[float]) -> float:
    """The median (NaN when empty)."""
    return statistics.median(values) if values else float("nan")


def concurrent_rate(
    work: Callable[[int], Callable[[], Any]], threads: int, seconds: float
) -> tuple[float, int, list[str]]:
    """Run ``work(i)()`` in a loop in ``threads`` threads for ``seconds``.

    ``work(i)`` prepares thread ``i`` (its connection, its patient) and returns the
    callable one operation is. Returns (operations per second, operations, errors).
    """
    ready = threading.Barrier(threads + 1)
    stop = threading.Event()
    counts = [0] * threads
    errors: list[str] = []

    def run(i: int) -> None:
        try:
            op = work(i)
        except Exception as error:
            errors.append(f"setup: {type(error).__name__}: {error}")
            ready.wait()
            return
        ready.wait()
        n = 0
        while not stop.is_set():
            try:
                op()
            except Exception as error:
                if len(errors) < 5:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            n += 1
        counts[i] = n

    pool = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    ready.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    total = sum(counts)
    return total / elapsed, total, errors

"""``python -m bench [--quick] [--json PATH] [--only 1,4,...]``: run, print, write JSON.

``main(argv)`` is the entry point ``python -m bench`` calls; it returns the exit status
(0 when every selected row was measured, 1 when one failed to measure: a missed target
is reported, not an error).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.env import BenchEnv, BenchSetupError
from bench.report import Report, Row


@dataclass(frozen=True)
class Options:
    """What one run measures, and on which sizes."""

    quick: bool
    views_size: int  # rows 7, 8, 10: the large size
    views_small: int  # ... and the small one
    events: int  # row 6
    verify_events: int  # row 9
    transfer_mib: int  # rows 1, 2
    memory_mib: int  # row 11
    seconds: float  # rows 4, 5: duration of each load
    load_budget: float  # seconds a run may spend extending the big views dataset
    workers: int | None  # row 5: uvicorn workers (default: COFFRE_WORKERS's default)


@dataclass(frozen=True)
class Family:
    """Rows measured together (they share a setup)."""

    rows: tuple[str, ...]
    run: Callable[[BenchEnv, Report, Options], None]
    describe: dict[str, tuple[str, str, str, float, str]]  # id -> figure, unit, op, target, on


def _families() -> list[Family]:
    from bench import accesslog, crypto, eventstore, projection, reads, spacesize, trail, transfers

    return [
        Family(("1", "2"), transfers.run_throughput, transfers.DESCRIBE),
        Family(("3",), lambda env, report, _: crypto.run(env, report), {}),
        Family(("4",), reads.run_service, reads.DESCRIBE_SERVICE),
        Family(("5",), reads.run_http, reads.DESCRIBE_HTTP),
        Family(("6",), projection.run, projection.DESCRIBE),
        Family(("7", "8"), accesslog.run, accesslog.DESCRIBE),
        Family(("9",), trail.run_verify, trail.DESCRIBE_VERIFY),
        Family(("10",), trail.run_proofs, trail.DESCRIBE_PROOFS),
        Family(("11",), transfers.run_memory, transfers.DESCRIBE_MEMORY),
        Family(("12", "13"), spacesize.run, spacesize.DESCRIBE),
        Family(("14",), eventstore.run, eventstore.DESCRIBE),
    ]


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Every hot path measured against its physical limit, side by side.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument(
        "--json", type=Path, help="where to write the JSON (default: bench/results/)"
    )
    parser.add_argument("--only", help="comma-separated row numbers, e.g. 1,4,7")
    parser.add_argument(
        "--views-size", type=int, help="entries of the big views dataset (7, 8, 10)"
    )
    parser.add_argument("--events", type=int, help="events replayed by the projections (6)")
    parser.add_argument(
        "--load-budget",
        type=float,
        default=900.0,
        help="seconds a run may spend extending the big views dataset (resumed next run)",
    )
    parser.add_argument("--workers", type=int, help="uvicorn workers of the served API (5)")
    parser.add_argument("--seconds", type=float, help="duration of each concurrent load (4, 5)")
    return parser.parse_args(argv)


def options(args: argparse.Namespace) -> Options:
    """Sizes for a quick or a full run, with the command line's overrides."""
    quick = bool(args.quick)
    return Options(
        quick=quick,
        views_size=args.views_size or (50_000 if quick else 10_000_000),
        views_small=1_000 if quick else 10_000,
        events=args.events or (5_000 if quick else 1_000_000),
        verify_events=5_000 if quick else 100_000,  # quick: row 6's log
        transfer_mib=2 if quick else 10,
        memory_mib=32 if quick else 1024,
        seconds=args.seconds or (2.0 if quick else 15.0),
        load_budget=args.load_budget,
        workers=args.workers,
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; print the table; write the JSON. Returns the exit status."""
    args = parse(argv)
    opts = options(args)
    only = {x.strip() for x in args.only.split(",")} if args.only else None
    report = Report(mode="quick" if opts.quick else "full")
    started = time.perf_counter()
    try:
        env = BenchEnv.from_environ(quick=opts.quick)
    except BenchSetupError as error:
        _say(f"error: {error}")
        return 2
    failed = False
    try:
        report.machine["postgres"] = env.pg_version()
        report.machine["postgres_settings"] = env.pg_settings()
        report.settings = {k: v for k, v in opts.__dict__.items()}
        for family in _families():
            selected = [r for r in family.rows if only is None or r in only]
            if not selected:
                continue
            t0 = time.perf_counter()
            _say(f"-- rows {', '.join(family.rows)} ...")
            before = len(report.rows)
            try:
                family.run(env, report, opts)
            except Exception as error:
                failed = True
                _say(traceback.format_exc())
                for row_id in family.rows:
                    if not any(r.id.startswith(row_id) for r in report.rows[before:]):
                        report.add(_failed(row_id, family, f"{type(error).__name__}: {error}"))
            report.rows[before:] = [
                r for r in report.rows[before:] if only is None or r.id.rstrip("abcdefgh*") in only
            ]
            for row in report.rows[before:]:
                _say(f"   {row.id}: {row.value} vs {row.baseline} -> {row.ratio} ({row.met})")
                if row.value is None and row.error is None:
                    failed = True
            _say(f"   ({time.perf_counter() - t0:.0f} s)")
    finally:
        env.close()
    report.seconds = time.perf_counter() - started
    report.rows.sort(key=_order)
    print(report.table())
    print()
    print(report.notes())
    print(
        f"\n{report.mode} run: {report.seconds:.0f} s on {report.machine['nproc']} cores, "
        f"{report.machine['ram_gib']} GiB, {report.machine.get('postgres', '')}"
    )
    path = args.json or Path(__file__).parent / "results" / f"latest-{report.mode}.json"
    report.write_json(path)
    _say(f"JSON: {path}")
    return 1 if failed else 0


def _failed(row_id: str, family: Family, error: str) -> Row:
    figure, unit, op, target, on = family.describe.get(
        row_id, (f"row {row_id}", "", ">=", 0, "ratio")
    )
    return Row(row_id, figure, unit, None, None, "", op, target, on, error=error)  # type: ignore[arg-type]


def _order(row: Row) -> tuple[int, str]:
    digits = "".join(c for c in row.id if c.isdigit())
    return int(digits or 0), row.id

"""``python -m bench.soak``: load and soak ``coffre serve`` (issue 16).

Deploys ``coffre serve`` with several workers on a scratch PostgreSQL database and S3
bucket (dropped at the end), beside a projection worker, provisions patients and
professionals (``bench.soak_setup``), then runs a bounded mix of operations from client
threads on loopback (``bench.soak_load``): reads >> deposits > grants, access-log pages,
notifications. Every ``--every`` seconds it prints throughput and p50/p99 per operation,
errors by status and the resident sizes of the server's processes (master and workers,
from /proc), the projection worker and this client. At the end: a summary table, the
resident sizes over time and the verdict (``bench.soak_report``: memory flat, no error).
The time series goes to ``bench/results/soak-<time>.json``.

Exit status: 0 on PASS, 1 on FAIL, 2 when a server is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.env import ROOT, BenchEnv, BenchSetupError
from bench.soak_load import MIB, MIX, Recorder, run_clients
from bench.soak_report import (
    interval_line,
    memory_table,
    per_op,
    replaced_workers,
    sample,
    summary_table,
    verdict,
    verdict_text,
)
from bench.soak_setup import soak_deployment


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=20.0, help="duration of the load")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (>= 2)")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--patients", type=int, default=24, help="patients' spaces")
    parser.add_argument("--professionals", type=int, default=4, help="reading professionals")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="at most this many operations/s in all (0: none)"
    )
    parser.add_argument("--max-size", type=float, default=4.0, help="largest document, MiB")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between lines")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument(
        "--warmup", type=float, help="seconds left out of the memory verdict (default: 10%%)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout, seconds")
    parser.add_argument("--port", type=int, default=18400, help="API port (provider: +1)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--mix", type=_mix, help="weights, e.g. read=50,read_pro=50 (default: the module's MIX)"
    )
    parser.add_argument("--json", type=Path, help="default: bench/results/soak-<time>.json")
    parser.add_argument("--logs", type=Path, help="keep the server's logs in this directory")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="COFFRE_NAME=VALUE",
        help="a setting for the served workers (repeatable), e.g. COFFRE_CACHE_EVENTS=2000",
    )
    return parser.parse_args(argv)


def _mix(text: str) -> dict[str, int]:
    mix = {op: 0 for op in MIX}
    for part in text.split(","):
        op, _, weight = part.partition("=")
        if op.strip() not in MIX:
            raise argparse.ArgumentTypeError(f"unknown operation {op!r}; known: {', '.join(MIX)}")
        mix[op.strip()] = int(weight)
    return mix


def _say(text: str) -> None:
    print(text, flush=True)


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "?"


def main(argv: list[str] | None = None) -> int:
    """Deploy, load, report; the exit status says the verdict."""
    args = parse(argv)
    seconds = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else seconds / 10
    try:
        env = BenchEnv.from_environ(quick=seconds < 300)
    except BenchSetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started_at = datetime.now(UTC)
    try:
        return _run(env, args, seconds, warmup, started_at)
    except BenchSetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        env.close()


def _run(
    env: BenchEnv, args: argparse.Namespace, seconds: float, warmup: float, started_at: datetime
) -> int:
    largest = int(args.max_size * MIB)
    setup_began = time.monotonic()
    with soak_deployment(
        env,
        workers=args.workers,
        patients=args.patients,
        professionals=args.professionals,
        port=args.port,
        seed_document=os.urandom(8192),
        extra_env=dict(item.split("=", 1) for item in args.server_env),
    ) as soaked:
        master, projections = soaked.served.process.pid, soaked.projections.pid
        setup = time.monotonic() - setup_began
        _say(
            f"soak: {args.workers} workers, {args.clients} clients, {args.patients} patients, "
            f"{args.professionals} + {args.professionals} professionals, "
            f"{args.minutes:g} min, rate {args.rate or 'unbounded'}; setup {setup:.0f} s"
        )
        recorder = Recorder()
        samples = [sample(0.0, master, projections, os.getpid())]
        stop = threading.Event()
        threads = run_clients(
            soaked,
            recorder,
            clients=args.clients,
            rate=args.rate,
            largest=largest,
            timeout=args.timeout,
            seed=args.seed,
            stop=stop,
            mix=args.mix,
        )
        intervals: list[dict[str, Any]] = []
        next_line = args.every
        seen = 0
        while True:
            elapsed = time.monotonic() - recorder.started
            if elapsed >= seconds:
                break
            time.sleep(min(args.sample, seconds - elapsed))
            elapsed = time.monotonic() - recorder.started
            samples.append(sample(elapsed, master, projections, os.getpid()))
            if soaked.served.process.poll() is not None:
                _say("the server exited")
                break
            if elapsed >= next_line or elapsed >= seconds:
                with recorder.lock:
                    fresh = recorder.records[seen:]
                    seen = len(recorder.records)
                span = elapsed - (intervals[-1]["t"] if intervals else 0.0)
                _say(interval_line(fresh, span, elapsed, samples[-1]))
                intervals.append({"t": elapsed, "ops": per_op(fresh, span)})
                next_line += args.every
        stop.set()
        for thread in threads:
            thread.join(args.timeout + 10)
        duration = time.monotonic() - recorder.started
        samples.append(sample(duration, master, projections, os.getpid()))
        logs = [soaked.served.log, env.work / "projections-soak.log"]
        log_errors = sum(_server_errors(log) for log in logs)
        replaced = replaced_workers(soaked.served.log)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        for log in logs:
            shutil.copy(log, args.logs / log.name)
    table = per_op(recorder.records, duration)
    result = verdict(table, samples, warmup, args.mix)
    _say("\n" + summary_table(table))
    _say(
        f"\ndeposited {recorder.bytes_deposited / MIB:,.0f} MiB, read "
        f"{recorder.bytes_read / MIB:,.0f} MiB in {duration / 60:.1f} min"
    )
    _say("\n" + memory_table(samples, 120.0))
    if recorder.messages:
        _say("\nfirst errors:\n" + "\n".join(recorder.messages[:10]))
    if replaced:
        _say("\nuvicorn's supervisor replaced workers:\n" + "\n".join(replaced))
    if log_errors:
        _say(f"\nserver log: {log_errors} error lines")
    _say("\n" + verdict_text(result))
    path = args.json or ROOT / "bench" / "results" / f"soak-{started_at:%Y%m%dT%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "started": started_at.isoformat(),
                "commit": _commit(),
                "settings": {
                    **vars(args),
                    "json": str(path),
                    "mix": args.mix or MIX,
                    "warmup": warmup,
                },
                "setup_seconds": setup,
                "duration_seconds": duration,
                "bytes_deposited": recorder.bytes_deposited,
                "bytes_read": recorder.bytes_read,
                "operations": table,
                "intervals": intervals,
                "rss": [s.as_json() for s in samples],
                "errors": recorder.messages,
                "server_log_errors": log_errors,
                "workers_replaced": replaced,
                "verdict": result,
            },
            indent=1,
            default=str,  # paths of the command line
        )
    )
    _say(f"JSON: {path}")
    return 0 if result["pass"] else 1


def _server_errors(log: Path) -> int:
    """How many lines of a server's JSON log are at level error or above."""
    count = 0
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("level") in ("error", "critical"):
                count += 1
    return count


if __name__ == "__main__":
    sys.exit(main())

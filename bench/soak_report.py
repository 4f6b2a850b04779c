"""The soak's figures: resident sizes from /proc, per-operation percentiles, the verdict.

**Flat memory** is defined on the samples taken after the warm-up: split them in
quarters; the server's resident size (the master's plus every worker's) is flat when
the median of the last quarter is at most the median of the first quarter times
``FLAT_RATIO`` plus ``FLAT_SLACK`` bytes. The projection worker is judged alike, on its
own. The client's size is reported, not judged (it holds every latency it measured).
"""

from __future__ import annotations

import contextlib
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.soak_load import OPS, Record

MIB = 1024 * 1024
FLAT_RATIO = 1.10
FLAT_SLACK = 8 * MIB


def rss(pid: int) -> int:
    """``pid``'s resident size in bytes (0 if it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    """``pid``'s child processes (uvicorn's workers, multiprocessing's resource tracker)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return sorted(set(found))


def is_helper(pid: int) -> bool:
    """Whether child ``pid`` is multiprocessing's resource tracker, not a worker."""
    with contextlib.suppress(OSError):
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


@dataclass
class Sample:
    """Resident sizes at one instant (bytes)."""

    t: float
    master: int
    workers: dict[int, int]
    helpers: int  # the master's other children (multiprocessing's resource tracker)
    projections: int
    client: int

    @property
    def server(self) -> int:
        """The resident size of the master and every child of it, workers and helpers."""
        return self.master + sum(self.workers.values()) + self.helpers

    def as_json(self) -> dict[str, Any]:
        """For the JSON time series."""
        return {
            "t": round(self.t, 1),
            "master": self.master,
            "workers": {str(k): v for k, v in self.workers.items()},
            "helpers": self.helpers,
            "server": self.server,
            "projections": self.projections,
            "client": self.client,
        }


def sample(t: float, master: int, projections: int, client: int) -> Sample:
    """The resident sizes of the server's processes, the projection worker and us."""
    kids = children(master)
    helpers = [p for p in kids if is_helper(p)]
    return Sample(
        t,
        rss(master),
        {p: rss(p) for p in kids if p not in helpers},
        sum(rss(p) for p in helpers),
        rss(projections),
        rss(client),
    )


def replaced_workers(log: Path) -> list[str]:
    """The supervisor's lines about workers it lost or killed, from uvicorn's log: one
    that died, or that left its ping unanswered for ``COFFRE_WORKER_HEALTHCHECK_TIMEOUT``
    (the "Child process [pid] died" that follows its SIGKILL)."""
    if not log.exists():
        return []
    return [
        line.strip()
        for line in log.read_text(errors="replace").splitlines()
        if "Child process [" in line or "was not ready in time" in line
    ]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def per_op(records: list[Record], seconds: float) -> dict[str, dict[str, Any]]:
    """Per operation: count, ops/s over ``seconds``, p50/p99/max ms of the successful
    ones, errors by label."""
    table: dict[str, dict[str, Any]] = {}
    for op in OPS:
        mine = [r for r in records if r.op == op]
        ok = [r.latency * 1000 for r in mine if r.error is None]
        table[op] = {
            "count": len(mine),
            "per_s": len(mine) / seconds if seconds > 0 else 0.0,
            "p50_ms": percentile(ok, 50),
            "p99_ms": percentile(ok, 99),
            "max_ms": max(ok, default=0.0),
            "errors": dict(Counter(r.error for r in mine if r.error is not None)),
        }
    return table


def interval_line(records: list[Record], seconds: float, elapsed: float, now: Sample) -> str:
    """One progress line: elapsed, ops/s, p50/p99 per operation, errors, sizes."""
    table = per_op(records, seconds)
    parts = [f"{elapsed:6.0f}s"]
    for op, row in table.items():
        parts.append(f"{op} {row['per_s']:.1f}/s {row['p50_ms']:.0f}/{row['p99_ms']:.0f}ms")
    errors: Counter[str] = Counter()
    for row in table.values():
        errors.update(row["errors"])
    parts.append(f"errors {dict(errors) or 0}")
    parts.append(
        f"rss server {now.server / MIB:.0f} MiB ({len(now.workers)} workers) "
        f"proj {now.projections / MIB:.0f} client {now.client / MIB:.0f}"
    )
    return " | ".join(parts)


def flat(values: list[int]) -> dict[str, Any]:
    """Whether ``values`` (post-warm-up samples) stay flat, with the figures."""
    quarter = max(1, len(values) // 4)
    first, last = values[:quarter], values[-quarter:]
    if not values:
        return {"flat": False, "first": 0, "last": 0, "limit": 0, "samples": 0}
    first_median, last_median = statistics.median(first), statistics.median(last)
    limit = first_median * FLAT_RATIO + FLAT_SLACK
    return {
        "flat": last_median <= limit,
        "first": first_median,
        "last": last_median,
        "limit": limit,
        "growth": last_median - first_median,
        "samples": len(values),
    }


def verdict(
    table: dict[str, dict[str, Any]],
    samples: list[Sample],
    warmup: float,
    mix: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Memory flat (server and projection worker) and no error, every operation of the
    mix (weight > 0) run."""
    after = [s for s in samples if s.t >= warmup] or samples
    server = flat([s.server for s in after])
    projections = flat([s.projections for s in after])
    errors = sum(sum(row["errors"].values()) for row in table.values())
    missing = [
        op for op, row in table.items() if row["count"] == 0 and (mix is None or mix.get(op))
    ]
    pids = {tuple(sorted(s.workers)) for s in samples}
    return {
        "server_memory": server,
        "projections_memory": projections,
        "errors": errors,
        "missing_operations": missing,
        "worker_sets": len(pids),  # 1 unless a worker died and was replaced
        # a replaced worker is a finding, and its replacement's warm-up is no growth
        "pass": server["flat"]
        and projections["flat"]
        and errors == 0
        and not missing
        and len(pids) == 1,
    }


def summary_table(table: dict[str, dict[str, Any]]) -> str:
    """The per-operation summary as a Markdown table."""
    lines = [
        "| operation | count | ops/s | p50 ms | p99 ms | max ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for op, row in table.items():
        errors = ", ".join(f"{k}: {v}" for k, v in row["errors"].items()) or "0"
        lines.append(
            f"| {op} | {row['count']:,} | {row['per_s']:.2f} | {row['p50_ms']:.0f} | "
            f"{row['p99_ms']:.0f} | {row['max_ms']:.0f} | {errors} |"
        )
    total = sum(row["count"] for row in table.values())
    rate = sum(row["per_s"] for row in table.values())
    errors_total = sum(sum(row["errors"].values()) for row in table.values())
    lines.append(f"| **all** | {total:,} | {rate:.2f} | | | | {errors_total} |")
    return "\n".join(lines)


def memory_table(samples: list[Sample], every: float) -> str:
    """Resident sizes every ``every`` seconds, as a Markdown table (MiB)."""
    lines = [
        "| t | master | workers | tracker | server total | projection worker | client |",
        "|---|---|---|---|---|---|---|",
    ]
    next_t = 0.0
    chosen = []
    for s in samples:
        if s.t >= next_t:
            chosen.append(s)
            next_t = s.t + every - 1
    if samples and chosen[-1] is not samples[-1]:
        chosen.append(samples[-1])
    for s in chosen:
        workers = " + ".join(f"{v / MIB:.0f}" for v in s.workers.values())
        lines.append(
            f"| {s.t / 60:.1f} min | {s.master / MIB:.0f} | {workers} | {s.helpers / MIB:.0f} | "
            f"{s.server / MIB:.0f} | "
            f"{s.projections / MIB:.0f} | {s.client / MIB:.0f} |"
        )
    return "\n".join(lines)


def verdict_text(result: dict[str, Any]) -> str:
    """The verdict in words."""
    server, proj = result["server_memory"], result["projections_memory"]

    def judged(name: str, m: dict[str, Any]) -> str:
        return (
            f"{name} memory {'flat' if m['flat'] else 'GROWING'}: last-quarter median "
            f"{m['last'] / MIB:.1f} MiB vs first-quarter median {m['first'] / MIB:.1f} MiB "
            f"(limit {m['limit'] / MIB:.1f} MiB = first x {FLAT_RATIO} + "
            f"{FLAT_SLACK // MIB} MiB; {m['samples']} samples after warm-up)"
        )

    lines = [
        judged("server (master + workers)", server),
        judged("projection worker", proj),
        f"errors: {result['errors']}",
    ]
    if result["missing_operations"]:
        lines.append(f"operations never run: {', '.join(result['missing_operations'])}")
    if result["worker_sets"] != 1:
        lines.append(
            f"the set of worker processes changed ({result['worker_sets']} sets): a worker "
            "died or was killed by uvicorn's supervisor, and the server's memory is not "
            "comparable across the change"
        )
    lines.append("VERDICT: " + ("PASS" if result["pass"] else "FAIL"))
    return "\n".join(lines)

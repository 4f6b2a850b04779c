"""Row 14: event-store write transactions/s at 16 concurrent writers, vs raw INSERTs.

Each of 16 threads calls the vault's own ``eventsourcing`` PostgreSQL recorder
(``insert_events`` of one event-sized stored event: one transaction, which that recorder
opens with ``LOCK TABLE ... IN EXCLUSIVE MODE`` and closes with ``NOTIFY``), against the
same 16 threads doing raw single-row autocommit INSERTs of the same size (row 4's
baseline). No target: the row keeps the table lock's cost in view (issue 12).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from bench.cli import Options
from bench.env import BenchEnv
from bench.reads import CALLERS, raw_inserts
from bench.report import Report, Row
from bench.timing import concurrent_rate

DESCRIBE = {"14": ("event-store write transactions/s, 16 writers", "tx/s", "", 0.0, "ratio")}


def run(env: BenchEnv, report: Report, opts: Options) -> None:
    """Row 14."""
    from eventsourcing.persistence import StoredEvent

    from coffre.bootstrap import build

    dbname = env.create_db(env.scratch_name("writes"))
    # a pool as wide as the writers, so the figure is the recorder's, not the pool's
    settings = env.settings(dbname, env.bucket("writes"), pg_pool_size=CALLERS)
    coffre = build(settings)
    state = os.urandom(450)
    try:
        recorder = coffre.vault.recorder

        def writes(_: int) -> Callable[[], Any]:
            def op() -> None:
                event = StoredEvent(uuid.uuid4(), 1, "bench.eventstore:Write", state)
                recorder.insert_events([event])

            return op

        rounds = 1 if opts.quick else 2
        ours, base, errors = [], [], []
        for _ in range(rounds):
            rate, errs = raw_inserts(env, dbname, opts.seconds)
            base.append(rate)
            errors += errs
            rate, _, errs = concurrent_rate(writes, CALLERS, opts.seconds)
            ours.append(rate)
            errors += errs
        if errors:
            raise RuntimeError("; ".join(errors[:3]))
    finally:
        coffre.close()
    report.add(
        Row(
            "14",
            DESCRIBE["14"][0],
            "tx/s",
            sum(ours) / len(ours),
            sum(base) / len(base),
            "raw single-row autocommit INSERTs/s, 16 connections",
            "",
            0.0,
            notes=[
                f"{opts.seconds:.0f} s per load, {rounds} round(s), interleaved; recorder "
                f"pool {CALLERS}; each transaction: LOCK TABLE ... EXCLUSIVE, INSERT, NOTIFY"
            ],
        )
    )

"""Ending PostgreSQL sessions from a test, as a failover or a restart ends them."""

from __future__ import annotations

import time
from typing import Any

import psycopg


def end_every_other_connection(admin: psycopg.Connection[Any], dbname: str) -> int:
    """Terminate every other backend of ``dbname`` and wait until they are gone (the
    termination is a signal the backend acts on a moment later)."""
    pids = [
        row[0]
        for row in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [dbname],
        )
    ]
    admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])
    deadline = time.monotonic() + 10
    while admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]
    ).fetchone() != (0,):
        assert time.monotonic() < deadline, "the backends never ended"
        time.sleep(0.01)
    return len(pids)

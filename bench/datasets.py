"""Big datasets, made fast with COPY and cached between runs in named databases.

* **events** (row 6, row 9): valid events of the real event types (``bench.story``
  clones) written with ``COPY`` straight into ``vault_events`` in the mapper's stored
  format, notification ids in order; the projections then read them through the real
  mapper. Database ``coffre_bench_events_<N>``.
* **views** (rows 7, 8, 10): the access log and the regulator trail of N recorded reads
  spread over N/100 patients, written with ``COPY`` into ``access_log``,
  ``access_log_documents``, ``trail_entries`` and ``trail_nodes`` as the projections
  write them: entries are canonical JSON in the trail's format, chained (``prev``,
  ``space_prev``, ``actor_prev``), and ``trail_nodes`` holds every complete Merkle
  subtree, so proofs verify against the root. Database ``coffre_bench_views_<N>``.
  Loading is resumable in steps: a run given a time budget loads what it can and
  records how far it got; the next run continues.

A marker table ``bench_dataset`` in each database says what it holds (kind, size
reached, format version); a database whose marker does not match is rebuilt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from bench.env import BenchEnv
from bench.story import STORY_VERSION, Cloner, record_story

VIEWS_VERSION = 1
MARKER = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    kind TEXT PRIMARY KEY, version INT NOT NULL, target BIGINT NOT NULL,
    loaded BIGINT NOT NULL, seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}'
)
"""

Progress = Callable[[str], None]


def _marker(env: BenchEnv, dbname: str, kind: str) -> dict[str, Any] | None:
    if not env.db_exists(dbname):
        return None
    with env.connect(dbname) as conn:
        exists = conn.execute("SELECT to_regclass('bench_dataset') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute(
            "SELECT version, target, loaded, seconds, detail FROM bench_dataset WHERE kind = %s",
            [kind],
        ).fetchone()
    if row is None:
        return None
    return {
        "version": row[0],
        "target": row[1],
        "loaded": row[2],
        "seconds": row[3],
        "detail": json.loads(row[4]),
    }


def _set_marker(
    conn: psycopg.Connection[Any],
    kind: str,
    version: int,
    target: int,
    loaded: int,
    seconds: float,
    detail: dict[str, Any],
) -> None:
    conn.execute(MARKER)
    conn.execute(
        "INSERT INTO bench_dataset (kind, version, target, loaded, seconds, detail) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (kind) DO UPDATE SET version = "
        "excluded.version, target = excluded.target, loaded = excluded.loaded, "
        "seconds = excluded.seconds, detail = excluded.detail",
        [kind, version, target, loaded, seconds, json.dumps(detail)],
    )


def _prepare_schema(env: BenchEnv, dbname: str) -> None:
    """Create the vault's tables (event store, key store, views) as ``build`` does."""
    from coffre.bootstrap import build

    coffre = build(env.settings(dbname, env.bucket("schema")), blobs=_NoBlobs())
    coffre.close()


class _NoBlobs:
    """A blob store that is never used: datasets hold no documents' content."""

    #: no direct uploads either (read by the blob collector ``build`` makes)
    direct = None

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the dataset builder does not store blobs ({name})")


# -- events ----------------------------------------------------------------------------


@dataclass
class EventsDataset:
    """A database whose ``vault_events`` holds ``count`` valid events."""

    dbname: str
    count: int
    load_seconds: float
    cached: bool


def events_dataset(
    env: BenchEnv, count: int, *, dbname: str | None = None, progress: Progress | None = None
) -> EventsDataset:
    """The events database of ``count`` events, loaded now unless cached."""
    name = dbname or f"coffre_bench_events_{count}"
    marker = _marker(env, name, "events")
    if marker and marker["version"] == STORY_VERSION and marker["loaded"] >= count:
        return EventsDataset(name, marker["loaded"], marker["seconds"], True)
    env.create_db(name, scratch=dbname is not None and dbname.endswith(env.run_id))
    _prepare_schema(env, name)
    started = time.perf_counter()
    loaded = load_events(env, name, count, progress)
    seconds = time.perf_counter() - started
    with env.connect(name) as conn:
        _set_marker(conn, "events", STORY_VERSION, count, loaded, seconds, {})
    return EventsDataset(name, loaded, seconds, False)


def event_rows(count: int, reads_per_space: int = 40) -> Iterable[tuple[Any, ...]]:
    """``count`` rows ``(originator_id, version, topic, state, notification_id)``."""
    cloner = Cloner(record_story(), reads_per_space)
    n = 0
    for row in cloner.shared():
        n += 1
        yield (*row, n)
    clones = range(10**6)
    for row in cloner.events(clones):
        if n >= count:
            return
        n += 1
        yield (*row, n)


def load_events(env: BenchEnv, dbname: str, count: int, progress: Progress | None = None) -> int:
    """COPY ``count`` story events into ``vault_events``; returns how many were written."""
    written = 0
    with env.connect(dbname) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY vault_events (originator_id, originator_version, topic, state, "
                "notification_id) FROM STDIN"
            ) as copy,
        ):
            for row in event_rows(count):
                copy.write_row(row)
                written += 1
                if progress and written % 250_000 == 0:
                    progress(f"events: {written:,}/{count:,}")
        conn.execute("SELECT setval('vault_events_notification_id_seq', %s)", [max(written, 1)])
    with env.connect(dbname, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE vault_events")
    return written


# -- views (access log and trail) ----------------------------------------------------------

#: entries per patient's access log in the views dataset, whatever its size

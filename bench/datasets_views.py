"""The **views** dataset (rows 7, 8, 10): the access log and the regulator trail of N
recorded reads spread over N/100 patients, written with ``COPY`` as the projections
write them (module doc of ``bench.datasets``). Database ``coffre_bench_views_<N>``.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.datasets import VIEWS_VERSION, Progress, _marker, _prepare_schema, _set_marker
from bench.env import BenchEnv

ENTRIES_PER_SPACE = 100
DOCS_PER_SPACE = 5
STEP = 100_000
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class ViewsDataset:
    """A database whose access log and trail hold ``size`` entries (of ``target``)."""

    dbname: str
    size: int
    target: int
    spaces: int
    load_seconds: float
    cached: bool

    def space_id(self, index: int) -> uuid.UUID:
        """The id of space number ``index`` (< ``spaces``)."""
        return _space_uuid(index)


def _luhn(digits: str) -> int:
    for check in range(10):
        total = 0
        for position, char in enumerate(reversed(digits + str(check))):
            digit = int(char)
            if position % 2 == 1:
                digit = digit * 2 - 9 if digit > 4 else digit * 2
            total += digit
        if total % 10 == 0:
            return check
    raise AssertionError("unreachable")


def _space_uuid(index: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"bench-space-{index}".encode()).hexdigest())


def _doc_uuid(space: int, n: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"bench-doc-{space}-{n}".encode()).hexdigest())


_READERS = [
    {
        "role": "professional",
        "id": f"2000000{n:03d}{_luhn(f'2000000{n:03d}')}",
        "name": f"Dr Bench {n}",
        "profession": "doctor",
        "organisation": "Cabinet",
    }
    for n in range(50)
]
_ACTOR_INDEX = {a["id"]: n for n, a in enumerate(_READERS)}


def views_dataset(
    env: BenchEnv,
    target: int,
    *,
    budget: float | None = None,
    dbname: str | None = None,
    progress: Progress | None = None,
) -> ViewsDataset:
    """The views database of ``target`` entries, loading (more of) it within ``budget``
    seconds when it is not complete yet. ``size`` says how far it got."""
    name = dbname or f"coffre_bench_views_{target}"
    spaces = max(1, target // ENTRIES_PER_SPACE)
    marker = _marker(env, name, "views")
    if not marker or marker["version"] != VIEWS_VERSION or marker["target"] != target:
        env.create_db(name, scratch=dbname is not None and dbname.endswith(env.run_id))
        _prepare_schema(env, name)
        with env.connect(name) as conn:
            _set_marker(conn, "views", VIEWS_VERSION, target, 0, 0.0, {})
            _load_documents(conn, spaces)
        marker = _marker(env, name, "views")
    else:
        # A cached dataset gets the migrations written since it was loaded (e.g. an
        # index), so it measures the schema a deployment would have.
        _prepare_schema(env, name)
    assert marker is not None
    loaded, seconds = int(marker["loaded"]), float(marker["seconds"])
    cached = loaded >= target
    started = time.perf_counter()
    if loaded < target:
        # Generation (this process) and ingestion (PostgreSQL) overlap: step k is copied
        # in a thread while step k + 1 is generated.
        with env.connect(name) as conn, ThreadPoolExecutor(1) as pool:
            generator = _ViewsGenerator(conn, loaded, spaces)
            conn.commit()
            pending: Future[None] | None = None
            while loaded < target:
                if budget is not None and time.perf_counter() - started > budget:
                    break
                step = min(STEP, target - loaded)
                lines = generator.step(step)
                if pending is not None:
                    pending.result()
                loaded += step
                pending = pool.submit(
                    _commit_step, conn, lines, name, target, loaded, started, seconds
                )
                if progress:
                    progress(
                        f"views: {loaded:,}/{target:,} in {time.perf_counter() - started:.0f} s"
                    )
            if pending is not None:
                pending.result()
        seconds += time.perf_counter() - started
    if not cached and loaded >= target:
        with env.connect(name, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return ViewsDataset(name, loaded, target, spaces, seconds, cached)


def _load_documents(conn: psycopg.Connection[Any], spaces: int) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY access_log_documents (document_id, space_id, title, type) FROM STDIN"
        ) as copy,
    ):
        for s in range(spaces):
            space = _space_uuid(s)
            for n in range(DOCS_PER_SPACE):
                copy.write_row((_doc_uuid(s, n), space, f"Bilan sanguin {n}", "lab_result"))


def _format_instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _entry_template() -> str:
    """The canonical JSON of an ``Access.Read`` trail entry with ``{slots}`` for what varies.

    Built with the trail's own ``canonical_json`` from a sample entry, so key order and
    separators are exactly the projection's.
    """
    from wire.checkpoint import canonical_json

    sample = {
        "v": 1,
        "leaf_index": "@leaf@",
        "notification_id": "@nid@",
        "event": "Access.Read",
        "originator_id": "@oid@",
        "originator_version": 1,
        "at": "@at@",
        "space_id": "@space@",
        "actor": "@actor@",
        "details": {
            "document_id": "@doc@",
            "mode": "grant",
            "reader_key_id": "@key@",
            "space_version": 7,
            "version": 1,
        },
        "event_digest": "@digest@",
        "prev": "@prev@",
        "space_prev": "@sprev@",
        "actor_prev": "@aprev@",
    }
    text = canonical_json(sample).replace("{", "{{").replace("}", "}}")
    for slot in ("leaf", "nid"):
        text = text.replace(f'"@{slot}@"', "{" + slot + "}")
    for slot in ("actor", "prev", "sprev", "aprev"):
        text = text.replace(f'"@{slot}@"', "{" + slot + "}")
    for slot in ("oid", "at", "space", "doc", "key", "digest"):
        text = text.replace(f"@{slot}@", "{" + slot + "}")
    return text


def _uuid_text(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _ViewsGenerator:
    """Makes the COPY text of consecutive entries, carrying the chains and the tree."""

    def __init__(self, conn: psycopg.Connection[Any], start: int, spaces: int) -> None:
        from wire.checkpoint import canonical_json
        from wire.merkle import CompactTree

        self.spaces = spaces
        self.next = start
        self.template = _entry_template()
        self.actors = [canonical_json(a) for a in _READERS]
        self.detail = json.dumps({"basis": "grant", "version": 1}, sort_keys=True)
        self.space_heads: dict[int, str] = {}
        self.actor_heads: dict[int, str] = {}
        self.prev = "null"
        tree = CompactTree()
        if start > 0:
            tree = _resume(conn, start)
            row = conn.execute(
                "SELECT leaf_hash FROM trail_entries WHERE leaf_index = %s", [start - 1]
            ).fetchone()
            self.prev = f'"{bytes(row[0]).hex()}"' if row else "null"
            # the head of every chain: the latest entry per space and per actor
            for space_id, leaf in conn.execute(
                "SELECT DISTINCT ON (space_id) space_id, leaf_hash FROM trail_entries "
                "WHERE leaf_index >= %s ORDER BY space_id, leaf_index DESC",
                [max(0, start - spaces * 2)],
            ):
                self.space_heads[_space_index(space_id, spaces)] = bytes(leaf).hex()
            for actor_id, leaf in conn.execute(
                "SELECT DISTINCT ON (actor_id) actor_id, leaf_hash FROM trail_entries "
                "WHERE leaf_index >= %s ORDER BY actor_id, leaf_index DESC",
                [max(0, start - max(5000, spaces * 2))],
            ):
                self.actor_heads[_ACTOR_INDEX[actor_id]] = bytes(leaf).hex()
        self.frontier = list(tree.frontier)
        self.size = tree.size
        self.space_text = [str(_space_uuid(s)) for s in range(spaces)]
        self.doc_text: dict[tuple[int, int], str] = {}

    def step(self, count: int) -> tuple[list[str], list[str], list[str]]:
        """COPY lines of the next ``count`` entries: access log, trail entries, nodes.

        COPY text is composed directly (every value is ASCII without tabs, newlines or
        backslashes): psycopg's per-value formatting was most of the loader's time.
        """
        from wire.merkle.hasher import node_hash

        spaces, template, actors, detail = self.spaces, self.template, self.actors, self.detail
        space_heads, actor_heads, frontier = self.space_heads, self.actor_heads, self.frontier
        prev, size = self.prev, self.size
        sha256 = hashlib.sha256
        log_lines: list[str] = []
        entry_lines: list[str] = []
        node_lines: list[str] = []
        high = 1 << 127
        for g in range(self.next, self.next + count):
            s = g % spaces
            a = (g // spaces + s) % len(_READERS)
            space = self.space_text[s]
            doc = self.doc_text.get((s, g % DOCS_PER_SPACE))
            if doc is None:
                doc = str(_doc_uuid(s, g % DOCS_PER_SPACE))
                self.doc_text[(s, g % DOCS_PER_SPACE)] = doc
            days, rest = divmod(g, 86400)
            hours, rest = divmod(rest, 3600)
            minutes, seconds = divmod(rest, 60)
            day = _EPOCH + timedelta(days=days)
            at = f"{day:%Y-%m-%d}T{hours:02d}:{minutes:02d}:{seconds:02d}.000000Z"
            sprev, aprev = space_heads.get(s), actor_heads.get(a)
            text = template.format(
                leaf=g,
                nid=g + 1,
                oid=_uuid_text(high | (g + 1)),
                at=at,
                space=space,
                actor=actors[a],
                doc=doc,
                key=f"{a:032x}",
                digest=sha256(b"%d" % g).hexdigest(),
                prev=prev,
                sprev=f'"{sprev}"' if sprev else "null",
                aprev=f'"{aprev}"' if aprev else "null",
            )
            leaf = sha256(b"\x00" + text.encode()).digest()
            hexed = leaf.hex()
            prev = f'"{hexed}"'
            space_heads[s] = actor_heads[a] = hexed
            reader = _READERS[a]
            log_lines.append(
                f"{g + 1}\t{space}\t{at}\tprofessional\t{reader['id']}\t{reader['name']}\t"
                f"doctor\tCabinet\tread\t{doc}\tnormal\tallowed\t\\N\t{detail}\n"
            )
            entry_lines.append(
                f"{g}\t{g + 1}\t{space}\tprofessional\t{reader['id']}\t{at}\t{text}\t\\\\x{hexed}\n"
            )
            # CompactTree.append, inlined: the leaf, then every subtree it completes
            h, level, index = leaf, 0, size
            node_lines.append(f"0\t{index}\t\\\\x{hexed}\n")
            while index & 1:
                h = node_hash(frontier.pop(), h)
                level, index = level + 1, index >> 1
                node_lines.append(f"{level}\t{index}\t\\\\x{h.hex()}\n")
            frontier.append(h)
            size += 1
        self.prev, self.size = prev, size
        self.next += count
        return log_lines, entry_lines, node_lines


def _copy_views(
    conn: psycopg.Connection[Any], lines: tuple[list[str], list[str], list[str]], end: int
) -> None:
    log_lines, entry_lines, node_lines = lines
    with conn.cursor() as cur:
        with cur.copy(
            "COPY access_log (entry_id, space_id, at, actor_role, actor_id, actor_name, "
            "actor_profession, actor_organisation, action, document_id, how, outcome, "
            "reason, detail) FROM STDIN"
        ) as copy:
            _write_lines(copy, log_lines)
        with cur.copy(
            "COPY trail_entries (leaf_index, notification_id, space_id, actor_role, actor_id, "
            "at, entry, leaf_hash) FROM STDIN"
        ) as copy:
            _write_lines(copy, entry_lines)
        with cur.copy("COPY trail_nodes (level, idx, hash) FROM STDIN") as copy:
            _write_lines(copy, node_lines)
        # the projections' positions: the views are "caught up" to what they hold
        for name in ("access_log", "trail"):
            cur.execute(
                "INSERT INTO view_tracking (application_name, notification_id) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                [name, end],
            )


def _commit_step(
    conn: psycopg.Connection[Any],
    lines: tuple[list[str], list[str], list[str]],
    name: str,
    target: int,
    loaded: int,
    started: float,
    seconds: float,
) -> None:
    _copy_views(conn, lines, loaded)
    elapsed = seconds + time.perf_counter() - started
    _set_marker(conn, "views", VIEWS_VERSION, target, loaded, elapsed, {})
    conn.commit()


def _write_lines(copy: Any, lines: list[str], per_write: int = 2000) -> None:
    for n in range(0, len(lines), per_write):
        copy.write("".join(lines[n : n + per_write]))


def _space_index(space_id: uuid.UUID, spaces: int) -> int:
    # inverse of _space_uuid for the heads cache; built once per resume
    table = _space_index_table(spaces)
    return table[space_id]


_INDEX_CACHE: dict[int, dict[uuid.UUID, int]] = {}


def _space_index_table(spaces: int) -> dict[uuid.UUID, int]:
    if spaces not in _INDEX_CACHE:
        _INDEX_CACHE[spaces] = {_space_uuid(s): s for s in range(spaces)}
    return _INDEX_CACHE[spaces]


def _resume(conn: psycopg.Connection[Any], size: int) -> Any:
    from wire.merkle import CompactTree, frontier_ids

    nodes = {}
    for level, idx in frontier_ids(size):
        row = conn.execute(
            "SELECT hash FROM trail_nodes WHERE level = %s AND idx = %s", [level, idx]
        ).fetchone()
        nodes[(level, idx)] = bytes(row[0]) if row else b""
    return CompactTree.resume(size, lambda level, idx: nodes[(level, idx)])

"""A fixed little history, projected into a real SQLite trail, for vectors and unit tests.

Every value is fixed (ids by uuid5, times from ``T0``, the signing seed), so the same
entries, roots, signatures and exports come out on every run: what makes the committed
vectors in ``testdata/`` reproducible.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from hypothesis import strategies as st

from domain.access import Access
from domain.reader import Reader
from domain.space import Space
from domain.values import patient_id_from_number, professional_id_from_number
from keys.checkpoint import CheckpointSigner
from projections.store import SQLiteViewStore
from projections.trail import TrailProjection
from projections.trail_query import Trail, TrailQuery
from vault.clock import ManualClock

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SEED = hashlib.sha256(b"coffre trail test vectors: the trail key").digest()
IMPOSTOR_SEED = hashlib.sha256(b"coffre trail test vectors: another key").digest()
PATIENT_A = patient_id_from_number("2870675123456")
PATIENT_B = patient_id_from_number("1920375123457")
SPACE_A, SPACE_B = Space.create_id(PATIENT_A), Space.create_id(PATIENT_B)
DOCTOR_ID = professional_id_from_number("1000000001")

HOSPITAL = {"role": "service", "id": "chu-lyon", "name": "CHU de Lyon", "profession": None,
            "organisation": "CHU de Lyon"}  # fmt: skip
DOCTOR = {"role": "professional", "id": DOCTOR_ID, "name": "Dr Paul Durand",
          "profession": "doctor", "organisation": "Cabinet"}  # fmt: skip


def _patient(patient_id: str, name: str) -> dict[str, Any]:
    return {"role": "patient", "id": patient_id, "name": name, "profession": None,
            "organisation": None}  # fmt: skip


ALICE, BRUNO = _patient(PATIENT_A, "Jeanne Martin"), _patient(PATIENT_B, "Bruno Petit")


def uid(name: str) -> UUID:
    """A fixed id for a name."""
    return uuid5(NAMESPACE_URL, f"https://coffre.invalid/test/{name}")


def _base(originator: UUID, version: int, minute: int, topic: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "originator_id": originator,
        "originator_version": version,
        "timestamp": T0 + timedelta(minutes=minute),
    }
    if topic is not None:
        fields["originator_topic"] = topic
    return fields


def story(fork: bool = False) -> list[tuple[int, Any]]:
    """(notification id, event) pairs; ids have a gap, as real logs may.

    ``fork=True`` changes one early event: the same history, rewritten.
    """
    at = [T0 + timedelta(minutes=m) for m in range(20)]
    grant = uid("grant-1")
    deposit = {"type": "lab_result", "title": "Bilan sanguin", "date": "2026-10-30",
               "blob": "ab" * 16, "size": 1234, "sha256": "cd" * 32,
               "sealed_key": "c2VhbGVk"}  # fmt: skip
    events: list[Any] = [
        Space.Provisioned(**_base(SPACE_A, 1, 0, "domain.space:Space"), patient_id=PATIENT_A,
                          key_id="spk_a", public_key="cHVibGlj", actor=HOSPITAL, at=at[0]),
        Space.Provisioned(**_base(SPACE_B, 1, 1, "domain.space:Space"), patient_id=PATIENT_B,
                          key_id="spk_b", public_key="cHVibGlj", actor=HOSPITAL, at=at[1]),
        Reader.Created(**_base(uid("reader-doctor"), 1, 2, "domain.reader:Reader"),
                       role="professional", actor_id=DOCTOR_ID),
        Reader.KeyRegistered(**_base(uid("reader-doctor"), 2, 2, None), key_id="rk_doctor",
                             public_key="cHVibGlj", actor=DOCTOR if not fork else HOSPITAL,
                             at=at[2]),
        Space.Deposited(**_base(SPACE_A, 2, 3, None), document_id=uid("doc-a"), version=1,
                        author=HOSPITAL, at=at[3], **deposit),
        Space.Deposited(**_base(SPACE_B, 2, 4, None), document_id=uid("doc-b"), version=1,
                        author=HOSPITAL, at=at[4], **deposit),
        Space.Granted(**_base(SPACE_A, 3, 5, None), grant_id=grant, grantee=DOCTOR,
                      scope={"kind": "space", "types": [], "documents": []}, expires_at=None,
                      actor=ALICE, at=at[5]),
        Access.Read(**_base(uid("access-1"), 1, 6, "domain.access:Access"), space_id=SPACE_A,
                    document_id=uid("doc-a"), version=1, reader=DOCTOR, reader_key_id="rk_doctor",
                    mode="grant", grant_id=grant, space_version=3, at=at[6]),
        Access.Refused(**_base(uid("access-2"), 1, 7, "domain.access:Access"), space_id=SPACE_B,
                       document_id=uid("doc-b"), reader=DOCTOR, rule="not_authorised",
                       space_version=2, at=at[7]),
        Access.Read(**_base(uid("access-3"), 1, 8, "domain.access:Access"), space_id=SPACE_A,
                    document_id=uid("doc-a"), version=1, reader=ALICE, reader_key_id="rk_alice",
                    mode="patient", grant_id=None, space_version=3, at=at[8]),
        Space.Revoked(**_base(SPACE_A, 4, 9, None), grant_id=grant, actor=ALICE, at=at[9]),
        Access.Refused(**_base(uid("access-4"), 1, 10, "domain.access:Access"), space_id=SPACE_A,
                       document_id=uid("doc-a"), reader=DOCTOR, rule="not_authorised",
                       space_version=4, at=at[10]),
        Space.Deposited(**_base(SPACE_A, 5, 11, None), document_id=uid("doc-a"), version=2,
                        author=HOSPITAL, at=at[11], **deposit),
        Access.Read(**_base(uid("access-5"), 1, 12, "domain.access:Access"), space_id=SPACE_B,
                    document_id=uid("doc-b"), version=1, reader=BRUNO, reader_key_id="rk_bruno",
                    mode="patient", grant_id=None, space_version=2, at=at[12]),
    ]  # fmt: skip
    ids = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15]  # 7 lost to a failed insert
    return list(zip(ids, events, strict=True))


def altered_story(data: st.DataObject, values: st.SearchStrategy[Any]) -> list[Any]:
    """One to four of the story's real events, each with up to three fields (not its
    identity or times) swapped for values drawn from ``values``."""
    events = [event for _, event in story()]
    changed = []
    for event in data.draw(st.lists(st.sampled_from(events), min_size=1, max_size=4)):
        clone = copy.copy(event)
        names = [f.name for f in dataclasses.fields(event)]
        for name in data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
            if name not in ("originator_id", "originator_version", "timestamp", "at"):
                object.__setattr__(clone, name, data.draw(values))
        changed.append(clone)
    return changed


@contextmanager
def story_exports() -> Iterator[tuple[Trail, dict[str, str]]]:
    """The story's trail and the JSON Lines exports the tests take of it: the whole log,
    a patient, a professional, a time window."""
    queries = {
        "log": TrailQuery(),
        "patient": TrailQuery(patient_id=PATIENT_A),
        "professional": TrailQuery(actor_id=DOCTOR_ID),
        "window": TrailQuery(since=T0 + timedelta(minutes=4), until=T0 + timedelta(minutes=9)),
    }
    with story_trail() as (trail, _):
        texts = {}
        for name, query in queries.items():
            buffer = io.StringIO()
            trail.export_jsonl(query, buffer)
            texts[name] = buffer.getvalue()
        yield trail, texts


def migrate_sqlite(path: Path) -> None:
    """Create the trail's tables (only: ``migrations/sqlite/0003.trail.sql``,
    ``0010.trail_heads.sql`` and ``0013.trail_keys.sql``) at ``path``."""
    with closing(sqlite3.connect(path)) as db:
        for name in ("0003.trail.sql", "0010.trail_heads.sql", "0013.trail_keys.sql"):
            db.executescript((ROOT / "migrations/sqlite" / name).read_text())


def project(store: SQLiteViewStore, events: list[tuple[int, Any]]) -> None:
    """Apply ``events`` through the real projection, in one batch with tracking."""
    with store.transaction() as cursor:
        TrailProjection().apply(cursor, events)
        cursor.track("trail", events[-1][0])


@contextmanager
def story_trail(
    *, fork: bool = False, checkpoint_at: int | None = 6
) -> Iterator[tuple[Trail, ManualClock]]:
    """The story projected into a fresh SQLite trail, signed with ``SEED``.

    With ``checkpoint_at``, a checkpoint is signed when that many entries are in (at
    T0 + 30 min); the clock then moves to T0 + 1 h for later checkpoints.
    """
    events = story(fork)
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "trail.sqlite"
        migrate_sqlite(path)
        store = SQLiteViewStore(str(path))
        clock = ManualClock(T0 + timedelta(minutes=30))
        trail = Trail(store, CheckpointSigner(SEED), clock)
        if checkpoint_at:
            project(store, events[:checkpoint_at])
            trail.checkpoint()
            project(store, events[checkpoint_at:])
        else:
            project(store, events)
        clock.advance(timedelta(minutes=30))
        yield trail, clock

"""The trail projection on both backends: one chained entry per event, a Merkle tree
that matches its leaves, exact resumption, identical rebuilds."""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate

import domain
from coffre.bootstrap import Coffre, build
from domain.access import Access
from domain.reader import Reader
from domain.space import Space
from domain.values import Ciphertext
from projections.runner import ProjectionRunner
from projections.source import ApplicationSource
from projections.trail import TrailProjection
from projections.trail_events import (
    ACTOR_FIELDS,
    AUDIT_FIELDS,
    EXCLUDED_FIELDS,
    STRUCTURAL_FIELDS,
    audit_details,
    event_digest,
)
from projections.trail_query import Trail
from tests.domain.test_feeding import SOURCE
from tests.domain.test_space import HOSPITAL, META, NOW, PATIENT
from tests.scenarios.conftest import Cast, deposit
from tests.trail.scenario import live_history
from vault.clock import ManualClock
from wire.merkle import leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion
from wire.values import SourceId

DOCUMENT = UUID("3b1c8f0e-0000-4000-8000-000000000001")


def rows(coffre: Coffre, table: str, order: str) -> list[dict[str, Any]]:
    # Compare as plain values: bytes from either driver, times as text.
    return [
        {k: bytes(v) if isinstance(v, memoryview) else v for k, v in r.items()}
        for r in coffre.views.query(f"SELECT * FROM {table} ORDER BY {order}")
    ]


def test_one_chained_entry_per_event_in_notification_order(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner, trail: Trail
) -> None:
    history = live_history(coffre, cast, clock)
    trail_runner.catch_up()
    notifications = [n.id for n in coffre.vault.recorder.select_notifications(start=1, limit=999)]
    entries = [json.loads(e.text) for e in trail.entries()]
    # Leaf i is the i-th event of the log, whatever the notification ids.
    assert [e["leaf_index"] for e in entries] == list(range(len(notifications)))
    assert [e["notification_id"] for e in entries] == notifications
    names = [e["event"] for e in entries]
    assert names[0] == "Space.Provisioned"
    assert names[-6:] == [
        "Space.Granted",
        "Access.Read",
        "Access.Refused",
        "Access.Read",
        "Space.Revoked",
        "Access.Refused",
    ]
    # The audit fields a regulator needs are there...
    read_entry = entries[-5]
    assert read_entry["details"]["mode"] == "grant"
    assert read_entry["details"]["grant_id"] == str(history.grant_id)
    assert read_entry["details"]["document_id"] == str(history.document_id)
    assert read_entry["actor"]["id"] == cast.doctor.actor.id
    assert entries[-4]["details"]["rule"] == "not_authorised"
    # ...and each chain link points at the previous entry of the log, space and actor.
    hashes = [leaf_hash(e.text.encode()) for e in trail.entries()]
    last: dict[tuple[str, Any], bytes] = {}
    for entry, h in zip(entries, hashes, strict=True):
        actor = entry["actor"] and (entry["actor"]["role"], entry["actor"]["id"])
        for link, key in (("prev", ("log",)), ("space_prev", ("space", entry["space_id"])),
                          ("actor_prev", ("actor", actor))):  # fmt: skip
            expected = last.get(key) if key[-1] is not None else None
            assert entry[link] == (expected.hex() if expected else None), (entry, link)
            if key[-1] is not None:
                last[key] = h


def test_no_key_material_and_no_titles_enter_the_trail(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner, trail: Trail
) -> None:
    history = live_history(coffre, cast, clock)
    trail_runner.catch_up()
    texts = [e.text for e in trail.entries()]
    for text in texts:
        for forbidden in ("sealed_key", "public_key", "Bilan sanguin", "title"):
            assert forbidden not in text
        for sealed in history.sealed_keys:
            assert sealed.decode() not in text
    # The digest still binds every field of the stored event.
    assert all(len(json.loads(t)["event_digest"]) == 64 for t in texts)


def test_the_stored_tree_is_the_tree_of_the_leaves(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner, trail: Trail
) -> None:
    live_history(coffre, cast, clock)
    trail_runner.batch_size = 3  # many batches: every resume path is used
    trail_runner.catch_up()
    leaves = [e.leaf_hash for e in trail.entries()]
    assert leaves == [leaf_hash(e.text.encode()) for e in trail.entries()]
    size = trail.size()
    for n in range(size + 1):
        assert trail.root(n) == root_from_leaf_hashes(leaves[:n]), n
    root = trail.root(size)
    for index in range(size):
        verify_inclusion(leaves[index], index, size, trail.inclusion_proof(index, size), root)
    for old in range(size + 1):
        proof = trail.consistency_proof(old, size)
        verify_consistency(old, size, trail.root(old), root, proof)


def test_resumes_exactly_after_partial_batches_and_crashes(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner, trail: Trail
) -> None:
    patient = cast.patient.actor
    live_history(coffre, cast, clock)
    # Project part of the log in small batches, and sign a checkpoint on the way.
    trail_runner.batch_size = 2
    trail_runner.step("trail")
    trail_runner.step("trail")
    held = trail.checkpoint()
    assert held.size == 4
    # A batch that fails half-way writes nothing (rows, nodes and position roll back).
    failing = _Failing()
    broken = ProjectionRunner(ApplicationSource(coffre.vault), coffre.views, [failing], 3)
    with pytest.raises(ConnectionError):
        broken.step("trail")
    assert trail.size() == 4
    settings = coffre.settings
    coffre.close()

    # A new process resumes from its last commit while more events arrive.
    restarted = build(settings, clock=clock)
    try:
        deposit(restarted, patient.id, b"second", cast.hospital)
        runner = ProjectionRunner(
            ApplicationSource(restarted.vault), restarted.views, [TrailProjection()], 3
        )
        runner.catch_up()
        entries = rows(restarted, "trail_entries", "leaf_index")
        nodes = rows(restarted, "trail_nodes", "level, idx")
        assert [e["leaf_index"] for e in entries] == list(range(len(entries)))
        assert len(entries) == restarted.vault.recorder.max_notification_id()
        # Identical to a clean rebuild from the first event, in one big batch.
        runner.batch_size = 500
        runner.rebuild("trail")
        assert rows(restarted, "trail_entries", "leaf_index") == entries
        assert rows(restarted, "trail_nodes", "level, idx") == nodes
        # The checkpoint handed out before the crash still matches the rebuilt tree.
        again = Trail(restarted.views, trail.signer, clock)
        assert again.checkpoints() == [held]
        assert again.audit_checkpoints() == 1
    finally:
        restarted.close()


class _Failing(TrailProjection):
    """Writes its batch, then loses the database before the commit (a crash, not an event
    the projection cannot apply, which would stall it instead)."""

    def apply(self, cursor: Any, events: Any) -> None:
        super().apply(cursor, events)
        raise ConnectionError("killed mid-batch")


def test_every_event_field_is_classified() -> None:
    """A new event field must be put in AUDIT_FIELDS or EXCLUDED_FIELDS on purpose."""
    known = AUDIT_FIELDS | EXCLUDED_FIELDS | STRUCTURAL_FIELDS | set(ACTOR_FIELDS)
    # Every aggregate of every domain module, so that new ones are covered too.
    for info in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{info.name}")
    aggregates = {a for a in _subclasses(Aggregate) if a.__module__.startswith("domain.")}
    assert {Space, Access, Reader} <= aggregates
    for aggregate in aggregates:
        for value in vars(aggregate).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value):
                names = {f.name for f in dataclasses.fields(value)}
                assert names <= known, (value.__qualname__, names - known)
    assert not AUDIT_FIELDS & EXCLUDED_FIELDS


def test_a_source_identifier_is_bound_by_the_digest_and_kept_out_of_the_details() -> None:
    def deposited(source: SourceId | None) -> Any:
        space = Space.provision(PATIENT.id, "key-1", b"\x01" * 32, HOSPITAL, NOW)
        blob = Ciphertext("0" * 32, 100, "a" * 64)
        space.deposit(DOCUMENT, META, blob, b"\x02" * 80, HOSPITAL, NOW, source)
        event = space.collect_events()[-1]
        object.__setattr__(event, "timestamp", NOW)  # so that only the identifier differs
        return event

    digests = {event_digest(deposited(s)) for s in (SOURCE, None, SourceId(SOURCE.system, "2"))}
    assert len(digests) == 3
    assert "source" not in audit_details(deposited(SOURCE))


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_the_one_time_code_and_birth_date_stay_out(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner, trail: Trail
) -> None:
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    patient = cast.patient.actor
    space = coffre.vault.repository.get(coffre.vault.space_key(patient.id).space_id)
    # the salt and the scrypt hash (not the small cost parameters)
    secrets = [str(v) for v in (getattr(space, "code", None) or {}).values() if len(str(v)) >= 16]
    assert secrets, "the space was provisioned with a one-time code"
    for entry in trail.entries():
        data = json.loads(entry.text)
        assert "code" not in data["details"] and "birth_date" not in data["details"]
        assert not any(secret in entry.text for secret in secrets)

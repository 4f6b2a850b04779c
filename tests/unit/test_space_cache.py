"""The cache of loaded spaces (``vault.spacecache``) on the in-memory fakes: what a
command leaves behind when it fails, and that a cached space is not replayed again.

The same behaviour on both real backends, under threads and with two processes, is in
``tests/scenarios/test_space_cache.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest

from domain.space import Space
from domain.values import Actor, Scope, professional_id_from_number
from tests.unit.conftest import World
from vault.core import _space_id
from wire.errors import Conflict, Unavailable
from wire.values import Profession, Role

DOCTOR = Actor(
    Role.PROFESSIONAL, professional_id_from_number("1000000001"), "Dr", Profession.DOCTOR, "Cab"
)


def cached(world: World) -> Space | None:
    """The aggregate the cache holds for the patient's space, if any."""
    entry = world.vault.spaces._entries.get(_space_id(world.pid))
    return None if entry is None else entry.space


def test_a_space_in_use_is_replayed_once(world: World) -> None:
    world.vault.documents(world.pid, world.patient.actor)
    replays = world.vault.spaces.replays
    world.deposit(b"bilan")  # space key, upload, deposit
    world.vault.documents(world.pid, world.patient.actor)
    assert world.vault.spaces.replays == replays
    held = cached(world)
    assert held is not None and held.version == world.vault.space(world.pid).version


def test_a_refusal_before_any_event_keeps_the_cached_space(world: World) -> None:
    world.vault.documents(world.pid, world.patient.actor)
    kept = cached(world)

    def refuse(space: Space, now: datetime) -> None:
        raise Conflict("refused before any event")

    with pytest.raises(Conflict):
        world.vault.on_space(world.pid, world.patient.actor, refuse)
    assert cached(world) is kept


def test_a_refusal_after_an_event_drops_the_cached_space(world: World) -> None:
    world.vault.documents(world.pid, world.patient.actor)
    patient = world.patient.actor

    def block_then_refuse(space: Space, now: datetime) -> None:
        space.block(DOCTOR, patient, now)
        raise Conflict("refused after an event")

    with pytest.raises(Conflict):
        world.vault.on_space(world.pid, patient, block_then_refuse)
    assert cached(world) is None  # dropped: the next use replays what is stored
    assert world.vault.space(world.pid).blocked == {}


def test_a_failed_save_drops_the_cached_space(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.vault.documents(world.pid, world.patient.actor)

    def failing(aggregates: Any) -> None:
        raise Unavailable("the event store failed")

    monkeypatch.setattr(world.vault, "_store", failing)
    with pytest.raises(Unavailable):
        world.vault.grant(world.pid, DOCTOR, Scope.whole_space(), None, world.patient.actor)
    assert cached(world) is None


def test_unsaved_events_drop_the_cached_space(world: World) -> None:
    with world.vault.held_space(world.pid) as space:
        now = world.clock.now()
        space.grant(uuid4(), DOCTOR, Scope.whole_space(), None, world.patient.actor, now)
    assert cached(world) is None


def test_the_probe_statement_is_rendered_once_per_recorder_and_count() -> None:
    """PostgreSQL's probe text is composed and rendered once, then reused; each
    recorder gets its own table's."""
    from psycopg.sql import SQL, Identifier

    from vault.spacecache import _tails_statement

    class Recorder:  # hashable by identity, as the real recorders are
        def __init__(self, table: str) -> None:
            self.select_events_statement = SQL("SELECT * FROM {} WHERE originator_id = %s").format(
                Identifier(table)
            )

    a, b = Recorder("a_events"), Recorder("b_events")
    two = _tails_statement(a, 2)  # type: ignore[arg-type]
    assert _tails_statement(a, 2) is two  # type: ignore[arg-type]
    assert two == (
        b'SELECT * FROM "a_events" WHERE originator_id = %s AND originator_version > %s'
        b" UNION ALL "
        b'SELECT * FROM "a_events" WHERE originator_id = %s AND originator_version > %s'
    )
    assert b"UNION" not in _tails_statement(a, 1)  # type: ignore[arg-type]
    other = _tails_statement(b, 2)  # type: ignore[arg-type]
    assert b'"b_events"' in other and b'"a_events"' not in other

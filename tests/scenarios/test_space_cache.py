"""The per-process cache of loaded spaces (``vault.spacecache``) never serves a stale or
uncommitted space.

Two ``Coffre`` built on the same database and blob store stand in for two API
processes: each has its own cache, and each must see what the other committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from coffre.bootstrap import Coffre, build
from domain.values import Scope
from tests.scenarios.conftest import BACKENDS, Cast, backend_settings, deposit, read
from vault import spacecache
from vault.clock import ManualClock
from wire.errors import DeviceRevoked, Unavailable, UnknownDocument

READERS = 6  # reading threads, spread over the two processes
ROUNDS = 4  # grant, then revoke while the threads read, this many times


@pytest.fixture(params=BACKENDS)
def twins(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> Iterator[tuple[Coffre, Coffre]]:
    """Two Coffre on one database and one blob store: two processes, two caches."""
    settings = backend_settings(request, request.param, tmp_path / "data")
    first = build(settings, clock=clock)
    second = build(settings, clock=clock)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


@pytest.fixture
def coffre(twins: tuple[Coffre, Coffre]) -> Coffre:
    """The first process: the one the cast is set up through."""
    return twins[0]


def test_a_read_that_starts_after_a_revoke_returned_is_refused(
    twins: tuple[Coffre, Coffre], cast: Cast
) -> None:
    one, two = twins
    patient = cast.patient.actor
    doc = deposit(one, patient.id, b"compte rendu", cast.hospital)
    outcomes: list[tuple[float, float, bool]] = []  # (start, end of the read, allowed)
    stop = threading.Event()

    def reader(coffre: Coffre) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                read(coffre, patient.id, doc, cast.doctor)
                allowed = True
            except UnknownDocument:
                allowed = False
            outcomes.append((started, time.monotonic(), allowed))

    windows: list[tuple[float, float]] = []  # (revoke returned, next grant started)
    threads = [threading.Thread(target=reader, args=((one, two)[i % 2],)) for i in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        for round in range(ROUNDS):
            by, other = ((one, two), (two, one))[round % 2]  # from either process
            if windows:
                windows[-1] = (windows[-1][0], time.monotonic())
            grant_id = by.vault.grant(
                patient.id, cast.doctor.actor, Scope.whole_space(), None, patient
            )
            time.sleep(0.05)
            other.vault.revoke(patient.id, grant_id, patient)
            revoked = time.monotonic()
            windows.append((revoked, float("inf")))
            # Let every reader start (and finish) at least one read after the revoke.
            deadline = revoked + 30
            while sum(s > revoked for s, _, _ in list(outcomes)) < READERS:
                assert time.monotonic() < deadline, "the readers stalled"
                time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert any(allowed for _, _, allowed in outcomes)  # the readers did read while granted
    # Every read that started after a revoke returned, and ended before the next
    # grant was asked for, was refused.
    for revoked, granted in windows:
        late = [allowed for start, end, allowed in outcomes if revoked < start and end < granted]
        assert late and not any(late), "a read started after a revoke returned was allowed"


def test_each_process_sees_the_other_ones_commits(twins: tuple[Coffre, Coffre], cast: Cast) -> None:
    one, two = twins
    patient = cast.patient.actor
    doc = deposit(one, patient.id, b"ordonnance", cast.hospital)
    assert [d.document_id for d in two.vault.documents(patient.id, patient)] == [doc]
    grant_id = two.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    assert read(one, patient.id, doc, cast.doctor) == b"ordonnance"
    one.vault.revoke(patient.id, grant_id, patient)
    with pytest.raises(UnknownDocument):
        read(two, patient.id, doc, cast.doctor)


def test_a_failed_save_leaves_no_uncommitted_grant_behind(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = cast.patient.actor
    doc = deposit(coffre, patient.id, b"radio", cast.hospital)
    coffre.vault.documents(patient.id, patient)  # the space is cached

    def failing(aggregates: Any) -> None:
        raise Unavailable("the event store failed: OperationalError")

    with monkeypatch.context() as patch:
        patch.setattr(coffre.vault, "_store", failing)
        with pytest.raises(Unavailable):
            coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    with pytest.raises(UnknownDocument):  # the grant that was never stored grants nothing
        read(coffre, patient.id, doc, cast.doctor)
    assert coffre.vault.grants(patient.id, patient) == []


def test_a_conflicting_save_is_retried_on_the_space_as_stored(
    twins: tuple[Coffre, Coffre], cast: Cast
) -> None:
    one, two = twins
    patient = cast.patient.actor
    one.vault.documents(patient.id, patient)  # cached in the first process, then a deposit
    doc = deposit(one, patient.id, b"echographie", cast.hospital)
    attempts: list[int] = []
    grant_id = uuid4()

    def grant_while_the_other_process_grants(space: Any, now: Any) -> None:
        if not attempts:  # the other process commits between our load and our save
            two.vault.grant(patient.id, cast.nurse.actor, Scope.whole_space(), None, patient)
        attempts.append(space.version)
        space.grant(grant_id, cast.doctor.actor, Scope.whole_space(), None, patient, now)

    one.vault.on_space(patient.id, patient, grant_while_the_other_process_grants)

    assert len(attempts) == 2 and attempts[1] == attempts[0] + 1  # reloaded, not stale
    assert read(one, patient.id, doc, cast.doctor) == b"echographie"
    assert read(one, patient.id, doc, cast.nurse) == b"echographie"
    assert {g.grantee_id for g in one.vault.grants(patient.id, patient)} == {
        cast.doctor.actor.id,
        cast.nurse.actor.id,
    }


def test_a_deposit_loads_the_space_once(twins: tuple[Coffre, Coffre], cast: Cast) -> None:
    one, two = twins
    patient = cast.patient.actor
    deposit(one, patient.id, b"premier", cast.hospital)
    before = two.vault.spaces.replays
    # space key, upload, deposit: what the SDK asks of the server for one deposit
    deposit(two, patient.id, b"second", cast.hospital)
    assert two.vault.spaces.replays == before + 1
    deposit(two, patient.id, b"troisieme", cast.hospital)  # then none at all
    assert two.vault.spaces.replays == before + 1


def test_a_device_revoked_in_the_other_process_receives_no_key(
    twins: tuple[Coffre, Coffre], cast: Cast
) -> None:
    one, two = twins
    patient, doctor = cast.patient.actor, cast.doctor
    doc = deposit(one, patient.id, b"bilan", cast.hospital)
    one.vault.grant(patient.id, doctor.actor, Scope.whole_space(), None, patient)
    assert read(one, patient.id, doc, doctor) == b"bilan"  # the doctor's devices are cached
    two.vault.revoke_device(doctor.actor.role.value, doctor.actor.id, doctor.key_id, doctor.actor)
    with pytest.raises(DeviceRevoked):
        read(one, patient.id, doc, doctor)


def test_a_read_checks_space_and_reader_in_one_round_trip(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = cast.patient.actor
    doc = deposit(coffre, patient.id, b"scanner", cast.hospital)
    read(coffre, patient.id, doc, cast.patient)  # both cached
    probes: list[int] = []
    select = spacecache.select_tails

    def counted(recorder: Any, since: Any) -> Any:
        probes.append(len(since))
        return select(recorder, since)

    monkeypatch.setattr(spacecache, "select_tails", counted)
    for _ in range(3):
        assert read(coffre, patient.id, doc, cast.patient) == b"scanner"
    assert probes == [2, 2, 2]


def test_the_cache_is_bounded_by_the_events_it_holds_not_only_by_spaces(
    coffre: Coffre, cast: Cast
) -> None:
    patient = cast.patient.actor
    doc = deposit(coffre, patient.id, b"radio", cast.hospital)
    assert read(coffre, patient.id, doc, cast.patient) == b"radio"
    cache = coffre.vault.spaces
    assert len(cache) >= 2 and cache.weight >= 2  # the space and its reader, at least
    cache.max_events = 1  # below any space: only the aggregate just used stays
    replays = cache.replays
    assert read(coffre, patient.id, doc, cast.patient) == b"radio"
    assert len(cache) == 1
    assert read(coffre, patient.id, doc, cast.patient) == b"radio"  # reloaded, still right
    assert cache.replays > replays
    assert len(cache) == 1

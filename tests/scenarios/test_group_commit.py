"""Group commit of access records: concurrent reads share a transaction, never a key early.

The first part tests the combiner (``vault.groupcommit``) with a fake save; the second
drives the vault on both backends from many threads, as the API's thread pool does.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError

from coffre.bootstrap import Coffre
from domain.access import Access
from domain.values import Scope
from tests.scenarios.conftest import Cast, deposit
from vault.groupcommit import GroupCommit
from wire.dto import Release
from wire.envelope import DataKey, unseal
from wire.errors import Unavailable, UnknownDocument

THREADS = 12
WAIT = 10.0  # seconds a test waits for threads to queue before it gives up


def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds (fails the test after ``WAIT`` seconds)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the callers never queued")
        time.sleep(0.005)


class GatedSave:
    """A fake ``save`` whose first call waits until the gate opens; records every batch."""

    def __init__(self, fail_after_first: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.first_started = threading.Event()
        self.fail_after_first = fail_after_first

    def __call__(self, batch: Sequence[int]) -> None:
        if not self.batches:
            self.first_started.set()
            self.gate.wait(WAIT)
        self.batches.append(list(batch))
        if self.fail_after_first and len(self.batches) > 1:
            raise OSError("disk full")


def submit_all(commits: GroupCommit[int], save: GatedSave, n: int) -> list[BaseException | None]:
    """Submit 0 while the first save is held, then 1..n-1 behind it; return each outcome."""
    outcomes: list[BaseException | None] = [None] * n

    def one(i: int) -> None:
        try:
            commits.submit(i)
        except BaseException as error:  # recorded for the assertions
            outcomes[i] = error

    first = threading.Thread(target=one, args=(0,))
    first.start()
    assert save.first_started.wait(WAIT)
    others = [threading.Thread(target=one, args=(i,)) for i in range(1, n)]
    for thread in others:
        thread.start()
    wait_until(lambda: commits.pending == n - 1)
    save.gate.set()
    for thread in [first, *others]:
        thread.join(WAIT)
    return outcomes


# -- the combiner, with a fake save ------------------------------------------------


def test_a_lone_record_is_saved_at_once_in_the_callers_thread() -> None:
    saved: list[tuple[list[int], str]] = []
    here = threading.current_thread().name

    def save(batch: Sequence[int]) -> None:
        saved.append((list(batch), threading.current_thread().name))

    commits = GroupCommit(save)
    commits.submit(7)
    # No timer, no other thread: the call returned after its own one-record save.
    assert saved == [([7], here)]


def test_records_queued_during_a_save_are_saved_together_next() -> None:
    save = GatedSave()
    commits: GroupCommit[int] = GroupCommit(save)
    outcomes = submit_all(commits, save, THREADS)
    assert outcomes == [None] * THREADS
    # The first record alone, then everyone who queued meanwhile in one batch.
    assert save.batches[0] == [0]
    assert sorted(save.batches[1]) == list(range(1, THREADS))
    assert (commits.batches, commits.records) == (2, THREADS)


def test_a_batch_never_exceeds_max_batch() -> None:
    save = GatedSave()
    commits: GroupCommit[int] = GroupCommit(save, max_batch=3)
    assert submit_all(commits, save, 10) == [None] * 10
    assert all(len(batch) <= 3 for batch in save.batches)
    # Every record saved exactly once.
    assert sorted(r for batch in save.batches for r in batch) == list(range(10))


def test_a_failed_save_fails_every_caller_of_its_batch_and_no_other() -> None:
    save = GatedSave(fail_after_first=True)
    commits: GroupCommit[int] = GroupCommit(save)
    outcomes = submit_all(commits, save, THREADS)
    # The first batch committed; every caller of the failed second batch got its error.
    assert outcomes[0] is None
    assert all(isinstance(error, OSError) for error in outcomes[1:])
    # The combiner is usable afterwards.
    save.fail_after_first = False
    commits.submit(99)
    assert save.batches[-1] == [99]


def test_many_callers_each_see_their_record_saved_exactly_once() -> None:
    # Sixteen threads submitting in a loop, with saves slow enough for queues to form.
    saved: list[int] = []

    def save(batch: Sequence[int]) -> None:
        time.sleep(0.001)
        saved.extend(batch)

    commits: GroupCommit[int] = GroupCommit(save, max_batch=5)

    def caller(n: int) -> None:
        for i in range(50):
            record = n * 1000 + i
            commits.submit(record)
            assert record in saved  # committed before submit returned

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(caller, range(16)))
    assert sorted(saved) == sorted(n * 1000 + i for n in range(16) for i in range(50))
    assert commits.batches < commits.records  # records did share saves
    assert commits.pending == 0


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError):
        GroupCommit(lambda batch: None, max_batch=0)


# -- the vault, on both backends ---------------------------------------------------


def recorded(coffre: Coffre, event: type) -> list[UUID]:
    """Ids of the access records of type ``event`` in the event store."""
    topic = f"{event.__module__}:{event.__qualname__}"
    notifications = coffre.vault.recorder.select_notifications(
        start=1, limit=10_000, topics=[topic]
    )
    return [UUID(str(n.originator_id)) for n in notifications]


def count_reseals(coffre: Coffre, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Spy on the key ring: one entry per key resealed for a reader."""
    resealed: list[object] = []
    original = coffre.keyring.reseal
    monkeypatch.setattr(
        coffre.keyring, "reseal", lambda *a, **k: resealed.append(a) or original(*a, **k)
    )
    return resealed


def hold_first_insert(coffre: Coffre, monkeypatch: pytest.MonkeyPatch, others: int) -> Any:
    """Make the event store's first insert wait until ``others`` records are queued.

    Returns a dict: ``sizes`` lists the batch sizes the store was asked to insert; setting
    ``fail`` makes every insert after the first raise as a full disk would.
    """
    real_insert = coffre.vault.recorder.insert_events
    state: dict[str, Any] = {"sizes": [], "fail": False}

    def insert(stored_events: Sequence[Any], **kwargs: Any) -> Any:
        first = not state["sizes"]
        state["sizes"].append(len(stored_events))
        if first:
            wait_until(lambda: coffre.vault.access_commits.pending >= others)
        elif state["fail"]:
            raise OperationalError("disk full")
        return real_insert(stored_events, **kwargs)

    monkeypatch.setattr(coffre.vault.recorder, "insert_events", insert)
    return state


def test_concurrent_reads_are_each_recorded_once_and_each_release_a_key(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = cast.patient.actor
    data_key = DataKey.generate()
    document_id = deposit(coffre, patient.id, b"scan", cast.hospital, data_key=data_key)
    coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    resealed = count_reseals(coffre, monkeypatch)
    state = hold_first_insert(coffre, monkeypatch, THREADS - 1)
    readers = [cast.patient, cast.doctor] * (THREADS // 2)

    # Twelve reads at once, by the patient and a granted doctor, plus the stranger's
    # refused attempt, which is recorded through the same path.
    def read(n: int) -> Release:
        person = readers[n]
        return coffre.vault.read(patient.id, document_id, person.actor, person.key_id)

    with ThreadPoolExecutor(THREADS) as pool:
        releases = list(pool.map(read, range(THREADS)))
    with pytest.raises(UnknownDocument):
        coffre.vault.read(patient.id, document_id, cast.stranger.actor, cast.stranger.key_id)

    # They shared transactions...
    assert max(state["sizes"]) > 1
    # ...and each read is recorded exactly once, under the id its release carries.
    assert sorted(recorded(coffre, Access.Read)) == sorted(r.access_id for r in releases)
    assert len(set(recorded(coffre, Access.Read))) == THREADS
    assert len(recorded(coffre, Access.Refused)) == 1
    # Every reader got a key that opens the document's data key.
    assert len(resealed) == THREADS
    for person, release in zip(readers, releases, strict=True):
        opened = unseal(base64.b64decode(release.sealed_key), bytes(person.secret))
        assert opened == data_key


def test_when_a_batch_cannot_be_recorded_none_of_its_readers_gets_a_key(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, b"scan", cast.hospital)
    resealed = count_reseals(coffre, monkeypatch)
    state = hold_first_insert(coffre, monkeypatch, THREADS - 1)
    # The first read commits alone; the store then fails for the batch queued behind it.
    state["fail"] = True
    outcomes: list[BaseException | Release] = []

    def read(_: int) -> None:
        try:
            outcomes.append(
                coffre.vault.read(patient.id, document_id, patient, cast.patient.key_id)
            )
        except Exception as error:  # collected for the assertions
            outcomes.append(error)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(read, range(THREADS)))

    assert state["sizes"] == [1, THREADS - 1]
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == THREADS - 1
    assert all(isinstance(error, Unavailable) for error in failed)
    # One key for the one recorded read, none for the batch that was not recorded.
    assert len(resealed) == 1
    assert len(recorded(coffre, Access.Read)) == 1


def test_a_read_that_starts_after_a_revocation_is_refused_under_load(
    coffre: Coffre, cast: Cast
) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, b"scan", cast.hospital)
    grant_id = coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    revoked = threading.Event()
    stop = threading.Event()
    late_releases: list[Release] = []
    reads = [0]

    # Doctors' software reads in a loop from several threads while the patient revokes.
    def keep_reading() -> None:
        while not stop.is_set():
            started_after_revoke = revoked.is_set()
            try:
                release = coffre.vault.read(
                    patient.id, document_id, cast.doctor.actor, cast.doctor.key_id
                )
            except UnknownDocument:
                continue
            reads[0] += 1
            if started_after_revoke:
                late_releases.append(release)

    threads = [threading.Thread(target=keep_reading) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_until(lambda: reads[0] >= 4)
    coffre.vault.revoke(patient.id, grant_id, patient)
    revoked.set()
    time.sleep(0.3)  # reads keep starting after the revocation returned
    stop.set()
    for thread in threads:
        thread.join(WAIT)
    assert late_releases == []
    assert recorded(coffre, Access.Refused)  # the refused attempts are recorded

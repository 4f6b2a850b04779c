"""The runner reads each batch once for every projection, and each still gets exactly its
events; rows written by COPY (PostgreSQL) or INSERT (SQLite) read back the same; a
statement that fails in a pipelined batch rolls the whole batch back. Both backends."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from coffre.bootstrap import Coffre
from domain.values import Scope
from projections.runner import Projection, ProjectionRunner, wait_for
from projections.source import ApplicationSource, Event, EventSource
from projections.store import ViewCursor
from tests.replay.test_crash_and_rebuild import record_many_reads
from tests.replay.views import rebuilt, snapshot
from tests.scenarios.conftest import Cast
from wire.errors import Unavailable


class CountingSource:
    """The real event source, counting the events it hands out."""

    def __init__(self, source: EventSource) -> None:
        self.source = source
        self.served = 0

    def read(self, start: int, limit: int) -> list[tuple[int, Event]]:
        """Up to ``limit`` events with notification id >= ``start``, in order."""
        batch = self.source.read(start, limit)
        self.served += len(batch)
        return batch

    def last_id(self) -> int:
        """The highest notification id stored (0 when empty)."""
        return self.source.last_id()

    def stored_check(self, item: tuple[int, Event]) -> tuple[str, dict[str, Any]] | None:
        """The real source's check."""
        return self.source.stored_check(item)


class Broken(Projection):
    """A projection whose every batch fails."""

    name = "broken"
    tables = ()

    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Fail."""
        raise RuntimeError("this projection cannot apply anything")


def test_projections_at_different_positions_each_get_exactly_their_events(
    coffre: Coffre, cast: Cast
) -> None:
    record_many_reads(coffre, cast, 120)
    runner = coffre.runner
    runner.batch_size = 25
    # The access log runs ahead of the others (as after a crash between two commits).
    runner.step("access_log")
    runner.step("access_log")
    runner.step("trail")
    source = CountingSource(runner.source)
    runner.source = source
    head = source.last_id()
    runner.catch_up()
    assert {name: coffre.views.position(name) for name in runner.projections} == dict.fromkeys(
        runner.projections, head
    )
    # Read once for all: the log was served once from the laggards' position, not per view.
    assert source.served == head
    # Nothing lost, nothing doubled: identical to a replay from the first event.
    assert snapshot(runner) == rebuilt(runner)


def test_a_failing_projection_holds_back_no_other(coffre: Coffre, cast: Cast) -> None:
    record_many_reads(coffre, cast, 30)
    runner = ProjectionRunner(
        coffre.runner.source,
        coffre.views,
        [Broken(), *coffre.runner.projections.values()],
        batch_size=10,
    )
    runner.catch_up()  # the broken projection stalls at its first event, alone
    head = runner.source.last_id()
    assert coffre.views.position("broken") == 0
    assert all(coffre.views.position(name) == head for name in coffre.runner.projections)
    stall = runner.stalls()["broken"]
    assert stall.notification_id == runner.source.read(1, 1)[0][0]
    assert stall.error == "RuntimeError applying Space.Provisioned"


def test_two_runners_meeting_one_poisoned_event_both_go_on(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A request's catch-up beside the background one (or a second process): both meet
    # the event; the second to stall it must not fail on the first one's record.
    record_many_reads(coffre, cast, 5)
    runners = [
        ProjectionRunner(coffre.runner.source, coffre.views, [Broken()], batch_size=10)
        for _ in range(2)
    ]
    runners[0].catch_up()
    # The second read the stalls before the first recorded its own: it meets the event too.
    stale = runners[1].stalls
    monkeypatch.setattr(runners[1], "stalls", dict)
    runners[1].catch_up()
    assert set(stale()) == {"broken"}
    assert coffre.views.position("broken") == 0


class DyingPrimary:
    """The event store as a primary served it while dying: every event stored, then one
    it committed but never replicated (here, the newest event again under the next
    notification id), which the database the views are on does not hold."""

    def __init__(self, source: EventSource) -> None:
        self.source = source

    def read(self, start: int, limit: int) -> list[tuple[int, Event]]:
        """The stored events from ``start``, and the unreplicated one at the head."""
        batch = self.source.read(start, limit)
        head = self.source.last_id()
        if len(batch) < limit and start <= head + 1:
            batch.append((head + 1, self.source.read(head, 1)[0][1]))
        return batch

    def last_id(self) -> int:
        """One past the stored head."""
        return self.source.last_id() + 1

    def stored_check(self, item: tuple[int, Event]) -> tuple[str, dict[str, Any]] | None:
        """The real source's check: run where the views are."""
        return self.source.stored_check(item)


def test_a_batch_holding_an_event_the_views_database_lacks_moves_no_position(
    coffre: Coffre, cast: Cast
) -> None:
    # The failover test's lost grants: a batch read from the old primary, applied on the
    # promoted standby, set positions past an id the standby then gave a new grant.
    record_many_reads(coffre, cast, 30)
    coffre.runner.catch_up()
    before = {name: coffre.views.position(name) for name in coffre.runner.projections}
    done = snapshot(coffre.runner)
    record_many_reads(coffre, cast, 12)
    dying = ProjectionRunner(
        DyingPrimary(coffre.runner.source),
        coffre.views,
        list(coffre.runner.projections.values()),
        batch_size=10,
    )
    with pytest.raises(Unavailable):
        dying.catch_up()
    # Every batch before the head was stored and applied; the one holding the unstored
    # event was not, for any projection, and nothing stalled on it.
    after = {name: coffre.views.position(name) for name in coffre.runner.projections}
    head = coffre.runner.source.last_id()
    assert all(before[name] < after[name] < head for name in after), (before, after, head)
    assert dying.stalls() == {}
    assert snapshot(coffre.runner) != done
    # The id the dying primary had used goes to a new grant here; it is projected.
    patient = cast.patient.actor
    coffre.vault.grant(patient.id, cast.nurse.actor, Scope.whole_space(), None, patient)
    assert coffre.runner.source.last_id() == head + 1
    coffre.runner.catch_up()
    assert coffre.runner.lag() == dict.fromkeys(coffre.runner.projections, 0)
    assert snapshot(coffre.runner) == rebuilt(coffre.runner)


def test_the_stored_check_matches_only_the_event_stored_under_that_id(
    coffre: Coffre, cast: Cast
) -> None:
    record_many_reads(coffre, cast, ApplicationSource.TAILS_KEPT + 10)
    source = ApplicationSource(coffre.vault)
    *_, (last_id, last) = source.read(1, 1000)

    def stored(item: tuple[int, Event]) -> bool:
        check = source.stored_check(item)
        assert check is not None
        with pytest.raises(_RollBack), coffre.views.transaction() as cursor:
            found = bool(cursor.fetch(*check))
            raise _RollBack
        return found

    assert stored((last_id, last))
    assert not stored((last_id + 1, last))  # an id the database has not reached
    other = source.read(1, 1)[0][1]
    assert not stored((last_id, other))  # another originator and version under that id
    # The same originator and version under that id, other bytes (a space's next
    # version recorded after a failover under the id a lost event had).
    source._tails[last_id] = b'{"another": "event"}'
    assert not stored((last_id, last))
    # However long the log, the bytes kept are those of the last few batches only.
    for start in range(1, last_id + 1):
        source.read(start, 1)
    assert len(source._tails) == min(last_id, ApplicationSource.TAILS_KEPT)


class PositionsReadBefore:
    """The view store as a runner saw it a moment before: every position at ``first``
    the first time it is read, then as the database holds it. Below the stored one, it
    is a position read before another runner's commit; above it, one moved there by
    asynchronous commits that a server crash then lost."""

    def __init__(self, store: Any, first: int) -> None:
        self._store = store
        self._first = first
        self._seen: set[str] = set()

    def position(self, name: str) -> int:
        """``first`` the first time, the stored position after."""
        if name not in self._seen:
            self._seen.add(name)
            return self._first
        return int(self._store.position(name))

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._store, attribute)


def test_a_position_that_went_back_is_read_again_and_no_event_is_skipped(
    coffre: Coffre, cast: Cast
) -> None:
    # The failover test's lost grants: a batch committed asynchronously moved every
    # position, the runner read them and its next batch, the server died before that
    # commit reached the disk (or the standby), and the next batch was applied after
    # the position the database was left with, skipping what lay between.
    record_many_reads(coffre, cast, 20)
    coffre.runner.catch_up()
    before = coffre.views.position("access_log")
    record_many_reads(coffre, cast, 30)
    ahead = coffre.runner.source.read(before + 1, 10)[-1][0]
    crashed = ProjectionRunner(
        coffre.runner.source,
        PositionsReadBefore(coffre.views, ahead),  # type: ignore[arg-type]
        list(coffre.runner.projections.values()),
    )
    with pytest.raises(Unavailable):
        crashed.catch_up()
    assert {name: coffre.views.position(name) for name in coffre.runner.projections} == (
        dict.fromkeys(coffre.runner.projections, before)
    )
    assert crashed.stalls() == {}
    crashed.catch_up()  # positions read again: every event after ``before``
    assert coffre.runner.lag() == dict.fromkeys(coffre.runner.projections, 0)
    assert snapshot(coffre.runner) == rebuilt(coffre.runner)


def test_a_runner_whose_position_was_read_before_another_commit_projects_nothing_twice(
    coffre: Coffre, cast: Cast
) -> None:
    # The fuzzer's stall on PostgreSQL: the projections worker and a request's catch-up
    # in the API process applied one batch, and the second commit's tracking insert
    # failed as if the event were poisoned, stalling every view.
    record_many_reads(coffre, cast, 40)
    coffre.runner.catch_up()
    done = snapshot(coffre.runner)
    late = ProjectionRunner(
        coffre.runner.source,
        PositionsReadBefore(coffre.views, 0),  # type: ignore[arg-type]
        list(coffre.runner.projections.values()),
        batch_size=10,
    )
    assert late.catch_up() == 0
    assert late.stalls() == {}
    assert snapshot(coffre.runner) == done


def test_runners_catching_up_side_by_side_stall_nothing_and_agree_with_a_rebuild(
    coffre: Coffre, cast: Cast
) -> None:
    record_many_reads(coffre, cast, 300)
    runners = [
        ProjectionRunner(
            coffre.runner.source, coffre.views, list(coffre.runner.projections.values()), size
        )
        for size in (7, 11, 13)
    ]
    with ThreadPoolExecutor(len(runners)) as pool:
        for future in [pool.submit(runner.catch_up) for runner in runners]:
            future.result()
    assert coffre.runner.stalls() == {}
    assert coffre.runner.lag() == dict.fromkeys(coffre.runner.projections, 0)
    assert snapshot(coffre.runner) == rebuilt(coffre.runner)


def test_waiting_for_some_views_is_not_stopped_by_another_ones_stall(
    coffre: Coffre, cast: Cast
) -> None:
    # An export waits for the access log and the trail: a stalled notifications view
    # (or any other) must not make it a 503.
    record_many_reads(coffre, cast, 5)
    access_log = coffre.runner.projections["access_log"]
    runner = ProjectionRunner(coffre.runner.source, coffre.views, [Broken(), access_log])
    wait_for(runner, timeout=5, names=["access_log"])
    assert set(runner.stalls()) == {"broken"}
    assert runner.lag()["access_log"] == 0
    with pytest.raises(Unavailable, match="stalled \\(broken\\)"):
        wait_for(runner, timeout=5)


def test_copied_rows_read_back_as_written(coffre: Coffre) -> None:
    # Text that COPY must escape (tabs, newlines, backslashes), NULLs, UUIDs, instants.
    space_id, document_id = uuid4(), uuid4()
    at = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)
    awkward = 'Dr "Tab"\there\nnew line \\N back\\slash é 🩺'
    row = (7, "patient", "p\\1", space_id, "new_document", at, awkward, None, "", document_id, "{}")
    columns = ("entry_id", "recipient_role", "recipient_id", "space_id", "kind", "at",
               "actor_name", "actor_profession", "actor_organisation", "document_id",
               "detail")  # fmt: skip
    stored: list[dict[str, Any]] = []
    with pytest.raises(_RollBack), coffre.views.transaction() as cursor:
        cursor.copy_rows("notifications", columns, [row])
        stored = cursor.fetch("SELECT * FROM notifications WHERE entry_id = 7")
        raise _RollBack  # (read inside the transaction: the view is left untouched)
    (got,) = stored
    if isinstance(got["at"], str):  # SQLite keeps instants as ISO-8601 text
        got["at"] = datetime.fromisoformat(got["at"])
    assert got == {
        **dict(zip(columns, row, strict=True)),
        "space_id": str(space_id),
        "document_id": str(document_id),
    }
    assert coffre.views.query("SELECT * FROM notifications WHERE entry_id = 7") == []


def test_a_failed_statement_in_a_batch_rolls_back_its_rows_and_position(coffre: Coffre) -> None:
    space_id = uuid4()
    insert = "INSERT INTO notification_spaces (space_id, patient_id) VALUES (%(s)s, %(p)s)"
    # (SQLite raises at once; PostgreSQL, pipelined, before the position is written)
    with (
        pytest.raises(Exception, match=r"(?i)unique|duplicate"),
        coffre.views.transaction(durable=False) as cursor,
    ):
        cursor.execute(insert, {"s": space_id, "p": "first"})
        cursor.execute(insert, {"s": space_id, "p": "again"})  # fails: same key
        cursor.track("probe", 41)
    assert coffre.views.position("probe") == 0
    rows = coffre.views.query(
        "SELECT * FROM notification_spaces WHERE space_id = %(s)s", {"s": space_id}
    )
    assert rows == []


class _RollBack(Exception):
    """Raised to leave a transaction by its rollback."""

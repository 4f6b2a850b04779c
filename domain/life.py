"""The life of a space: one-time code, opposition, opening, activation, closure,
re-opening and crypto-shredding (RULES.md, "Life of a space").

``Life`` is the concept's state and its questions (``status_at``, ``is_open``,
``deletion_due``); ``LifeCommands`` is the part of ``domain.space.Space`` that records
its events. Event classes defined here are redefined on ``Space`` by the aggregate
metaclass, so stored topics read ``domain.space:Space.Opposed`` like every other event
of a space. Each event's ``apply`` only assigns: it runs again on every replay.

Time-based transitions need no event to take effect — a pending space *is* open once
``opens_at`` passed — so a late scheduler never delays or advances a rule; the
scheduler's events (``Opened``, ``Shredded``...) record that the moment came, and
shredding is the one that also acts (the vault destroys the key after recording it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.periods import Periods, add_years_to_instant
from domain.records import CodeCheck, SpaceStatus
from domain.space_state import SpaceState
from domain.values import Actor
from wire.errors import Conflict, Forbidden, InvalidInput
from wire.values import Role, require_aware

#: wrong codes accepted before the code is locked (a new letter is then needed)
MAX_CODE_FAILURES = 5


@dataclass
class Life:
    """Where a space is in its life, and its key. A space recorded before the life
    cycle existed has no ``OpeningScheduled`` event: it is open from its provisioning."""

    key_id: str
    public_key: str
    opens_at: datetime
    status: SpaceStatus = SpaceStatus.OPEN
    activated_at: datetime | None = None
    code: dict[str, Any] | None = None
    code_failures: int = 0
    birth_date: date | None = None
    closed_at: datetime | None = None
    archive_until: datetime | None = None
    deletion_due_at: datetime | None = None
    shredded_at: datetime | None = None
    shredded_keys: list[str] = field(default_factory=list)

    def status_at(self, now: datetime) -> SpaceStatus:
        """The status at ``now``: a pending space is open once its deadline passed."""
        if self.status is SpaceStatus.PENDING and now >= self.opens_at:
            return SpaceStatus.OPEN
        return self.status

    def is_open(self, now: datetime) -> bool:
        """RULES rule 1: documents are deposited and read only in an open space."""
        return self.status_at(now) is SpaceStatus.OPEN

    def deletion_due(self, now: datetime) -> bool:
        """True when a closed space's archive must be shredded at ``now``."""
        return (
            self.status is SpaceStatus.CLOSED
            and self.deletion_due_at is not None
            and self.deletion_due_at <= now
        )


class LifeCommands(SpaceState):
    """Commands and events of a space's life cycle (a part of ``Space``)."""

    # -- provisioning ----------------------------------------------------------------

    def prepare_opening(
        self,
        code: Mapping[str, Any],
        opens_at: datetime,
        birth_date: date | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record the one-time code's digest, the opening deadline and the birth date."""
        require_aware(opens_at, field="opens_at")
        if opens_at < at:
            raise InvalidInput("a space cannot open before it is provisioned", field="opens_at")
        if birth_date is not None and birth_date > at.date():
            raise InvalidInput("the birth date is in the future", field="birth_date")
        self.trigger_event(self.CodeIssued, code=dict(code), actor=actor.to_dict(), at=at)
        self.trigger_event(self.OpeningScheduled, opens_at=opens_at, actor=actor.to_dict(), at=at)
        if birth_date is not None:
            self.trigger_event(
                self.BirthDateRecorded,
                birth_date=birth_date.isoformat(),
                actor=actor.to_dict(),
                at=at,
            )

    class CodeIssued(Aggregate.Event):
        """A one-time code was issued; only its salted slow hash is kept."""

        code: dict[str, Any]
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.life.code = self.code
            aggregate.life.code_failures = 0

    class OpeningScheduled(Aggregate.Event):
        """The space opens at ``opens_at`` unless the person opposes before."""

        opens_at: datetime
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.life.status = SpaceStatus.PENDING
            aggregate.life.opens_at = self.opens_at

    class BirthDateRecorded(Aggregate.Event):
        """The patient's birth date, from the insurer's register (majority ends parents')."""

        birth_date: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.life.birth_date = date.fromisoformat(self.birth_date)

    def reissue_code(self, code: Mapping[str, Any], actor: Actor, at: datetime) -> None:
        """A platform service sends a new letter (lost code, or locked after failures)."""
        if actor.role is not Role.SERVICE:
            raise Forbidden("codes are issued by a platform service")
        if self.life.status_at(at) not in (SpaceStatus.PENDING, SpaceStatus.OPEN):
            raise Conflict("this space takes no code")
        if self.life.activated_at is not None:
            raise Conflict("the space is already activated")
        self.trigger_event(self.CodeIssued, code=dict(code), actor=actor.to_dict(), at=at)

    # -- opposition and activation ---------------------------------------------------

    def _code_accepted(
        self, code: str, check: CodeCheck, purpose: str, actor: Actor, at: datetime
    ) -> bool:
        stored = self.life.code
        if stored is None:
            raise Conflict("this space has no usable code")
        if self.life.code_failures >= MAX_CODE_FAILURES:
            raise Conflict("the code is locked after too many attempts; ask for a new one")
        if not isinstance(code, str) or not check(code, stored):
            # A wrong code is a refused attempt, recorded like a refused read.
            self.trigger_event(self.CodeRejected, purpose=purpose, actor=actor.to_dict(), at=at)
            return False
        return True

    class CodeRejected(Aggregate.Event):
        """Someone presented a wrong one-time code."""

        purpose: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.life.code_failures += 1

    def oppose(self, code: str, check: CodeCheck, actor: Actor, at: datetime) -> bool:
        """The person (or a representative) refuses the space before it opens.

        Returns False, with the failure recorded, when the code is wrong.
        """
        require_aware(at, field="at")
        self._require_holder(actor, at)
        if self.life.status_at(at) is not SpaceStatus.PENDING:
            raise Conflict("the space can be opposed only before it opens")
        if not self._code_accepted(code, check, "opposition", actor, at):
            return False
        self.trigger_event(self.Opposed, actor=actor.to_dict(), at=at)
        return True

    class Opposed(Aggregate.Event):
        """The person opposed: the space will not open."""

        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.life.status = SpaceStatus.OPPOSED
            aggregate.life.code = None

    def activate(self, code: str, check: CodeCheck, actor: Actor, at: datetime) -> bool:
        """The patient (or a representative) activates the space with the code.

        Activating before the deadline opens the space at once (and ends the opposition
        period). Returns False, with the failure recorded, when the code is wrong.
        """
        require_aware(at, field="at")
        self._require_holder(actor, at)
        if self.life.status_at(at) not in (SpaceStatus.PENDING, SpaceStatus.OPEN):
            raise Conflict("this space cannot be activated")
        if self.life.activated_at is not None:
            raise Conflict("the space is already activated")
        if not self._code_accepted(code, check, "activation", actor, at):
            return False
        self.trigger_event(self.Activated, actor=actor.to_dict(), at=at)
        return True

    class Activated(Aggregate.Event):
        """The patient activated the space (the code is spent)."""

        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.life.status = SpaceStatus.OPEN
            aggregate.life.activated_at = self.at
            aggregate.life.code = None

    class Opened(Aggregate.Event):
        """The opposition deadline passed without opposition (recorded by the scheduler)."""

        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.life.status = SpaceStatus.OPEN

    # -- closure, deletion, re-opening -----------------------------------------------

    def close(self, periods: Periods, express_deletion: bool, actor: Actor, at: datetime) -> None:
        """The holder closes the space: archived for the period, or deleted on request.

        Closure ends every grant and emergency access: a space opened again later starts
        with no one authorised.
        """
        require_aware(at, field="at")
        self._require_holder(actor, at)
        self._require_open(at)
        archive_until = add_years_to_instant(at, periods.archive_years)
        due = at + periods.express_deletion if express_deletion else archive_until
        self.trigger_event(
            self.Closed,
            express_deletion=bool(express_deletion),
            archive_until=archive_until,
            deletion_due_at=due,
            actor=actor.to_dict(),
            at=at,
        )

    class Closed(Aggregate.Event):
        """The space was closed; its data waits in the archive until ``deletion_due_at``."""

        express_deletion: bool
        archive_until: datetime
        deletion_due_at: datetime
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            life = aggregate.life
            life.status = SpaceStatus.CLOSED
            life.closed_at = self.at
            life.archive_until = self.archive_until
            life.deletion_due_at = self.deletion_due_at
            aggregate.grants.end_all(self.at)
            aggregate.emergency.end_all(self.at)

    def request_deletion(self, periods: Periods, actor: Actor, at: datetime) -> None:
        """The holder of a closed space asks for deletion without the archive period."""
        require_aware(at, field="at")
        self._require_holder(actor, at)
        due_at = self.life.deletion_due_at
        if self.life.status_at(at) is not SpaceStatus.CLOSED or due_at is None:
            raise Conflict("only a closed space's archive can be deleted early")
        due = min(due_at, at + periods.express_deletion)
        self.trigger_event(
            self.DeletionRequested, deletion_due_at=due, actor=actor.to_dict(), at=at
        )

    class DeletionRequested(Aggregate.Event):
        """The holder asked for the archive to be deleted by ``deletion_due_at``."""

        deletion_due_at: datetime
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.life.deletion_due_at = self.deletion_due_at

    def shred(self, actor: Actor, at: datetime) -> str:
        """Record the crypto-shredding of the space key; returns the key id to destroy.

        The vault destroys the key (and removes the blobs) only after this is stored.
        """
        require_aware(at, field="at")
        if not self.life.deletion_due(at):
            raise Conflict("this space is not due for deletion")
        key_id = self.life.key_id
        self.trigger_event(self.Shredded, key_id=key_id, actor=actor.to_dict(), at=at)
        return key_id

    class Shredded(Aggregate.Event):
        """The space key was destroyed: its documents are unreadable for good."""

        key_id: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            life = aggregate.life
            life.status = SpaceStatus.DELETED
            life.shredded_at = self.at
            life.shredded_keys.append(self.key_id)
            life.deletion_due_at = None
            aggregate.documents.shred_all(self.at)

    def reopen(
        self,
        key_id: str,
        public_key: str,
        code: Mapping[str, Any],
        actor: Actor,
        at: datetime,
    ) -> bool:
        """A platform service opens a new space for a person who closed or opposed one.

        The archive of a space closed within its archive period comes back (RULES:
        re-import); after deletion the new space starts empty with a new key. The space
        opens at once (the person asked for it) and awaits activation with a new code.
        Returns True when archived documents were re-imported.
        """
        require_aware(at, field="at")
        if actor.role is not Role.SERVICE:
            raise Forbidden("a new space is opened by a platform service")
        status = self.life.status_at(at)
        if status not in (SpaceStatus.CLOSED, SpaceStatus.OPPOSED, SpaceStatus.DELETED):
            raise Conflict("this person already has a space")
        if self.life.deletion_due(at):
            raise Conflict("the archive is due for deletion; it cannot be re-imported")
        if (key_id != self.life.key_id) is not self.needs_new_key:
            raise InvalidInput("a new key is needed exactly after deletion", field="key_id")
        reimported = status is SpaceStatus.CLOSED and any(
            not d.deleted for d in self.documents.values()
        )
        self.trigger_event(
            self.Reopened,
            key_id=key_id,
            public_key=public_key,
            reimported=reimported,
            actor=actor.to_dict(),
            at=at,
        )
        self.trigger_event(self.CodeIssued, code=dict(code), actor=actor.to_dict(), at=at)
        return reimported

    class Reopened(Aggregate.Event):
        """A new space was opened for the person; ``reimported`` says the archive came back."""

        key_id: str
        public_key: str
        reimported: bool
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            life = aggregate.life
            life.status = SpaceStatus.OPEN
            life.opens_at = self.at
            life.activated_at = None
            life.key_id = self.key_id
            life.public_key = self.public_key
            life.closed_at = None
            life.archive_until = None
            life.deletion_due_at = None

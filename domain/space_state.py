"""What every part of a space shares: the concept objects its state is made of.

A space is one aggregate (one consistency boundary), but its state is composed of one
small object per concept of RULES.md, each holding its own records and answering its
own questions:

* ``life`` (``domain.life.Life``): status, opening, activation, closure, shredding;
* ``documents`` (``domain.documents.Documents``): documents, versions, their codes;
* ``grants`` (``domain.grants.Grants``): grants and the care team;
* ``representatives`` (``domain.representatives.Representatives``);
* ``blocks`` (``domain.blocks.Blocks``): blocks, settings, the attending physician;
* ``emergency`` (``domain.emergency.Emergencies``): emergency accesses.

Each concept module also holds the space's commands and events for that concept, as a
part (``SpaceState`` subclass) of ``domain.space.Space``; the parts read one another
only through these declared objects, never through each other's attributes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from domain.records import Representation, Setting, SpaceStatus
from domain.values import Actor
from wire.errors import Conflict, Forbidden
from wire.values import Role

if TYPE_CHECKING:  # the concept modules build on this one
    from domain.blocks import Blocks
    from domain.documents import Documents
    from domain.emergency import Emergencies
    from domain.grants import Grants
    from domain.life import Life
    from domain.representatives import Representatives


class SpaceState(Aggregate):
    """The declared state of a space and the questions every part asks of it."""

    if TYPE_CHECKING:
        # Declared for the type checker only: class annotations would make the
        # aggregate metaclass treat this class as a dataclass. ``Space.__init__`` sets them.
        patient_id: str
        provisioned_by: Actor
        provisioned_at: datetime
        life: Life
        documents: Documents
        grants: Grants
        representatives: Representatives
        blocks: Blocks
        emergency: Emergencies

    # -- who holds the space ---------------------------------------------------------

    def is_patient(self, actor: Actor) -> bool:
        """True when the actor is this space's patient."""
        return actor.role is Role.PATIENT and actor.id == self.patient_id

    def representation(self, actor: Actor, now: datetime) -> Representation | None:
        """The actor's active representation of the patient at ``now``, if any."""
        return self.representatives.active(actor, now)

    def is_holder(self, actor: Actor, now: datetime) -> bool:
        """The patient, or someone representing them at ``now``: who manages the space."""
        return self.is_patient(actor) or self.representation(actor, now) is not None

    def _require_holder(self, actor: Actor, at: datetime) -> None:
        if not self.is_holder(actor, at):
            raise Forbidden("only the patient or their representative manages the space")

    def _require_open(self, at: datetime) -> None:
        if not self.life.is_open(at):
            raise Conflict("the space is not open")

    # -- the life cycle, as callers have always read it ------------------------------

    def status_at(self, now: datetime) -> SpaceStatus:
        """The status at ``now``: a pending space is open once its deadline passed."""
        return self.life.status_at(now)

    def is_open(self, now: datetime) -> bool:
        """RULES rule 1: documents are deposited and read only in an open space."""
        return self.life.is_open(now)

    def deletion_due(self, now: datetime) -> bool:
        """True when a closed space's archive must be shredded at ``now``."""
        return self.life.deletion_due(now)

    @property
    def needs_new_key(self) -> bool:
        """True when re-opening needs a new space key (the old one was shredded)."""
        return self.life.status is SpaceStatus.DELETED

    @property
    def status(self) -> SpaceStatus:
        """The recorded status (``status_at`` applies the opening deadline)."""
        return self.life.status

    @property
    def key_id(self) -> str:
        """The id of the space key in force."""
        return self.life.key_id

    @property
    def public_key(self) -> str:
        """The base64 public half of the space key in force."""
        return self.life.public_key

    @property
    def opens_at(self) -> datetime:
        """When a pending space opens (its provisioning for one open at once)."""
        return self.life.opens_at

    @property
    def activated_at(self) -> datetime | None:
        """When the patient activated the space with the code."""
        return self.life.activated_at

    @property
    def code(self) -> dict[str, Any] | None:
        """The one-time code's digest record, while one is usable."""
        return self.life.code

    @property
    def code_failures(self) -> int:
        """Wrong codes presented since the last letter."""
        return self.life.code_failures

    @property
    def birth_date(self) -> date | None:
        """The patient's birth date, when the register gave it."""
        return self.life.birth_date

    @property
    def closed_at(self) -> datetime | None:
        """When the space was closed."""
        return self.life.closed_at

    @property
    def archive_until(self) -> datetime | None:
        """Until when a closed space's data is archived."""
        return self.life.archive_until

    @property
    def deletion_due_at(self) -> datetime | None:
        """When a closed space's archive is shredded."""
        return self.life.deletion_due_at

    @property
    def shredded_at(self) -> datetime | None:
        """When the space key was destroyed."""
        return self.life.shredded_at

    @property
    def shredded_keys(self) -> list[str]:
        """The ids of the space keys destroyed."""
        return self.life.shredded_keys

    # -- the patient's rules, as callers have always read them -----------------------

    @property
    def blocked(self) -> dict[str, Actor]:
        """The professionals the holder blocked, by id."""
        return self.blocks.blocked

    @property
    def attending_physician(self) -> Actor | None:
        """The patient's attending physician, if named."""
        return self.blocks.attending_physician

    @property
    def settings(self) -> dict[Setting, bool]:
        """The patient's space-level choices."""
        return self.blocks.settings

    @property
    def emergency_accesses(self) -> Emergencies:
        """Every emergency access declared, by id."""
        return self.emergency

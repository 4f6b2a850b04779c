"""A patient's space: the consistency boundary for documents, grants and their rules.

One access decision needs documents, grants, codes, blocks, representatives and
emergency accesses together, which is why they share this aggregate. Its state is
composed of one object per concept (``domain.space_state``), and its commands and
events are written one concept per module, each a part of ``Space``:

* ``domain.life``: code, opposition, activation, closure, re-opening, shredding;
* ``domain.documents``: deposits, versions, deletions;
* ``domain.grants``: grants and the care team;
* ``domain.confidentiality``: the codes ``masked``, ``invisible_to_patient``,
  ``invisible_to_representatives``;
* ``domain.representatives``: legal representatives;
* ``domain.blocks``: blocks, settings, the attending physician;
* ``domain.emergency``: emergency access;
* ``domain.due``: what the scheduler records when a moment comes.

The read decisions are ``domain.reads``'s. Public methods validate and compute (ids,
times, digests are passed in); events only assign in their ``apply``, because they run
again on every replay. Every event is redefined on ``Space`` by the aggregate
metaclass, so stored topics read ``domain.space:Space.<Event>`` whichever module
defines the event (``tests/replay/test_stored_events.py`` replays a store of them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.blocks import BlockCommands, Blocks
from domain.documents import DocumentCommands, Documents
from domain.due import DueCommands
from domain.emergency import Emergencies, EmergencyCommands
from domain.grants import GrantCommands, Grants
from domain.key_bytes import PUBLIC_KEY_SIZE, SEALED_KEY_SIZE, b64, decode_key_bytes
from domain.life import Life
from domain.records import Document, DocumentVersion, Grant
from domain.representatives import Representatives
from domain.values import Actor, parse_patient_id
from wire.errors import InvalidInput
from wire.values import Role, require_aware

__all__ = [
    "PUBLIC_KEY_SIZE",
    "SEALED_KEY_SIZE",
    "Document",
    "DocumentVersion",
    "Grant",
    "Space",
    "b64",
    "decode_key_bytes",
]


SPACE_NAMESPACE = uuid5(NAMESPACE_URL, "https://coffre.invalid/space")


class Space(DueCommands, DocumentCommands, GrantCommands, BlockCommands, EmergencyCommands):
    """A patient's health space."""

    @staticmethod
    def create_id(patient_id: str) -> UUID:  # type: ignore[override]
        """The space's id is derived from the patient id, so the store enforces one each."""
        return uuid5(SPACE_NAMESPACE, parse_patient_id(patient_id))

    class Provisioned(Aggregate.Created):
        """A space was provisioned for a patient with the public half of its key."""

        patient_id: str
        key_id: str
        public_key: str
        actor: dict[str, Any]
        at: datetime

    @event(Provisioned)
    def __init__(
        self, patient_id: str, key_id: str, public_key: str, actor: dict[str, Any], at: datetime
    ) -> None:
        self.patient_id = patient_id
        self.provisioned_by = Actor.from_dict(actor)
        self.provisioned_at = at
        self.life = Life(key_id=key_id, public_key=public_key, opens_at=at)
        self.documents = Documents()
        self.grants = Grants()
        self.representatives = Representatives()
        self.blocks = Blocks()
        self.emergency = Emergencies()

    @classmethod
    def provision(
        cls,
        patient_id: str,
        key_id: str,
        public_key: bytes,
        actor: Actor,
        at: datetime,
        *,
        code: Mapping[str, Any] | None = None,
        opens_at: datetime | None = None,
        birth_date: date | None = None,
    ) -> Space:
        """Provision a space for a patient with the public half of the space key.

        With ``code`` (the digest record of the one-time code sent by letter) the space
        is pending until ``opens_at``, when it opens unless the person opposed.
        """
        if actor.role not in (Role.SERVICE,):
            raise InvalidInput("spaces are provisioned by a platform service", field="actor")
        if (code is None) is not (opens_at is None):
            raise InvalidInput("a code and an opening date go together", field="code")
        space = cls(
            patient_id=parse_patient_id(patient_id),
            key_id=key_id,
            public_key=b64(decode_key_bytes(public_key, size=PUBLIC_KEY_SIZE, field="public_key")),
            actor=actor.to_dict(),
            at=require_aware(at, field="at"),
        )
        if code is not None and opens_at is not None:
            space.prepare_opening(code, opens_at, birth_date, actor, at)
            # With no opposition period left, the space opens in the same transaction
            # rather than whenever a scheduler next passes.
            space.apply_due(at)
        return space

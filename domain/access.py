"""Records of access to a space: every read and every refused read is one.

Each record is its own small aggregate, so recording a read never contends with other
reads or with the space's own history; the global notification order is what the
access log and the trail follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.reads import Decision
from domain.values import Actor
from wire.values import require_aware


class Access(Aggregate):
    """One attempt to read a space's content, allowed or refused."""

    class Read(Aggregate.Created):
        """A document version was read; the data key was released after this was stored."""

        space_id: UUID
        document_id: UUID
        version: int
        reader: dict[str, Any]
        reader_key_id: str
        mode: str
        grant_id: UUID | None
        space_version: int
        at: datetime

    class Refused(Aggregate.Created):
        """A read was refused; ``rule`` is the first rule that failed."""

        space_id: UUID
        document_id: UUID | None
        reader: dict[str, Any]
        rule: str
        space_version: int
        at: datetime

    class LogRead(Aggregate.Created):
        """A space's access log was read (RULES.md: reading the log is itself recorded)."""

        space_id: UUID
        reader: dict[str, Any]
        at: datetime

    class Exported(Aggregate.Created):
        """An export of a space was made for ``reader`` (``vault.exports``): one act, so
        that the log says "exported by X at T"; each document the export holds is also
        a recorded read of its own."""

        space_id: UUID
        reader: dict[str, Any]
        export_id: UUID
        documents: int
        at: datetime

    @classmethod
    def record_export(
        cls, space_id: UUID, reader: Actor, export_id: UUID, documents: int, at: datetime
    ) -> Access:
        """Record that an export of ``space_id`` holding ``documents`` documents is being
        made for ``reader`` (the export job ``export_id``)."""
        return cls._create(
            cls.Exported,
            id=uuid4(),
            space_id=space_id,
            reader=reader.to_dict(),
            export_id=export_id,
            documents=documents,
            at=require_aware(at, field="at"),
        )

    @classmethod
    def record_log_read(cls, space_id: UUID, reader: Actor, at: datetime) -> Access:
        """Record that ``reader`` read the access log of ``space_id``."""
        return cls._create(
            cls.LogRead,
            id=uuid4(),
            space_id=space_id,
            reader=reader.to_dict(),
            at=require_aware(at, field="at"),
        )

    @classmethod
    def record_read(
        cls,
        space_id: UUID,
        document_id: UUID,
        version: int,
        reader: Actor,
        reader_key_id: str,
        decision: Decision,
        space_version: int,
        at: datetime,
    ) -> Access:
        """Record an allowed read."""
        assert decision.allowed and decision.mode is not None
        return cls._create(
            cls.Read,
            id=uuid4(),
            space_id=space_id,
            document_id=document_id,
            version=version,
            reader=reader.to_dict(),
            reader_key_id=reader_key_id,
            mode=decision.mode.value,
            grant_id=decision.grant_id,
            space_version=space_version,
            at=require_aware(at, field="at"),
        )

    @classmethod
    def record_refusal(
        cls,
        space_id: UUID,
        document_id: UUID | None,
        reader: Actor,
        decision: Decision,
        space_version: int,
        at: datetime,
    ) -> Access:
        """Record a refused read with the rule that refused it."""
        assert not decision.allowed and decision.rule is not None
        return cls._create(
            cls.Refused,
            id=uuid4(),
            space_id=space_id,
            document_id=document_id,
            reader=reader.to_dict(),
            rule=decision.rule.value,
            space_version=space_version,
            at=require_aware(at, field="at"),
        )

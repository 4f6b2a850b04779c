"""Blocks, the patient's settings and the attending physician (RULES.md rules 3 and 5).

``Blocks`` is the concept's state: the professionals the holder blocked, the attending
physician (médecin traitant) and the space-level choices the read decision consults.
``BlockCommands`` is the part of ``domain.space.Space`` that records them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.records import Setting
from domain.space_state import SpaceState
from domain.values import Actor
from wire.errors import InvalidInput
from wire.values import Profession, Role, require_aware


def _no_settings() -> dict[Setting, bool]:
    return {setting: False for setting in Setting}


@dataclass
class Blocks:
    """Who the holder blocked, their attending physician, and their settings."""

    blocked: dict[str, Actor] = field(default_factory=dict)
    attending_physician: Actor | None = None
    settings: dict[Setting, bool] = field(default_factory=_no_settings)

    def blocks(self, professional_id: str) -> bool:
        """Rule 3: none of a blocked professional's reads is allowed."""
        return professional_id in self.blocked

    def is_attending_physician(self, actor: Actor) -> bool:
        """True when ``actor`` is the patient's attending physician."""
        physician = self.attending_physician
        return physician is not None and physician.id == actor.id


class BlockCommands(SpaceState):
    """Blocks, the attending physician and settings (a part of ``Space``)."""

    def block(self, professional: Actor, actor: Actor, at: datetime) -> None:
        """The holder blocks a professional: none of their reads is allowed (rule 3)."""
        require_aware(at, field="at")
        self._require_holder(actor, at)
        self._require_open(at)
        if professional.role is not Role.PROFESSIONAL:
            raise InvalidInput("only professionals are blocked", field="professional")
        if not self.blocks.blocks(professional.id):
            self.trigger_event(
                self.Blocked, professional=professional.to_dict(), actor=actor.to_dict(), at=at
            )

    class Blocked(Aggregate.Event):
        """The patient blocked a professional."""

        professional: dict[str, Any]
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            blocked = Actor.from_dict(self.professional)
            aggregate.blocks.blocked[blocked.id] = blocked

    def unblock(self, professional_id: str, actor: Actor, at: datetime) -> None:
        """The holder lifts a block."""
        require_aware(at, field="at")
        self._require_holder(actor, at)
        self._require_open(at)
        if self.blocks.blocks(professional_id):
            self.trigger_event(
                self.Unblocked, professional_id=professional_id, actor=actor.to_dict(), at=at
            )

    class Unblocked(Aggregate.Event):
        """The patient lifted a block."""

        professional_id: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            del aggregate.blocks.blocked[self.professional_id]

    def designate_attending_physician(
        self, physician: Actor | None, actor: Actor, at: datetime
    ) -> None:
        """The holder names their attending physician (médecin traitant), or none."""
        require_aware(at, field="at")
        self._require_holder(actor, at)
        self._require_open(at)
        if physician is not None and physician.profession is not Profession.DOCTOR:
            raise InvalidInput("the attending physician is a doctor", field="physician")
        current = self.blocks.attending_physician
        if (current.id if current else None) != (physician.id if physician else None):
            self.trigger_event(
                self.AttendingPhysicianDesignated,
                physician=physician.to_dict() if physician else None,
                actor=actor.to_dict(),
                at=at,
            )

    class AttendingPhysicianDesignated(Aggregate.Event):
        """The patient's attending physician changed (``None``: no longer any)."""

        physician: dict[str, Any] | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.blocks.attending_physician = (
                Actor.from_dict(self.physician) if self.physician else None
            )

    def change_setting(self, setting: Setting, value: bool, actor: Actor, at: datetime) -> None:
        """The holder changes one of the space-level choices the policy reads."""
        require_aware(at, field="at")
        try:
            setting = Setting(setting)
        except ValueError:
            raise InvalidInput("unknown setting", field="setting") from None
        if not isinstance(value, bool):
            raise InvalidInput("a setting is true or false", field="value")
        self._require_holder(actor, at)
        self._require_open(at)
        if self.blocks.settings[setting] is not value:
            self.trigger_event(
                self.SettingChanged,
                setting=setting.value,
                value=value,
                actor=actor.to_dict(),
                at=at,
            )

    class SettingChanged(Aggregate.Event):
        """A space-level setting changed (emergency access, masks)."""

        setting: str
        value: bool
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.blocks.settings[Setting(self.setting)] = self.value

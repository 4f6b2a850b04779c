"""Grants and the care team: which professionals may read which part of a space.

``Grants`` is the concept's state (every grant by id, in order of creation) and its
questions: a professional's active grant, the grant covering a document. ``GrantCommands``
is the part of ``domain.space.Space`` that records grants, changes and revocations.

One active grant per professional per space: granting again to a professional who holds
an active grant changes that grant (scope, expiry, basis) and keeps its id, so that
revoking it ends their access at once. Streams recorded before this rule may hold
several grants to one professional ("stacked"); they replay as follows (docs/rules.md,
"One grant per professional"):

* a ``Granted`` or ``CareTeamJoined`` to a professional who holds an active grant at
  that instant supersedes it: the earlier grant ends then (``superseded_at``);
* a ``Revoked`` ends the named grant and every other grant of the same professional
  active at that instant: revoking any of their grants revokes the professional's access.

New commands never stack (they record ``GrantChanged`` instead), so both rules only ever
act on such old streams, and a replay gives the same decisions the new commands would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.reads import decide_read
from domain.records import Document, Grant, GrantBasis
from domain.space_state import SpaceState
from domain.values import Actor, Scope, ScopeKind, parse_professional_id
from wire.errors import Conflict, Forbidden, InvalidInput, UnknownGrant
from wire.values import Role, require_aware


class Grants(dict[UUID, Grant]):
    """A space's grants by id, in order of creation (consent and care team)."""

    def active_for(self, professional_id: str, now: datetime) -> Grant | None:
        """The professional's active grant at ``now``, if any."""
        for grant in self.values():
            if grant.grantee.id == professional_id and grant.active(now):
                return grant
        return None

    def covering(self, reader_id: str, document: Document, now: datetime) -> Grant | None:
        """The first active grant of ``reader_id`` covering ``document`` (grant coverage)."""
        for grant in self.values():
            if (
                grant.grantee.id == reader_id
                and grant.active(now)
                and grant.scope.covers(document.id, document.type)
            ):
                return grant
        return None

    def active(self, now: datetime) -> list[Grant]:
        """Every grant active at ``now``, in order of creation."""
        return [grant for grant in self.values() if grant.active(now)]

    def add(self, grant: Grant) -> None:
        """Apply a new grant: it supersedes the professional's active grant, which only
        an old stream can hold (see the module's docstring)."""
        current = self.active_for(grant.grantee.id, grant.granted_at)
        if current is not None:
            current.superseded_at = grant.granted_at
        self[grant.id] = grant

    def revoke(self, grant_id: UUID, at: datetime) -> None:
        """Apply a revocation: the grant and every other active grant of its grantee end."""
        revoked = self[grant_id]
        for grant in self.values():
            if grant is revoked or (grant.grantee.id == revoked.grantee.id and grant.active(at)):
                grant.revoked_at = at

    def end_all(self, at: datetime) -> None:
        """The space closed: every grant not yet revoked ends."""
        for grant in self.values():
            if grant.revoked_at is None:
                grant.revoked_at = at


class GrantCommands(SpaceState):
    """Grants, changes, revocations and the care team (a part of ``Space``)."""

    def active_grant(self, professional_id: str, now: datetime) -> Grant | None:
        """The professional's active grant at ``now`` (consent or care team), if any."""
        return self.grants.active_for(professional_id, now)

    def grant(
        self,
        grant_id: UUID,
        grantee: Actor,
        scope: Scope,
        expires_at: datetime | None,
        actor: Actor,
        at: datetime,
    ) -> UUID:
        """The holder lets a professional read the documents ``scope`` covers.

        Returns the grant's id: ``grant_id`` for a new grant, or the id of the
        professional's active grant, which this changes (scope, expiry) instead of
        adding a second one.
        """
        require_aware(at, field="at")
        if grantee.id in (actor.id, self.patient_id):
            raise InvalidInput("a grant to oneself is meaningless", field="grantee")
        self._require_holder(actor, at)
        if grantee.role is not Role.PROFESSIONAL:
            raise InvalidInput("grants go to health professionals", field="grantee")
        if expires_at is not None and require_aware(expires_at, field="expires_at") <= at:
            raise InvalidInput("a grant's expiry must be in the future", field="expires_at")
        self._require_open(at)
        if scope.kind is ScopeKind.DOCUMENTS:
            for document_id in scope.documents:
                # the same answer for a document that does not exist and one the
                # granting holder may not see (a minor's secret, a held document)
                if not decide_read(self, document_id, actor, at).allowed:
                    raise InvalidInput("the scope names an unknown document", field="scope")
        if grant_id in self.grants:
            raise Conflict("a grant with this id exists")
        current = self.grants.active_for(grantee.id, at)
        if current is not None:
            self._change_grant(current, scope, expires_at, GrantBasis.CONSENT, actor, at)
            return current.id
        self.trigger_event(
            self.Granted,
            grant_id=grant_id,
            grantee=grantee.to_dict(),
            scope=scope.to_dict(),
            expires_at=expires_at,
            actor=actor.to_dict(),
            at=at,
        )
        return grant_id

    def _change_grant(
        self,
        current: Grant,
        scope: Scope,
        expires_at: datetime | None,
        basis: GrantBasis,
        actor: Actor,
        at: datetime,
    ) -> None:
        # Granting exactly what is granted records nothing: the answer is the same id.
        if (current.scope, current.expires_at, current.basis) != (scope, expires_at, basis):
            self.trigger_event(
                self.GrantChanged,
                grant_id=current.id,
                scope=scope.to_dict(),
                expires_at=expires_at,
                basis=basis.value,
                actor=actor.to_dict(),
                at=at,
            )

    class Granted(Aggregate.Event):
        """The holder granted a professional access to part of the space."""

        grant_id: UUID
        grantee: dict[str, Any]
        scope: dict[str, Any]
        expires_at: datetime | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.grants.add(_stored_grant(self, GrantBasis.CONSENT))

    class GrantChanged(Aggregate.Event):
        """A professional's active grant was granted again: new scope, expiry, basis."""

        grant_id: UUID
        scope: dict[str, Any]
        expires_at: datetime | None
        basis: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            grant = aggregate.grants[self.grant_id]
            grant.scope = Scope.from_dict(self.scope)
            grant.expires_at = self.expires_at
            grant.basis = GrantBasis(self.basis)
            grant.changed_at = self.at

    def revoke(self, grant_id: UUID, actor: Actor, at: datetime) -> None:
        """The holder ends a grant; the very next read by the grantee is refused."""
        self._require_holder(actor, require_aware(at, field="at"))
        grant = self.grants.get(grant_id)
        if grant is None:
            raise UnknownGrant("no such grant in this space")
        if grant.revoked_at is not None:
            raise Conflict("the grant is already revoked")
        self.trigger_event(self.Revoked, grant_id=grant_id, actor=actor.to_dict(), at=at)

    def revoke_professional(self, professional_id: str, actor: Actor, at: datetime) -> UUID:
        """The holder ends the professional's access: their active grant is revoked.

        Returns the revoked grant's id; ``UnknownGrant`` when they hold no active grant.
        """
        require_aware(at, field="at")
        professional_id = parse_professional_id(professional_id)
        self._require_holder(actor, at)
        current = self.grants.active_for(professional_id, at)
        if current is None:
            raise UnknownGrant("this professional holds no active grant in this space")
        self.trigger_event(self.Revoked, grant_id=current.id, actor=actor.to_dict(), at=at)
        return current.id

    class Revoked(Aggregate.Event):
        """The holder revoked a grant (and with it the professional's access)."""

        grant_id: UUID
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.grants.revoke(self.grant_id, self.at)

    def add_to_care_team(
        self,
        grant_id: UUID,
        professional: Actor,
        expires_at: datetime | None,
        actor: Actor,
        at: datetime,
    ) -> UUID:
        """An establishment declares a professional of the patient's care team (R1111-46).

        Recorded as a whole-space grant the patient sees in their grants and may revoke.
        Like every grant, one per professional: a professional who holds an active grant
        keeps it, changed to the care team's (whole space, this expiry); returns its id.
        """
        require_aware(at, field="at")
        if actor.role is not Role.SERVICE:
            raise Forbidden("care teams are declared by the establishment's service")
        if professional.role is not Role.PROFESSIONAL:
            raise InvalidInput("care teams are made of professionals", field="professional")
        if expires_at is not None and require_aware(expires_at, field="expires_at") <= at:
            raise InvalidInput("an expiry must be in the future", field="expires_at")
        self._require_open(at)
        if grant_id in self.grants:
            raise Conflict("a grant with this id exists")
        current = self.grants.active_for(professional.id, at)
        if current is not None:
            self._change_grant(
                current, Scope.whole_space(), expires_at, GrantBasis.CARE_TEAM, actor, at
            )
            return current.id
        self.trigger_event(
            self.CareTeamJoined,
            grant_id=grant_id,
            grantee=professional.to_dict(),
            scope=Scope.whole_space().to_dict(),
            expires_at=expires_at,
            actor=actor.to_dict(),
            at=at,
        )
        return grant_id

    class CareTeamJoined(Aggregate.Event):
        """A professional joined the care team: a grant with basis ``care_team``."""

        grant_id: UUID
        grantee: dict[str, Any]
        scope: dict[str, Any]
        expires_at: datetime | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.grants.add(_stored_grant(self, GrantBasis.CARE_TEAM))


def _stored_grant(event: Any, basis: GrantBasis) -> Grant:
    # A grant and a care-team membership are stored alike; only their basis differs.
    return Grant(
        id=event.grant_id,
        grantee=Actor.from_dict(event.grantee),
        scope=Scope.from_dict(event.scope),
        granted_at=event.at,
        expires_at=event.expires_at,
        basis=basis,
    )

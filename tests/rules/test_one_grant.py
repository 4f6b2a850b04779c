"""One active grant per professional per space (issue 9, item 11), on both backends.

Granting again changes the grant and keeps its id; revoking it ends the professional's
access at once; the patient can revoke by professional; the care team follows the same
rule; and streams recorded when grants stacked replay as docs/rules.md says ("One grant
per professional"): a later grant supersedes the earlier, and revoking any grant of a
professional revokes their access. The access views agree with the domain throughout.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from coffre.bootstrap import Coffre
from domain.space import Space
from domain.values import Scope, ScopeKind
from projections.access_views import AccessViews, AccessViewsProjection
from projections.runner import wait_for
from tests.rules.test_rules_rows import log
from tests.scenarios.conftest import Cast, Person, deposit, read
from vault.clock import ManualClock
from wire.errors import Conflict, Forbidden, InvalidInput, UnknownDocument, UnknownGrant
from wire.values import DocumentType

LAB_ONLY = Scope(ScopeKind.TYPES, types=frozenset({DocumentType.LAB_RESULT}))


def reads(coffre: Coffre, cast: Cast, document_id: UUID, person: Person) -> bool:
    """True when ``person`` reads the document; a refusal looks like an unknown one."""
    try:
        read(coffre, cast.patient.actor.id, document_id, person)
    except UnknownDocument:
        return False
    return True


def listed(coffre: Coffre, document_id: UUID) -> list[str]:
    """Who the access views list as readers of the document (through a grant)."""
    wait_for(coffre.runner)
    now = coffre.vault.clock.now()
    return [g["grantee"]["id"] for g in AccessViews(coffre.views).for_document(document_id, now)]


def views_rebuild_the_same(coffre: Coffre) -> bool:
    """A clean rebuild of the access views equals the incrementally built ones."""

    def rows() -> list[list[str]]:
        tables = AccessViewsProjection.tables
        return [
            sorted(repr(sorted(r.items())) for r in coffre.views.query(f"SELECT * FROM {t}"))
            for t in tables
        ]

    wait_for(coffre.runner)
    before = rows()
    coffre.runner.rebuild(AccessViewsProjection.name)
    return rows() == before


def agree(coffre: Coffre, cast: Cast, document_id: UUID, person: Person) -> bool:
    """The domain's decision, checked against the access views' list of readers."""
    allowed = reads(coffre, cast, document_id, person)
    assert (person.actor.id in listed(coffre, document_id)) is allowed
    return allowed


def test_granting_again_changes_the_one_grant_and_revoking_it_ends_access(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    me, doctor = cast.patient, cast.doctor
    report = deposit(coffre, me.actor.id, b"cr", me.actor, type=DocumentType.HOSPITAL_REPORT)
    first = coffre.vault.grant(me.actor.id, doctor.actor, LAB_ONLY, None, me.actor)
    assert not agree(coffre, cast, report, doctor)
    expiry = clock.now() + timedelta(days=30)
    again = coffre.vault.grant(me.actor.id, doctor.actor, Scope.whole_space(), expiry, me.actor)
    assert again == first
    (grant,) = coffre.vault.grants(me.actor.id, me.actor)
    assert (grant.grant_id, grant.scope["kind"], grant.expires_at) == (first, "space", expiry)
    assert agree(coffre, cast, report, doctor)
    # The same grant again changes nothing, and records nothing.
    before = coffre.vault.recorder.max_notification_id()
    assert (
        coffre.vault.grant(me.actor.id, doctor.actor, Scope.whole_space(), expiry, me.actor)
        == first
    )
    assert coffre.vault.recorder.max_notification_id() == before
    # Revoking the one grant ends the doctor's access at once.
    coffre.vault.revoke(me.actor.id, first, me.actor)
    assert not agree(coffre, cast, report, doctor)
    # The log shows the change as a grant line with the same id.
    lines = [e for e in log(coffre, me) if e["action"] in ("grant", "revoke")]
    assert [(e["action"], e["detail"]["grant_id"]) for e in reversed(lines)] == [
        ("grant", str(first)),
        ("grant", str(first)),
        ("revoke", str(first)),
    ]
    assert lines[1]["detail"]["changed"] is True and lines[1]["detail"]["scope"]["kind"] == "space"
    # After a revocation (or an expiry), a grant is a new one with a new id.
    fresh = coffre.vault.grant(me.actor.id, doctor.actor, LAB_ONLY, None, me.actor)
    assert fresh != first
    assert views_rebuild_the_same(coffre)


def test_the_patient_revokes_by_professional(coffre: Coffre, cast: Cast) -> None:
    me, doctor, nurse = cast.patient, cast.doctor, cast.nurse
    lab = deposit(coffre, me.actor.id, b"lab", me.actor)
    grant_id = coffre.vault.grant(me.actor.id, doctor.actor, Scope.whole_space(), None, me.actor)
    coffre.vault.grant(me.actor.id, nurse.actor, Scope.whole_space(), None, me.actor)
    assert agree(coffre, cast, lab, doctor)
    with pytest.raises(Forbidden):
        coffre.vault.revoke_professional(me.actor.id, doctor.actor.id, nurse.actor)
    with pytest.raises(InvalidInput):
        coffre.vault.revoke_professional(me.actor.id, doctor.actor.id + "\n", me.actor)
    assert coffre.vault.revoke_professional(me.actor.id, doctor.actor.id, me.actor) == grant_id
    assert not agree(coffre, cast, lab, doctor)
    assert agree(coffre, cast, lab, nurse)  # another professional keeps theirs
    with pytest.raises(UnknownGrant):
        coffre.vault.revoke_professional(me.actor.id, doctor.actor.id, me.actor)
    with pytest.raises(Conflict):
        coffre.vault.revoke(me.actor.id, grant_id, me.actor)


def test_the_care_team_follows_the_same_rule(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    me, doctor, hospital = cast.patient, cast.doctor, cast.hospital
    lab = deposit(coffre, me.actor.id, b"lab", me.actor)
    team = coffre.vault.add_to_care_team(me.actor.id, doctor.actor, None, hospital)
    later = clock.now() + timedelta(days=3)
    assert coffre.vault.add_to_care_team(me.actor.id, doctor.actor, later, hospital) == team
    # The patient's own grant to a care-team member changes that same grant, and back.
    assert coffre.vault.grant(me.actor.id, doctor.actor, LAB_ONLY, None, me.actor) == team
    (grant,) = coffre.vault.grants(me.actor.id, me.actor)
    assert (grant.basis, grant.scope["kind"], grant.expires_at) == ("consent", "types", None)
    assert coffre.vault.add_to_care_team(me.actor.id, doctor.actor, later, hospital) == team
    (grant,) = coffre.vault.grants(me.actor.id, me.actor)
    assert (grant.basis, grant.scope["kind"], grant.expires_at) == ("care_team", "space", later)
    assert agree(coffre, cast, lab, doctor)
    coffre.vault.revoke(me.actor.id, team, me.actor)
    assert not agree(coffre, cast, lab, doctor)
    assert views_rebuild_the_same(coffre)


# -- streams recorded when grants stacked ---------------------------------------------


def _record_old(coffre: Coffre, patient_id: str, kind: type, **fields: Any) -> None:
    """Append one event exactly as the code before one-grant-per-professional did.

    ``Granted``, ``CareTeamJoined`` and ``Revoked`` keep their shapes; what changed is
    that nothing used to stop a second grant to the same professional.
    """
    space = coffre.vault.repository.get(Space.create_id(patient_id))
    space.trigger_event(kind, at=coffre.vault.clock.now(), **fields)
    coffre.vault.save(space)


def _stack(coffre: Coffre, cast: Cast, clock: ManualClock, *scopes: Scope) -> list[UUID]:
    """Record old ``Granted`` events to the doctor, one per scope, a minute apart."""
    me, doctor = cast.patient.actor, cast.doctor.actor
    ids = []
    for scope in scopes:
        grant_id = uuid4()
        _record_old(
            coffre,
            me.id,
            Space.Granted,
            grant_id=grant_id,
            grantee=doctor.to_dict(),
            scope=scope.to_dict(),
            expires_at=None,
            actor=me.to_dict(),
        )
        ids.append(grant_id)
        clock.advance(timedelta(minutes=1))
    return ids


def test_stacked_grants_recorded_before_replay_one_grant_per_professional(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    """The issue's case: the patient granted the same doctor twice and revoked one; the
    doctor still read. Replayed now, revoking either ends the doctor's access."""
    me, doctor = cast.patient, cast.doctor
    lab = deposit(coffre, me.actor.id, b"lab", me.actor)
    report = deposit(coffre, me.actor.id, b"cr", me.actor, type=DocumentType.HOSPITAL_REPORT)
    whole, lab_only = _stack(coffre, cast, clock, Scope.whole_space(), LAB_ONLY)
    # The later grant supersedes the earlier: the doctor reads what the later covers.
    assert agree(coffre, cast, lab, doctor)
    assert not agree(coffre, cast, report, doctor)
    summaries = {g.grant_id: g for g in coffre.vault.grants(me.actor.id, me.actor)}
    assert (summaries[whole].active, summaries[lab_only].active) == (False, True)
    # Granting again now changes the one active grant, not the superseded one.
    assert coffre.vault.grant(me.actor.id, doctor.actor, LAB_ONLY, None, me.actor) == lab_only
    # Revoking the superseded grant revokes the doctor's access too (an old Revoked).
    _record_old(coffre, me.actor.id, Space.Revoked, grant_id=whole, actor=me.actor.to_dict())
    assert not agree(coffre, cast, lab, doctor)
    assert not any(g.active for g in coffre.vault.grants(me.actor.id, me.actor))
    assert views_rebuild_the_same(coffre)


def test_a_stacked_care_team_grant_and_consent_replay_as_one(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    me, doctor = cast.patient, cast.doctor
    lab = deposit(coffre, me.actor.id, b"lab", me.actor)
    (consent,) = _stack(coffre, cast, clock, LAB_ONLY)
    team = uuid4()
    _record_old(
        coffre,
        me.actor.id,
        Space.CareTeamJoined,
        grant_id=team,
        grantee=doctor.actor.to_dict(),
        scope=Scope.whole_space().to_dict(),
        expires_at=None,
        actor=cast.hospital.to_dict(),
    )
    assert agree(coffre, cast, lab, doctor)
    # Revoking the later one (the old way: by its id) ends the doctor's access at once.
    coffre.vault.revoke(me.actor.id, team, me.actor)
    assert not agree(coffre, cast, lab, doctor)
    with pytest.raises(UnknownGrant):
        coffre.vault.revoke_professional(me.actor.id, doctor.actor.id, me.actor)
    assert coffre.vault.grants(me.actor.id, me.actor)[0].grant_id == consent
    assert views_rebuild_the_same(coffre)

"""Legal representatives are appointed by an authorised registry service, on a legal
basis, and the patient and the other representatives are told (issue 9, item 2).

Both backends. A ``service`` token is what hospitals deposit with: it must never be
enough to appoint a guardian, who would then read every document of the space.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from coffre.bootstrap import Coffre
from domain.representatives import LegalBasis
from domain.values import Actor, patient_id_from_number
from projections.access_log_space import name_appointments
from projections.notifications import Notifications
from projections.runner import wait_for
from tests.replay.views import snapshot
from tests.rules.conftest import REGISTRY, appoint
from tests.rules.test_rules_rows import HOSPITAL, log, provision
from tests.scenarios.conftest import Cast, _person, deposit, read
from vault.clock import ManualClock
from wire.dto import RegisterEntry, RepresentativeEntry
from wire.errors import Forbidden, InvalidInput
from wire.values import Role

GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1700575000901"), "Paul Tuteur")
MOTHER = Actor(Role.REPRESENTATIVE, patient_id_from_number("2780575000902"), "Anne Mère")
COURT = LegalBasis("TJ Lyon RG 26/04512", date(2026, 10, 12))


def recorded(coffre: Coffre) -> list[str]:
    """The names of the representation events recorded so far."""
    events = (
        coffre.vault.mapper.to_domain_event(n)
        for n in coffre.vault.recorder.select_notifications(start=1, limit=10_000)
    )
    return [type(e).__name__ for e in events if "Represent" in type(e).__name__]


def told(coffre: Coffre, who: Actor) -> list[dict[str, object]]:
    """``who``'s notifications of appointments, oldest first."""
    wait_for(coffre.runner)
    page = Notifications(coffre.views).page(who.role.value, who.id, limit=50)
    found = [n for n in page.notifications if n["kind"] == "representative_appointed"]
    return list(reversed(found))


def test_a_depositing_hospital_may_not_appoint_a_guardian(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    me = cast.patient.actor
    document_id = deposit(coffre, me.id, b"compte rendu", cast.hospital)  # it deposits here
    assert recorded(coffre) == []
    with pytest.raises(Forbidden, match="authorised registry"):
        coffre.vault.add_representative(me.id, GUARDIAN, "guardian", cast.hospital, basis=COURT)
    # Through the API too: a 403 problem, and still nothing recorded.
    with TestClient(create_app(coffre)) as client:
        token = coffre.tokens.mint(cast.hospital, timedelta(minutes=5))
        answer = client.post(
            f"/v1/spaces/{me.id}/representatives",
            json={
                "representative": {"id": GUARDIAN.id, "name": GUARDIAN.name, "kind": "guardian"},
                "basis": {"reference": COURT.reference, "date": COURT.date.isoformat()},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert recorded(coffre) == []
    assert coffre.vault.access_rules(me.id, me).representatives == []
    guardian = _person(coffre, GUARDIAN)
    with pytest.raises(Exception, match=r"no such document|no space"):
        read(coffre, me.id, document_id, guardian)
    # Nor may the hospital end a representation the registry recorded.
    appoint(coffre, me.id, GUARDIAN, "guardian")
    with pytest.raises(Forbidden):
        coffre.vault.end_representation(me.id, GUARDIAN.id, cast.hospital)
    assert [r.active for r in coffre.vault.access_rules(me.id, me).representatives] == [True]
    coffre.vault.end_representation(me.id, GUARDIAN.id, REGISTRY)
    assert [r.active for r in coffre.vault.access_rules(me.id, me).representatives] == [False]


def test_the_registry_appoints_on_a_legal_basis_and_everyone_is_told(
    coffre: Coffre, clock: ManualClock
) -> None:
    minor_id, _ = provision(coffre, "2110575000903", birth=date(2011, 3, 4))
    minor = Actor(Role.PATIENT, minor_id, "Léa")
    birth = LegalBasis("Naissance Lyon 3e n° 2011/0417", date(2011, 3, 7))
    coffre.vault.add_representative(minor_id, MOTHER, "parent", REGISTRY, basis=birth)
    coffre.vault.add_representative(minor_id, GUARDIAN, "guardian", REGISTRY, basis=COURT)

    # The event records its basis: the act's type and date in clear (the rules decide
    # on them), its reference sealed to the space key with the representative's name.
    events = [
        coffre.vault.mapper.to_domain_event(n)
        for n in coffre.vault.recorder.select_notifications(start=1, limit=100)
    ]
    appointed = [e for e in events if type(e).__name__ == "RepresentativeAppointed"]
    assert [(e.basis["act"], e.basis["date"]) for e in appointed] == [
        ("birth_registration", "2011-03-07"),
        ("court_decision", "2026-10-12"),
    ]
    space_key = coffre.vault.space_key(minor_id).key_id
    for event, who, act in zip(appointed, (MOTHER, GUARDIAN), (birth, COURT), strict=True):
        assert event.text_key == space_key
        assert event.representative["id"] == who.id
        assert who.name not in repr(event.__dict__) and act.reference not in repr(event.__dict__)
    open_now_minor = coffre.vault.space_state(minor_id, minor).opens_at
    assert open_now_minor is not None
    clock.advance(open_now_minor - clock.now())
    patient = _person(coffre, minor)
    # The access log's rows keep them sealed; the vault opens them for the patient's
    # page, and the line names the appointment.
    lines = [e for e in log(coffre, patient) if e["action"] == "add_representative"]
    assert all("appointment" not in line["detail"] for line in lines)
    coffre.vault.open_details(lines)
    name_appointments(lines)
    assert [line["detail"]["representative"]["name"] for line in reversed(lines)] == [
        MOTHER.name,
        GUARDIAN.name,
    ]
    assert [line["detail"]["appointment"] for line in reversed(lines)] == [
        "parent, birth registration Naissance Lyon 3e n° 2011/0417 of 2011-03-07",
        "guardian, court decision TJ Lyon RG 26/04512 of 2026-10-12",
    ]
    assert lines[0]["actor_id"] == REGISTRY.id

    # The patient hears of both; the mother, already in office, of the guardian; the
    # guardian of nobody (they were appointed last).
    assert [n["detail"]["representative"]["id"] for n in told(coffre, minor)] == [
        MOTHER.id,
        GUARDIAN.id,
    ]
    (to_mother,) = told(coffre, MOTHER)
    assert to_mother["detail"]["representative"]["id"] == GUARDIAN.id
    assert to_mother["detail"]["basis"]["act"] == "court_decision"
    assert to_mother["actor_name"] == REGISTRY.name
    assert told(coffre, GUARDIAN) == []


def test_an_appointment_needs_a_sound_basis_and_nothing_is_recorded_otherwise(
    coffre: Coffre,
) -> None:
    minor_id, _ = provision(coffre, "2110575000904", birth=date(2011, 3, 4))
    today = coffre.vault.clock.now().date()
    for reference in ("", "   ", "x" * 121, "ref\nforged line"):
        with pytest.raises(InvalidInput, match=r"basis\.reference"):
            LegalBasis(reference, today)
    with pytest.raises(InvalidInput, match="calendar date"):
        LegalBasis("ref", "2011-03-07")  # type: ignore[arg-type]
    future = LegalBasis("ref", today + timedelta(days=1))
    before_birth = LegalBasis("ref", date(2011, 3, 1))
    for kind, basis in (("guardian", future), ("parent", before_birth)):
        with pytest.raises(InvalidInput) as refused:
            coffre.vault.add_representative(minor_id, MOTHER, kind, REGISTRY, basis=basis)
        assert refused.value.field == "basis.date"
    with pytest.raises(InvalidInput):
        coffre.vault.add_representative(minor_id, MOTHER, "parent", REGISTRY, basis=None)  # type: ignore[arg-type]
    # An unauthorised caller learns nothing about the basis: refused first.
    with pytest.raises(Forbidden):
        coffre.vault.add_representative(minor_id, MOTHER, "parent", HOSPITAL, basis=future)
    assert recorded(coffre) == []


def test_a_representative_lists_the_spaces_they_act_in_while_in_office(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    """The page's list of a representative's spaces (``AccessViews.for_representative``,
    ``GET /v1/me/represented-spaces``): listed from the appointment until it ends or
    expires, listed again on a new appointment; nobody else's."""
    me = cast.patient.actor

    def listed(who: Actor = GUARDIAN) -> list[tuple[str, str, str]]:
        wait_for(coffre.runner)
        rows = coffre.access_views.for_representative(who, clock.now())
        return [(row["patient_id"], row["kind"], row["status"]) for row in rows]

    assert listed() == []
    appoint(coffre, me.id, GUARDIAN, "guardian", clock.now() + timedelta(days=30))
    assert listed() == [(me.id, "guardian", "open")]
    other = Actor(Role.REPRESENTATIVE, patient_id_from_number("1700575000902"), "Luc Autre")
    assert listed(other) == []
    with TestClient(create_app(coffre)) as client:
        token = coffre.tokens.mint(GUARDIAN, timedelta(minutes=5))
        answer = client.get(
            "/v1/me/represented-spaces", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 200, answer.text
    (space,) = answer.json()["spaces"]
    assert (space["patient_id"], space["kind"], space["status"]) == (me.id, "guardian", "open")

    clock.advance(timedelta(days=31))  # the appointment's end passed
    assert listed() == []
    appoint(coffre, me.id, GUARDIAN, "guardian")
    assert listed() == [(me.id, "guardian", "open")]
    coffre.vault.end_representation(me.id, GUARDIAN.id, REGISTRY)
    assert listed() == []


def test_a_guardians_name_and_court_decision_are_sealed_and_shown_to_those_told(
    coffre: Coffre, clock: ManualClock
) -> None:
    """A court decision's reference reveals a guardianship (health data), and so may a
    name: both are stored sealed to the space key, in no view in clear, and opened where
    the patient and the other representatives are shown the appointment: the list of
    representatives, the notifications, the access log."""
    minor_id, _ = provision(coffre, "2110575000905", birth=date(2011, 3, 4))
    minor = Actor(Role.PATIENT, minor_id, "Léa")
    mother = Actor(Role.REPRESENTATIVE, MOTHER.id, f"Anne {uuid4().hex[:10]}")
    guardian = Actor(Role.REPRESENTATIVE, GUARDIAN.id, f"Paul {uuid4().hex[:10]}")
    court = f"TJ Lyon RG 24/{uuid4().hex[:10]}"
    birth = LegalBasis(f"Naissance {uuid4().hex[:10]}", date(2011, 3, 7))
    coffre.vault.add_representative(minor_id, mother, "parent", REGISTRY, basis=birth)
    opens_at = coffre.vault.space_state(minor_id, minor).opens_at
    assert opens_at is not None
    clock.advance(opens_at - clock.now())
    with TestClient(create_app(coffre)) as client:

        def call(who: Actor, path: str, body: object = None) -> Any:
            token = coffre.tokens.mint(who, timedelta(minutes=5))
            headers = {"Authorization": f"Bearer {token}"}
            if body is None:
                answer = client.get(path, headers=headers)
            else:
                answer = client.post(path, json=body, headers=headers)
            assert answer.status_code in (200, 204), answer.text
            return answer.json() if answer.status_code == 200 else None

        appointment = {
            "representative": {"id": guardian.id, "name": guardian.name, "kind": "guardian"},
            "basis": {"reference": court, "date": "2026-10-12"},
        }
        call(REGISTRY, f"/v1/spaces/{minor_id}/representatives", appointment)
        wait_for(coffre.runner)
        # In no view in clear (the events hold them sealed: test_shredding.py looks there).
        every_row = repr(snapshot(coffre.runner))
        for text in (guardian.name, mother.name, court, birth.reference):
            assert text not in every_row
        # The list of representatives, to the patient and to the mother.
        for holder in (minor, mother):
            rules = call(holder, f"/v1/spaces/{minor_id}/access-rules")
            names = {r["id"]: r["name"] for r in rules["representatives"]}
            assert names == {mother.id: mother.name, guardian.id: guardian.name}
        # The notifications: the patient hears of both, the mother of the guardian.
        told_minor = call(minor, "/v1/notifications")["notifications"]
        shown = [
            (n["detail"]["representative"]["name"], n["detail"]["basis"]["reference"])
            for n in reversed(told_minor)
            if n["kind"] == "representative_appointed"
        ]
        assert shown == [(mother.name, birth.reference), (guardian.name, court)]
        (to_mother,) = [
            n
            for n in call(mother, "/v1/notifications")["notifications"]
            if n["kind"] == "representative_appointed"
        ]
        assert to_mother["detail"]["representative"]["name"] == guardian.name
        assert to_mother["detail"]["basis"] == {
            "act": "court_decision",
            "reference": court,
            "date": "2026-10-12",
        }
        # The access log's lines, as the patient is shown them.
        log_page = call(minor, f"/v1/spaces/{minor_id}/access-log?action=add_representative")
        lines = [entry["detail"] for entry in reversed(log_page["entries"])]
        assert [(d["representative"]["name"], d["appointment"]) for d in lines] == [
            (mother.name, f"parent, birth registration {birth.reference} of 2011-03-07"),
            (guardian.name, f"guardian, court decision {court} of 2026-10-12"),
        ]
        assert lines[1]["basis"]["reference"] == court


def test_a_registers_representatives_are_sealed_like_any_appointment(coffre: Coffre) -> None:
    """The insurer's register names a newborn's parents: the same appointment, sealed
    to the new space's key (its act is the register row: ``register <service>``), and
    opened in the list the holders see."""
    newborn = Actor(Role.PATIENT, patient_id_from_number("2261069123011"), "Bébé")
    mother = Actor(Role.REPRESENTATIVE, MOTHER.id, f"Mère {uuid4().hex[:10]}")
    entry = RegisterEntry(
        newborn.id,
        birth_date=date(2026, 10, 20),
        representatives=(RepresentativeEntry(mother.id, mother.name, "parent"),),
    )
    assert len(coffre.vault.provision_register([entry], REGISTRY).provisioned) == 1
    (event,) = [
        e
        for e in (
            coffre.vault.mapper.to_domain_event(n)
            for n in coffre.vault.recorder.select_notifications(start=1, limit=100)
        )
        if type(e).__name__ == "RepresentativeAppointed"
    ]
    assert event.text_key == coffre.vault.space_key(newborn.id).key_id
    assert mother.name not in repr(event.__dict__)
    assert f"register {REGISTRY.id}" not in repr(event.__dict__)
    assert event.representative["id"] == mother.id and event.basis["act"] == "birth_registration"
    rules = coffre.vault.access_rules(newborn.id, mother)
    assert [(r.id, r.name) for r in rules.representatives] == [(mother.id, mother.name)]

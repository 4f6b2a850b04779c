"""The SDK's FHIR methods (``client.fhir``) against the real app in process: provide
(ITI-65) and its new version, find (ITI-67) and read, retrieve (ITI-68) decrypts here,
and an OperationOutcome comes back as the server's own error class."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from client import feeding
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre
from tests.sdk.conftest import BASE_URL, DOCTOR, HOSPITAL, PATIENT, Enrol, InProcessTransport
from wire.errors import AlreadyDeposited, Conflict, InvalidInput, UnknownDocument

Connect = Callable[..., CoffreClient]
SOURCE = ("urn:oid:1.2.250.1.213.1.1.9", "CRH-42")


def test_provide_find_and_retrieve_through_fhir(connect: Connect, space: str, enrol: Enrol) -> None:
    hospital = connect(HOSPITAL)
    # (each call encrypts anew; the SDK's own retries resend the very same bundle)
    provided = [
        hospital.provide_document(
            space,
            b"compte rendu",
            source_id=SOURCE,
            type_code="34105-7",
            title="CRH",
            date=date(2026, 10, 30),
        )
    ]
    assert provided[0][1:] == (1, True)
    assert hospital.fhir_capabilities()["resourceType"] == "CapabilityStatement"
    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    found = list(patient.find_document_references(space, type_code="34105-7", page_size=1))
    assert [reference["id"] for reference in found] == [str(provided[0][0])]
    assert patient.read_document_reference(space, provided[0][0]) == found[0]
    out = io.BytesIO()
    patient.retrieve_document(patient.read_document_reference(space, str(found[0]["id"])), out)
    assert out.getvalue() == b"compte rendu"
    again = hospital.provide_document(
        space,
        b"v2",
        source_id=SOURCE,
        type_code="34105-7",
        title="CRH",
        date=date(2026, 10, 30),
        replaces=provided[0][0],
    )
    assert again[1:] == (2, True)


def test_outcomes_come_back_as_the_servers_errors(
    connect: Connect, space: str, enrol: Enrol
) -> None:
    hospital = connect(HOSPITAL)
    document_id, _, _ = hospital.provide_document(
        space, b"a", source_id=SOURCE, type_code="11502-2", title="Bilan", date="2026-10-30"
    )
    with pytest.raises(AlreadyDeposited) as conflict:
        hospital.provide_document(
            space, b"b", source_id=SOURCE, type_code="11502-2", title="Bilan", date="2026-10-30"
        )
    assert str(conflict.value.document_id) == str(document_id)  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput):
        hospital.provide_document(
            space, b"c", source_id=("urn:x", "y"), type_code="0000-0", title="T", date="2026-10-30"
        )
    doctor = connect(DOCTOR)
    enrol(doctor, DOCTOR)
    reference = next(connect(PATIENT).find_document_references(space))
    with pytest.raises(UnknownDocument):
        doctor.retrieve_document(reference, io.BytesIO())
    # the read answers a document the caller may not list as one that never existed
    with pytest.raises(UnknownDocument):
        doctor.read_document_reference(space, reference["id"])
    with pytest.raises(InvalidInput):
        doctor.read_document_reference(space, "not-an-id")


def test_security_labels_change_through_a_fhir_update(connect: Connect, space: str) -> None:
    hospital = connect(HOSPITAL)
    document_id, _, _ = hospital.provide_document(
        space, b"a", source_id=SOURCE, type_code="11502-2", title="Bilan", date="2026-10-30"
    )
    patient = connect(PATIENT)
    masked = patient.set_security_labels(space, document_id, ["MASQUE_PS"])
    assert [c["code"] for label in masked["securityLabel"] for c in label["coding"]] == [
        "MASQUE_PS"
    ]
    patient.set_security_labels(space, document_id, ["INVISIBLE_REPRESENTANTS_LEGAUX"])
    with pytest.raises(Conflict):  # one-way: never lifted
        patient.set_security_labels(space, document_id, [])
    with pytest.raises(InvalidInput):
        patient.set_security_labels(space, document_id, ["SECRET"])


def test_consents_and_audit_events_through_fhir(connect: Connect, space: str, enrol: Enrol) -> None:
    hospital = connect(HOSPITAL)
    hospital.provide_document(
        space, b"a", source_id=SOURCE, type_code="11502-2", title="Bilan", date="2026-10-30"
    )
    patient = connect(PATIENT)
    patient.grant(space, {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"})
    consents = list(patient.find_consents(space))
    assert {c["provision"]["type"] for c in consents} == {"permit"}
    assert len(list(patient.find_consents(space, professional_id=DOCTOR.id))) == 1
    events = list(patient.find_audit_events(space, page_size=1))
    assert {e["resourceType"] for e in events} == {"AuditEvent"} and len(events) >= 2
    assert list(patient.find_audit_events(space, until=datetime(2000, 1, 1, tzinfo=UTC))) == []


class LosingAnswers(httpx.BaseTransport):
    """Forwards every request, but loses the answers of the first ``lost`` ITI-65 POSTs
    (the server recorded them; the client sees a 503 and cannot know)."""

    def __init__(self, inner: httpx.BaseTransport, lost: int) -> None:
        self.inner, self.lost, self.sent = inner, lost, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path == "/fhir":
            self.sent += 1
            if self.sent <= self.lost:
                return httpx.Response(503, json={"type": "about:blank", "status": 503})
        return response


def test_provide_retried_after_lost_answers_records_one_document(
    coffre: Coffre, transport: InProcessTransport, space: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeding.time, "sleep", lambda _: None)
    losing = LosingAnswers(transport, lost=3)
    token = coffre.tokens.mint(HOSPITAL, timedelta(minutes=10))
    with CoffreClient(BASE_URL, token, transport=losing) as hospital:
        document_id, version, _ = hospital.provide_document(
            space, b"crh", source_id=SOURCE, type_code="34105-7", title="CRH", date="2026-10-30"
        )
    assert losing.sent == 4 and version == 1
    assert [d.document_id for d in coffre.vault.documents(space, PATIENT)] == [document_id]

"""An emergency access, from the domain's own events to a FHIR AuditEvent (DCM 110113 /
110127), through the real projection and exporter."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from fhir.resources.R4B.bundle import Bundle

from client.trail_verify import verify_fhir
from domain.periods import Periods
from domain.space import Space
from domain.values import Actor
from keys.checkpoint import CheckpointSigner
from projections.store import SQLiteViewStore
from projections.trail import TrailProjection
from projections.trail_query import Trail, TrailQuery
from tests.trail.story import DOCTOR_ID, PATIENT_A, SEED, T0, migrate_sqlite
from vault.clock import ManualClock
from wire.values import Profession, Role

HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")
DOCTOR = Actor(Role.PROFESSIONAL, DOCTOR_ID, "Dr Paul Durand", Profession.DOCTOR, "SAMU 69")


def test_an_emergency_access_is_a_security_alert(tmp_path: Path) -> None:
    # The domain records an emergency access, as the vault will.
    space = Space.provision(PATIENT_A, "spk_a", hashlib.sha256(b"k").digest(), HOSPITAL, T0)
    access_id = UUID(int=1)
    assert space.invoke_emergency_access(
        access_id, "Patient inconscient, admis aux urgences", Periods(), DOCTOR, T0
    )
    events = list(enumerate(space.collect_events(), start=1))
    # The real projection puts it in the trail; the FHIR export renders it.
    path = tmp_path / "trail.sqlite"
    migrate_sqlite(path)
    store = SQLiteViewStore(str(path))
    with store.transaction() as cursor:
        TrailProjection().apply(cursor, events)
        cursor.track("trail", len(events))
    trail = Trail(store, CheckpointSigner(SEED), ManualClock(T0 + timedelta(hours=1)))
    bundle = trail.export_fhir(TrailQuery(patient_id=PATIENT_A))
    Bundle.model_validate(bundle)
    alerts = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "AuditEvent"
        and e["resource"]["type"]["code"] == "110113"
    ]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["type"]["display"] == "Security Alert"
    assert alert["subtype"] == [
        {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110127",
            "display": "Emergency Override Started",
        }
    ]
    assert alert["outcome"] == "0"
    assert alert["agent"][0]["who"]["identifier"]["value"] == DOCTOR_ID
    # The entry behind it carries the justification and who is to be told.
    text = next(e.text for e in trail.entries() if "EmergencyAccessInvoked" in e.text)
    assert "Patient inconscient" in text and str(access_id) in text and "notify" in text
    assert verify_fhir(bundle, CheckpointSigner(SEED).public_key).entries == len(events)

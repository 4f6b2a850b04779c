"""The professional's page, in a real Chromium against a real Coffre on both backends:
a doctor deposits a document into a patient's space, encrypted in the browser to the
space's key; the patient reads it through the SDK byte-identical and sees the deposit
in the access log.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tests.browser.live import Live, PageFactory
from tests.browser.test_patient_page import deposit_in_page, only_coffre, shown
from tests.devices import ENROLMENT, enrol_client
from tests.sdk.conftest import DOCTOR, HOSPITAL, PATIENT


def test_a_professional_deposits_a_document_encrypted_in_the_browser(
    live: Live, patient_page: PageFactory, tmp_path: Path
) -> None:
    live.client(HOSPITAL).provision(PATIENT.id)
    report = tmp_path / "ordonnance.pdf"
    report.write_bytes(b"%PDF-1.7\n" + os.urandom(256 * 1024))  # one record and a bit
    doctor = patient_page(DOCTOR, "spaces")
    doctor.get_by_label("INS du patient").first.fill(PATIENT.id)
    doctor.get_by_role("button", name="Voir ce que je peux lire").click()
    doctor.wait_for_selector("#view[data-view=documents]")
    doctor.get_by_role("heading", name="Documents du patient").wait_for()
    types = doctor.get_by_label("Type", exact=True).locator("option").all_inner_texts()
    assert "Note personnelle" not in types  # the patient's own kind
    deposit_in_page(doctor, report, "prescription", "Ordonnance du 3 décembre")

    patient = live.client(PATIENT)
    enrol_client(patient, PATIENT, live.client(ENROLMENT))
    (listed,) = [d for d in patient.documents(PATIENT.id) if d.title == "Ordonnance du 3 décembre"]
    assert listed.author_name == DOCTOR.name
    read = tmp_path / "lu.pdf"
    patient.read(PATIENT.id, listed.document_id, read)
    assert (
        hashlib.sha256(read.read_bytes()).digest() == hashlib.sha256(report.read_bytes()).digest()
    )

    page = patient_page(PATIENT, "log")
    shown(page, live, "tbody tr", DOCTOR.name)
    assert "Dépôt" in page.locator("tbody tr", has_text=DOCTOR.name).first.inner_text()
    only_coffre(live)

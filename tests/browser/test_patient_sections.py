"""The patient's page, the sections that change things, in a real Chromium against a
real Coffre on both backends: a document deleted, masked from professionals and kept
from legal representatives; who may read what now (grants and care team, blocks, the
emergency setting) changed in one place; the space's life (opposition window,
activation, closure, deletion request). Every change is confirmed first, its effect
checked through the SDK, and axe-core runs on every section, the confirmation open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import Live, PageFactory
from tests.browser.test_patient_page import STRANGER, URGENTIST, axe, grantee, shown, world
from tests.sdk.conftest import DOCTOR, HOSPITAL, PATIENT
from wire.errors import CoffreError

REPORT = "Compte rendu d'hospitalisation"


def confirm(page: Any, asking: str, answer: str) -> None:
    """The confirmation panel asks ``asking``; axe-core runs with it open; ``answer``."""
    panel = page.get_by_role("group", name=asking)
    panel.wait_for()
    assert axe(page) == []
    panel.get_by_role("button", name=answer, exact=True).click()


def test_a_document_is_masked_kept_from_representatives_and_deleted(
    live: Live, patient_page: PageFactory, tmp_path: Path
) -> None:
    document_id, _ = world(live, tmp_path)
    page = patient_page(PATIENT, "documents")
    shown(page, live, "tbody tr", REPORT, view="documents")

    # cancelled: nothing changes
    page.get_by_role("button", name=f"Supprimer « {REPORT} »").click()
    confirm(page, f"Supprimer « {REPORT} »", "Annuler")
    assert page.get_by_role("group").count() == 0
    assert page.locator("tbody tr", has_text=REPORT).count() == 1

    page.get_by_role("button", name=f"Masquer aux professionnels « {REPORT} »").click()
    confirm(page, f"Masquer « {REPORT} »", "Masquer aux professionnels")
    page.get_by_text("est masqué aux professionnels").wait_for()

    page.get_by_role("button", name=f"Cacher à mes représentants légaux « {REPORT} »").click()
    confirm(page, f"Cacher « {REPORT} »", "Cacher à mes représentants légaux")
    page.get_by_text("est caché à vos représentants légaux").wait_for()

    page.get_by_role("button", name=f"Supprimer « {REPORT} »").click()
    confirm(page, f"Supprimer « {REPORT} »", "Supprimer")
    page.get_by_text("a été supprimé").wait_for()
    assert page.locator("tbody tr", has_text=REPORT).count() == 0
    assert document_id not in {d.document_id for d in live.client(PATIENT).documents(PATIENT.id)}

    page.goto(f"{live.url}/#log")
    for action in ("Masqué aux professionnels", "Caché aux représentants légaux", "Suppression"):
        shown(page, live, "tbody tr", action)


def test_who_may_read_what_grants_care_team_blocks_and_the_emergency_setting(
    live: Live, patient_page: PageFactory, tmp_path: Path
) -> None:
    world(live, tmp_path)
    live.client(PATIENT).grant(PATIENT.id, grantee(DOCTOR))
    # the SDK has no care-team call (an establishment's integration does it): the route
    live.client(HOSPITAL)._request(
        "POST", f"/v1/spaces/{PATIENT.id}/care-team", json={"professional": grantee(URGENTIST)}
    )
    page = patient_page(PATIENT, "grants")
    shown(page, live, "tbody tr", URGENTIST.name, view="grants")
    assert "équipe de soins" in page.locator("tbody tr", has_text=URGENTIST.name).inner_text()
    assert page.locator("tbody tr", has_text=DOCTOR.name).count() == 1
    assert page.get_by_text("Aucun professionnel bloqué.").is_visible()
    assert axe(page) == []

    page.get_by_label("RPPS du professionnel à bloquer").fill(STRANGER.id)
    page.get_by_label("Nom du professionnel à bloquer").fill(STRANGER.name)
    page.get_by_label("Sa profession").select_option("doctor")
    page.get_by_role("button", name="Bloquer", exact=True).click()
    confirm(page, f"Bloquer {STRANGER.name}", "Bloquer")
    page.get_by_text(f"{STRANGER.name} est bloqué.").wait_for()
    blocked = live.client(PATIENT).access_rules(PATIENT.id)["blocked"]
    assert [b["id"] for b in blocked] == [STRANGER.id]

    page.get_by_role("button", name=f"Débloquer {STRANGER.name}").click()
    confirm(page, f"Débloquer {STRANGER.name}", "Débloquer")
    page.get_by_text(f"{STRANGER.name} n'est plus bloqué.").wait_for()
    assert live.client(PATIENT).access_rules(PATIENT.id)["blocked"] == []

    page.get_by_label("Interdire l'accès en urgence à mon espace").check()
    page.get_by_role("button", name="Enregistrer ces réglages").click()
    confirm(page, "Enregistrer ces réglages ?", "Enregistrer ces réglages")
    page.get_by_text("Vos réglages sont enregistrés.").wait_for()
    assert page.get_by_label("Interdire l'accès en urgence à mon espace").is_checked()
    with pytest.raises(CoffreError):
        live.client(URGENTIST).invoke_emergency_access(PATIENT.id, "Patiente inconsciente")

    page.get_by_role("button", name="Switch to English").click()
    page.get_by_role("heading", name="Blocked professionals").wait_for()
    assert axe(page) == []

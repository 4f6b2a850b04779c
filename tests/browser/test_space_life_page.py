"""The space's life in the patient's page, in a real Chromium against a real Coffre on
both backends: the opposition window while the space is pending, activation with the
letter's code, closure and the deletion request, each confirmed first and checked
through the SDK; axe-core on every state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from domain.values import Actor, patient_id_from_number
from tests.browser.live import BACKENDS, Live, PageFactory, live_coffre
from tests.browser.test_patient_page import axe, shown
from tests.browser.test_patient_sections import confirm
from tests.browser.test_representative_page import CHILD, MOTHER, REGISTRY
from tests.sdk.conftest import HOSPITAL, PATIENT
from wire.values import Role

#: a representative who represents nobody
STRANGER = Actor(Role.REPRESENTATIVE, patient_id_from_number("1700575123459"), "Paul Martin")


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path, page_dir: Path) -> Iterator[Live]:
    """A real Coffre whose spaces wait six weeks for a possible opposition, as in
    production (the other browser tests open spaces at once)."""
    with live_coffre(
        request, request.param, tmp_path / "data", page_dir, opposition_period=timedelta(weeks=6)
    ) as running:
        yield running


def test_the_space_life_opposition_window_activation_closure_and_deletion_request(
    live: Live, patient_page: PageFactory
) -> None:
    provisioned = live.client(HOSPITAL).provision(PATIENT.id)
    page = patient_page(PATIENT, "space")
    page.get_by_text("il ouvrira à la fin de la période d'opposition").wait_for()
    page.get_by_text("Vous pouvez vous opposer jusqu'au").wait_for()
    assert axe(page) == []

    page.get_by_label("Code du courrier pour ouvrir").fill(provisioned.one_time_code)
    page.get_by_role("button", name="Ouvrir mon espace", exact=True).click()
    confirm(page, "Ouvrir votre espace maintenant ?", "Ouvrir mon espace")
    page.get_by_text("Votre espace est ouvert.").first.wait_for()
    assert live.client(PATIENT).space_state(PATIENT.id)["status"] == "open"

    page.get_by_role("button", name="Fermer mon espace").click()
    confirm(page, "Fermer votre espace ?", "Fermer mon espace")
    page.get_by_text("Votre espace est fermé.").wait_for()
    page.get_by_text("Archivé jusqu'au").wait_for()
    assert axe(page) == []

    page.get_by_role("button", name="Demander la suppression de mon espace").click()
    confirm(
        page, "Demander la suppression de votre espace", "Demander la suppression de mon espace"
    )
    page.get_by_text("Votre demande de suppression est enregistrée.").wait_for()
    after = live.client(PATIENT).space_state(PATIENT.id)
    assert after["status"] == "deleted" or after["deletion_due_at"] < after["archive_until"]
    assert axe(page) == []


def test_a_parent_opens_a_newborn_pending_space_from_the_list_at_its_life(
    live: Live, patient_page: PageFactory
) -> None:
    """A pending space is listed as such, and opens at its life (the opposition window),
    not at documents nobody may deposit yet; someone who represents nobody is told so."""
    live.client(REGISTRY)._request(
        "POST",
        "/v1/spaces/register",
        json={
            "entries": [
                {
                    "patient_id": CHILD.id,
                    "birth_date": date(2026, 11, 20).isoformat(),
                    "representatives": [{"id": MOTHER.id, "name": MOTHER.name, "kind": "parent"}],
                }
            ]
        },
    )
    page = patient_page(MOTHER, "represented")
    shown(page, live, "tbody tr", CHILD.id, view="represented")
    assert "En attente d'ouverture" in page.locator("tbody tr", has_text=CHILD.id).inner_text()
    assert axe(page) == []
    page.get_by_role("button", name=f"Ouvrir l'espace de {CHILD.id}").click()
    page.wait_for_selector("#view[data-view=space]")
    page.get_by_text("il ouvrira à la fin de la période d'opposition").wait_for()
    assert axe(page) == []

    nobody = patient_page(STRANGER, "represented")
    nobody.get_by_text("Aucune personne représentée pour l'instant.").wait_for()
    assert axe(nobody) == []

"""A parent (legal representative) in the page, in a real Chromium against a real
Coffre on both backends: the spaces they represent someone in are listed, they open
their child's with a click and see what the rules allow: not the document the child
kept from them (nor that code), no deletion (the patient's own), masking or unmasking
as each document's codes stand; axe-core on every section.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from domain.values import Actor, patient_id_from_number
from tests.browser.live import Live, PageFactory
from tests.browser.test_patient_page import axe, only_coffre, shown
from tests.sdk.conftest import HOSPITAL
from vault.settings import DEMO_REGISTRY
from wire.values import Role

CHILD = Actor(Role.PATIENT, patient_id_from_number("2100575123457"), "Léa Martin")
MOTHER = Actor(Role.REPRESENTATIVE, patient_id_from_number("2800575123458"), "Anne Martin")
REGISTRY = Actor(Role.SERVICE, DEMO_REGISTRY, "Registre d'état civil")


def test_a_parent_switches_to_the_child_space_and_sees_what_the_rules_allow(
    live: Live, patient_page: PageFactory, tmp_path: Path
) -> None:
    hospital = live.client(HOSPITAL)
    # the registry's register: the child's space, its birth date, its mother
    live.client(REGISTRY)._request(
        "POST",
        "/v1/spaces/register",
        json={
            "entries": [
                {
                    "patient_id": CHILD.id,
                    "birth_date": date(2010, 5, 1).isoformat(),
                    "representatives": [{"id": MOTHER.id, "name": MOTHER.name, "kind": "parent"}],
                }
            ]
        },
    )
    ids = {}
    for title in ("Vaccinations", "Consultation confidentielle", "Bilan psychologique"):
        plain = tmp_path / f"{len(ids)}.pdf"
        plain.write_bytes(b"%PDF-1.7\n" + os.urandom(10_000))
        ids[title], _ = hospital.deposit(
            CHILD.id,
            plain,
            type="consultation_report",
            title=title,
            date=date(2026, 11, 2),
            masked=title == "Bilan psychologique",
        )
    live.client(CHILD).hide_from_representatives(CHILD.id, ids["Consultation confidentielle"])

    # the spaces she represents someone in, listed: no INS to type
    page = patient_page(MOTHER, "represented")
    shown(page, live, "tbody tr", CHILD.id, view="represented")
    listed = page.locator("tbody tr", has_text=CHILD.id).inner_text()
    assert "Parent" in listed and "Ouvert" in listed
    assert axe(page) == []
    page.get_by_role("button", name=f"Ouvrir l'espace de {CHILD.id}").click()
    shown(page, live, "tbody tr", "Vaccinations", view="documents")
    assert page.get_by_role("heading", name="Documents du patient").is_visible()
    assert page.locator("tbody tr", has_text="Consultation confidentielle").count() == 0
    # the code that keeps a document from her is nowhere (the document is not listed)
    assert page.get_by_text("Caché aux représentants légaux").count() == 0
    assert page.get_by_role("button", name="Supprimer « Vaccinations »").count() == 0
    assert (
        page.get_by_role("button", name="Masquer aux professionnels « Vaccinations »").count() == 1
    )
    masked = page.locator("tbody tr", has_text="Bilan psychologique")
    assert "Masqué aux professionnels" in masked.inner_text()
    unmask = "Rendre visible aux professionnels « Bilan psychologique »"
    assert page.get_by_role("button", name=unmask).count() == 1
    assert axe(page) == []

    # back in the list, the child's space is marked as the one she acts in
    page.goto(f"{live.url}/#represented")
    page.get_by_text("espace actuel").wait_for()
    assert axe(page) == []

    # the rest of the child's space, as far as the rules let a representative
    page.goto(f"{live.url}/#grants")
    page.get_by_role("heading", name="Professionnels bloqués").wait_for()
    assert page.get_by_role("button", name="Autoriser à lire tout mon espace").count() == 0
    assert axe(page) == []
    page.goto(f"{live.url}/#space")
    page.get_by_text("Votre espace est ouvert.").wait_for()
    assert axe(page) == []
    only_coffre(live)

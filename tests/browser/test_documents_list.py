"""The patient's documents list in a real Chromium against a real Coffre, on both
backends: each document's size is its plaintext's (computed in the page from the
ciphertext's), its confidentiality codes are shown in words, and the changes offered
follow them (unmask a masked document, mask one that is not; keeping a document from
the legal representatives, one-way, only while not done); a big space a page at a
time; axe-core on the list.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.live import Live, PageFactory
from tests.browser.test_patient_page import axe, only_coffre, shown
from tests.browser.test_patient_sections import confirm
from tests.scenarios.conftest import grow
from tests.sdk.conftest import HOSPITAL, PATIENT
from vault.reads import PAGE_DEFAULT

NOTE = "Échographie"  # 500 B: one record, shown in bytes
REPORT = "Scanner thoracique"  # 600 000 B: three records


def row(page: Any, title: str) -> Any:
    """The documents list's row of ``title``."""
    return page.locator("tbody tr", has_text=title)


def codes(live: Live) -> dict[str, dict[str, bool]]:
    """The patient's listing, as the API answers it: each title's codes."""
    listed = live.client(PATIENT)._request("GET", f"/v1/spaces/{PATIENT.id}/documents")
    fields = ("masked", "invisible_to_patient", "invisible_to_representatives")
    return {d["title"]: {f: d[f] for f in fields} for d in listed["documents"]}


def test_sizes_are_the_plaintext_and_codes_decide_the_changes_offered(
    live: Live, patient_page: PageFactory, tmp_path: Path
) -> None:
    hospital = live.client(HOSPITAL)
    hospital.provision(PATIENT.id)
    for title, size, masked in ((NOTE, 500, True), (REPORT, 600_000, False)):
        plain = tmp_path / f"{size}.pdf"
        plain.write_bytes(os.urandom(size))
        hospital.deposit(
            PATIENT.id,
            plain,
            type="imaging_report",
            title=title,
            date=date(2026, 11, 2),
            masked=masked,
        )
    page = patient_page(PATIENT, "documents")
    shown(page, live, "tbody tr", REPORT, view="documents")

    # sizes: the plaintext's, not the ciphertext's (552 o and 586 Ko)
    assert "500 o" in row(page, NOTE).inner_text()
    assert "585,9 Ko" in row(page, REPORT).inner_text()
    # codes in words, and the one change that fits each state
    assert "Masqué aux professionnels" in row(page, NOTE).inner_text()
    assert "Aucune restriction" in row(page, REPORT).inner_text()
    assert page.get_by_role("button", name=f"Masquer aux professionnels « {NOTE} »").count() == 0
    assert page.get_by_role("button", name=f"Masquer aux professionnels « {REPORT} »").count() == 1
    assert (
        page.get_by_role("button", name=f"Rendre visible aux professionnels « {REPORT} »").count()
        == 0
    )
    assert axe(page) == []

    page.get_by_role("button", name=f"Rendre visible aux professionnels « {NOTE} »").click()
    confirm(page, f"Rendre « {NOTE} » visible", "Rendre visible aux professionnels")
    page.get_by_text("est de nouveau visible aux professionnels").wait_for()
    assert "Aucune restriction" in row(page, NOTE).inner_text()
    assert page.get_by_role("button", name=f"Masquer aux professionnels « {NOTE} »").count() == 1
    assert codes(live)[NOTE]["masked"] is False

    page.get_by_role("button", name=f"Cacher à mes représentants légaux « {REPORT} »").click()
    confirm(page, f"Cacher « {REPORT} »", "Cacher à mes représentants légaux")
    page.get_by_text("est caché à vos représentants légaux").wait_for()
    assert "Caché aux représentants légaux" in row(page, REPORT).inner_text()
    # one-way: no longer offered once done
    hide = page.get_by_role("button", name=f"Cacher à mes représentants légaux « {REPORT} »")
    assert hide.count() == 0
    assert codes(live)[REPORT]["invisible_to_representatives"] is True
    assert axe(page) == []

    page.get_by_role("button", name="Switch to English").click()
    page.get_by_role("columnheader", name="Confidentiality").wait_for()
    assert "Kept from legal representatives" in row(page, REPORT).inner_text()
    assert "585.9 KB" in row(page, REPORT).inner_text()
    assert axe(page) == []
    only_coffre(live)


def test_a_big_space_comes_a_page_at_a_time(
    live: Live, patient_page: PageFactory, tmp_path: Path
) -> None:
    hospital = live.client(HOSPITAL)
    hospital.provision(PATIENT.id)
    grow(live.coffre, PATIENT.id, HOSPITAL, PAGE_DEFAULT)
    newest = tmp_path / "newest.pdf"
    newest.write_bytes(os.urandom(600))
    hospital.deposit(
        PATIENT.id, newest, type="imaging_report", title=REPORT, date=date(2026, 11, 2)
    )
    page = patient_page(PATIENT, "documents")
    page.wait_for_selector("#view[data-view=documents] tbody tr")
    assert page.locator("tbody tr").count() == PAGE_DEFAULT
    assert row(page, REPORT).count() == 0  # deposit order: the newest is on page 2

    page.get_by_role("button", name="Suivants").click()
    row(page, REPORT).wait_for()
    assert page.locator("tbody tr").count() == 1
    assert page.get_by_role("button", name="Suivants").is_disabled()
    assert axe(page) == []

    page.get_by_role("button", name="Précédents").click()
    expect(page.locator("tbody tr")).to_have_count(PAGE_DEFAULT)
    assert page.get_by_role("button", name="Précédents").is_disabled()
    only_coffre(live)

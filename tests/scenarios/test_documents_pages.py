"""A space's listing comes a page at a time (``vault.reads.documents_page``), on both
backends: every document the caller may see exactly once, in deposit order, whatever
changes between two pages, and a page's cost (the titles it opens) bounded by the page,
not by the space.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from coffre.bootstrap import Coffre
from domain.values import Actor, Scope
from tests.scenarios.conftest import Cast, deposit, grow
from vault import reads
from vault.reads import PAGE_MAX
from wire.errors import InvalidInput


def _pages(coffre: Coffre, patient_id: str, actor: Actor, limit: int) -> list[list[UUID]]:
    pages: list[list[UUID]] = []
    after: UUID | None = None
    while True:
        page = coffre.vault.documents_page(patient_id, actor, after=after, limit=limit)
        pages.append([d.document_id for d in page.documents])
        if page.next_cursor is None:
            return pages
        assert page.next_cursor == page.documents[-1].document_id
        after = page.next_cursor


def test_pages_list_each_visible_document_once_in_deposit_order(coffre: Coffre, cast: Cast) -> None:
    patient, doctor = cast.patient.actor, cast.doctor.actor
    pid = patient.id
    coffre.vault.grant(pid, doctor, Scope.whole_space(), None, patient)
    ids = [deposit(coffre, pid, b"doc %d" % n, cast.hospital) for n in range(7)]
    coffre.vault.mask(pid, ids[1], patient)
    coffre.vault.mask(pid, ids[4], patient)
    shown = [i for i in ids if i not in (ids[1], ids[4])]

    assert _pages(coffre, pid, patient, 3) == [ids[0:3], ids[3:6], ids[6:]]
    # masked documents are neither listed nor counted: the pages are as full as they can be
    assert _pages(coffre, pid, doctor, 2) == [shown[0:2], shown[2:4], shown[4:]]
    assert _pages(coffre, pid, doctor, PAGE_MAX) == [shown]
    # the whole listing and the pages agree
    assert [d.document_id for d in coffre.vault.documents(pid, doctor)] == shown
    # a page that ends exactly at the last document says so: no empty page follows
    assert _pages(coffre, pid, patient, 7) == [ids]


def test_what_changes_between_two_pages_skips_or_repeats_nothing(
    coffre: Coffre, cast: Cast
) -> None:
    patient, doctor = cast.patient.actor, cast.doctor.actor
    pid = patient.id
    coffre.vault.grant(pid, doctor, Scope.whole_space(), None, patient)
    ids = grow(coffre, pid, cast.hospital, 6)
    first = coffre.vault.documents_page(pid, doctor, limit=3)
    assert [d.document_id for d in first.documents] == ids[:3]
    # the cursor's own document is masked, another deleted, one more deposited
    coffre.vault.mask(pid, ids[2], patient)
    coffre.vault.delete_document(pid, ids[4], patient)
    later = grow(coffre, pid, cast.hospital, 1)
    rest = coffre.vault.documents_page(pid, doctor, after=first.next_cursor, limit=10)
    assert [d.document_id for d in rest.documents] == [ids[3], ids[5], *later]
    assert rest.next_cursor is None


@pytest.mark.parametrize("limit", [0, -1, PAGE_MAX + 1, 10**30])
def test_a_limit_out_of_bounds_is_refused(coffre: Coffre, cast: Cast, limit: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        coffre.vault.documents_page(cast.patient.actor.id, cast.patient.actor, limit=limit)
    assert refused.value.field == "limit"


def test_a_cursor_that_names_no_document_of_the_space_is_refused(
    coffre: Coffre, cast: Cast
) -> None:
    pid = cast.patient.actor.id
    ids = grow(coffre, pid, cast.hospital, 2)
    with pytest.raises(InvalidInput) as refused:
        coffre.vault.documents_page(pid, cast.patient.actor, after=uuid4())
    assert refused.value.field == "after"
    # a professional with no grant is shown nothing, and counts nothing
    page = coffre.vault.documents_page(pid, cast.stranger.actor, after=ids[0])
    assert (page.documents, page.next_cursor) == ([], None)


def test_a_page_of_a_big_space_opens_only_its_own_titles(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = cast.patient.actor
    ids = grow(coffre, patient.id, cast.hospital, 3_000)
    opened: list[int] = []
    real = reads.open_titles

    def counting(core: Any, space_id: Any, documents: Any) -> list[str]:
        opened.append(len(documents))
        return real(core, space_id, documents)

    monkeypatch.setattr(reads, "open_titles", counting)
    page = coffre.vault.documents_page(patient.id, patient, after=ids[1_499], limit=50)
    assert [d.document_id for d in page.documents] == ids[1_500:1_550]
    assert {d.title for d in page.documents} == {"Bilan"}
    assert opened == [50]
    last = coffre.vault.documents_page(patient.id, patient, after=ids[-2], limit=50)
    assert [d.document_id for d in last.documents] == [ids[-1]]
    assert last.next_cursor is None

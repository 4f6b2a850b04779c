"""``GET /v1/spaces/{p}/documents`` answers a page at a time: ``limit`` and ``after``
in, ``next_cursor`` out; bad paging is a 422 problem and lists nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.api_helpers import ALICE
from tests.scenarios.conftest import grow
from vault.reads import PAGE_DEFAULT, PAGE_MAX

URL = f"/v1/spaces/{ALICE.id}/documents"


def test_the_pages_chain_through_the_whole_listing(alice: Any, hospital: Any) -> None:
    ids = [hospital.deposit(ALICE.id, b"doc %d" % n)["document_id"] for n in range(5)]
    whole = alice.get(URL)
    assert whole.status_code == 200, whole.text
    assert [d["document_id"] for d in whole.json()["documents"]] == ids
    assert whole.json()["next_cursor"] is None
    seen: list[list[str]] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = alice.get(URL, params=params).json()
        seen.append([d["document_id"] for d in page["documents"]])
        if page["next_cursor"] is None:
            break
        params["after"] = page["next_cursor"]
    assert seen == [ids[0:2], ids[2:4], ids[4:]]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": str(PAGE_MAX + 1)},
        {"limit": "9" * 40},
        {"limit": "1.5"},
        {"limit": "\uff12"},  # a full-width digit 2
        {"limit": ""},
        {"after": "not-a-uuid"},
        {"after": "x" * 10_000},
        {"after": "00000000-0000-0000-0000-000000000000\x00"},
    ],
)
def test_bad_paging_is_a_problem(alice: Any, hospital: Any, query: dict[str, str]) -> None:
    hospital.deposit(ALICE.id)
    answer = alice.get(URL, params=query)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("/invalid-input")


def test_a_cursor_of_no_document_of_the_space_is_a_problem(alice: Any, hospital: Any) -> None:
    hospital.deposit(ALICE.id)
    answer = alice.get(URL, params={"after": "7d6e5f4a-3b2c-4d1e-8f9a-0b1c2d3e4f5a"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"].endswith("/invalid-input")


def test_the_default_page_is_bounded(alice: Any, hospital: Any, coffre: Any) -> None:
    ids = grow(coffre, ALICE.id, hospital.actor, PAGE_DEFAULT + 1)
    first = alice.get(URL).json()
    assert len(first["documents"]) == PAGE_DEFAULT
    assert first["next_cursor"] == str(ids[PAGE_DEFAULT - 1])
    rest = alice.get(URL, params={"after": first["next_cursor"]}).json()
    assert [d["document_id"] for d in rest["documents"]] == [str(ids[-1])]
    assert rest["next_cursor"] is None

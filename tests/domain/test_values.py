"""Identifiers and labels are validated before anything is recorded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.values import (
    Actor,
    Ciphertext,
    Scope,
    parse_patient_id,
    parse_professional_id,
    patient_id_from_number,
    professional_id_from_number,
)
from wire.errors import InvalidInput
from wire.values import DocumentMetadata, Profession, Role


def test_a_patient_id_is_an_ins_with_its_key() -> None:
    assert parse_patient_id("185057512345673") == "185057512345673"
    assert parse_patient_id(patient_id_from_number("185052A123456"))  # Corsica
    for bad in ["185057512345674", "123", "", "18505751234567X", None, 185057512345673]:
        with pytest.raises(InvalidInput):
            parse_patient_id(bad)


@given(st.from_regex(r"[12][0-9]{2}(0[1-9]|1[0-2])[0-9]{8}", fullmatch=True))
def test_every_number_gets_a_valid_key(number: str) -> None:
    assert parse_patient_id(patient_id_from_number(number))


@given(st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_rpps_numbers_carry_a_luhn_digit(number: str) -> None:
    valid = professional_id_from_number(number)
    assert parse_professional_id(valid) == valid
    wrong = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    with pytest.raises(InvalidInput):
        parse_professional_id(wrong)


@pytest.mark.parametrize("adeli", ["751234567", "2A1234567", "2B0000001", "011234567"])
def test_adeli_numbers_name_professionals_outside_the_rpps(adeli: str) -> None:
    assert parse_professional_id(adeli) == adeli
    actor = Actor(Role.PROFESSIONAL, adeli, "Mme Kiné", Profession.PHYSIOTHERAPIST)
    assert Actor.from_dict(actor.to_dict()) == actor


@pytest.mark.parametrize(
    "wrong", ["75123456", "7512345678", "2C1234567", "2a1234567", "75123456\n", "\u066751234567"]
)
def test_other_nine_or_ten_character_ids_are_refused(wrong: str) -> None:
    with pytest.raises(InvalidInput, match="RPPS number or a 9-character ADELI"):
        parse_professional_id(wrong)


@pytest.mark.parametrize("title", ["", "   ", "x" * 201, "line\nbreak", "\x1b[31mred"])
def test_titles_are_bounded_and_printable(title: str) -> None:
    with pytest.raises(InvalidInput):
        DocumentMetadata("lab_result", title, __import__("datetime").date(2026, 1, 1))  # type: ignore[arg-type]


def test_unknown_document_types_and_professions_are_refused() -> None:
    with pytest.raises(InvalidInput):
        DocumentMetadata("horoscope", "t", __import__("datetime").date(2026, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Actor(Role.PROFESSIONAL, professional_id_from_number("1000000001"), "X", "wizard")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Actor(Role.PROFESSIONAL, professional_id_from_number("1000000001"), "X")


def test_scopes_are_consistent() -> None:
    assert Scope.whole_space().to_dict() == {"kind": "space", "types": [], "documents": []}
    with pytest.raises(InvalidInput):
        Scope("types")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Scope("space", frozenset({"lab_result"}))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Scope("documents", documents=frozenset({"not-a-uuid"}))  # type: ignore[arg-type]
    scope = Scope("types", frozenset({"lab_result", "prescription"}))  # type: ignore[arg-type]
    assert Scope.from_dict(scope.to_dict()) == scope


def test_actors_round_trip_through_their_stored_form() -> None:
    actor = Actor(
        Role.PROFESSIONAL,
        professional_id_from_number("1234567890"),
        "Dr A",
        Profession.DENTIST,
        "Cabinet",
    )
    assert Actor.from_dict(actor.to_dict()) == actor


def test_a_stored_ciphertext_is_rebuilt_as_it_was_and_not_checked_again() -> None:
    checked = Ciphertext("ab" * 16, 4096, "cd" * 32)
    assert Ciphertext.from_stored(checked.blob, checked.size, checked.sha256) == checked
    with pytest.raises(InvalidInput):  # input is checked...
        Ciphertext("AB" * 16, 4096, "cd" * 32)
    # ...while a stored event replays even if today's rule would refuse it
    assert Ciphertext.from_stored("AB" * 16, 4096, "cd" * 32).blob == "AB" * 16

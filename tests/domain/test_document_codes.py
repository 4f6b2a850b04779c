"""The one table of document type and confidentiality codes (``domain.document_codes``)."""

from __future__ import annotations

import pytest

from domain.confidentiality import Confidentiality
from domain.document_codes import (
    CONFIDENTIALITY_CODES,
    LOINC,
    TYPE_CODES,
    codes_of,
    confidentiality_field,
    type_of,
)
from wire.errors import InvalidInput
from wire.values import DocumentType


def test_every_document_type_has_one_loinc_code_naming_it_alone() -> None:
    assert set(TYPE_CODES) == set(DocumentType)
    loinc = [codes.loinc.code for codes in TYPE_CODES.values()]
    assert len(set(loinc)) == len(loinc)
    for type_ in DocumentType:
        assert codes_of(type_).loinc.system == LOINC
        assert type_of(LOINC, codes_of(type_).loinc.code) is type_
        assert type_of(None, codes_of(type_).loinc.code) is type_


def test_class_codes_are_the_dmps_where_one_exists() -> None:
    assert codes_of(DocumentType.LAB_RESULT).dmp_class is not None
    assert codes_of(DocumentType.PRESCRIPTION).dmp_class.code == "42"  # type: ignore[union-attr]
    assert codes_of(DocumentType.PATIENT_NOTE).dmp_class.code == "90"  # type: ignore[union-attr]
    assert codes_of(DocumentType.SOCIAL_CARE).dmp_class is None


@pytest.mark.parametrize(("system", "code"), [(LOINC, "0000-0"), ("urn:other", "11502-2")])
def test_an_unknown_type_code_is_invalid_input(system: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        type_of(system, code)
    assert refused.value.field == "type"


def test_confidentiality_codes_name_the_fields_of_confidentiality() -> None:
    fields = set(Confidentiality.__dataclass_fields__)
    assert set(CONFIDENTIALITY_CODES) == fields
    for field, code in CONFIDENTIALITY_CODES.items():
        assert confidentiality_field(code.system, code.code) == field
    with pytest.raises(InvalidInput):
        confidentiality_field(None, "VISIBLE")

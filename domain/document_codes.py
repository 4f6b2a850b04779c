"""The codes other systems use for Coffre's document types and confidentiality codes:
one table each, read by the FHIR facade (``api.fhir``) in both directions.

Document types map to a LOINC code (``DocumentReference.type``, the DMP's typeCode,
TRE_A04-Loinc) and, where the DMP has one, to its class code
(``DocumentReference.category``, TRE_A03-ClasseDocument, value set JDV_J06
XdsClassCode-CISIS). A LOINC code names exactly one Coffre type, so a deposit coded
in LOINC finds its type again. The confidentiality codes are the DMP's visibility
statuses (TRE_A07-StatutVisibiliteDocument), carried as ``securityLabel``.

A table, no rule: who may see a document stays ``domain.reads``'s decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from wire.errors import InvalidInput
from wire.mhd import LOINC, VISIBILITY
from wire.values import DocumentType

DMP_CLASS = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"


@dataclass(frozen=True)
class Code:
    """One coding: the code system's URI, the code and its display text."""

    system: str
    code: str
    display: str


@dataclass(frozen=True)
class TypeCodes:
    """How one document type is coded: its LOINC type, its DMP class if any."""

    loinc: Code
    dmp_class: Code | None


def _loinc(code: str, display: str) -> Code:
    return Code(LOINC, code, display)


def _class(code: str, display: str) -> Code:
    return Code(DMP_CLASS, code, display)


_REPORT = _class("10", "Compte rendu")
_SUMMARY = _class("11", "Synthèse")

#: Coffre's document types to their codes (every type has one row; a test checks)
TYPE_CODES: Mapping[DocumentType, TypeCodes] = MappingProxyType(
    {
        DocumentType.CONSULTATION_REPORT: TypeCodes(_loinc("11488-4", "Consult note"), _REPORT),
        DocumentType.HOSPITAL_REPORT: TypeCodes(
            _loinc("34105-7", "Hospital Discharge summary"), _REPORT
        ),
        DocumentType.LAB_RESULT: TypeCodes(_loinc("11502-2", "Laboratory report"), _REPORT),
        DocumentType.IMAGING_REPORT: TypeCodes(
            _loinc("18748-4", "Diagnostic imaging study"), _REPORT
        ),
        DocumentType.PRESCRIPTION: TypeCodes(
            _loinc("57833-6", "Prescription for medication"), _class("42", "Prescription")
        ),
        DocumentType.DISPENSATION: TypeCodes(
            _loinc("60593-1", "Medication dispensed.brief"), _class("43", "Dispensation")
        ),
        DocumentType.VACCINATION: TypeCodes(
            _loinc("87273-9", "Immunization note"), _class("45", "Traitement administré")
        ),
        DocumentType.MEDICAL_SUMMARY: TypeCodes(
            _loinc("60591-5", "Patient summary Document"), _SUMMARY
        ),
        DocumentType.PSYCHIATRIC_SUMMARY: TypeCodes(_loinc("34788-0", "Psychiatry Note"), _SUMMARY),
        # no DMP class fits social-care documents: the LOINC type alone
        DocumentType.SOCIAL_CARE: TypeCodes(_loinc("34107-5", "Social work Note"), None),
        DocumentType.PATIENT_NOTE: TypeCodes(
            _loinc("51855-5", "Patient Note"),
            _class("90", "Autres documents déposés par le patient"),
        ),
    }
)

_BY_LOINC: Mapping[str, DocumentType] = MappingProxyType(
    {codes.loinc.code: type_ for type_, codes in TYPE_CODES.items()}
)

#: ``domain.confidentiality.Confidentiality``'s fields to the DMP's visibility codes
CONFIDENTIALITY_CODES: Mapping[str, Code] = MappingProxyType(
    {
        "masked": Code(VISIBILITY, "MASQUE_PS", "Masqué aux professionnels de santé"),
        "invisible_to_patient": Code(VISIBILITY, "INVISIBLE_PATIENT", "Non visible par le patient"),
        "invisible_to_representatives": Code(
            VISIBILITY,
            "INVISIBLE_REPRESENTANTS_LEGAUX",
            "Non visible par les représentants légaux du patient",
        ),
    }
)

_FIELD_BY_CODE: Mapping[str, str] = MappingProxyType(
    {code.code: field for field, code in CONFIDENTIALITY_CODES.items()}
)


def codes_of(type_: DocumentType) -> TypeCodes:
    """The codes of a Coffre document type."""
    return TYPE_CODES[type_]


def type_of(system: str | None, code: str, *, field: str = "type") -> DocumentType:
    """The Coffre type a LOINC code names; ``InvalidInput`` for any other code.

    ``system`` may be omitted (a bare code is taken as LOINC), as FHIR token search
    parameters allow.
    """
    if system not in (None, "", LOINC) or code not in _BY_LOINC:
        raise InvalidInput(f"{field} must be one of Coffre's LOINC type codes", field=field)
    return _BY_LOINC[code]


def confidentiality_field(system: str | None, code: str, *, field: str = "securityLabel") -> str:
    """The ``Confidentiality`` field a visibility code sets; ``InvalidInput`` otherwise."""
    if system not in (None, "", VISIBILITY) or code not in _FIELD_BY_CODE:
        raise InvalidInput(
            f"{field} must be MASQUE_PS, INVISIBLE_PATIENT or INVISIBLE_REPRESENTANTS_LEGAUX",
            field=field,
        )
    return _FIELD_BY_CODE[code]

"""The profession x document-type matrix (*matrice d'habilitation*), shipped as data.

RULES.md rule 4: a professional reads a document only if their profession may see its
type. ``DEFAULT_ROWS`` is our reading of the annex to the arrêté of 26 October 2023
(JORF 29 Oct 2023) over the document types Coffre knows; ``docs/rules.md`` explains
each row. The table is plain data — one row per profession, a list of type names — so
a deployment can replace it (``Matrix.from_rows``) without touching the policy, and the
loader refuses a table that forgets a profession or names an unknown type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wire.errors import InvalidInput
from wire.values import DocumentType, Profession

#: every type: doctors see all of a patient's documents (arrêté, "médecin")
_ALL = [t.value for t in DocumentType]
_ALL_BUT_PSYCHIATRY_AND_SOCIAL = [
    t.value
    for t in DocumentType
    if t not in (DocumentType.PSYCHIATRIC_SUMMARY, DocumentType.SOCIAL_CARE)
]

DEFAULT_ROWS: Mapping[str, Sequence[str]] = {
    "doctor": _ALL,
    "dentist": _ALL_BUT_PSYCHIATRY_AND_SOCIAL,
    "midwife": _ALL_BUT_PSYCHIATRY_AND_SOCIAL,
    "pharmacist": [
        "lab_result",
        "prescription",
        "dispensation",
        "vaccination",
        "medical_summary",
        "hospital_report",
        "patient_note",
    ],
    "nurse": [
        "consultation_report",
        "hospital_report",
        "lab_result",
        "imaging_report",
        "prescription",
        "dispensation",
        "vaccination",
        "medical_summary",
        "patient_note",
    ],
    "physiotherapist": [
        "consultation_report",
        "hospital_report",
        "imaging_report",
        "prescription",
        "medical_summary",
        "patient_note",
    ],
    "social_worker": ["social_care", "patient_note"],
}


@dataclass(frozen=True)
class Matrix:
    """Which document types each profession may read."""

    rows: Mapping[Profession, frozenset[DocumentType]]

    @classmethod
    def from_rows(cls, rows: Mapping[str, Sequence[str]]) -> Matrix:
        """Load a table of ``profession -> [document type, ...]``; validated, pure.

        Every known profession needs a row (an empty list is a deliberate "nothing"),
        so adding a profession to ``Profession`` without deciding its row fails loudly.
        """
        parsed: dict[Profession, frozenset[DocumentType]] = {}
        for name, types in rows.items():
            try:
                parsed[Profession(name)] = frozenset(DocumentType(t) for t in types)
            except ValueError as error:
                raise InvalidInput(
                    f"invalid matrix row {name!r}: {error}", field="matrix"
                ) from None
        missing = sorted(p.value for p in Profession if p not in parsed)
        if missing:
            raise InvalidInput(f"the matrix has no row for {', '.join(missing)}", field="matrix")
        return cls(parsed)

    def allows(self, profession: Profession, document_type: DocumentType) -> bool:
        """True when ``profession`` may read documents of ``document_type``."""
        return document_type in self.rows.get(profession, frozenset())


DEFAULT_MATRIX = Matrix.from_rows(DEFAULT_ROWS)

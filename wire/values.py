"""Values both sides of the wire validate the same way: roles, professions, document
types, text and date bounds, a deposit's metadata.

The server's domain builds on these (``domain.values``); the SDK checks a deposit's
metadata with the very same rules before it sends a byte. Pure: standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from wire.errors import InvalidInput

TITLE_MAX = 200
NAME_MAX = 120
#: a source identifier's system (a URI: ``urn:oid:...``, ``https://...``) and value; the
#: DMP's uniqueId is at most 128 characters (an OID, ``^``, an extension)
SOURCE_SYSTEM_MAX = 256
SOURCE_VALUE_MAX = 128
#: the largest integer every store keeps (SQLite INTEGER, PostgreSQL BIGINT): positions,
#: cursors and counts beyond it are refused before they can reach an event or a query
POSITION_MAX = 2**63 - 1
#: instants and dates outside these years are typing errors, and near the ends of
#: Python's range a time-zone conversion overflows: refused before they are recorded
YEAR_MIN = 1900
YEAR_MAX = 2999


class Role(StrEnum):
    """What kind of caller an actor is; decided by the token's issuer, never by input."""

    PATIENT = "patient"
    #: a person acting for a patient (a parent of a minor, a guardian): their own INS is
    #: their id, and the space they act on lists them (``Space.representatives``)
    REPRESENTATIVE = "representative"
    PROFESSIONAL = "professional"
    SERVICE = "service"
    REGULATOR = "regulator"


class Profession(StrEnum):
    """Health professions known to the access matrix (RULES.md, rule 4)."""

    DOCTOR = "doctor"
    PHARMACIST = "pharmacist"
    NURSE = "nurse"
    MIDWIFE = "midwife"
    PHYSIOTHERAPIST = "physiotherapist"
    DENTIST = "dentist"
    SOCIAL_WORKER = "social_worker"


class DocumentType(StrEnum):
    """Kinds of document a space holds; the profession matrix is keyed by these."""

    CONSULTATION_REPORT = "consultation_report"
    HOSPITAL_REPORT = "hospital_report"
    LAB_RESULT = "lab_result"
    IMAGING_REPORT = "imaging_report"
    PRESCRIPTION = "prescription"
    DISPENSATION = "dispensation"
    VACCINATION = "vaccination"
    MEDICAL_SUMMARY = "medical_summary"
    PSYCHIATRIC_SUMMARY = "psychiatric_summary"
    SOCIAL_CARE = "social_care"
    PATIENT_NOTE = "patient_note"


#: Unicode categories refused in text: controls (log injection), format characters
#: (bidirectional overrides and invisible marks that make a title read as another),
#: surrogates (not encodable: no database would store them), private use, unassigned,
#: and line or paragraph separators
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: format characters that writing needs: zero-width joiner and non-joiner (Persian,
#: Indic scripts, emoji sequences)
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})


def clean_text(value: object, *, field: str, max_length: int) -> str:
    """Normalise a human-readable label (NFC, stripped) and check its length.

    Control, invisible-formatting (bidirectional overrides, zero-width spaces),
    surrogate, private-use and unassigned characters are refused: they have no place in
    a title, make one text display as another, or cannot be stored.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    for char in text:
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES and char not in _ALLOWED_FORMAT:
            kind = "control" if category == "Cc" else "invisible or unprintable"
            raise InvalidInput(
                f"{field} contains a {kind} character (U+{ord(char):04X})", field=field
            )
    return text


def require_aware(moment: datetime, *, field: str) -> datetime:
    """Refuse naive datetimes and instants outside years 1900 to 2999.

    Every instant in Coffre carries its time zone; one near the ends of Python's range
    could not even be converted to UTC by a projection.
    """
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a time zone", field=field)
    try:
        year = moment.astimezone(UTC).year
    except OverflowError:
        year = moment.year
    if not YEAR_MIN <= year <= YEAR_MAX or not YEAR_MIN <= moment.year <= YEAR_MAX:
        raise InvalidInput(f"{field} must fall between {YEAR_MIN} and {YEAR_MAX}", field=field)
    return moment


def require_date(value: object, *, field: str) -> date:
    """A calendar date (not a datetime) between years 1900 and 2999."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(f"{field} must be a calendar date", field=field)
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise InvalidInput(f"{field} must fall between {YEAR_MIN} and {YEAR_MAX}", field=field)
    return value


@dataclass(frozen=True)
class DocumentMetadata:
    """What the depositor says about a document; validated before anything is recorded."""

    type: DocumentType
    title: str
    date: date

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "type", DocumentType(self.type))
        except ValueError:
            known = ", ".join(t.value for t in DocumentType)
            raise InvalidInput(f"unknown document type; known: {known}", field="type") from None
        object.__setattr__(
            self, "title", clean_text(self.title, field="title", max_length=TITLE_MAX)
        )
        require_date(self.date, field="date")


#: a URI as a source identifier's system: a scheme, a colon, then the characters RFC 3986
#: allows (no space, no control character, no ``|``, which separates system and value in
#: FHIR's token syntax), matched whole
_SOURCE_SYSTEM = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


@dataclass(frozen=True)
class SourceId:
    """The depositor's own identifier of what it deposits: the DMP's ``uniqueId``,
    FHIR's ``DocumentReference.masterIdentifier`` (``system`` + ``value``).

    ``system`` is a URI naming who issues the values (``urn:oid:1.2.250.1.213.1.1.9``);
    ``value`` is text of at most 128 characters, normalised like a title
    (``clean_text``). A retried deposit carries the same one, which is how the vault
    recognises it (``domain.documents``).
    """

    system: str
    value: str

    def __post_init__(self) -> None:
        system = self.system
        if not isinstance(system, str) or len(system) > SOURCE_SYSTEM_MAX:
            raise InvalidInput(
                f"source_id.system must be a URI of at most {SOURCE_SYSTEM_MAX} characters",
                field="source_id.system",
            )
        if not _SOURCE_SYSTEM.fullmatch(system):
            raise InvalidInput(
                "source_id.system must be a URI (scheme:rest, in the characters of RFC "
                "3986), e.g. urn:oid:1.2.250.1.213.1.1.9",
                field="source_id.system",
            )
        value = clean_text(self.value, field="source_id.value", max_length=SOURCE_VALUE_MAX)
        object.__setattr__(self, "value", value)

    def to_dict(self) -> dict[str, str]:
        """The plain form stored in events and sent on the wire."""
        return {"system": self.system, "value": self.value}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> SourceId:
        """Rebuild a stored source identifier without validating it again (like
        ``Actor.from_dict``: a stricter rule must not make older events unreadable)."""
        source = object.__new__(cls)
        object.__setattr__(source, "system", data["system"])
        object.__setattr__(source, "value", data["value"])
        return source

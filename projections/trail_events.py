"""What the trail says of one event: its audited fields, canonical values and digest.

``details`` carries only the fields named in ``AUDIT_FIELDS``: never key material and
never free text about health; ``event_digest`` binds the whole stored event. Used by the
trail projection (``projections.trail``) and its exports.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from projections.source import Event
from wire.canonical_fast import canonical_bytes

#: event fields copied into ``details``; anything else is bound only by ``event_digest``
AUDIT_FIELDS = frozenset(
    {
        "patient_id",  # Space.Provisioned: links the space to the INS
        "key_id",
        "document_key",  # a deposit's own key id (its title and data key are sealed to it)
        "text_key",  # the key free text (a justification) is sealed to
        "document_id",
        "version",
        "type",
        "blob",
        "size",
        "sha256",
        "grant_id",
        "grantee",
        "scope",
        "expires_at",
        "reader_key_id",
        "mode",
        "rule",
        "space_version",
        "role",  # Reader.Created: whose reader record
        "actor_id",
        "justification",  # emergency access, when it exists
        "reason",
        "purpose",  # the life of a space: code use, opening, closure, deletion
        "opens_at",
        "express_deletion",
        "archive_until",
        "deletion_due_at",
        "reimported",
        "professional",  # who may read: blocks, attending physician, representatives
        "professional_id",
        "physician",
        "representative",
        "representative_id",
        "kind",
        "until",
        "setting",
        "value",
        "access_id",  # emergency access: its id and who is to be told
        "notify",
        "notice_at",  # documents held for an announcement consultation
        "visible_at",
        "up_to",  # Inbox.Acknowledged: how far a person read their notifications
        "basis",  # on what a grant or a representative's appointment rests
        "owner",  # reader devices: whose device, how it was approved, and by whom
        "method",
        "approver",
        "export_id",  # Access.Exported: which export job, and how many documents it read
        "documents",
    }
)
#: fields deliberately left out of ``details``: key material, the one-time code's
#: verifier (a hash of a short code invites offline guessing), personal or health
#: content the audit does not need (document titles and dates, the birth date, a
#: device's name, a deposit's source identifier: ``document_id`` already names the
#: document), and a device challenge's nonce
EXCLUDED_FIELDS = frozenset(
    {
        "sealed_key",
        "public_key",
        "signing_key",
        "code",
        "title",
        "date",
        "birth_date",
        "name",
        "challenge",
        "challenge_expires_at",
        "source",
    }
)
#: fields every event has, or that the entry carries elsewhere
STRUCTURAL_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "at", "space_id"}
)
#: who acted, by the field name each event uses for it (first present wins)
ACTOR_FIELDS = ("actor", "reader", "author")


#: types ``canonical_value`` returns unchanged; exact types only, so that a subclass
#: (a str-valued ``Enum``, say) takes the general path, as it always did
_AS_IS = frozenset({str, int, float, bool, type(None)})


def canonical_value(value: Any) -> Any:
    """A JSON-ready form of an event field: UUIDs, times, bytes, enums and sets as text.

    The exact types events mostly hold are tested first (it runs over every field of
    every event of the log); anything else goes through ``_canonical_other``. Entries
    and their hashes depend on this output byte for byte: see
    ``tests/trail/test_trail_digest.py``, which compares it with the original.
    """
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {str(k): canonical_value(v) for k, v in value.items()}
    if kind is UUID:
        return str(value)
    if kind is datetime:
        return format_instant(value)
    if kind is list:
        return [canonical_value(v) for v in value]
    return _canonical_other(value)


def _canonical_other(value: Any) -> Any:
    # The general rules, in their original order: isinstance, so subclasses match.
    if isinstance(value, Enum):
        return canonical_value(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(canonical_value(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class _Shape:
    """What the trail needs to know of an event class, worked out once per class."""

    topic: str
    #: every dataclass field, bound by ``event_digest``
    fields: tuple[str, ...]
    #: the fields copied into ``details``
    audit: tuple[str, ...]
    #: fields with a default, added after events of the class were stored: bound only
    #: when the event holds them, so that the digests of older events never change
    optional: frozenset[str] = frozenset()


_SHAPES: dict[type, _Shape] = {}


def _shape(kind: type) -> _Shape:
    shape = _SHAPES.get(kind)
    if shape is None:
        fields = dataclasses.fields(kind)
        names = tuple(f.name for f in fields)
        audit = tuple(name for name in names if _audited(name))
        optional = frozenset(f.name for f in fields if f.default is not dataclasses.MISSING)
        shape = _SHAPES[kind] = _Shape(get_topic(kind), names, audit, optional)
    return shape


def _audited(name: str) -> bool:
    # Defence in depth: a field called "*key" (not "*key_id") never enters the trail.
    keyish = "key" in name and not name.endswith("key_id")
    return name in AUDIT_FIELDS and not keyish and name not in EXCLUDED_FIELDS


def format_instant(moment: datetime) -> str:
    """Fixed-width RFC 3339 UTC with microseconds: ``2026-11-02T09:00:00.000000Z``."""
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime does not pad these years to four digits; isoformat does
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as that strftime, made in C: UTC's isoformat always ends "+00:00".
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"


def event_digest(event: Event) -> str:
    """SHA-256 (hex) of the canonical JSON of ``{"topic", "fields"}`` of the whole event."""
    shape = _shape(type(event))
    held = vars(event)
    fields = {
        name: canonical_value(getattr(event, name))
        for name in shape.fields
        if name in held or name not in shape.optional
    }
    return hashlib.sha256(canonical_bytes({"topic": shape.topic, "fields": fields})).hexdigest()


def event_name(event: Event) -> str:
    """The short event type: aggregate and event class, ``Space.Granted``."""
    return type(event).__qualname__


def event_space(event: Event) -> UUID | None:
    """The space an event concerns: ``space_id`` if it has one, a Space's own id, else None."""
    space_id = getattr(event, "space_id", None)
    if isinstance(space_id, UUID):
        return space_id
    if event_name(event).startswith("Space."):
        return event.originator_id  # type: ignore[no-any-return]
    return None


def event_actor(event: Event) -> dict[str, Any] | None:
    """Who acted: role, id, name, profession, organisation (and any extra field), or None."""
    for name in ACTOR_FIELDS:
        actor = getattr(event, name, None)
        if isinstance(actor, dict):
            # The five identity fields always (null when absent), plus anything the
            # actor's form gains later (e.g. on whose behalf a representative acts).
            five = {k: actor.get(k) for k in ("role", "id", "name", "profession", "organisation")}
            return {**canonical_value(actor), **five}
    role, actor_id = getattr(event, "role", None), getattr(event, "actor_id", None)
    if isinstance(role, str) and isinstance(actor_id, str):  # Reader.Created
        return {
            "role": role,
            "id": actor_id,
            "name": None,
            "profession": None,
            "organisation": None,
        }
    return None


def event_time(event: Event) -> datetime:
    """The domain time (``at``) when the event has one, else the library's timestamp."""
    at = getattr(event, "at", None)
    return at if isinstance(at, datetime) else event.timestamp  # type: ignore[no-any-return]


def audit_details(event: Event) -> dict[str, Any]:
    """The event's ``AUDIT_FIELDS``, canonicalised; nothing named like key material."""
    return {name: canonical_value(getattr(event, name)) for name in _shape(type(event)).audit}

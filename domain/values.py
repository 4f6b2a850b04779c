"""Value objects of a patient's space: who acts, on what, with which scope.

Everything here is validated at construction and immutable; events store the plain
``to_dict`` forms, so that replaying an event never depends on a class's pickling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from wire.errors import Forbidden, InvalidInput
from wire.values import (
    NAME_MAX,
    DocumentType,
    Profession,
    Role,
    clean_text,
)

#: how an actor authenticated (``Actor.authentication``): a short label, not a document
AUTH_MAX = 64


def _nir_key(digits13: str) -> int:
    # Corsican departments 2A/2B are 19/18 for the key computation (INSEE rule).
    number = int(digits13.upper().replace("2A", "19").replace("2B", "18"))
    return 97 - number % 97


# Matched whole (``fullmatch``): ``$`` alone would accept a final newline, and a second
# space would open for "the same" patient.
_NIR = re.compile(r"[12478][0-9]{2}(0[1-9]|1[0-2]|[2-9][0-9])(2[AB]|[0-9]{2})[0-9]{6}[0-9]{2}")
INS_LENGTH = 15


def parse_patient_id(value: object) -> str:
    """Validate a patient identifier: an INS/NIR of 15 characters with its key.

    Raises ``InvalidInput`` for anything else, so that malformed identifiers never
    reach the event store.
    """
    if not isinstance(value, str):
        raise InvalidInput("patient id must be text", field="patient_id")
    if len(value) != INS_LENGTH:
        raise InvalidInput(
            f"patient id must be a 15-character INS (13-character NIR and 2-digit key), "
            f"not {len(value)} characters",
            field="patient_id",
        )
    value = value.upper()
    if not _NIR.fullmatch(value):
        raise InvalidInput(
            "patient id is not an INS: a sex digit (1, 2, 7 or 8), year, month, "
            "department (digits, 2A or 2B), commune and order digits, then a 2-digit key",
            field="patient_id",
        )
    if _nir_key(value[:13]) != int(value[13:]):
        raise InvalidInput("patient id key does not match its number", field="patient_id")
    return value


def patient_id_from_number(digits13: str) -> str:
    """Append the INS key to a 13-character number (for fixtures and the demo)."""
    return f"{digits13.upper()}{_nir_key(digits13):02d}"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def parse_professional_id(value: object) -> str:
    """Validate a professional's national number: an RPPS number (11 digits whose last
    one is a Luhn check digit) or, for professions not yet in the RPPS, an ADELI number
    (9 characters: the department, ``2A``/``2B`` for Corsica, then 7 digits).

    The two never collide (their lengths differ). ADELI's last digit is a key whose rule
    the registry does not publish with the number, so it is not checked here.
    """
    if isinstance(value, str) and _ADELI.fullmatch(value):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{11}", value):
        raise InvalidInput(
            "professional id must be an 11-digit RPPS number or a 9-character ADELI number",
            field="id",
        )
    if not _luhn_ok(value):
        raise InvalidInput(
            "professional id's last digit is not its check digit (RPPS numbers end with a "
            "Luhn check digit)",
            field="id",
        )
    return value


#: an ADELI number: a department (two digits, or 2A/2B) and seven digits
_ADELI = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{7}")


def professional_id_from_number(digits10: str) -> str:
    """Append the Luhn check digit to a 10-digit number (for fixtures and the demo)."""
    for check in "0123456789":
        if _luhn_ok(digits10 + check):
            return digits10 + check
    raise AssertionError("unreachable: one check digit always fits")


_SERVICE_ID = re.compile(r"[a-z0-9][a-z0-9.-]{2,63}")


def parse_uuid(value: object, *, field: str) -> UUID:
    """A UUID in its canonical 36-character form (or already a ``UUID``).

    ``uuid.UUID`` also takes braces, a ``urn:uuid:`` prefix or no hyphens; identifiers
    are matched whole in one spelling, so that a document has one id.
    """
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise InvalidInput(f"{field} must be a UUID (8-4-4-4-12 hex digits)", field=field)
    return UUID(value)


#: a UUID's canonical spelling, matched whole
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = re.compile(UUID_PATTERN)
#: stored names to members, for rebuilding stored actors (``Actor.from_dict``)
_ROLES: dict[str, Role] = {r.value: r for r in Role}
_PROFESSIONS: dict[str, Profession] = {p.value: p for p in Profession}


def parse_actor_id(role: Role, value: object) -> str:
    """Validate the id of an actor of ``role``: an INS for patients and representatives,
    an RPPS or ADELI number for professionals, a service id for services and regulators."""
    if role in (Role.PATIENT, Role.REPRESENTATIVE):
        return parse_patient_id(value)
    if role is Role.PROFESSIONAL:
        return parse_professional_id(value)
    if not isinstance(value, str) or not _SERVICE_ID.fullmatch(value):
        raise InvalidInput("service ids are 3-64 lowercase letters, digits, . or -", field="id")
    return value


@dataclass(frozen=True)
class Actor:
    """Who performs an action, as the token that authenticated them says.

    ``id`` is a patient id (INS) for patients and representatives, an RPPS (or ADELI)
    number for professionals and a service name for services and regulators.
    ``profession`` is set for professionals only. ``authentication`` is how they logged
    in, as their OpenID provider's token says (its ``acr``, else its ``amr``: ``e-CPS``,
    ``card``, ``pwd``), when it says: it is recorded with what they do and shown in the
    access log, but is not part of who they are (two actors differing only by it are the
    same).
    """

    role: Role
    id: str
    name: str
    profession: Profession | None = None
    organisation: str | None = None
    authentication: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        role = Role(self.role)
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "id", parse_actor_id(role, self.id))
        if role is Role.PROFESSIONAL and self.profession is None:
            raise InvalidInput("a professional has a profession", field="profession")
        if self.profession is not None:
            if role is not Role.PROFESSIONAL:
                raise InvalidInput("only professionals have a profession", field="profession")
            try:
                object.__setattr__(self, "profession", Profession(self.profession))
            except ValueError:
                known = ", ".join(p.value for p in Profession)
                raise InvalidInput(
                    f"unknown profession; known: {known}", field="profession"
                ) from None
        object.__setattr__(self, "name", clean_text(self.name, field="name", max_length=NAME_MAX))
        if self.organisation is not None:
            organisation = clean_text(self.organisation, field="organisation", max_length=NAME_MAX)
            object.__setattr__(self, "organisation", organisation)
        if self.authentication is not None:
            method = clean_text(self.authentication, field="authentication", max_length=AUTH_MAX)
            object.__setattr__(self, "authentication", method)

    def to_dict(self) -> dict[str, Any]:
        """The plain form stored in events (``authentication`` only when known, so
        events of actors without it keep their shape)."""
        plain = {
            "role": self.role.value,
            "id": self.id,
            "name": self.name,
            "profession": self.profession.value if self.profession else None,
            "organisation": self.organisation,
        }
        if self.authentication is not None:
            plain["authentication"] = self.authentication
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Actor:
        """Rebuild an actor from its stored form, without validating it again.

        Stored events were validated when they were recorded, under the rules of that
        day: a stricter rule today must not make yesterday's events unreadable, and
        replay should not pay for checks already made. Input goes through ``Actor()``.
        """
        actor = object.__new__(cls)
        profession = data.get("profession")
        # Plain dict lookups: the enums' own calls were a good part of a replay.
        fields = actor.__dict__
        fields["role"] = _ROLES[data["role"]]
        fields["id"] = data["id"]
        fields["name"] = data["name"]
        fields["profession"] = _PROFESSIONS[profession] if profession else None
        fields["organisation"] = data.get("organisation")
        fields["authentication"] = data.get("authentication")
        return actor


@dataclass(frozen=True)
class AuthorisedServices:
    """The ``service`` callers a deployment names for a task (``refusal`` says which), and
    nobody else: a service token alone is not enough, since hospitals deposit with it."""

    services: frozenset[str] = frozenset()
    #: what a caller not named is told
    refusal: str = "only an authorised service may do this"

    def authorises(self, actor: Actor) -> bool:
        """True for a service the deployment named."""
        return actor.role is Role.SERVICE and actor.id in self.services

    def require(self, actor: Actor) -> None:
        """``Forbidden`` unless the deployment named ``actor``."""
        if not self.authorises(actor):
            raise Forbidden(self.refusal)


class ScopeKind(StrEnum):
    """How much of a space a grant covers."""

    SPACE = "space"
    TYPES = "types"
    DOCUMENTS = "documents"


@dataclass(frozen=True)
class Scope:
    """What a grant covers: the whole space, some document types, or some documents."""

    kind: ScopeKind
    types: frozenset[DocumentType] = field(default_factory=frozenset)
    documents: frozenset[UUID] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            kind = ScopeKind(self.kind)
            types = frozenset(DocumentType(t) for t in self.types)
            documents = frozenset(parse_uuid(d, field="scope") for d in self.documents)
        except ValueError as error:
            raise InvalidInput(f"invalid grant scope: {error}", field="scope") from None
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "documents", documents)
        if kind is ScopeKind.SPACE and (types or documents):
            raise InvalidInput("a whole-space scope lists no types or documents", field="scope")
        if kind is ScopeKind.TYPES and (not types or documents):
            raise InvalidInput("a types scope lists at least one type", field="scope")
        if kind is ScopeKind.DOCUMENTS and (not documents or types):
            raise InvalidInput("a documents scope lists at least one document", field="scope")
        if len(types) + len(documents) > 1000:
            raise InvalidInput("a scope lists at most 1000 items", field="scope")

    @classmethod
    def whole_space(cls) -> Scope:
        """A scope covering every document of the space."""
        return cls(ScopeKind.SPACE)

    def covers(self, document_id: UUID, document_type: DocumentType) -> bool:
        """True when a document of this id and type falls inside the scope."""
        if self.kind is ScopeKind.SPACE:
            return True
        if self.kind is ScopeKind.TYPES:
            return document_type in self.types
        return document_id in self.documents

    def to_dict(self) -> dict[str, Any]:
        """The plain form stored in events (sorted, so equal scopes store equally)."""
        return {
            "kind": self.kind.value,
            "types": sorted(t.value for t in self.types),
            "documents": sorted(str(d) for d in self.documents),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scope:
        """Rebuild a scope from its stored form."""
        return cls(
            ScopeKind(data["kind"]),
            frozenset(DocumentType(t) for t in data.get("types", ())),
            frozenset(UUID(d) for d in data.get("documents", ())),
        )


@dataclass(frozen=True)
class Ciphertext:
    """Where a document version's ciphertext lives and what it must hash to."""

    blob: str
    size: int
    sha256: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{32}", self.blob):
            raise InvalidInput("blob names are 32 hex characters", field="blob")
        if not isinstance(self.size, int) or self.size < 0:
            raise InvalidInput("ciphertext size must be a non-negative integer", field="size")
        if not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise InvalidInput("sha256 must be 64 lowercase hex characters", field="sha256")

    @classmethod
    def from_stored(cls, blob: str, size: int, sha256: str) -> Ciphertext:
        """Rebuild a ciphertext from a stored event without validating it again
        (``Actor.from_dict`` says why); input goes through ``Ciphertext()``."""
        ciphertext = object.__new__(cls)
        object.__setattr__(ciphertext, "blob", blob)
        object.__setattr__(ciphertext, "size", size)
        object.__setattr__(ciphertext, "sha256", sha256)
        return ciphertext

"""OAuth scopes in the manner of SMART on FHIR v2: what a token lets its bearer ask for.

A scope reads ``context/Resource.permissions``: ``patient/DocumentReference.rs`` lets a
patient-facing app read and search the documents of the patient in context,
``user/DocumentReference.cruds`` everything a professional may do on documents,
``system/DocumentReference.c`` a feeding service deposit. Permissions are letters of
``cruds`` (create, read, update, delete, search); ``*`` as the resource means every
resource; SMART v1's ``.read``, ``.write`` and ``.*`` are read as ``rs``, ``cud`` and
``cruds``. Anything else in the ``scope`` claim (``openid``, ``profile``...) is ignored.

A scope only narrows what a token may attempt: the rules of the space still decide
whether *this* actor may act on *that* space. Which context a role's tokens speak in is
fixed here (``CONTEXTS``): a patient's token with ``user/`` scopes gains nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from wire.values import Role

PERMISSIONS = "cruds"
#: the contexts a role's scopes may name, the first being the one a route asks for
CONTEXTS: dict[Role, tuple[str, ...]] = {
    Role.PATIENT: ("patient",),
    Role.REPRESENTATIVE: ("patient",),
    Role.PROFESSIONAL: ("user", "patient"),
    Role.REGULATOR: ("user",),
    Role.SERVICE: ("system",),
}
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE = re.compile(r"(patient|user|system)/(\*|[A-Z][A-Za-z]{1,63})\.(\*|read|write|[cruds]{1,5})")
#: scope text longer than this is not looked at (a token is at most 8 KiB anyway)
MAX_SCOPE_TEXT = 4096


@dataclass(frozen=True)
class ScopeGrant:
    """One SMART scope a token carries."""

    context: str
    resource: str
    permissions: frozenset[str]

    def covers(self, context: str, need: Need) -> bool:
        """True if this grant, in ``context``, lets its bearer do ``need``."""
        return (
            self.context == context
            and self.resource in ("*", need.resource)
            and need.permission in self.permissions
        )


@dataclass(frozen=True)
class Need:
    """What a route asks of a token: one permission letter on one FHIR resource type."""

    resource: str
    permission: str

    def __post_init__(self) -> None:
        if len(self.permission) != 1 or self.permission not in PERMISSIONS:
            raise ValueError(f"a permission is one of {PERMISSIONS!r}")

    def scope_for(self, role: Role) -> str:
        """The narrowest scope that satisfies this need for a token of ``role``."""
        return f"{CONTEXTS[role][0]}/{self.resource}.{self.permission}"

    def all_scopes(self) -> list[str]:
        """The narrowest scope for this need in every context (for the OpenAPI document)."""
        contexts = sorted({context for options in CONTEXTS.values() for context in options})
        return [f"{context}/{self.resource}.{self.permission}" for context in contexts]


def parse(scope: object) -> frozenset[ScopeGrant]:
    """The SMART scopes in a ``scope`` claim (space-separated text, or a list of them).

    Entries that are not SMART resource scopes are skipped, not refused: providers add
    ``openid``, ``profile`` and scopes of their own.
    """
    if isinstance(scope, str):
        words = scope[:MAX_SCOPE_TEXT].split()
    elif isinstance(scope, list):
        words = [word for word in scope[:256] if isinstance(word, str)]
    else:
        return frozenset()
    grants = set()
    for word in words:
        match = _SCOPE.fullmatch(word)
        if match is None:
            continue
        context, resource, permissions = match.groups()
        letters = _V1.get(permissions, permissions)
        grants.add(ScopeGrant(context, resource, frozenset(letters)))
    return frozenset(grants)


def allows(grants: Iterable[ScopeGrant], role: Role, need: Need) -> bool:
    """True if one of ``grants``, in a context ``role`` speaks in, covers ``need``."""
    contexts = CONTEXTS[role]
    return any(grant.covers(context, need) for grant in grants for context in contexts)


def full_scopes(role: Role) -> str:
    """Every permission on every resource, in ``role``'s contexts: what tokens of the
    embedded development issuer carry (the space's rules still apply to them)."""
    return " ".join(f"{context}/*.{PERMISSIONS}" for context in CONTEXTS[role])

"""From a verified token's claims to Coffre's ``Actor``: the one place claims are read.

Each configured issuer has a ``ClaimsMapping`` naming where, in its tokens, Coffre finds
what it needs. Claim names are paths: ``SubjectRefPro.exercices.0.codeProfession`` is
the first practice's profession code in Pro Santé Connect's nested structure.

The defaults follow Pro Santé Connect (ANS) for professionals: the national identifier
``SubjectNameID`` is ``8`` followed by the RPPS number (``0`` followed by the ADELI
number for professions not yet in the RPPS), the profession is the
nomenclature code of the first practice (TRE_G15: 10 doctor, 21 pharmacist, 40 dentist,
50 midwife, 60 nurse, 70 physiotherapist), the organisation ``SubjectOrganization``.
Patients' INS has no standard claim (FranceConnect's ``sub`` is pairwise, not the
INS): the default ``ins`` must be set to what the patients' provider really sends.
Services are named by their OAuth client (RFC 9068 ``client_id``, else ``azp``),
and only clients registered in Coffre (``IssuerSettings.clients``) are accepted.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from domain.values import AUTH_MAX, Actor
from wire.errors import InvalidInput, Unauthenticated
from wire.values import Profession, Role

#: Pro Santé Connect profession codes (nomenclature TRE_G15-ProfessionSante)
PSC_PROFESSION_CODES: dict[str, str] = {
    "10": Profession.DOCTOR.value,
    "21": Profession.PHARMACIST.value,
    "40": Profession.DENTIST.value,
    "50": Profession.MIDWIFE.value,
    "60": Profession.NURSE.value,
    "70": Profession.PHYSIOTHERAPIST.value,
}


class ClaimsMapping(BaseModel):
    """Where an issuer's tokens carry what Coffre's ``Actor`` needs (claim paths)."""

    model_config = {"extra": "forbid", "frozen": True}

    role: str | None = Field(
        None,
        description="claim naming the role, for an issuer asserting several; "
        "unset: the issuer's only role",
    )
    name: str = "name"
    given_name: str = "given_name"
    family_name: str = "family_name"
    professional_id: str = "SubjectNameID"
    professional_id_prefix: str = Field(
        "8", description="stripped from the professional id (PSC: '8' + RPPS)"
    )
    adeli_prefix: str | None = Field(
        "0", description="stripped from an ADELI professional id (PSC: '0' + ADELI)"
    )
    profession: str = "SubjectRefPro.exercices.0.codeProfession"
    profession_codes: dict[str, str] = Field(
        default_factory=lambda: dict(PSC_PROFESSION_CODES),
        description="the issuer's profession codes to Coffre's professions",
    )
    organisation: str | None = "SubjectOrganization"
    patient_id: str = Field("ins", description="the claim holding the patient's INS")
    client_id: tuple[str, ...] = ("client_id", "azp")
    authority: str = Field("sub", description="a regulator's authority id")


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` (dot-separated; digits index lists), or ``None``."""
    value: Any = claims
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(claims: Mapping[str, Any], path: str | None) -> str | None:
    value = claim(claims, path) if path else None
    return value if isinstance(value, str) and value.strip() else None


def role_of(claims: Mapping[str, Any], mapping: ClaimsMapping, roles: frozenset[Role]) -> Role:
    """The role ``claims`` assert, which must be one of the issuer's ``roles``.

    An issuer trusted for one role asserts that one whatever the claims say; one trusted
    for several must name it. A role outside the issuer's is refused, so a patients'
    provider can never make a regulator.
    """
    if mapping.role is None:
        if len(roles) != 1:
            raise Unauthenticated("the bearer token does not say which role it asserts")
        return next(iter(roles))
    try:
        role = Role(str(claim(claims, mapping.role)))
    except ValueError:
        raise Unauthenticated("the bearer token does not say which role it asserts") from None
    if role not in roles:
        raise Unauthenticated(f"this token's issuer may not assert the {role.value} role")
    return role


def actor_from_claims(
    claims: Mapping[str, Any],
    role: Role,
    mapping: ClaimsMapping,
    clients: Mapping[str, str],
) -> Actor:
    """The ``Actor`` a verified token of ``role`` names; ``Unauthenticated`` if its
    claims lack what the role needs or do not validate (never echoing them)."""
    name = _text(claims, mapping.name) or " ".join(
        part
        for part in (_text(claims, mapping.given_name), _text(claims, mapping.family_name))
        if part
    )
    try:
        if role is Role.PROFESSIONAL:
            return _professional(claims, mapping, name)
        if role is Role.SERVICE:
            client = next(
                (c for path in mapping.client_id if (c := _text(claims, path)) is not None), None
            )
            if client is None or client not in clients:
                raise Unauthenticated("this token's client is not registered in Coffre")
            return Actor(Role.SERVICE, clients[client], name or clients[client])
        path = mapping.authority if role is Role.REGULATOR else mapping.patient_id
        subject = _text(claims, path)
        if subject is None:
            raise Unauthenticated(f"the bearer token lacks the {path!r} claim")
        return Actor(role, subject, name or subject)
    except InvalidInput as error:
        raise Unauthenticated(f"the bearer token's claims are not valid ({error.detail})") from None


def _professional(claims: Mapping[str, Any], mapping: ClaimsMapping, name: str) -> Actor:
    national = _text(claims, mapping.professional_id)
    code = claim(claims, mapping.profession)
    if national is None or code is None:
        raise Unauthenticated("the bearer token lacks the professional's id or profession")
    # PSC's national id is typed by its first character: '8' + RPPS, '0' + ADELI
    rpps = national
    for prefix in (mapping.professional_id_prefix, mapping.adeli_prefix):
        if prefix and national.startswith(prefix):
            rpps = national[len(prefix) :]
            break
    try:
        profession = Profession(mapping.profession_codes.get(str(code), str(code)))
    except ValueError:
        raise Unauthenticated("the bearer token's profession is not one Coffre knows") from None
    organisation = _text(claims, mapping.organisation)
    return Actor(
        Role.PROFESSIONAL, rpps, name or rpps, profession=profession, organisation=organisation
    )


def authentication_of(claims: Mapping[str, Any]) -> str | None:
    """How the person logged in, as the token says: its ``acr`` (the class a provider
    names, Pro Santé Connect's ``e-CPS`` or ``card``), else its ``amr`` (RFC 8176
    methods, ``pwd``, ``mfa+otp``), else None (a token that does not say)."""
    acr = claims.get("acr")
    if isinstance(acr, str) and acr.strip():
        return acr.strip()[:AUTH_MAX]
    amr = claims.get("amr")
    if isinstance(amr, list):
        methods = [m.strip() for m in amr if isinstance(m, str) and m.strip()]
        if methods:
            return "+".join(methods)[:AUTH_MAX]
    return None


#: an ADELI number's length (an RPPS number has 11 digits)
ADELI_LENGTH = 9

#: the claim naming the role in the tokens of a provider asserting several roles
ROLE_CLAIM = "role"


def claims_of(actor: Actor, mapping: ClaimsMapping | None = None) -> dict[str, Any]:
    """The claims a provider puts in ``actor``'s tokens for ``mapping`` (default: Pro
    Santé Connect's names) to read them back as ``actor``: the inverse of
    :func:`actor_from_claims`, used by the embedded development provider.

    A service's claims name no client: its token's ``client_id`` does.
    """
    mapping = mapping or ClaimsMapping(role=ROLE_CLAIM)
    claims: dict[str, Any] = {
        mapping.role or ROLE_CLAIM: actor.role.value,
        mapping.name: actor.name,
    }
    if actor.role is Role.PROFESSIONAL:
        codes = {ours: theirs for theirs, ours in mapping.profession_codes.items()}
        profession = actor.profession.value if actor.profession else ""
        adeli = len(actor.id) == ADELI_LENGTH and mapping.adeli_prefix is not None
        prefix = mapping.adeli_prefix if adeli else mapping.professional_id_prefix
        _put(claims, mapping.professional_id, f"{prefix}{actor.id}")
        _put(claims, mapping.profession, codes.get(profession, profession))
        if actor.organisation and mapping.organisation:
            _put(claims, mapping.organisation, actor.organisation)
    elif actor.role in (Role.PATIENT, Role.REPRESENTATIVE):
        _put(claims, mapping.patient_id, actor.id)
    elif actor.role is Role.REGULATOR:
        _put(claims, mapping.authority, actor.id)
    return claims


def _put(claims: dict[str, Any], path: str, value: Any) -> None:
    # the inverse of ``claim``: builds the objects and lists a path walks through
    parts = path.split(".")
    target: Any = claims
    for part, following in itertools.pairwise(parts):
        child: Any = [] if following.isdigit() else {}
        if isinstance(target, list):
            index = int(part)
            while len(target) <= index:
                target.append(None)
            target[index] = target[index] if target[index] is not None else child
            target = target[index]
        else:
            target = target.setdefault(part, child)
    last = parts[-1]
    if isinstance(target, list):
        index = int(last)
        while len(target) <= index:
            target.append(None)
        target[index] = value
    else:
        target[last] = value

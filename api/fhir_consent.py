"""Who may read a space, as FHIR R4 ``Consent`` resources (read-only), rendered from
what ``vault.access_rules`` answers (``GET /fhir/Consent``, ``api.routers.fhir``).

* each grant (``basis`` consent or care team): ``provision.type`` permit for its
  grantee, over its period, for its document types (``provision.code``, LOINC) or its
  documents (``provision.data``) when it does not cover the whole space;
* each blocked professional: deny;
* the emergency-access setting: permit or deny for purpose ETREAT, and a nested
  provision saying whether an emergency reveals documents masked from professionals.

Changing any of it stays on the JSON routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from api.fhir_models import (
    coding,
    instant,
)
from domain.document_codes import CONFIDENTIALITY_CODES, codes_of
from domain.records import Setting
from wire.dto import AccessRules, GrantSummary
from wire.trail_fhir import BASE, INS, RPPS
from wire.values import DocumentType

_SCOPE = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
    ]
}
_CATEGORY = {"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}
_BASIS = f"{BASE}/CodeSystem/grant-basis"
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_RECIPIENT = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
            "code": "PRCP",
            "display": "primary information recipient",
        }
    ]
}
_ACCESS = [
    {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "access"}
        ]
    }
]
_EMERGENCY = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "ETREAT"}
#: the namespace of the ids of Consents that have none of their own (blocks, setting)
_IDS = uuid5(NAMESPACE_URL, f"{BASE}/Consent")


def consents_of(rules: AccessRules, patient_id: str) -> list[dict[str, Any]]:
    """The Consents of a space's access rules."""
    grants = [_grant(grant, patient_id) for grant in rules.grants]
    blocks = [_block(blocked, patient_id) for blocked in rules.blocked]
    return [*grants, *blocks, _emergency(rules.settings, patient_id)]


def names(consent: dict[str, Any], professional_id: str) -> bool:
    """Whether ``consent`` names this professional (by RPPS)."""
    actors = consent["provision"].get("actor", [])
    return any(one["reference"]["identifier"]["value"] == professional_id for one in actors)


def _consent(
    consent_id: str,
    patient_id: str,
    *,
    active: bool,
    rule: str,
    provision: dict[str, Any],
    at: datetime | None = None,
    category: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": consent_id,
        "status": "active" if active else "inactive",
        "scope": _SCOPE,
        "category": [{"coding": [_CATEGORY]}, *(category or [])],
        "patient": {"identifier": {"system": INS, "value": patient_id}},
        "policyRule": {"coding": [{"system": _ACT_CODE, "code": rule}]},
        "provision": provision,
    }
    if at is not None:
        resource["dateTime"] = instant(at)
    return resource


def _professional(professional_id: str, name: str) -> list[dict[str, Any]]:
    reference = {"identifier": {"system": RPPS, "value": professional_id}, "display": name}
    return [{"role": _RECIPIENT, "reference": reference}]


def _grant(grant: GrantSummary, patient_id: str) -> dict[str, Any]:
    provision: dict[str, Any] = {
        "type": "permit",
        "actor": _professional(grant.grantee_id, grant.grantee_name),
        "action": _ACCESS,
        "period": {"start": instant(grant.granted_at)},
    }
    end = grant.revoked_at or grant.expires_at
    if end is not None:
        provision["period"]["end"] = instant(end)
    types = [str(t) for t in grant.scope.get("types", ())]  # type: ignore[attr-defined]
    documents = [str(d) for d in grant.scope.get("documents", ())]  # type: ignore[attr-defined]
    if types:
        provision["code"] = [{"coding": [coding(codes_of(DocumentType(t)).loinc)]} for t in types]
    if documents:
        provision["data"] = [
            {"meaning": "instance", "reference": {"reference": f"DocumentReference/{d}"}}
            for d in documents
        ]
    basis = [{"coding": [{"system": _BASIS, "code": grant.basis}]}]
    return _consent(
        str(grant.grant_id),
        patient_id,
        active=grant.active,
        rule="OPTIN",
        provision=provision,
        at=grant.granted_at,
        category=basis,
    )


def _block(blocked: dict[str, object], patient_id: str) -> dict[str, Any]:
    professional_id = str(blocked["id"])
    provision = {
        "type": "deny",
        "actor": _professional(professional_id, str(blocked["name"])),
        "action": _ACCESS,
    }
    consent_id = str(uuid5(_IDS, f"block:{patient_id}:{professional_id}"))
    return _consent(consent_id, patient_id, active=True, rule="OPTOUT", provision=provision)


def _emergency(settings: dict[str, bool], patient_id: str) -> dict[str, Any]:
    forbidden = settings.get(Setting.EMERGENCY_ACCESS_FORBIDDEN.value, False)
    reveals = settings.get(Setting.EMERGENCY_REVEALS_MASKED.value, False)
    masked = CONFIDENTIALITY_CODES["masked"]
    provision = {
        "type": "deny" if forbidden else "permit",
        "purpose": [_EMERGENCY],
        "action": _ACCESS,
        "provision": [{"type": "permit" if reveals else "deny", "securityLabel": [coding(masked)]}],
    }
    consent_id = str(uuid5(_IDS, f"emergency:{patient_id}"))
    return _consent(
        consent_id,
        patient_id,
        active=True,
        rule="OPTOUT" if forbidden else "OPTIN",
        provision=provision,
    )

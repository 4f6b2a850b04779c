"""The OAuth scope each route asks of a bearer token, by operation id: a table, no rule.

Scopes are SMART on FHIR v2 resource scopes (``vault.scopes``); a route needs one
permission on one FHIR resource type, in the context of the caller's role (``patient/``
for patients and representatives, ``user/`` for professionals and regulators,
``system/`` for services). The scope is checked in addition to everything else: a
token with ``user/DocumentReference.r`` still reads only what the space's rules allow.
A route taking a bearer token and missing from this table is refused to every token
(fail closed); ``tests/unit/test_scopes.py`` keeps the table complete.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from vault.scopes import Need

#: the names of the security schemes in the OpenAPI document
OPENID, OAUTH2 = "openId", "oauth2"

_C, _R, _U, _D, _S = "c", "r", "u", "d", "s"


#: operation id (``<tag>-<route name>``) -> the scope the route needs
ROUTE_SCOPES: dict[str, Need] = {
    # a patient's space and its life
    "spaces-provision_space": Need("Patient", _C),
    "space-life-provision_register": Need("Patient", _C),
    "space-life-space_state": Need("Patient", _R),
    "space-life-oppose": Need("Patient", _U),
    "space-life-activate": Need("Patient", _U),
    "space-life-close_space": Need("Patient", _U),
    "space-life-request_deletion": Need("Patient", _D),
    "space-life-reopen": Need("Patient", _U),
    "space-life-reissue_code": Need("Patient", _U),
    "access-views-my_spaces": Need("Patient", _S),
    "access-views-my_represented_spaces": Need("Patient", _S),
    # documents: the space key is what a depositor encrypts to
    "spaces-space_key": Need("DocumentReference", _C),
    "documents-upload_ciphertext": Need("DocumentReference", _C),
    "documents-start_direct_upload": Need("DocumentReference", _C),
    "documents-complete_direct_upload": Need("DocumentReference", _C),
    "documents-abort_direct_upload": Need("DocumentReference", _C),
    "documents-deposit_document": Need("DocumentReference", _C),
    "documents-list_documents": Need("DocumentReference", _S),
    "documents-read_document": Need("DocumentReference", _R),
    "documents-delete_document": Need("DocumentReference", _D),
    "masks-mask": Need("DocumentReference", _U),
    "masks-unmask": Need("DocumentReference", _U),
    "masks-hide_from_representatives": Need("DocumentReference", _U),
    "masks-release_to_patient": Need("DocumentReference", _U),
    "masks-hide_from_representatives_old_path": Need("DocumentReference", _U),
    "masks-release_to_patient_old_path": Need("DocumentReference", _U),
    # an emergency access is a read in an emergency
    "emergency-invoke_emergency_access": Need("DocumentReference", _R),
    # who may read: grants, blocks, settings, readers of a document
    "grants-grant": Need("Consent", _C),
    "grants-list_grants": Need("Consent", _S),
    "grants-revoke_professional": Need("Consent", _D),
    "grants-revoke": Need("Consent", _D),
    "access-rules-access_rules": Need("Consent", _R),
    "access-rules-block": Need("Consent", _U),
    "access-rules-unblock": Need("Consent", _U),
    "access-rules-designate_attending_physician": Need("Consent", _U),
    "access-rules-change_setting": Need("Consent", _U),
    "access-views-document_readers": Need("Consent", _R),
    "access-rules-add_to_care_team": Need("CareTeam", _C),
    "representatives-add_representative": Need("RelatedPerson", _C),
    "representatives-end_representation": Need("RelatedPerson", _D),
    # reader devices
    "devices-device_challenge": Need("Device", _C),
    "devices-request_device": Need("Device", _C),
    "devices-list_devices": Need("Device", _S),
    "devices-approve_device": Need("Device", _U),
    "devices-revoke_device": Need("Device", _D),
    "devices-list_member_devices": Need("Device", _S),
    "devices-approve_member_device": Need("Device", _U),
    "devices-revoke_member_device": Need("Device", _D),
    "devices-issue_enrolment_code": Need("Device", _C),
    # what happened: the access log, notifications, the regulator's trail
    "access-log-read_access_log": Need("AuditEvent", _S),
    "notifications-list_notifications": Need("Communication", _S),
    "notifications-acknowledge_notifications": Need("Communication", _U),
    "trail-latest_checkpoint": Need("AuditEvent", _R),
    "trail-sign_checkpoint": Need("AuditEvent", _C),
    "trail-consistency_proof": Need("AuditEvent", _R),
    "trail-export_trail": Need("AuditEvent", _S),
    # the patient's export: every document they may read (Patient/$everything)
    "exports-export_space": Need("DocumentReference", _R),
    "exports-export_job": Need("DocumentReference", _R),
    "exports-export_archive": Need("DocumentReference", _R),
    "exports-delete_export": Need("DocumentReference", _R),
    # the FHIR facade (IHE MHD): the same use cases as the documents routes above
    "fhir-find_document_references": Need("DocumentReference", _S),
    "fhir-read_document_reference": Need("DocumentReference", _R),
    "fhir-update_document_reference": Need("DocumentReference", _U),
    "fhir-retrieve_document": Need("DocumentReference", _R),
    "fhir-provide_document_bundle": Need("DocumentReference", _C),
    "fhir-find_consents": Need("Consent", _S),
    "fhir-find_audit_events": Need("AuditEvent", _S),
}


#: operations that take no bearer token, each for its reason: the second table, so that
#: every route is in one of the two (``tests/unit/test_scopes.py``)
PUBLIC_ROUTES: dict[str, str] = {
    "health-health": "liveness",
    "content-read_content": "a content ticket in the URL is the credential",
    "trail-trail_public_key": "anyone verifies the trail offline",
    "trail-trail_keys": "anyone verifies the trail offline",
    # the web page's login and session: the session cookie is checked by the route, and
    # the session's access token then needs the scope of each API route it calls
    "sessions-login": "starts a login (not in the OpenAPI document)",
    "sessions-callback": "ends a login (not in the OpenAPI document)",
    "sessions-current_session": "who the session cookie is for",
    "sessions-logout": "ends the session cookie's session (CSRF-checked)",
    # the page and the docs: static files (not in the OpenAPI document)
    "web-page": "the web page",
    "web-docs": "Swagger UI",
    # FHIR: what the facade implements, before any token (a FHIR client's first call)
    "fhir-capabilities": "the CapabilityStatement",
}


def operation_id(route: APIRoute) -> str:
    """Stable operation ids for generated clients: ``<tag>-<route name>``."""
    return f"{route.tags[0]}-{route.name}"


def need_of(route: object) -> Need | None:
    """The scope the matched ``route`` needs; ``None`` for a route not in the table."""
    if not isinstance(route, APIRoute) or not route.tags:
        return None
    return ROUTE_SCOPES.get(operation_id(route))


def all_scopes() -> dict[str, str]:
    """Every scope a route may ask for, with a description (for the OpenAPI document)."""
    described: dict[str, str] = {}
    for need in ROUTE_SCOPES.values():
        for scope in need.all_scopes():
            described[scope] = f"{_VERBS[need.permission]} {need.resource}"
    return dict(sorted(described.items()))


_VERBS = {_C: "create", _R: "read", _U: "update", _D: "delete", _S: "search"}


def declare_security(schema: dict[str, Any], discovery_url: str, token_url: str) -> None:
    """Declare the ``openIdConnect`` and ``oauth2`` schemes in an OpenAPI ``schema``, and
    on each operation taking a token the scope it needs, in each context a role may use.

    ``HTTPBearer`` (any trusted issuer's JWT) stays the first alternative; the others say
    which scope a token of an OpenID provider (or a service's client credentials) needs.
    """
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    # client credentials are for services, whose scopes are the system/ ones
    system = {scope: text for scope, text in all_scopes().items() if scope.startswith("system/")}
    schemes[OPENID] = {
        "type": "openIdConnect",
        "openIdConnectUrl": discovery_url,
        "description": "an access token of a trusted OpenID provider, with SMART v2 scopes",
    }
    schemes[OAUTH2] = {
        "type": "oauth2",
        "description": "services: OAuth2 client credentials with system/ scopes",
        "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": system}},
    }
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            need = ROUTE_SCOPES.get(operation.get("operationId", ""))
            if need is None:
                continue
            alternatives = [{OPENID: [scope]} for scope in need.all_scopes()]
            services = [scope for scope in need.all_scopes() if scope in system]
            operation["security"] = [*operation["security"], *alternatives, {OAUTH2: services}]

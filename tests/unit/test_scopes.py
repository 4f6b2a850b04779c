"""SMART v2 scopes: their grammar, who they cover, and the route table kept complete."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from api.app import create_app
from api.scopes import OAUTH2, OPENID, PUBLIC_ROUTES, ROUTE_SCOPES
from vault import scopes
from vault.scopes import Need
from wire.values import Role

READ = Need("DocumentReference", "r")
DEPOSIT = Need("DocumentReference", "c")


@pytest.mark.parametrize(
    ("granted", "role", "need", "allowed"),
    [
        ("patient/DocumentReference.rs", Role.PATIENT, READ, True),
        ("patient/DocumentReference.rs", Role.PATIENT, DEPOSIT, False),
        ("patient/DocumentReference.rs", Role.PROFESSIONAL, READ, True),
        ("user/DocumentReference.cruds", Role.PROFESSIONAL, DEPOSIT, True),
        # a patient's token gains nothing from user/ scopes, a service's from patient/
        ("user/DocumentReference.cruds", Role.PATIENT, READ, False),
        ("patient/*.cruds", Role.SERVICE, DEPOSIT, False),
        ("system/DocumentReference.c", Role.SERVICE, DEPOSIT, True),
        ("system/*.c", Role.SERVICE, DEPOSIT, True),
        ("system/Patient.c", Role.SERVICE, DEPOSIT, False),
        # SMART v1 spellings
        ("user/DocumentReference.read", Role.PROFESSIONAL, READ, True),
        ("user/DocumentReference.write", Role.PROFESSIONAL, READ, False),
        ("user/*.*", Role.REGULATOR, READ, True),
        # not scopes of ours: ignored
        ("openid profile email", Role.PATIENT, READ, False),
        ("patient/documentreference.r user/DocumentReference.x", Role.PATIENT, READ, False),
    ],
)
def test_a_scope_covers_a_need_in_its_roles_context(
    granted: str, role: Role, need: Need, allowed: bool
) -> None:
    assert scopes.allows(scopes.parse(granted), role, need) is allowed


def test_scopes_come_as_text_or_list_and_anything_else_is_none() -> None:
    assert scopes.parse(["patient/DocumentReference.r", 3]) == scopes.parse(
        "patient/DocumentReference.r"
    )
    assert scopes.parse(None) == frozenset()
    assert scopes.parse({"scope": "x"}) == frozenset()


def test_the_embedded_issuers_full_scopes_cover_every_route_for_its_role() -> None:
    for role in Role:
        granted = scopes.parse(scopes.full_scopes(role))
        assert all(scopes.allows(granted, role, need) for need in ROUTE_SCOPES.values())


def _openapi() -> dict:
    settings = SimpleNamespace(log_format="console", run_projections_in_process=False)
    return create_app(SimpleNamespace(settings=settings)).openapi()  # type: ignore[arg-type]


def test_every_route_taking_a_token_names_its_scope_and_the_document_says_it() -> None:
    schema = _openapi()
    secured = {
        operation["operationId"]: operation
        for path in schema["paths"].values()
        for operation in path.values()
        if operation.get("security")
    }
    assert set(secured) == set(ROUTE_SCOPES)
    read = secured["documents-read_document"]["security"]
    assert {OPENID: ["user/DocumentReference.r"]} in read
    assert {OAUTH2: ["system/DocumentReference.r"]} in read
    schemes = schema["components"]["securitySchemes"]
    assert schemes[OPENID]["type"] == "openIdConnect"
    flow = schemes[OAUTH2]["flows"]["clientCredentials"]
    assert flow["scopes"]["system/DocumentReference.c"] == "create DocumentReference"
    assert all(scope.startswith("system/") for scope in flow["scopes"])


def test_every_route_taking_no_token_is_listed_as_public() -> None:
    public = {
        operation["operationId"]
        for path in _openapi()["paths"].values()
        for operation in path.values()
        if not operation.get("security")
    }
    assert public <= set(PUBLIC_ROUTES)
    assert not set(PUBLIC_ROUTES) & set(ROUTE_SCOPES)

"""Coffre as a resource server for external OpenID providers, over real HTTP.

Two providers (``tests.oidc.FakeProvider``, keys generated here) serve their discovery
documents and key sets on loopback ports: a professionals' one named after Pro Santé
Connect's claims, and a patients' one. Coffre finds their keys by discovery, as in
production; the embedded development issuer keeps working beside them (the hospital
and the enrolment service use it here). Every refused token is a 401 or 403 problem and
leaves nothing in the event store.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from api_helpers import ALICE, DOCTOR, HOSPITAL, Caller, events, grant_space
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from test_api_problems import assert_problem

from coffre.bootstrap import Coffre, build
from tests.devices import ENROLMENT
from tests.oidc import FakeProvider
from vault.claims import ClaimsMapping
from vault.issuers import IssuerSettings
from vault.settings import Settings

PROS, PATIENTS = "coffre-pros", "coffre-patients"
DOCTOR_SCOPES = "openid user/DocumentReference.rs user/Device.cruds"
PATIENT_SCOPES = "patient/DocumentReference.cruds patient/Consent.cruds patient/AuditEvent.s"


@pytest.fixture
def psc() -> Iterator[FakeProvider]:
    """The professionals' provider, serving over HTTP."""
    with FakeProvider(algorithm="ES256").serve() as provider:
        yield provider


@pytest.fixture
def fc() -> Iterator[FakeProvider]:
    """The patients' provider, serving over HTTP."""
    with FakeProvider(algorithm="EdDSA").serve() as provider:
        yield provider


@pytest.fixture
def cnil() -> Iterator[FakeProvider]:
    """The regulators' provider, serving over HTTP."""
    with FakeProvider(algorithm="RS256").serve() as provider:
        yield provider


@pytest.fixture
def coffre(
    tmp_path: Path, psc: FakeProvider, fc: FakeProvider, cnil: FakeProvider
) -> Iterator[Coffre]:
    """An embedded Coffre trusting the three providers besides its own issuer."""
    settings = Settings(
        data_dir=tmp_path / "data",
        opposition_period=timedelta(0),
        oidc_issuers=[
            IssuerSettings(
                issuer=psc.issuer, audience=PROS, roles=["professional"], jwks_min_refresh=0
            ),
            IssuerSettings(
                issuer=fc.issuer,
                audience=PATIENTS,
                roles=["patient", "representative"],
                claims=ClaimsMapping(role="coffre_role"),
            ),
            IssuerSettings(issuer=cnil.issuer, audience="coffre-audit", roles=["regulator"]),
        ],
    )
    built = build(settings)
    yield built
    built.close()


def doctor_token(psc: FakeProvider, **overrides: Any) -> str:
    """Dr Bernard's access token, with Pro Santé Connect's claim names."""
    claims = {
        "aud": PROS,
        "sub": "psc-" + DOCTOR.id,
        "SubjectNameID": "8" + DOCTOR.id,
        "given_name": "Claire",
        "family_name": "Bernard",
        "SubjectOrganization": "Cabinet Bernard",
        "SubjectRefPro": {"exercices": [{"codeProfession": "10"}]},
        "scope": DOCTOR_SCOPES,
        **overrides,
    }
    return psc.token(claims)


def alice_token(fc: FakeProvider, **overrides: Any) -> str:
    """Alice's access token from the patients' provider."""
    claims = {
        "aud": PATIENTS,
        "sub": "pairwise-alice",
        "ins": ALICE.id,
        "name": ALICE.name,
        "coffre_role": "patient",
        "scope": PATIENT_SCOPES,
        **overrides,
    }
    return fc.token(claims)


@pytest.fixture
def world(client: TestClient, coffre: Coffre, fc: FakeProvider) -> dict[str, Caller]:
    """Alice's space (provisioned by the hospital, embedded token) with one document."""
    enrolment = coffre.tokens.mint(ENROLMENT)
    hospital = Caller(client, HOSPITAL, coffre.tokens.mint(HOSPITAL), SigningKey.generate())
    created = hospital.post("/v1/spaces", json={"patient_id": ALICE.id})
    assert created.status_code == 201, created.text
    alice = Caller(client, ALICE, alice_token(fc), SigningKey.generate(), enrolment)
    return {"alice": alice, "hospital": hospital, "enrolment": enrolment}  # type: ignore[dict-item]


def test_a_professional_of_an_external_provider_reads_a_granted_document_and_is_logged(
    client: TestClient, psc: FakeProvider, world: dict[str, Any]
) -> None:
    alice: Caller = world["alice"]
    deposit = alice.deposit(ALICE.id, b"compte rendu", type="imaging_report")
    grant_space(alice, DOCTOR)
    doctor = Caller(client, DOCTOR, doctor_token(psc), SigningKey.generate(), world["enrolment"])
    release = doctor.read(ALICE.id, deposit["document_id"])
    assert release.status_code == 200, release.text
    assert doctor.open_release(release.json()) == b"compte rendu"

    log = alice.get(f"/v1/spaces/{ALICE.id}/access-log", params={"action": "read"})
    assert log.status_code == 200, log.text
    (entry,) = log.json()["entries"]
    assert entry["outcome"] == "allowed"
    assert entry["actor"] == {
        "role": "professional",
        "id": DOCTOR.id,  # the RPPS, from SubjectNameID
        "name": "Claire Bernard",
        "profession": "doctor",  # from the practice's profession code 10
        "organisation": "Cabinet Bernard",
    }


def bad_tokens(psc: FakeProvider, fc: FakeProvider) -> dict[str, tuple[str, int, str]]:
    """Tokens Coffre must refuse: name -> (token, status, problem code)."""
    now = int(time.time())
    stranger = FakeProvider(psc.issuer, psc.algorithm)  # same issuer name, other keys
    claims = doctor_token(psc).split(".")[1]
    return {
        "expired": (doctor_token(psc, exp=now - 120, iat=now - 720), 401, "unauthenticated"),
        "not yet valid": (doctor_token(psc, nbf=now + 600), 401, "unauthenticated"),
        "wrong audience": (doctor_token(psc, aud=PATIENTS), 401, "unauthenticated"),
        "wrong issuer": (doctor_token(psc, iss="https://elsewhere.test"), 401, "unauthenticated"),
        "unknown kid": (stranger.token(_claims(doctor_token(psc))), 401, "unauthenticated"),
        "alg none": (f"{_b64({'alg': 'none'})}.{claims}.", 401, "unauthenticated"),
        "hs256 confusion": (f"{_b64({'alg': 'HS256'})}.{claims}.AAAA", 401, "unauthenticated"),
        "patient issuer claims regulator": (
            alice_token(fc, coffre_role="regulator"),
            401,
            "unauthenticated",
        ),
        "lacks the route's scope": (
            doctor_token(psc, scope="openid user/Device.cruds"),
            403,
            "insufficient-scope",
        ),
    }


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_bad_tokens_are_refused_with_problems_and_nothing_recorded(
    client: TestClient, coffre: Coffre, psc: FakeProvider, fc: FakeProvider, world: dict[str, Any]
) -> None:
    alice: Caller = world["alice"]
    deposit = alice.deposit(ALICE.id)
    url = f"/v1/spaces/{ALICE.id}/documents/{deposit['document_id']}/reads"
    before = events(coffre)
    for name, (token, status, code) in bad_tokens(psc, fc).items():
        answer = client.post(
            url, json={"reader_key_id": "k" * 16}, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == status, (name, answer.text)
        assert_problem(answer, status, code)
        assert events(coffre) == before, name
    missing = client.get(
        f"/v1/spaces/{ALICE.id}/documents",
        headers={"Authorization": f"Bearer {doctor_token(psc, scope='openid')}"},
    )
    assert missing.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="user/DocumentReference.s"'
    )
    log = alice.get(f"/v1/spaces/{ALICE.id}/access-log").json()["entries"]
    assert [entry["action"] for entry in log] == ["deposit", "open", "provision"]


def test_a_key_rotation_at_the_provider_is_picked_up_without_restart(
    client: TestClient, psc: FakeProvider, world: dict[str, Any]
) -> None:
    url = "/v1/me/spaces"
    scope = "user/Patient.s"
    first = client.get(url, headers={"Authorization": f"Bearer {doctor_token(psc, scope=scope)}"})
    assert first.status_code == 200, first.text
    psc.rotate()
    fetched = len(psc.requests)
    rotated = client.get(url, headers={"Authorization": f"Bearer {doctor_token(psc, scope=scope)}"})
    assert rotated.status_code == 200, rotated.text
    assert psc.requests[fetched:] == ["/jwks"]  # the key set again, not a restart


def test_an_unreachable_provider_is_a_503_problem_never_a_pass(
    client: TestClient, coffre: Coffre, fc: FakeProvider, psc: FakeProvider, world: dict[str, Any]
) -> None:
    token = doctor_token(psc)  # psc was never asked yet: its keys are not known
    psc.stop()
    before = events(coffre)
    answer = client.get(
        f"/v1/spaces/{ALICE.id}/documents", headers={"Authorization": f"Bearer {token}"}
    )
    assert_problem(answer, 503, "issuer-unavailable")
    assert events(coffre) == before
    # the other provider and the embedded issuer still work
    assert world["alice"].get(f"/v1/spaces/{ALICE.id}/access-log").status_code == 200
    assert world["hospital"].get(f"/v1/spaces/{ALICE.id}/key").status_code == 200


def test_a_regulator_of_its_own_provider_exports_the_trail(
    client: TestClient, cnil: FakeProvider, world: dict[str, Any]
) -> None:
    token = cnil.token({"aud": "coffre-audit", "sub": "cnil-audit", "scope": "user/AuditEvent.rs"})
    answer = client.get("/v1/trail/export", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.content.count(b"\n") >= 1  # the provisioning, at least
    # the same authority without the export's scope (search)
    narrow = cnil.token({"aud": "coffre-audit", "sub": "cnil-audit", "scope": "user/AuditEvent.r"})
    refused = client.get("/v1/trail/export", headers={"Authorization": f"Bearer {narrow}"})
    assert_problem(refused, 403, "insufficient-scope")

"""Coffre against an independent OpenID provider: panva's oidc-provider (Node).

The provider issues RFC 9068 JWT access tokens (ES256, ``typ: at+jwt``) for Coffre's
resource indicator: to a feeding service by client credentials, to a professional
logging in by authorization code with PKCE through its own login and consent pages.
Coffre knows only the provider's issuer URL, and finds the rest by discovery.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from api_helpers import ALICE, DOCTOR, HOSPITAL, Caller, events, grant_space
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from test_api_problems import assert_problem

from coffre.bootstrap import Coffre, build
from tests.devices import ENROLMENT
from tests.panva import PanvaProvider, available
from tests.scenarios.conftest import BACKENDS, backend_settings
from vault.claims import ClaimsMapping
from vault.issuers import IssuerSettings

AUDIENCE = "coffre"
FEEDER, FEEDER_SECRET = "feeder-7f3a", "feeder-secret-0123456789abcdef0123456789abcdef"
WEBAPP, WEBAPP_SECRET = "cabinet-app", "webapp-secret-0123456789abcdef0123456789abcdef"
SERVICE_SCOPES = "system/Patient.c system/DocumentReference.c"
DOCTOR_SCOPES = "user/DocumentReference.rs user/Device.cruds"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanvaProvider]:
    """oidc-provider with a feeding service and a professionals' web app registered."""
    available()
    panva = PanvaProvider(
        tmp_path_factory.mktemp("panva"),
        audience=AUDIENCE,
        scopes=f"{SERVICE_SCOPES} {DOCTOR_SCOPES}",
    )
    panva.add_client(FEEDER, FEEDER_SECRET, SERVICE_SCOPES, ["client_credentials"])
    panva.add_client(WEBAPP, WEBAPP_SECRET, f"openid {DOCTOR_SCOPES}", ["authorization_code"])
    panva.client_claims = {"coffre_role": "service", "name": HOSPITAL.name}
    panva.accounts["claire"] = {
        "coffre_role": "professional",
        "SubjectNameID": "8" + DOCTOR.id,
        "given_name": "Claire",
        "family_name": "Bernard",
        "SubjectOrganization": "Cabinet Bernard",
        "SubjectRefPro": {"exercices": [{"codeProfession": "10"}]},
    }
    panva.start()
    yield panva
    panva.stop()


@pytest.fixture(params=BACKENDS)
def coffre(
    request: pytest.FixtureRequest, tmp_path: Path, provider: PanvaProvider
) -> Iterator[Coffre]:
    """A Coffre on each backend pairing, trusting the provider for professionals and
    services (and its own development issuer, for the patient and enrolment)."""
    issuer = IssuerSettings(
        issuer=provider.issuer,
        audience=AUDIENCE,
        roles=["professional", "service"],
        claims=ClaimsMapping(role="coffre_role"),
        clients={FEEDER: HOSPITAL.id},
        jwks_min_refresh=0,
    )
    settings = backend_settings(request, request.param, tmp_path / "data")
    built = build(
        settings.model_copy(update={"opposition_period": timedelta(0), "oidc_issuers": [issuer]})
    )
    yield built
    built.close()


def test_a_service_deposits_and_a_professional_reads_with_the_providers_tokens(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    enrolment = coffre.tokens.mint(ENROLMENT)
    # the hospital's feeding service: client credentials, no person involved
    service_token = provider.client_credentials(FEEDER, FEEDER_SECRET, SERVICE_SCOPES)
    hospital = Caller(client, HOSPITAL, service_token, SigningKey.generate())
    created = hospital.post("/v1/spaces", json={"patient_id": ALICE.id})
    assert created.status_code == 201, created.text
    deposit = hospital.deposit(ALICE.id, b"compte rendu d'hospitalisation")

    # Alice (embedded development issuer) grants her doctor
    alice = Caller(client, ALICE, coffre.tokens.mint(ALICE), SigningKey.generate(), enrolment)
    grant_space(alice, DOCTOR)

    # the doctor logs in at the provider (authorization code + PKCE) and reads
    token = provider.authorization_code(WEBAPP, WEBAPP_SECRET, "claire", f"openid {DOCTOR_SCOPES}")
    doctor = Caller(client, DOCTOR, token, SigningKey.generate(), enrolment)
    release = doctor.read(ALICE.id, deposit["document_id"])
    assert release.status_code == 200, release.text
    assert doctor.open_release(release.json()) == b"compte rendu d'hospitalisation"

    coffre.runner.catch_up()  # PostgreSQL: the projections run in workers, caught up here
    entries = alice.get(f"/v1/spaces/{ALICE.id}/access-log").json()["entries"]
    by_action = {entry["action"]: entry["actor"] for entry in entries}
    assert by_action["read"] == {
        "role": "professional",
        "id": DOCTOR.id,
        "name": "Claire Bernard",
        "profession": "doctor",
        "organisation": "Cabinet Bernard",
    }
    assert by_action["deposit"]["id"] == HOSPITAL.id  # the registered client's service id

    # a token of the provider without the route's scope: 403, nothing recorded
    before = events(coffre)
    narrow = provider.client_credentials(FEEDER, FEEDER_SECRET, "system/Patient.c")
    answer = client.get(f"/v1/spaces/{ALICE.id}/key", headers={"Authorization": f"Bearer {narrow}"})
    assert_problem(answer, 403, "insufficient-scope")
    assert events(coffre) == before


def test_a_key_rotation_at_the_provider_is_followed_without_restarting_coffre(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    def state(token: str) -> int:
        url = f"/v1/spaces/{ALICE.id}/key"
        return client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code

    before_rotation = provider.client_credentials(FEEDER, FEEDER_SECRET, SERVICE_SCOPES)
    spare = provider.client_credentials(FEEDER, FEEDER_SECRET, SERVICE_SCOPES)
    assert state(before_rotation) == 404  # authenticated; Alice has no space here
    old_kid = provider.kid
    assert provider.restart(rotate=True) != old_kid
    after_rotation = provider.client_credentials(FEEDER, FEEDER_SECRET, SERVICE_SCOPES)
    assert state(after_rotation) == 404  # the new key was fetched, Coffre kept running
    # a token signed by the retired key, never seen before: its kid is no longer in the
    # provider's set even after a refresh
    answer = client.get(f"/v1/spaces/{ALICE.id}/key", headers={"Authorization": f"Bearer {spare}"})
    assert_problem(answer, 401, "unauthenticated")

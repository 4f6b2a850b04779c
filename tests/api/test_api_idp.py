"""Real identity (issue 13), against both providers and on both backends.

The embedded development OpenID provider (authlib, mounted under ``/idp``) and an
independent one (panva's oidc-provider, Node) each log in the same people: a feeding
service deposits with client credentials, the patient grants her doctor, the doctor
logs in by authorization code + PKCE and reads, the access log names the doctor with
the RPPS and profession of the token's claims and the way they authenticated, the
patient reads her log, and a regulator exports the trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from api_helpers import Caller, grant_space
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from test_api_problems import assert_problem
from test_api_trail import public_key

from client.trail_verify import verify_file
from coffre.asgi import compose
from coffre.bootstrap import Coffre, build
from coffre.cast import DEFAULT_PATIENT_NUMBER, HOSPITAL_ID, demo_actors
from coffre.trust import development_provider
from domain.values import patient_id_from_number
from keys.master import MasterKeys
from tests.devices import ENROLMENT
from tests.idp_flows import (
    LOOPBACK,
    client_credentials,
    embedded_code_flow,
    embedded_login_page,
    interaction_of,
    pkce,
)
from tests.panva import PanvaProvider, available
from tests.scenarios.conftest import BACKENDS, backend_settings
from vault.claims import ClaimsMapping
from vault.issuers import IssuerSettings
from vault.settings import Settings
from vault.tokens import TokenAuthority

CAST = demo_actors(patient_id_from_number(DEFAULT_PATIENT_NUMBER))
PATIENT, DOCTOR, HOSPITAL, REGULATOR = (
    CAST["patient"],
    CAST["alice"],
    CAST["hospital"],
    CAST["regulator"],
)
SERVICE_SCOPES = "system/Patient.c system/DocumentReference.c"
PERSON_SCOPES = "patient/*.cruds user/DocumentReference.rs user/Device.cruds"
REGULATOR_SCOPES = "user/AuditEvent.rs"
FEEDER, FEEDER_SECRET = "feeder-chu", "feeder-secret-0123456789abcdef0123456789abcdef"
WEBAPP, WEBAPP_SECRET = "cabinet-app", "webapp-secret-0123456789abcdef0123456789abcdef"


@dataclass
class Logins:
    """How each person of the story gets a token from one provider, and how the access
    log then says they authenticated."""

    patient: Callable[[], str]
    doctor: Callable[[], str]
    service: Callable[[], str]
    regulator: Callable[[], str]
    doctor_method: str | None
    patient_method: str | None


@dataclass
class Panva:
    """Two panva providers: one for people and services, one for regulators (a person-
    facing provider may never assert a regulator)."""

    people: PanvaProvider
    regulators: PanvaProvider


@pytest.fixture(scope="module")
def panva(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Panva]:
    """panva's oidc-provider with the story's people, as Pro Santé Connect and a
    patients' provider would name them."""
    available()
    people = PanvaProvider(
        tmp_path_factory.mktemp("panva-people"),
        audience="coffre-people",
        scopes=f"{SERVICE_SCOPES} {PERSON_SCOPES}",
    )
    people.add_client(FEEDER, FEEDER_SECRET, SERVICE_SCOPES, ["client_credentials"])
    people.add_client(WEBAPP, WEBAPP_SECRET, f"openid {PERSON_SCOPES}", ["authorization_code"])
    people.client_claims = {"coffre_role": "service", "name": HOSPITAL.name}
    people.accounts["alice"] = {
        "coffre_role": "professional",
        "SubjectNameID": "8" + DOCTOR.id,
        "name": DOCTOR.name,
        "SubjectOrganization": DOCTOR.organisation,
        "SubjectRefPro": {"exercices": [{"codeProfession": "10"}]},
        "acr": "card",
    }
    people.accounts["camille"] = {"coffre_role": "patient", "ins": PATIENT.id, "name": PATIENT.name}
    regulators = PanvaProvider(
        tmp_path_factory.mktemp("panva-regulators"),
        audience="coffre-regulators",
        scopes=REGULATOR_SCOPES,
    )
    regulators.add_client(
        WEBAPP, WEBAPP_SECRET, f"openid {REGULATOR_SCOPES}", ["authorization_code"]
    )
    regulators.accounts[REGULATOR.id] = {"name": REGULATOR.name, "amr": ["mfa"]}
    people.start()
    try:
        regulators.start()
        yield Panva(people, regulators)
    finally:
        regulators.stop()
        people.stop()


def _panva_issuers(panva: Panva) -> list[IssuerSettings]:
    return [
        IssuerSettings(
            issuer=panva.people.issuer,
            audience="coffre-people",
            roles=["patient", "professional", "service"],
            claims=ClaimsMapping(role="coffre_role"),
            clients={FEEDER: HOSPITAL_ID},
        ),
        IssuerSettings(
            issuer=panva.regulators.issuer, audience="coffre-regulators", roles=["regulator"]
        ),
    ]


@dataclass
class World:
    """A Coffre on one backend, its HTTP client, and one provider's logins."""

    coffre: Coffre
    client: TestClient
    logins: Logins


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The settings of one backend pairing (spaces open at once)."""
    built = backend_settings(request, request.param, tmp_path / "data")
    return built.model_copy(update={"opposition_period": timedelta(0)})


@pytest.fixture(params=["embedded", "panva"])
def world(request: pytest.FixtureRequest, settings: Settings) -> Iterator[World]:
    """Coffre with the embedded provider mounted, or trusting panva's."""
    if request.param == "panva":
        panva: Panva = request.getfixturevalue("panva")
        settings = settings.model_copy(update={"oidc_issuers": _panva_issuers(panva)})
    coffre = build(settings)
    try:
        with TestClient(compose(coffre), base_url=settings.base_url) as client:
            if request.param == "embedded":
                logins = _embedded_logins(coffre, client)
            else:
                logins = _panva_logins(panva)
            yield World(coffre, client, logins)
    finally:
        coffre.close()


def _embedded_logins(coffre: Coffre, browser: TestClient) -> Logins:
    assert coffre.provider is not None
    issuer = coffre.provider.issuer
    secret = coffre.provider.clients[HOSPITAL_ID].secret
    assert secret is not None
    return Logins(
        patient=lambda: embedded_code_flow(browser, issuer, "patient")["access_token"],
        doctor=lambda: embedded_code_flow(browser, issuer, "alice")["access_token"],
        service=lambda: client_credentials(browser, issuer, HOSPITAL_ID, secret, SERVICE_SCOPES),
        regulator=lambda: embedded_code_flow(browser, issuer, "regulator")["access_token"],
        doctor_method="e-CPS",
        patient_method="pwd",
    )


def _panva_logins(panva: Panva) -> Logins:
    people, regulators = panva.people, panva.regulators
    return Logins(
        patient=lambda: people.authorization_code(
            WEBAPP, WEBAPP_SECRET, "camille", f"openid {PERSON_SCOPES}"
        ),
        doctor=lambda: people.authorization_code(
            WEBAPP, WEBAPP_SECRET, "alice", f"openid {PERSON_SCOPES}"
        ),
        service=lambda: people.client_credentials(FEEDER, FEEDER_SECRET, SERVICE_SCOPES),
        regulator=lambda: regulators.authorization_code(
            WEBAPP, WEBAPP_SECRET, REGULATOR.id, f"openid {REGULATOR_SCOPES}"
        ),
        doctor_method="card",
        patient_method=None,
    )


def test_people_log_in_read_and_the_log_names_them_and_how(world: World, tmp_path: Path) -> None:
    client, coffre, logins = world.client, world.coffre, world.logins
    enrolment = coffre.tokens.mint(ENROLMENT)

    # a feeding service deposits, with its client credentials (no person involved)
    hospital = Caller(client, HOSPITAL, logins.service(), SigningKey.generate())
    created = hospital.post("/v1/spaces", json={"patient_id": PATIENT.id})
    assert created.status_code == 201, created.text
    deposit = hospital.deposit(PATIENT.id, b"compte rendu d'hospitalisation")

    # the patient logs in and grants her doctor
    patient = Caller(client, PATIENT, logins.patient(), SigningKey.generate(), enrolment)
    grant_space(patient, DOCTOR)

    # the doctor logs in (authorization code + PKCE) and reads
    doctor = Caller(client, DOCTOR, logins.doctor(), SigningKey.generate(), enrolment)
    release = doctor.read(PATIENT.id, deposit["document_id"])
    assert release.status_code == 200, release.text
    assert doctor.open_release(release.json()) == b"compte rendu d'hospitalisation"

    # the patient reads her log: the doctor by the RPPS and profession of the claims,
    # and how they authenticated
    coffre.runner.catch_up()  # PostgreSQL: the projections run in workers
    log = patient.get(f"/v1/spaces/{PATIENT.id}/access-log")
    assert log.status_code == 200, log.text
    entries = log.json()["entries"]
    read = next(e for e in entries if e["action"] == "read" and e["outcome"] == "allowed")
    assert read["actor"] == {
        "role": "professional",
        "id": DOCTOR.id,
        "name": DOCTOR.name,
        "profession": "doctor",
        "organisation": DOCTOR.organisation,
    }
    assert read["authentication"] == logins.doctor_method
    deposited = next(e for e in entries if e["action"] == "deposit")
    assert deposited["actor"]["id"] == HOSPITAL_ID
    assert deposited["authentication"] is None  # client credentials: no person logged in
    granted = next(e for e in entries if e["action"] == "grant")
    assert granted["authentication"] == logins.patient_method

    # a regulator logs in and exports the patient's trail
    regulator = Caller(client, REGULATOR, logins.regulator(), SigningKey.generate())
    export = regulator.get("/v1/trail/export", params={"patient_id": PATIENT.id})
    assert export.status_code == 200, export.text
    entries = [json.loads(json.loads(line)["entry"]) for line in export.text.splitlines()[1:-1]]
    reads = [e for e in entries if "Read" in e["event"] and DOCTOR.id in json.dumps(e)]
    assert reads, [e["event"] for e in entries]
    # and it verifies offline, the method recorded with the read included
    exported = tmp_path / "trail.jsonl"
    exported.write_bytes(export.content)
    report = verify_file(exported, public_key(client))
    assert report.key_checked and report.entries == len(entries)


# -- the embedded provider's own rules ---------------------------------------------------


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[Coffre, TestClient]]:
    """An embedded Coffre with its provider, on SQLite."""
    settings = Settings(data_dir=tmp_path / "data", opposition_period=timedelta(0))
    coffre = build(settings)
    try:
        with TestClient(compose(coffre), base_url=settings.base_url) as client:
            yield coffre, client
    finally:
        coffre.close()


def _authorize(client: TestClient, **overrides: str) -> httpx.Response:
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": "coffre-cli",
        "redirect_uri": LOOPBACK,
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return client.get("/idp/authorize", params={k: v for k, v in query.items() if v})


def test_discovery_names_the_provider_and_its_keys(
    embedded: tuple[Coffre, TestClient],
) -> None:
    coffre, client = embedded
    document = client.get("/idp/.well-known/openid-configuration").json()
    assert document["issuer"] == coffre.settings.base_url + "/idp"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "urn:ietf:params:oauth:grant-type:device_code" in document["grant_types_supported"]
    keys = client.get("/idp/jwks").json()["keys"]
    assert [key["alg"] for key in keys] == ["ES256"]
    assert all("d" not in key for key in keys)  # public halves only
    page = _authorize(client)
    assert page.status_code == 200
    assert (
        "<script" not in page.text
        and "http" not in page.text.split("<body>")[1].split('name="interaction"')[0]
    )
    assert "Camille Dupont" in page.text and "Connexion" in page.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": "", "code_challenge_method": ""},  # no PKCE
        {"code_challenge_method": "plain"},
        {"redirect_uri": "https://attacker.example/callback"},
        {"client_id": "unknown-client"},
        {"response_type": "token"},
    ],
)
def test_an_authorization_request_outside_the_rules_gets_no_login_page(
    embedded: tuple[Coffre, TestClient], overrides: dict[str, str]
) -> None:
    _, client = embedded
    answer = _authorize(client, **overrides)
    assert answer.status_code == 400
    assert 'name="interaction"' not in answer.text


def test_a_code_and_a_refresh_token_are_good_once(embedded: tuple[Coffre, TestClient]) -> None:
    coffre, client = embedded
    assert coffre.provider is not None
    issuer = coffre.provider.issuer
    tokens = embedded_code_flow(client, issuer, "patient")
    form = {"grant_type": "refresh_token", "client_id": "coffre-cli"}
    renewed = client.post("/idp/token", data={**form, "refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    again = client.post("/idp/token", data={**form, "refresh_token": tokens["refresh_token"]})
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # the renewed access token still names the patient, and how she logged in
    principal = coffre.issuers.authenticate(renewed.json()["access_token"])
    assert principal.actor == PATIENT
    assert principal.actor.authentication == "pwd"


def test_a_refused_login_goes_back_without_a_code(embedded: tuple[Coffre, TestClient]) -> None:
    _, client = embedded
    page = _authorize(client)
    answer = client.post(
        "/idp/authorize",
        data={"interaction": interaction_of(page.text), "person": "patient", "consent": "no"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "error=access_denied" in answer.headers["location"]
    assert "code=" not in answer.headers["location"]
    # the form is single use: replaying it logs no one in
    replay = client.post(
        "/idp/authorize",
        data={"interaction": interaction_of(page.text), "person": "patient", "consent": "yes"},
        follow_redirects=False,
    )
    assert replay.status_code == 400


def test_the_web_pages_client_is_confidential_and_registered_for_its_callback(
    embedded: tuple[Coffre, TestClient],
) -> None:
    coffre, client = embedded
    assert coffre.provider is not None
    web = coffre.provider.clients["coffre-web"]
    assert web.secret and web.redirect_uris == (coffre.settings.base_url + "/auth/callback",)
    secrets_file = coffre.settings.data_dir / "idp.secrets"
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    _, challenge = pkce()
    url = str(
        httpx.URL(
            coffre.provider.issuer + "/authorize",
            params={
                "response_type": "code",
                "client_id": "coffre-web",
                "redirect_uri": web.redirect_uris[0],
                "scope": "openid",
                "state": "w",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
    )
    back = embedded_login_page(client, url, "alice")
    assert back.startswith(web.redirect_uris[0] + "?code=")


def test_a_token_of_the_provider_without_the_routes_scope_is_refused(
    embedded: tuple[Coffre, TestClient],
) -> None:
    coffre, client = embedded
    assert coffre.provider is not None
    secret = coffre.provider.clients[HOSPITAL_ID].secret
    assert secret is not None
    narrow = client_credentials(
        client, coffre.provider.issuer, HOSPITAL_ID, secret, "system/Patient.c"
    )
    answer = client.get(
        f"/v1/spaces/{PATIENT.id}/key", headers={"Authorization": f"Bearer {narrow}"}
    )
    assert_problem(answer, 403, "insufficient-scope")


def test_postgres_is_production_unless_development_is_said(tmp_path: Path) -> None:
    # A deployment that forgets COFFRE_ENV must not serve the development login page.
    server = {"data_dir": tmp_path, "database": "postgres", "master_keys": "unused"}
    with pytest.raises(ValueError, match="configure COFFRE_OIDC_ISSUERS"):
        Settings(**server)  # type: ignore[arg-type]
    psc = IssuerSettings(issuer="https://psc.example", audience="coffre", roles=["professional"])
    production = Settings(**server, oidc_issuers=[psc])  # type: ignore[arg-type]
    assert production.env == "production"
    assert not production.embedded_issuer and not production.embedded_provider
    development = Settings(**server, env="development")  # type: ignore[arg-type]
    assert development.embedded_provider
    assert Settings(data_dir=tmp_path).embedded_provider  # the embedded mode: development


def test_an_external_signer_runs_no_development_provider(tmp_path: Path) -> None:
    # Tokens verified by an external signer's public key: no signing key here, so no
    # login page, and nothing held in one process's memory (``coffre serve --workers``).
    external = Settings(
        data_dir=tmp_path,
        database="postgres",
        master_keys="unused",  # type: ignore[arg-type]
        env="development",
        token_public_key=TokenAuthority.from_seed("coffre", bytes(32)).public_key_b64,
    )
    assert external.embedded_issuer and not external.embedded_provider
    assert development_provider(external, MasterKeys.generate(), file=False) is None


def test_production_refuses_the_development_provider(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="COFFRE_ENV=production"):
        Settings(data_dir=tmp_path, env="production")
    production = Settings(
        data_dir=tmp_path,
        env="production",
        embedded_issuer=False,
        oidc_issuers=[
            IssuerSettings(issuer="https://psc.example", audience="coffre", roles=["professional"])
        ],
    )
    assert not production.embedded_provider
    coffre = build(production)
    try:
        assert coffre.provider is None
        with TestClient(compose(coffre)) as client:
            assert client.get("/idp/.well-known/openid-configuration").status_code == 404
    finally:
        coffre.close()

"""The web page's cookie sessions (backend-for-frontend), against panva's oidc-provider.

A patient logs in through the provider's own pages (authorization code + PKCE, state,
nonce, the ID token checked), driven over HTTP as ``test_api_interop`` does; the
browser then holds only an opaque ``__Host-`` cookie, which every API route accepts in
place of a bearer token. Changes made with the cookie need the session's CSRF token
and this server's origin; logout ends the session and revokes its refresh token.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import ALICE, BRUNO, DOCTOR, HOSPITAL, Caller, events
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from pydantic import SecretStr
from test_api_problems import assert_problem

from api.app import create_app
from api.deps import CSRF_HEADER, SESSION_COOKIE
from coffre.bootstrap import Coffre, build
from tests.panva import PanvaProvider, available
from tests.scenarios.conftest import BACKENDS, backend_settings
from vault.claims import ClaimsMapping
from vault.issuers import IssuerSettings

AUDIENCE = "coffre"
BASE = "https://testserver"
CALLBACK = f"{BASE}/auth/callback"
WEB, WEB_SECRET = "coffre-web", "web-secret-0123456789abcdef0123456789abcdef"
PATIENT_SCOPES = "patient/AuditEvent.rs patient/Consent.cruds patient/DocumentReference.rs"
WEB_SCOPES = f"openid offline_access {PATIENT_SCOPES}"
PER_PERSON = 2


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanvaProvider]:
    """oidc-provider with Coffre's web page registered as a confidential client."""
    available()
    panva = PanvaProvider(
        tmp_path_factory.mktemp("panva"), audience=AUDIENCE, scopes=PATIENT_SCOPES
    )
    panva.add_client(
        WEB, WEB_SECRET, WEB_SCOPES, ["authorization_code", "refresh_token"], [CALLBACK]
    )
    panva.accounts["alice"] = {"coffre_role": "patient", "ins": ALICE.id, "name": ALICE.name}
    panva.start()
    yield panva
    panva.stop()


@pytest.fixture(params=BACKENDS)
def coffre(
    request: pytest.FixtureRequest, tmp_path: Path, provider: PanvaProvider
) -> Iterator[Coffre]:
    """A Coffre on each backend pairing whose web page logs in at the provider."""
    issuer = IssuerSettings(
        issuer=provider.issuer,
        audience=AUDIENCE,
        roles=["patient", "professional"],
        claims=ClaimsMapping(role="coffre_role"),
        jwks_min_refresh=0,
    )
    settings = backend_settings(request, request.param, tmp_path / "data")
    built = build(
        settings.model_copy(
            update={
                "opposition_period": timedelta(0),
                "oidc_issuers": [issuer],
                "public_url": BASE,
                "web_issuer": provider.issuer,
                "web_client_secret": SecretStr(WEB_SECRET),
                "web_scopes": WEB_SCOPES,
                "web_resource": provider.resource,
                "web_sessions_per_person": PER_PERSON,
            }
        )
    )
    yield built
    built.close()


@pytest.fixture
def client(coffre: Coffre) -> Iterator[TestClient]:
    """A browser on https://testserver (``__Host-`` cookies need https)."""
    with TestClient(create_app(coffre), base_url=BASE) as browser:
        yield browser


@pytest.fixture
def alice_space(client: TestClient, coffre: Coffre) -> None:
    """Alice's space, provisioned by the hospital (embedded development issuer)."""
    hospital = Caller(client, HOSPITAL, coffre.tokens.mint(HOSPITAL), SigningKey.generate())
    answer = hospital.post("/v1/spaces", json={"patient_id": ALICE.id})
    assert answer.status_code == 201, answer.text


def log_in(client: TestClient, provider: PanvaProvider, next_path: str = "/") -> httpx.Response:
    """Log in as Alice through the provider's pages; the callback's answer."""
    start = client.get("/auth/login", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 303, start.text
    back = provider.log_in(start.headers["location"], "alice", CALLBACK)
    return client.get(back, follow_redirects=False)


def csrf(client: TestClient) -> dict[str, str]:
    """The headers of a change made by the page: its CSRF token and its origin."""
    session = client.get("/auth/session")
    assert session.status_code == 200, session.text
    return {CSRF_HEADER: session.json()["csrf_token"], "Origin": BASE}


def grant_body() -> dict[str, Any]:
    return {
        "grantee": {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"},
        "scope": {"kind": "space"},
        "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }


@pytest.mark.usefixtures("alice_space")
def test_a_patient_logs_in_and_her_cookie_reads_her_access_log(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    done = log_in(client, provider, "/journal?page=2")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/journal?page=2"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
    assert not any(flag.startswith(("domain", "max-age", "expires")) for flag in flags)

    session = client.get("/auth/session").json()
    assert {key: session[key] for key in ("role", "id", "name")} == {
        "role": "patient",
        "id": ALICE.id,
        "name": ALICE.name,
    }
    assert len(session["csrf_token"]) >= 32

    coffre.runner.catch_up()  # PostgreSQL: the projections run in workers, caught up here
    log = client.get(f"/v1/spaces/{ALICE.id}/access-log")
    assert log.status_code == 200, log.text
    entries = log.json()["entries"]
    assert ("provision", HOSPITAL.id) in {(e["action"], e["actor"]["id"]) for e in entries}
    assert_problem(client.get(f"/v1/spaces/{BRUNO.id}/access-log"), 404, "unknown-space")
    # the tokens never reach the browser: not in its cookies, not in any answer
    tokens = coffre.web_sessions.get(client.cookies[SESSION_COOKIE]).tokens  # type: ignore[union-attr]
    assert tokens.access_token not in str(client.cookies) + log.text + str(session)


@pytest.mark.usefixtures("alice_space")
def test_a_change_without_the_csrf_token_or_from_another_origin_is_refused(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    log_in(client, provider)
    headers = csrf(client)
    url = f"/v1/spaces/{ALICE.id}/grants"
    before = events(coffre)
    refused = [
        client.post(url, json=grant_body()),  # no token, no origin
        client.post(url, json=grant_body(), headers={"Origin": BASE}),  # no token
        client.post(url, json=grant_body(), headers={**headers, "Origin": "https://evil.test"}),
        client.post(url, json=grant_body(), headers={**headers, CSRF_HEADER: "x" * 43}),
        client.post(  # no Origin, and the browser says the request is cross-site
            url,
            json=grant_body(),
            headers={CSRF_HEADER: headers[CSRF_HEADER], "Sec-Fetch-Site": "cross-site"},
        ),
    ]
    for answer in refused:
        assert_problem(answer, 403, "cross-site-request")
    assert events(coffre) == before  # nothing recorded

    granted = client.post(url, json=grant_body(), headers=headers)
    assert granted.status_code == 201, granted.text
    same_site = {CSRF_HEADER: headers[CSRF_HEADER], "Sec-Fetch-Site": "same-origin"}
    assert client.post(url, json=grant_body(), headers=same_site).status_code == 201


def test_logout_ends_the_session_and_revokes_its_refresh_token(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    log_in(client, provider)
    old = client.cookies[SESSION_COOKIE]
    refresh_token = coffre.web_sessions.get(old).tokens.refresh_token  # type: ignore[union-attr]
    assert refresh_token is not None  # offline_access was granted
    assert_problem(client.post("/auth/logout"), 403, "cross-site-request")

    ended = client.post("/auth/logout", headers=csrf(client))
    assert ended.status_code == 204
    assert SESSION_COOKIE not in client.cookies
    again = client.get("/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={old}"})
    assert_problem(again, 401, "unauthenticated")
    log = client.get(
        f"/v1/spaces/{ALICE.id}/access-log", headers={"Cookie": f"{SESSION_COOKIE}={old}"}
    )
    assert_problem(log, 401, "unauthenticated")
    # revoked at the provider too: the refresh token gets nothing any more
    refreshed = httpx.post(
        f"{provider.issuer}/token",
        auth=(WEB, WEB_SECRET),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
    )
    assert refreshed.status_code == 400, refreshed.text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.test/",
        "//evil.test/",
        "/\\evil.test",
        "http:/evil.test",
        "javascript:alert(1)",
        "relative/path",
        "/ok\r\nSet-Cookie: x=1",
    ],
)
def test_an_open_redirect_in_next_is_refused(client: TestClient, target: str) -> None:
    answer = client.get("/auth/login", params={"next": target}, follow_redirects=False)
    assert_problem(answer, 422, "invalid-input")
    assert "location" not in answer.headers


def test_a_callback_this_browser_did_not_start_is_refused(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    start = client.get("/auth/login", follow_redirects=False)
    back = provider.log_in(start.headers["location"], "alice", CALLBACK)
    client.cookies.clear()  # another browser, or the login cookie lost
    assert_problem(client.get(back, follow_redirects=False), 401, "unauthenticated")
    tampered = back.replace("state=", "state=x")
    assert_problem(client.get(tampered, follow_redirects=False), 401, "unauthenticated")


@pytest.mark.usefixtures("alice_space")
def test_an_expired_access_token_is_refreshed_and_an_idle_session_ends(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    log_in(client, provider)
    sessions = coffre.web_sessions
    assert sessions is not None
    cookie = client.cookies[SESSION_COOKIE]
    first = sessions.get(cookie).tokens
    sessions.clock = lambda: time.time() + 601  # the provider's tokens last 600 s
    assert client.get(f"/v1/spaces/{ALICE.id}/access-log").status_code == 200
    assert sessions.get(cookie).tokens.access_token != first.access_token

    # then half an hour with no request: the session ends (idle)
    sessions.clock = lambda: time.time() + 601 + timedelta(minutes=31).total_seconds()
    assert_problem(client.get("/auth/session"), 401, "unauthenticated")


def test_a_person_holds_a_bounded_number_of_sessions(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    cookies = []
    for _ in range(PER_PERSON + 1):
        log_in(client, provider)
        cookies.append(client.cookies[SESSION_COOKIE])
    assert coffre.web_sessions.count(f"patient:{ALICE.id}") == PER_PERSON  # type: ignore[union-attr]
    oldest = client.get("/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={cookies[0]}"})
    assert_problem(oldest, 401, "unauthenticated")


def test_a_session_in_constant_use_still_ends_at_its_lifetime(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    log_in(client, provider)
    sessions = coffre.web_sessions
    assert sessions is not None
    start = time.time()
    lifetime = coffre.settings.web_session_lifetime.total_seconds()
    step = timedelta(minutes=25).total_seconds()  # within the idle timeout each time
    elapsed = 0.0
    while elapsed + step <= lifetime:
        elapsed += step
        sessions.clock = lambda moved=elapsed: start + moved
        assert client.get("/auth/session").status_code == 200, elapsed
    sessions.clock = lambda: start + lifetime + 1
    assert_problem(client.get("/auth/session"), 401, "unauthenticated")


@pytest.mark.usefixtures("alice_space")
def test_a_session_has_its_tokens_scopes_and_no_more(
    client: TestClient, coffre: Coffre, provider: PanvaProvider
) -> None:
    log_in(client, provider)
    before = events(coffre)
    # the web login asked for no Device scope: the session may not register a device
    answer = client.post("/v1/devices/challenges", headers=csrf(client))
    assert_problem(answer, 403, "insufficient-scope")
    assert events(coffre) == before

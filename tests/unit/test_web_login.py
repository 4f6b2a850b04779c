"""The web login's relying party in memory: where ``next`` may lead, the login cookie's
seal, and the ID token's checks (signature, issuer, audience, nonce, azp, times).
The whole flow against a real provider is ``tests/api/test_api_sessions.py``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from keys.master import MasterKeys
from keys.web_sessions import SessionKeys
from tests.oidc import DISCOVERY, FakeProvider
from vault.issuers import Issuers, IssuerSettings, OidcIssuer
from vault.web_login import WebClient, WebLogin, safe_next
from wire.errors import InvalidInput, IssuerUnavailable, Unauthenticated

CLIENT = "coffre-web"
NONCE = "n-0123456789"


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider("https://login.test", "ES256")


def login(provider: FakeProvider, keys: SessionKeys | None = None) -> WebLogin:
    def fetch(url: str, timeout: float) -> Any:
        document = provider.fetch(url, timeout)
        if url == provider.issuer + DISCOVERY:
            document = {**document, "authorization_endpoint": provider.issuer + "/authorize"}
        return document

    settings = IssuerSettings(issuer=provider.issuer, audience="coffre", roles=["patient"])
    trusted = Issuers([OidcIssuer(settings, provider.fetch)])
    client = WebClient(
        issuer=provider.issuer,
        client_id=CLIENT,
        client_secret="s",
        redirect_uri="https://coffre.test/auth/callback",
        scope="openid offline_access patient/*.cruds",
    )
    return WebLogin(client, trusted, keys or SessionKeys(MasterKeys.generate()), fetch=fetch)


@pytest.mark.parametrize("target", [None, "", "/", "/journal?page=2#top", "/a/b%2F%2Fc"])
def test_next_may_be_any_path_of_this_server(target: str | None) -> None:
    assert safe_next(target) == (target or "/")


@pytest.mark.parametrize(
    "target",
    ["https://evil.test", "//evil.test", "/\\evil.test", "\\\\evil", "evil", "http:/x", "/a\tb"],
)
def test_next_may_not_lead_elsewhere(target: str) -> None:
    with pytest.raises(InvalidInput):
        safe_next(target)


def test_a_login_asks_for_a_code_with_pkce_state_and_nonce(provider: FakeProvider) -> None:
    url, sealed = login(provider).begin("/journal")
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == provider.issuer + "/authorize"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["prompt"] == "consent"  # offline_access
    # the verifier, state and nonce travel sealed: the cookie shows none of them
    assert query["state"] not in sealed and query["nonce"] not in sealed


def test_a_login_cookie_altered_or_from_another_key_is_refused(provider: FakeProvider) -> None:
    web = login(provider)
    url, sealed = web.begin("/")
    state = parse_qs(urlsplit(url).query)["state"][0]
    # A character in the middle, changed for sure: the last ones may only carry
    # base64 padding bits, and the sealed cookie may already end in the new ones.
    middle = len(sealed) // 2
    altered = sealed[:middle] + ("B" if sealed[middle] == "A" else "A") + sealed[middle + 1 :]
    for cookie in (None, "", altered, "!!"):
        with pytest.raises(Unauthenticated):
            web.complete(cookie, state, "code")
    _, foreign = login(provider).begin("/")  # sealed under another master key
    with pytest.raises(Unauthenticated):
        web.complete(foreign, state, "code")
    with pytest.raises(Unauthenticated, match="not started by this browser"):
        web.complete(sealed, "another state", "code")


def id_token(provider: FakeProvider, **claims: Any) -> str:
    return provider.token({"aud": CLIENT, "sub": "alice", "nonce": NONCE, **claims})


def test_an_id_token_of_the_issuer_for_this_client_and_login_passes(
    provider: FakeProvider,
) -> None:
    assert login(provider).check_id_token(id_token(provider), NONCE)["sub"] == "alice"
    both = id_token(provider, aud=[CLIENT, "other"], azp=CLIENT)
    assert login(provider).check_id_token(both, NONCE)["azp"] == CLIENT


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "another login"},
        {"nonce": None},
        {"aud": "another-client"},
        {"aud": [CLIENT, "other"]},  # several audiences and no azp
        {"aud": [CLIENT, "other"], "azp": "other"},
        {"iss": "https://elsewhere.test"},
        {"exp": 1},
    ],
)
def test_an_id_token_not_for_this_login_is_refused(
    provider: FakeProvider, claims: dict[str, Any]
) -> None:
    token = id_token(provider, **{k: v for k, v in claims.items() if v is not None})
    if claims.get("nonce", "") is None:
        token = provider.token({"aud": CLIENT, "sub": "alice"})
    with pytest.raises(Unauthenticated):
        login(provider).check_id_token(token, NONCE)


def test_an_id_token_of_another_key_or_an_untrusted_issuer_is_refused(
    provider: FakeProvider,
) -> None:
    stranger = FakeProvider(provider.issuer, "ES256")
    with pytest.raises(Unauthenticated):
        login(provider).check_id_token(id_token(stranger), NONCE)
    elsewhere = login(provider)
    elsewhere.client = WebClient(**{**elsewhere.client.__dict__, "issuer": "https://x.test"})
    with pytest.raises(IssuerUnavailable):
        elsewhere.check_id_token(id_token(provider), NONCE)

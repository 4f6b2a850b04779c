"""Driving logins from the tests, as a person at a browser would: the embedded
development provider's login and device pages, and panva's interaction pages.

Each driver takes an ``httpx.Client`` (a ``TestClient`` over the app, or a real HTTP
client against a served Coffre or provider) and submits the pages' forms.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

CLI = "coffre-cli"
#: a loopback redirect no one listens on: the test reads the code from the Location
LOOPBACK = "http://127.0.0.1:9/callback"


def pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def interaction_of(page: str) -> str:
    """The login form's interaction id (its anti-forgery token)."""
    found = re.search(r'name="interaction" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


def embedded_login_page(browser: httpx.Client, authorize_url: str, person: str) -> str:
    """Open the embedded provider's login page at ``authorize_url``, choose ``person``
    and consent; returns where the provider sends the browser back (with the code)."""
    page = browser.get(authorize_url)
    assert page.status_code == 200, page.text
    answer = browser.post(
        authorize_url.split("?", 1)[0],
        data={"interaction": interaction_of(page.text), "person": person, "consent": "yes"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def embedded_code_flow(
    browser: httpx.Client,
    issuer: str,
    person: str,
    scope: str = "openid offline_access",
    client_id: str = CLI,
) -> dict[str, Any]:
    """Tokens for ``person`` by authorization code + PKCE at the embedded provider."""
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": LOOPBACK,
        "scope": scope,
        "state": "st-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = str(httpx.URL(issuer + "/authorize", params=query))
    back = embedded_login_page(browser, url, person)
    parsed = parse_qs(urlsplit(back).query)
    assert back.startswith(LOOPBACK) and parsed["state"] == [query["state"]], back
    token = browser.post(
        issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "code": parsed["code"][0],
            "redirect_uri": LOOPBACK,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    return dict(token.json())


def approve_device(browser: httpx.Client, issuer: str, user_code: str, person: str) -> None:
    """Enter a device's user code on the embedded provider's page and approve it."""
    answer = browser.post(
        issuer + "/device", data={"user_code": user_code, "person": person, "consent": "yes"}
    )
    assert answer.status_code == 200, answer.text


def client_credentials(
    browser: httpx.Client, issuer: str, client_id: str, secret: str, scope: str
) -> str:
    """A service's access token by client credentials."""
    answer = browser.post(
        issuer + "/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])

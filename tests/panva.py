"""panva's ``oidc-provider`` (Node) run by the tests: an independent, OpenID-certified
provider issuing real access tokens to Coffre.

Its package and lockfile are ``tests/oidc-provider/``; ``scripts/test`` installs them
(``npm ci``). Without ``node`` or the installed package the tests using it are skipped,
except under ``CI`` where that is a failure. Signing keys are generated here and handed
to the provider; ``restart(rotate=True)`` restarts it on the same port with a new key
first, as a key rotation at the provider (Coffre itself is not restarted).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

HERE = Path(__file__).parent / "oidc-provider"
READY_TIMEOUT = 30
REDIRECT = "http://127.0.0.1/callback"


def available() -> None:
    """Skip (or fail under CI) unless node and the installed provider are here."""
    missing = shutil.which("node") is None or not (HERE / "node_modules" / "oidc-provider").is_dir()
    if missing:
        message = "oidc-provider not installed (npm ci --prefix tests/oidc-provider)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _private_jwk() -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key))
    return {**jwk, "kid": uuid.uuid4().hex[:12], "alg": "ES256", "use": "sig"}


class PanvaProvider:
    """One ``node provider.mjs`` process and its configuration."""

    def __init__(self, workdir: Path, *, audience: str, scopes: str) -> None:
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.resource = "https://coffre.test/"
        self.config_path = workdir / "oidc-provider.json"
        self.keys = [_private_jwk()]
        self.clients: list[dict[str, Any]] = []
        self.accounts: dict[str, dict[str, Any]] = {}
        self.client_claims: dict[str, Any] = {}
        self.audience = audience
        self.scopes = scopes
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def kid(self) -> str:
        """The id of the key that signs now."""
        return str(self.keys[0]["kid"])

    def add_client(
        self,
        client_id: str,
        secret: str,
        scope: str,
        grants: list[str],
        redirect_uris: list[str] | None = None,
    ) -> None:
        """Register an OAuth client (redirected to ``REDIRECT`` unless told otherwise)."""
        code = "authorization_code" in grants
        self.clients.append(
            {
                "client_id": client_id,
                "client_secret": secret,
                "grant_types": grants,
                "response_types": ["code"] if code else [],
                "redirect_uris": (redirect_uris or [REDIRECT]) if code else [],
                "scope": scope,
                "id_token_signed_response_alg": "ES256",
            }
        )

    def start(self) -> None:
        """Write the configuration and start the provider; wait until it listens."""
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "keys": self.keys,
            "resource": self.resource,
            "audience": self.audience,
            "scopes": self.scopes,
            "alg": "ES256",
            "clients": self.clients,
            "accounts": self.accounts,
            "client_claims": self.client_claims,
        }
        self.config_path.write_text(json.dumps(config))
        process = subprocess.Popen(
            ["node", str(HERE / "provider.mjs"), str(self.config_path)],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._process = process
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], READY_TIMEOUT)
        line = process.stdout.readline() if ready else b""  # "ready", or nothing if it died
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError("oidc-provider did not start: " + _tail(process))

    def stop(self) -> None:
        """Stop the provider process this object started."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def restart(self, *, rotate: bool = False) -> str:
        """Restart on the same port; with ``rotate``, a new key signs (the old one is
        dropped). Returns the signing key's id."""
        self.stop()
        if rotate:
            self.keys = [_private_jwk()]
        self.start()
        return self.kid

    def client_credentials(self, client_id: str, secret: str, scope: str) -> str:
        """An access token for a client (OAuth 2.0 client credentials grant)."""
        answer = httpx.post(
            f"{self.issuer}/token",
            auth=(client_id, secret),
            data={"grant_type": "client_credentials", "scope": scope, "resource": self.resource},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def log_in(self, authorize_url: str, account: str, redirect_prefix: str) -> str:
        """Drive the provider's development login and consent pages from an authorization
        request's URL, as ``account``; the URL it finally redirects to (the client's)."""
        with httpx.Client(base_url=self.issuer) as browser:
            answer = browser.get(authorize_url)
            for _ in range(10):  # login, consent, back to the client
                location = answer.headers.get("location")
                assert answer.status_code in (302, 303, 200), answer.text
                if location is None:
                    # an interaction page: submit its form
                    uid = str(answer.url).rstrip("/").rsplit("/", 1)[-1]
                    prompt = "login" if 'name="login"' in answer.text else "consent"
                    form = {"prompt": prompt, "login": account, "password": "x"}
                    answer = browser.post(f"/interaction/{uid}", data=form)
                    continue
                if location.startswith(redirect_prefix):
                    return str(location)
                answer = browser.get(location)
        raise AssertionError("the provider never redirected back to the client")

    def authorization_code(self, client_id: str, secret: str, account: str, scope: str) -> str:
        """An access token for ``account``, by authorization code with PKCE, logging in
        through the provider's development login and consent pages."""
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = {
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": scope,
            "resource": self.resource,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": secrets.token_urlsafe(8),
        }
        url = f"{self.issuer}/auth?{httpx.QueryParams(query)}"
        back = parse_qs(urlsplit(self.log_in(url, account, REDIRECT)).query)
        assert "code" in back, back
        code = back["code"][0]
        token = httpx.post(
            f"{self.issuer}/token",
            auth=(client_id, secret),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
                "resource": self.resource,
            },
        )
        assert token.status_code == 200, token.text
        return str(token.json()["access_token"])


def _tail(process: subprocess.Popen[bytes]) -> str:
    try:
        _, err = process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        return "(no output)"
    return err.decode(errors="replace")[-2000:]

"""A small OpenID provider for the tests: keys generated here, discovery and JWKS.

``FakeProvider`` holds signing keys (RS256, ES256 or EdDSA), publishes its discovery
document and key set, and signs access tokens with claims of the test's choosing. The
unit tier reads its documents in memory (``provider.fetch``); the integration tier
serves them over real HTTP (``provider.serve()``), so Coffre's fetching, caching and
refreshing run exactly as against a real provider. ``rotate()`` replaces the signing key
as a provider's key rotation does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from wire.errors import IssuerUnavailable

DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/jwks"


def new_key(algorithm: str) -> Any:
    """A fresh private key for ``algorithm``."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def public_jwk(key: Any, algorithm: str, kid: str) -> dict[str, Any]:
    """The public JWK of ``key``, as a provider publishes it."""
    codec = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm}.get(algorithm, OKPAlgorithm)
    jwk = json.loads(codec.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


class FakeProvider:
    """An OpenID provider at ``issuer`` with one current signing key (and older ones)."""

    def __init__(self, issuer: str = "https://idp.test", algorithm: str = "RS256") -> None:
        self.issuer = issuer
        self.algorithm = algorithm
        self.keys: dict[str, Any] = {}
        self.kid = ""
        self.requests: list[str] = []
        self.down = False
        self._server: ThreadingHTTPServer | None = None
        self.rotate()

    def rotate(self, *, keep_old: bool = False) -> str:
        """A new signing key (the old one dropped unless ``keep_old``); its kid."""
        if not keep_old:
            self.keys.clear()
        self.kid = uuid.uuid4().hex[:12]
        self.keys[self.kid] = new_key(self.algorithm)
        return self.kid

    def discovery(self) -> dict[str, Any]:
        """The discovery document."""
        return {
            "issuer": self.issuer,
            "jwks_uri": self.issuer + JWKS,
            "token_endpoint": self.issuer + "/token",
            "id_token_signing_alg_values_supported": [self.algorithm],
        }

    def jwks(self) -> dict[str, Any]:
        """The published key set."""
        return {"keys": [public_jwk(k, self.algorithm, kid) for kid, k in self.keys.items()]}

    def fetch(self, url: str, timeout: float) -> Any:
        """What Coffre's fetcher would get at ``url`` (in memory)."""
        self.requests.append(url)
        if self.down:
            raise IssuerUnavailable("the token issuer could not be reached (test)")
        if url == self.issuer + DISCOVERY:
            return self.discovery()
        if url == self.issuer + JWKS:
            return self.jwks()
        raise IssuerUnavailable(f"no such document: {url}")

    def token(
        self,
        claims: dict[str, Any],
        *,
        kid: str | None = None,
        ttl: int = 600,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """An access token with ``iss``, ``iat``, ``exp``, ``jti`` and ``claims``."""
        now = int(time.time())
        body = {"iss": self.issuer, "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
        body.update(claims)
        kid = kid or self.kid
        return jwt.encode(
            body, self.keys[kid], algorithm=self.algorithm, headers={"kid": kid, **(headers or {})}
        )

    @contextmanager
    def serve(self) -> Iterator[FakeProvider]:
        """Serve discovery and JWKS over HTTP on a loopback port; ``issuer`` becomes
        ``http://127.0.0.1:<port>``."""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests.append(self.path)
                documents = {DISCOVERY: provider.discovery, JWKS: provider.jwks}
                if self.path not in documents:
                    self.send_error(404)
                    return
                body = json.dumps(documents[self.path]()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server = server
        self.issuer = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stop()
            thread.join(5)

    def stop(self) -> None:
        """Stop serving (the provider becomes unreachable)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

"""The embedded development OpenID provider: authlib's authorization server, its grants,
and what it remembers (in memory: a development provider forgets its sessions when the
server restarts, and its tokens stay valid until they expire).

Grants (authlib): authorization code with PKCE (RFC 7636, S256 only) and OpenID Connect
ID tokens, refresh token (rotated at each use), client credentials, device authorization
(RFC 8628); revocation (RFC 7009). Access tokens are RFC 9068 JWTs signed ES256 with
the provider's keys (``keys.provider``), carrying the claims ``vault.claims`` reads
(Pro Santé Connect's names for professionals, the INS for patients, the client id for
services, the authority for regulators), SMART v2 scopes and ``amr``/``acr``: the
resource server reads them like any configured provider's.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jwt
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.requests import JsonRequest

from idp.grants import (
    AccessTokens,
    AuthorizationCode,
    DeviceAuthorization,
    DeviceCode,
    OpenIDCodeGrant,
    Refresh,
    Revocation,
    S256Only,
    random_token,
)
from idp.models import (
    AUDIENCE,
    CODE_SECONDS,
    DEVICE_CODE_GRANT,
    OIDC_SCOPES,
    Answer,
    Client,
    OAuth2Form,
    Person,
    RefreshToken,
    Store,
)
from keys.provider import ALGORITHM, ProviderKey
from vault import scopes
from wire.values import Role


class Provider(AuthorizationServer):
    """The development OpenID provider at ``issuer``, signing with ``keys`` (current first)."""

    def __init__(
        self,
        issuer: str,
        keys: Sequence[ProviderKey],
        people: Iterable[Person],
        clients: Iterable[Client],
    ) -> None:
        super().__init__()
        if not keys:
            raise ValueError("the provider needs a signing key")
        self.issuer = issuer.rstrip("/")
        self.keys = list(keys)
        self.people = {person.login: person for person in people}
        self.clients = {client.client_id: client for client in clients}
        self.store = Store()
        generator = AccessTokens(self, refresh_token_generator=random_token)
        self.register_token_generator("default", generator)
        self.register_grant(AuthorizationCode, [S256Only(required=True), OpenIDCodeGrant(self)])
        self.register_grant(Refresh)
        self.register_grant(grants.ClientCredentialsGrant)
        self.register_grant(DeviceCode)
        self.register_endpoint(DeviceAuthorization(self))
        self.register_endpoint(Revocation(self))

    # -- what authlib asks of a framework integration --------------------------------

    def query_client(self, client_id: str) -> Client | None:
        """The registered client ``client_id``."""
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Remember a refresh token (access tokens are self-contained JWTs)."""
        refresh = token.get("refresh_token")
        if not refresh:
            return
        with self.store.lock:
            self.store.prune()
            self.store.refresh[refresh] = RefreshToken(
                refresh,
                request.client.get_client_id(),
                str(token.get("scope", "")),
                request.user,
                time.time(),
            )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        """authlib's request over ours."""
        if isinstance(request, OAuth2Request):
            return request
        return OAuth2Form(request)

    def create_json_request(self, request: Any) -> JsonRequest:
        """Not used: the provider takes forms only."""
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: Any) -> Answer:
        """An ``Answer`` the HTTP glue turns into a response."""
        return Answer(status, body, list(headers or []))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals are listened to."""

    def validate_requested_scope(self, scope: str | None) -> None:
        """Unknown scopes are dropped by the client's allowed scopes, not refused."""

    # -- the provider's documents -----------------------------------------------------

    def url(self, path: str) -> str:
        """The provider's URL for ``path``."""
        return self.issuer + path

    def discovery(self) -> dict[str, Any]:
        """The OpenID Connect discovery document."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "device_authorization_endpoint": self.url("/device_authorization"),
            "userinfo_endpoint": self.url("/userinfo"),
            "revocation_endpoint": self.url("/revoke"),
            "jwks_uri": self.url("/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                DEVICE_CODE_GRANT,
            ],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "scopes_supported": [*OIDC_SCOPES, *_smart_scopes()],
            "claims_supported": ["sub", "name", "role", "amr", "acr", "auth_time"],
            "ui_locales_supported": ["fr", "en"],
        }

    def jwks(self) -> dict[str, Any]:
        """The public keys, current first."""
        return {"keys": [key.public_jwk() for key in self.keys]}

    def fetch(self, url: str, timeout: float) -> Any:
        """The documents the resource server fetches, served in process (no HTTP to
        itself): ``vault.issuers.Fetch``."""
        return self.jwks() if url == self.url("/jwks") else self.discovery()

    def userinfo(self, access_token: str) -> dict[str, Any] | None:
        """The claims of the person an access token of this provider names, or None."""
        keys = {key.key_id: key for key in self.keys}
        try:
            kid = jwt.get_unverified_header(access_token).get("kid")
            key = keys[kid]
            claims = jwt.decode(
                access_token,
                key.private.public_key(),
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
            )
        except (jwt.PyJWTError, KeyError):
            return None
        return {name: claims[name] for name in claims if name not in _TOKEN_ONLY}

    # -- logins -----------------------------------------------------------------------

    def start_interaction(self, parameters: Mapping[str, str]) -> str:
        """Keep a validated authorization request while the person logs in; its id is
        single use, and stands as the login form's anti-forgery token."""
        interaction = secrets.token_urlsafe(24)
        with self.store.lock:
            self.store.prune()
            self.store.interactions[interaction] = (time.time() + CODE_SECONDS, dict(parameters))
        return interaction

    def take_interaction(self, interaction: str) -> dict[str, str] | None:
        """The request of a pending login (forgotten once taken)."""
        with self.store.lock:
            found = self.store.interactions.pop(interaction, None)
        if found is None or found[0] <= time.time():
            return None
        return found[1]

    def approve_device(self, user_code: str, person: Person | None) -> bool:
        """Record a person's answer to a device's user code (``None``: refused); False
        when no device waits with that code."""
        code = user_code.strip().upper()
        with self.store.lock:
            waiting = any(
                str(item["user_code"]) == code and not item.is_expired()
                for item in self.store.devices.values()
            )
            if waiting:
                who = person or next(iter(self.people.values()))
                self.store.device_grants[code] = (who, person is not None)
        return waiting


_TOKEN_ONLY = frozenset({"aud", "exp", "iat", "jti", "scope", "client_id", "iss"})


def _smart_scopes() -> list[str]:
    return sorted({scope for role in Role for scope in scopes.full_scopes(role).split()})

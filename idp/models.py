"""What the development provider knows and remembers: its people, its clients, the
codes and refresh tokens it issued (in memory), and the request and answer shapes its
HTTP glue exchanges with authlib."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc8628 import DeviceCredentialDict

from domain.values import Actor
from vault import scopes

#: the audience of the provider's access tokens: Coffre's API
AUDIENCE = "coffre-api"
#: the public command-line client (device flow, or code + PKCE on a loopback redirect)
CLI_CLIENT = "coffre-cli"
#: the web page's backend-for-frontend (confidential)
WEB_CLIENT = "coffre-web"
ACCESS_TOKEN_SECONDS = 3600
CODE_SECONDS = 300
DEVICE_CODE_SECONDS = 600
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: scopes the provider knows besides SMART's
OIDC_SCOPES = ("openid", "profile", "offline_access")


@dataclass(frozen=True)
class Person:
    """Someone who may log in at the development provider (the demo's cast)."""

    login: str
    actor: Actor
    #: how they authenticate (RFC 8176 values), carried in the tokens' ``amr``
    amr: tuple[str, ...] = ("pwd",)
    #: the class of authentication (Pro Santé Connect: ``e-CPS``, ``card``)
    acr: str | None = None

    def get_user_id(self) -> str:
        """The ``sub`` of this person's tokens: their id in Coffre (INS, RPPS, authority)."""
        return self.actor.id


@dataclass(frozen=True)
class Client(ClientMixin):
    """A registered OAuth client."""

    client_id: str
    grant_types: frozenset[str]
    #: ``None`` for a public client (PKCE, no secret)
    secret: str | None = field(default=None, repr=False)
    redirect_uris: tuple[str, ...] = ()
    #: a loopback redirect on any port (RFC 8252, native apps)
    loopback: bool = False
    #: the service a client-credentials token names (``service`` clients only)
    service: Actor | None = None

    def get_client_id(self) -> str:
        """The client id."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """The first registered redirect URI."""
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes the provider knows (SMART v2 or OpenID Connect's)."""
        asked = (scope or "").split()
        return " ".join(s for s in asked if s in OIDC_SCOPES or scopes.parse(s))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """An exact registered URI, or for a native client a loopback one on any port."""
        if redirect_uri in self.redirect_uris:
            return True
        parts = urlsplit(redirect_uri)
        return (
            self.loopback
            and parts.scheme == "http"
            and parts.hostname in ("127.0.0.1", "::1")
            and not parts.query
            and not parts.fragment
        )

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time comparison with the registered secret."""
        return self.secret is not None and secrets.compare_digest(self.secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """A public client authenticates with ``none``; a confidential one with its secret."""
        if self.secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        """Only ``code``."""
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        """The grants registered for this client."""
        return grant_type in self.grant_types


@dataclass
class Code(AuthorizationCodeMixin):
    """An authorization code waiting to be exchanged (single use, 5 minutes)."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: Person
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        """The redirect URI the code was issued for."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The scopes granted."""
        return self.scope

    def get_nonce(self) -> str | None:
        """The OpenID Connect nonce of the request."""
        return self.nonce

    def get_auth_time(self) -> int:
        """When the person logged in (epoch seconds)."""
        return self.auth_time

    def get_acr(self) -> str | None:
        """The class of the person's authentication."""
        return self.person.acr

    def get_amr(self) -> list[str]:
        """The methods of the person's authentication."""
        return list(self.person.amr)


@dataclass
class RefreshToken(TokenMixin):
    """A refresh token the provider issued (the only tokens it remembers)."""

    token: str = field(repr=False)
    client_id: str
    scope: str
    person: Person | None
    issued_at: float
    revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        """Only its own client may use or revoke it."""
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        """The scopes it was issued with."""
        return self.scope

    def get_expires_in(self) -> int:
        """Its lifetime in seconds."""
        return REFRESH_TOKEN_SECONDS

    def is_expired(self) -> bool:
        """Whether its lifetime has passed."""
        return time.time() >= self.issued_at + REFRESH_TOKEN_SECONDS

    def is_revoked(self) -> bool:
        """Whether it was revoked or exchanged."""
        return self.revoked


class Store:
    """What the provider remembers, in memory, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, Code] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.devices: dict[str, DeviceCredentialDict] = {}
        #: user code -> (person, approved), set by the verification page
        self.device_grants: dict[str, tuple[Person, bool]] = {}
        #: device code -> monotonic time of its last poll (RFC 8628 slow_down)
        self.polls: dict[str, float] = {}
        #: pending logins: interaction id -> the authorization request's parameters
        self.interactions: dict[str, tuple[float, dict[str, str]]] = {}

    def prune(self) -> None:
        """Forget what has expired (called on each write)."""
        now = time.time()
        for code in [c for c, item in self.codes.items() if item.expires_at <= now]:
            del self.codes[code]
        for key in [k for k, item in self.refresh.items() if item.is_expired()]:
            del self.refresh[key]
        for key in [k for k, item in self.devices.items() if item.is_expired()]:
            self.device_grants.pop(str(self.devices[key]["user_code"]), None)
            self.polls.pop(key, None)
            del self.devices[key]
        for key in [k for k, (at, _) in self.interactions.items() if at <= now]:
            del self.interactions[key]


class Request:
    """One HTTP request as the provider's framework glue hands it to authlib."""

    def __init__(
        self, method: str, uri: str, data: Mapping[str, str], headers: Mapping[str, str]
    ) -> None:
        # headers stay case-insensitive (authlib asks for ``Authorization``)
        self.method, self.uri, self.data, self.headers = method, uri, dict(data), headers


class OAuth2Form(OAuth2Request):
    """authlib's request over ours: the query or form is the payload."""

    def __init__(self, request: Request) -> None:
        super().__init__(request.method, request.uri, headers=request.headers)
        self.payload = BasicOAuth2Payload(request.data)

    @property
    def args(self) -> dict[str, str]:
        return dict(self.payload.data)

    @property
    def form(self) -> dict[str, str]:
        return dict(self.payload.data)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer of the provider: status, body (JSON object or text), headers."""

    status: int
    body: Any
    headers: list[tuple[str, str]]


def redirect_with_error(redirect_uri: str, state: str | None, error: str) -> str:
    """Where a refused login sends the browser back (RFC 6749, 4.1.2.1)."""
    query = {"error": error, **({"state": state} if state else {})}
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(query)

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
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, JsonRequest
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialDict,
)
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import KeySet

from domain.values import Actor
from keys.provider import ALGORITHM, ProviderKey
from vault import scopes
from vault.claims import claims_of
from wire.values import Role

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


class _OAuth2Request(OAuth2Request):
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
        generator = _AccessTokens(self, refresh_token_generator=_random_token)
        self.register_token_generator("default", generator)
        self.register_grant(_AuthorizationCode, [_S256Only(required=True), _OpenIDCode(self)])
        self.register_grant(_Refresh)
        self.register_grant(grants.ClientCredentialsGrant)
        self.register_grant(_DeviceCode)
        self.register_endpoint(_DeviceAuthorization(self))
        self.register_endpoint(_Revocation(self))

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
        return _OAuth2Request(request)

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


def _random_token(client: Any, grant_type: str, user: Any, scope: str) -> str:
    return secrets.token_urlsafe(32)


class _AccessTokens(JWTBearerTokenGenerator):
    """RFC 9068 access tokens with the claims Coffre's resource server maps."""

    def __init__(self, provider: Provider, **options: Any) -> None:
        super().__init__(provider.issuer, alg=ALGORITHM, **options)
        self.provider = provider

    def get_jwks(self) -> KeySet:
        # the current key only, as a set: the library then names it in the header (kid)
        return KeySet.import_key_set({"keys": [self.provider.keys[0].private_jwk()]})

    def get_audiences(self, client: Any, user: Any, scope: str) -> str:
        return AUDIENCE

    def get_amr(self, user: Person | None) -> list[str] | None:
        return list(user.amr) if user else None

    def get_acr(self, user: Person | None) -> str | None:
        return user.acr if user else None

    def get_extra_claims(
        self, client: Client, grant_type: str, user: Person | None, scope: str
    ) -> dict[str, Any]:
        actor = user.actor if user else client.service
        if actor is None:
            return {}
        claims = claims_of(actor)
        asked = [s for s in (scope or "").split() if scopes.parse(s)]
        # no SMART scope asked: the role's own (the rules of the space still apply)
        claims["scope"] = " ".join(
            [s for s in (scope or "").split() if s in OIDC_SCOPES]
            + (asked or scopes.full_scopes(actor.role).split())
        )
        return claims

    def _get_expires_in(self, client: Any, grant_type: str) -> int:
        return ACCESS_TOKEN_SECONDS


class _AuthorizationCode(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        item = Code(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=str(data.get("redirect_uri", "")),
            scope=request.scope or "",
            person=request.user,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            nonce=data.get("nonce"),
            auth_time=int(time.time()),
            expires_at=time.time() + CODE_SECONDS,
        )
        store = self.server.store
        with store.lock:
            store.prune()
            store.codes[code] = item

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        with self.server.store.lock:
            item = self.server.store.codes.get(code)
        if item is None or item.client_id != client.client_id or item.expires_at <= time.time():
            return None
        return item

    def delete_authorization_code(self, authorization_code: Code) -> None:
        with self.server.store.lock:
            self.server.store.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Person:
        return authorization_code.person


class _S256Only(CodeChallenge):
    """PKCE for every client, public or confidential, with S256 only (never ``plain``)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required: code_challenge with method S256")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        with self.provider.store.lock:
            return any(code.nonce == nonce for code in self.provider.store.codes.values())

    def resolve_client_private_key(self, client: Any) -> KeySet:
        # a set of the current key: the ID token's header then names it (kid)
        return KeySet.import_key_set({"keys": [self.provider.keys[0].private_jwk()]})

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "exp": int(time.time()) + ACCESS_TOKEN_SECONDS}

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self.provider.keys[0].key_id}

    def get_client_algorithm(self, client: Any) -> str:
        return ALGORITHM

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return UserInfo({"sub": user.get_user_id(), **claims_of(user.actor)})


class _Refresh(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        with self.server.store.lock:
            item = self.server.store.refresh.get(refresh_token)
        if item is None or item.is_revoked() or item.is_expired():
            return None
        return item

    def authenticate_user(self, refresh_token: RefreshToken) -> Person | None:
        return refresh_token.person

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        # rotation: a refresh token is good once (a stolen copy is found out)
        with self.server.store.lock:
            refresh_token.revoked = True


class _DeviceCode(DeviceCodeGrant):
    def query_device_credential(self, device_code: str) -> DeviceCredentialDict | None:
        with self.server.store.lock:
            return self.server.store.devices.get(device_code)

    def query_user_grant(self, user_code: str) -> tuple[Person, bool] | None:
        with self.server.store.lock:
            return self.server.store.device_grants.get(user_code)

    def should_slow_down(self, credential: DeviceCredentialDict) -> bool:
        store, now = self.server.store, time.monotonic()
        code = str(credential["device_code"])
        with store.lock:
            last = store.polls.get(code)
            store.polls[code] = now
        return last is not None and now - last < _DeviceAuthorization.INTERVAL / 2

    def validate_token_request(self) -> None:
        super().validate_token_request()
        # a device code gives tokens once
        with self.server.store.lock:
            credential = self.server.store.devices.pop(str(self.request.credential["device_code"]))
            self.server.store.device_grants.pop(str(credential["user_code"]), None)


class _DeviceAuthorization(DeviceAuthorizationEndpoint):
    EXPIRES_IN = DEVICE_CODE_SECONDS
    INTERVAL = 2

    def __init__(self, provider: Provider) -> None:
        super().__init__(provider)
        self.provider = provider

    def get_verification_uri(self) -> str:
        return self.provider.url("/device")

    def save_device_credential(self, client_id: str, scope: str, data: dict[str, Any]) -> None:
        credential = DeviceCredentialDict(
            {**data, "client_id": client_id, "scope": scope or "", "expires_at": 0}
        )
        credential["expires_at"] = int(time.time()) + self.EXPIRES_IN
        with self.provider.store.lock:
            self.provider.store.prune()
            self.provider.store.devices[str(data["device_code"])] = credential


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def __init__(self, provider: Provider) -> None:
        super().__init__(provider)
        self.provider = provider

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        with self.provider.store.lock:
            return self.provider.store.refresh.get(token_string)

    def revoke_token(self, token: RefreshToken, request: OAuth2Request) -> None:
        with self.provider.store.lock:
            token.revoked = True


def redirect_with_error(redirect_uri: str, state: str | None, error: str) -> str:
    """Where a refused login sends the browser back (RFC 6749, 4.1.2.1)."""
    query = {"error": error, **({"state": state} if state else {})}
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(query)

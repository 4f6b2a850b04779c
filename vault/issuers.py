"""The token issuers Coffre trusts: OpenID Connect providers found by discovery, and
the embedded development issuer (``vault.tokens.TokenAuthority``).

Each configured issuer (``IssuerSettings``) is an OpenID provider: its discovery
document (``/.well-known/openid-configuration``) names its key set (JWKS), fetched on
first use, kept ``jwks_max_age`` seconds and fetched again when a token names a key id
it does not hold (the provider rotated its keys), at most once per
``jwks_min_refresh`` seconds so that tokens with random key ids cannot make Coffre
hammer the provider. Signatures and claims are checked by PyJWT: RS256, ES256 or EdDSA
only (never ``none`` nor HMAC, so a public key cannot be used as a shared secret), the
exact ``iss`` and the issuer's own ``aud``, ``exp``, ``nbf`` and ``iat``. The claims then
become an ``Actor`` through the issuer's mapping (``vault.claims``), for the roles the
issuer is trusted with only.

A provider that cannot be reached gives ``IssuerUnavailable`` (503): the token is
neither accepted nor refused. Checking a token is not a business rule: what an actor may
do is the vault's decision.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import jwt
from pydantic import BaseModel, Field, model_validator

from vault import scopes
from vault.claims import ClaimsMapping, actor_from_claims, authentication_of, role_of
from vault.tokens import LEEWAY_SECONDS, MAX_TOKEN_LENGTH, Principal, TokenAuthority, VerifiedTokens
from wire.errors import IssuerUnavailable, Unauthenticated
from wire.values import Role

Algorithm = Literal["RS256", "ES256", "EdDSA"]
ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256", "EdDSA")
#: a discovery document or key set larger than this is not one
MAX_DOCUMENT_BYTES = 1024 * 1024
#: roles a person logs in for; an issuer trusted for one of them never asserts a regulator
PERSON_ROLES = frozenset({Role.PATIENT, Role.REPRESENTATIVE, Role.PROFESSIONAL})

#: fetches a URL's JSON body within a timeout (seconds); replaced in unit tests
Fetch = Callable[[str, float], Any]


class IssuerSettings(BaseModel):
    """One trusted OpenID provider, as configured (``COFFRE_OIDC_ISSUERS``)."""

    model_config = {"extra": "forbid", "frozen": True}

    issuer: str = Field(description="the provider's issuer URL, exactly as in its tokens' iss")
    audience: str = Field(description="the aud Coffre's tokens from this provider carry")
    roles: frozenset[Role] = Field(description="the roles this provider may assert")
    claims: ClaimsMapping = Field(default_factory=ClaimsMapping)
    clients: dict[str, str] = Field(
        default_factory=dict,
        description="OAuth client id -> Coffre service id, for services' client credentials",
    )
    discovery_url: str | None = Field(
        None, description="unset: <issuer>/.well-known/openid-configuration"
    )
    token_url: str | None = Field(
        None, description="the provider's token endpoint, for the OpenAPI document only"
    )
    algorithms: tuple[Algorithm, ...] = ALGORITHMS
    jwks_max_age: float = Field(3600.0, gt=0, description="seconds a fetched key set is used")
    jwks_min_refresh: float = Field(
        30.0, ge=0, description="seconds between fetches forced by unknown key ids or failures"
    )
    timeout: float = Field(5.0, gt=0, description="seconds to wait for the provider")
    leeway: int = Field(LEEWAY_SECONDS, ge=0, le=300, description="clock skew tolerated")

    @model_validator(mode="after")
    def _sound(self) -> IssuerSettings:
        if not self.roles:
            raise ValueError(f"issuer {self.issuer}: list the roles it may assert")
        if Role.REGULATOR in self.roles and self.roles & PERSON_ROLES:
            raise ValueError(
                f"issuer {self.issuer}: a patients' or professionals' provider may not "
                "assert the regulator role; configure the regulators' provider on its own"
            )
        if len(self.roles) > 1 and self.claims.role is None:
            raise ValueError(f"issuer {self.issuer}: several roles need claims.role")
        for url in (self.issuer, self.discovery_url):
            if url is not None:
                require_safe_url(url)
        return self

    @property
    def discovery(self) -> str:
        """Where the provider's discovery document is."""
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def require_safe_url(url: str) -> None:
    """``ValueError`` unless ``url`` is https, or http to this machine (tests, sidecars)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return
    raise ValueError(f"an issuer's URLs must be https (http only on loopback): {url}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch_json(url: str, timeout: float) -> Any:
    """GET ``url`` and parse its JSON body; ``IssuerUnavailable`` on any failure."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            body = answer.read(MAX_DOCUMENT_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise IssuerUnavailable(
            f"the token issuer could not be reached ({_reason(error)})"
        ) from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise IssuerUnavailable("the token issuer's document is too large")
    try:
        return json.loads(body)
    except ValueError:
        raise IssuerUnavailable("the token issuer's document is not JSON") from None


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    return type(error).__name__


class KeySet:
    """An OpenID provider's signing keys, from its discovery document and JWKS."""

    def __init__(self, settings: IssuerSettings, fetch: Fetch = fetch_json) -> None:
        self._settings = settings
        self._fetch = fetch
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # monotonic, of the last good fetch
        self._attempted_at: float | None = None  # monotonic, of the last attempt
        #: fetches made (discovery and key sets), for tests and metrics
        self.fetches = 0

    def key(self, kid: str | None) -> jwt.PyJWK:
        """The signing key ``kid`` names (or the only one, for a token naming none)."""
        with self._lock:
            now = time.monotonic()
            if self._fetched_at is None or now - self._fetched_at >= self._settings.jwks_max_age:
                self._refresh(now)
            found = self._keys.get(kid)
            if found is None and self._may_refresh(now):
                self._refresh(now)  # a rotation at the provider: look again, once
                found = self._keys.get(kid)
        if found is None:
            raise Unauthenticated("the bearer token's key is not one of its issuer's")
        return found

    def _may_refresh(self, now: float) -> bool:
        last = self._attempted_at
        return last is None or now - last >= self._settings.jwks_min_refresh

    def _refresh(self, now: float) -> None:
        if self._attempted_at is not None and not self._may_refresh(now):
            # failed a moment ago: answer 503 without asking the provider again
            raise IssuerUnavailable("the token issuer could not be reached a moment ago")
        self._attempted_at = now
        if self._jwks_uri is None:
            self._jwks_uri = self._discover()
        document = self._get(self._jwks_uri)
        try:
            keyset = jwt.PyJWKSet.from_dict(document if isinstance(document, dict) else {})
        except jwt.PyJWTError:
            raise IssuerUnavailable("the token issuer's key set holds no usable key") from None
        usable = [
            key
            for key in keyset.keys
            if key.algorithm_name in self._settings.algorithms
            and key.public_key_use in (None, "sig")
        ]
        keys: dict[str | None, jwt.PyJWK] = {key.key_id: key for key in usable if key.key_id}
        if len(usable) == 1:
            keys[None] = usable[0]  # a token naming no key id may use the only key
        self._keys = keys
        self._fetched_at = now

    def _discover(self) -> str:
        document = self._get(self._settings.discovery)
        if not isinstance(document, dict) or document.get("issuer") != self._settings.issuer:
            # OpenID Connect Discovery 1.0, section 4.3: the issuer must match exactly
            raise IssuerUnavailable("the token issuer's discovery document names another issuer")
        jwks_uri = document.get("jwks_uri")
        try:
            require_safe_url(str(jwks_uri))
        except ValueError:
            raise IssuerUnavailable("the token issuer's discovery has no usable jwks_uri") from None
        return str(jwks_uri)

    def _get(self, url: str) -> Any:
        self.fetches += 1
        return self._fetch(url, self._settings.timeout)


class OidcIssuer:
    """Verifies the access tokens of one configured OpenID provider."""

    def __init__(self, settings: IssuerSettings, fetch: Fetch = fetch_json) -> None:
        self.settings = settings
        self.keys = KeySet(settings, fetch)

    def authenticate(self, token: str, header: Mapping[str, Any]) -> tuple[Principal, float]:
        """The principal a token of this issuer asserts, and its ``exp``."""
        claims = self.verify(token, header, audience=self.settings.audience)
        role = role_of(claims, self.settings.claims, self.settings.roles)
        actor = actor_from_claims(claims, role, self.settings.claims, self.settings.clients)
        method = authentication_of(claims)
        if method is not None:
            actor = dataclasses.replace(actor, authentication=method)
        granted = scopes.parse(claims.get("scope", claims.get("scp")))
        return Principal(actor, granted, self.settings.issuer), float(claims["exp"])

    def verify(
        self,
        token: str,
        header: Mapping[str, Any],
        *,
        audience: str,
        what: str = "bearer token",
        require: Sequence[str] = ("exp", "iat", "iss", "aud"),
    ) -> dict[str, Any]:
        """The claims of a JWT signed by one of this issuer's keys with an accepted
        algorithm, naming this issuer and ``audience``, within its times (an access
        token, or an ID token for a client of ours); ``Unauthenticated`` otherwise."""
        algorithm = header.get("alg")
        if algorithm not in self.settings.algorithms:
            raise Unauthenticated(f"the {what}'s algorithm is not accepted")
        kid = header.get("kid")
        key = self.keys.key(kid if isinstance(kid, str) else None)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(self.settings.algorithms),
                audience=audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway,
                options={"require": list(require)},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(f"the {what} has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated(f"the {what} is not valid yet") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated(f"the {what} is not valid") from None
        return claims


class Issuers:
    """Every issuer this deployment trusts; a token goes to the one its ``iss`` names.

    ``iss`` is read before the signature is checked only to choose whose keys check it:
    a token naming issuer B signed by A fails B's keys, and each issuer checks its own
    audience, so a token of one cannot pass for another's.
    """

    def __init__(
        self,
        configured: Sequence[OidcIssuer] = (),
        embedded: TokenAuthority | None = None,
        *,
        cache_size: int | None = None,
    ) -> None:
        self.embedded = embedded
        self._by_issuer = {issuer.settings.issuer: issuer for issuer in configured}
        if embedded is not None and embedded.issuer in self._by_issuer:
            raise ValueError(f"the embedded issuer's name {embedded.issuer!r} is configured too")
        self.verified = VerifiedTokens() if cache_size is None else VerifiedTokens(cache_size)

    def issuer(self, name: str) -> OidcIssuer:
        """The configured issuer ``name`` (``KeyError`` if none)."""
        return self._by_issuer[name]

    def remembered(self, token: str) -> Principal | None:
        """The principal of a token verified before and not yet expired, else ``None``
        (then ask ``authenticate``). Never waits: no decoding, no issuer's keys."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        # by digest, until the token's exp
        remembered = self.verified.get(token)
        if remembered is None and self.embedded is not None:
            remembered = self.embedded.verified.get(token)
        return remembered

    def authenticate(self, token: str) -> Principal:
        """The principal a valid bearer token asserts; ``Unauthenticated`` for anything
        else, ``IssuerUnavailable`` when its issuer cannot be reached."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("missing or oversized bearer token")
        # A token verified before costs no decoding at all.
        remembered = self.remembered(token)
        if remembered is not None:
            return remembered
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise Unauthenticated("the bearer token is not valid") from None
        named = unverified.get("iss")
        if self.embedded is not None and named == self.embedded.issuer:
            return self.embedded.authenticate(token)
        issuer = self._by_issuer.get(named) if isinstance(named, str) else None
        if issuer is None:
            raise Unauthenticated("the bearer token's issuer is not trusted here")
        principal, expires_at = issuer.authenticate(token, header)
        self.verified.put(token, principal, expires_at)
        return principal

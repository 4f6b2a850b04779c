"""The web page's login: Coffre as an OpenID Connect relying party (a confidential
client), authorization code with PKCE (S256), ``state`` and ``nonce``.

The browser is sent to the web issuer's authorization endpoint; the issuer sends it
back to ``/auth/callback`` with a code, which the server (never the page) exchanges
for tokens with its client secret. The ID token is checked with the issuer's keys
(the same ``KeySet`` that checks its access tokens): signature, ``iss``, ``aud`` = the
client id, ``exp``/``iat`` and the ``nonce`` of this login. What a login needs between
the two legs (state, nonce, PKCE verifier, where to go next) travels sealed in a
short-lived cookie, so any API worker can finish a login another one began.

HTTP to the issuer uses httpx; JOSE is PyJWT's, as for access tokens
(``vault.issuers``). Nothing here decides what the person may do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt

from keys.web_sessions import SessionKeys
from vault.issuers import Issuers, fetch_json, require_safe_url
from wire.errors import InvalidInput, IssuerUnavailable, Unauthenticated

#: seconds a browser has to come back from the issuer's login pages
LOGIN_TTL = 600
#: a ``next`` longer than this is not a page of ours
MAX_NEXT_LENGTH = 2048


@dataclass(frozen=True)
class WebClient:
    """The web page's OAuth client at its issuer (``COFFRE_WEB_*`` settings)."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str
    #: RFC 8707 resource indicator asked with the code, when the issuer needs one
    resource: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class Tokens:
    """What a login or a refresh gave: kept server-side, sealed, never sent to the page."""

    access_token: str
    expires_at: float
    refresh_token: str | None = None
    id_token: str | None = None

    def to_json(self) -> bytes:
        """The tokens as JSON bytes (to be sealed)."""
        return json.dumps(asdict(self)).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Tokens:
        """The tokens :meth:`to_json` wrote."""
        return cls(**json.loads(data))


def safe_next(next_path: str | None) -> str:
    """``next_path`` if it is a path of this origin, ``"/"`` when unset; ``InvalidInput``
    for anything that could send the browser elsewhere (an open redirect)."""
    if not next_path:
        return "/"
    parts = urlsplit(next_path)
    unsafe = (
        len(next_path) > MAX_NEXT_LENGTH
        or not next_path.startswith("/")
        or next_path.startswith("//")
        or "\\" in next_path
        or parts.scheme
        or parts.netloc
        or any(ord(char) < 0x21 or ord(char) == 0x7F for char in next_path)
    )
    if unsafe:
        raise InvalidInput("next must be a path on this server", field="next")
    return next_path


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class WebLogin:
    """Begins and completes logins, refreshes and revokes, for one ``WebClient``."""

    def __init__(
        self,
        client: WebClient,
        issuers: Issuers,
        keys: SessionKeys,
        *,
        fetch: Callable[[str, float], Any] = fetch_json,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._issuers = issuers
        self._keys = keys
        self._fetch = fetch
        self._clock = clock
        self._metadata: dict[str, Any] | None = None

    # -- the issuer's metadata --------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document (fetched once)."""
        if self._metadata is None:
            url = self.client.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = self._fetch(url, self.client.timeout)
            if not isinstance(document, dict) or document.get("issuer") != self.client.issuer:
                raise IssuerUnavailable("the web login's issuer names another issuer")
            for name in ("authorization_endpoint", "token_endpoint"):
                try:
                    require_safe_url(str(document.get(name)))
                except ValueError:
                    raise IssuerUnavailable(f"the web login's issuer has no {name}") from None
            self._metadata = document
        return self._metadata

    def issuer_origin(self) -> str:
        """The scheme, host and port of the issuer (for the page's form-action)."""
        parts = urlsplit(self.client.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    # -- the two legs of a login ------------------------------------------------------

    def begin(self, next_path: str | None) -> tuple[str, str]:
        """Where to send the browser, and the sealed login state for its cookie."""
        target = safe_next(next_path)
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        challenge = _b64(hashlib.sha256(verifier.encode("ascii")).digest())
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uri,
            "scope": self.client.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if self.client.resource:
            params["resource"] = self.client.resource
        if "offline_access" in self.client.scope.split():
            params["prompt"] = "consent"  # OpenID Connect Core 11: offline access asks it
        pending = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "next": target,
            "exp": self._clock() + LOGIN_TTL,
        }
        sealed = _b64(self._keys.seal(json.dumps(pending).encode("utf-8")))
        endpoint = str(self.metadata()["authorization_endpoint"])
        separator = "&" if "?" in endpoint else "?"
        return endpoint + separator + urlencode(params), sealed

    def complete(
        self, sealed: str | None, state: str | None, code: str | None
    ) -> tuple[Tokens, str]:
        """The tokens of a login the issuer sent back, and the page to go to next.

        ``Unauthenticated`` for a login this browser did not begin (state), one too old,
        a code the issuer refuses or an ID token that does not check out.
        """
        pending = self._pending(sealed)
        if not state or not secrets.compare_digest(str(pending["state"]), state):
            raise Unauthenticated("this login was not started by this browser")
        if not code:
            raise Unauthenticated("the identity provider did not log you in")
        answer = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.client.redirect_uri,
                "code_verifier": str(pending["verifier"]),
            }
        )
        tokens = self._tokens(answer, previous=None)
        if tokens.id_token is None:
            raise Unauthenticated("the identity provider returned no ID token")
        self.check_id_token(tokens.id_token, str(pending["nonce"]))
        return tokens, str(pending["next"])

    def _pending(self, sealed: str | None) -> dict[str, Any]:
        opened = None
        if sealed:
            try:
                opened = self._keys.open(_unb64(sealed))
            except ValueError:
                opened = None
        if opened is None:
            raise Unauthenticated("no login is in progress in this browser")
        pending: dict[str, Any] = json.loads(opened)
        if float(pending["exp"]) < self._clock():
            raise Unauthenticated("the login took too long; start again")
        return pending

    def check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, times and nonce
        are checked with the issuer's own keys."""
        try:
            issuer = self._issuers.issuer(self.client.issuer)
        except KeyError:
            raise IssuerUnavailable("the web login's issuer is not a trusted issuer") from None
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("the ID token is not valid") from None
        claims = issuer.verify(
            id_token,
            header,
            audience=self.client.client_id,
            what="ID token",
            require=("exp", "iat", "iss", "aud", "sub"),
        )
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise Unauthenticated("the ID token is not for this login")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client.client_id:
            # OpenID Connect Core 3.1.3.7: several audiences, then azp must be us
            raise Unauthenticated("the ID token was issued to another client")
        return claims

    # -- after the login ---------------------------------------------------------------

    def refresh(self, tokens: Tokens) -> Tokens:
        """New tokens for a session whose access token expired; ``Unauthenticated`` when
        there is no refresh token or the issuer refuses it."""
        if tokens.refresh_token is None:
            raise Unauthenticated("the session has expired; log in again")
        answer = self._token_request(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        )
        return self._tokens(answer, previous=tokens)

    def revoke(self, tokens: Tokens) -> bool:
        """Revoke the refresh token at the issuer (RFC 7009) if it supports revocation;
        whether it was revoked. Failures are not the person's: they are logged out anyway."""
        try:
            endpoint = self.metadata().get("revocation_endpoint")
        except IssuerUnavailable:
            return False
        if tokens.refresh_token is None or not endpoint:
            return False
        try:
            require_safe_url(str(endpoint))
            answer = httpx.post(
                str(endpoint),
                auth=(self.client.client_id, self.client.client_secret),
                data={"token": tokens.refresh_token, "token_type_hint": "refresh_token"},
                timeout=self.client.timeout,
            )
        except (httpx.HTTPError, ValueError):
            return False
        return answer.status_code == httpx.codes.OK

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        if self.client.resource:
            form = {**form, "resource": self.client.resource}
        try:
            answer = httpx.post(
                str(self.metadata()["token_endpoint"]),
                auth=(self.client.client_id, self.client.client_secret),
                data=form,
                headers={"Accept": "application/json"},
                timeout=self.client.timeout,
            )
        except httpx.HTTPError:
            raise IssuerUnavailable("the identity provider could not be reached") from None
        if answer.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            raise IssuerUnavailable("the identity provider failed")
        if answer.status_code != httpx.codes.OK:
            raise Unauthenticated("the identity provider refused the login")
        try:
            body = answer.json()
        except ValueError:
            raise IssuerUnavailable("the identity provider's answer is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise IssuerUnavailable("the identity provider's answer has no access token")
        return body

    def _tokens(self, body: dict[str, Any], previous: Tokens | None) -> Tokens:
        lifetime = body.get("expires_in")
        expires_in = float(lifetime) if isinstance(lifetime, int | float) else 300.0
        refresh = body.get("refresh_token")
        id_token = body.get("id_token")
        return Tokens(
            access_token=str(body["access_token"]),
            expires_at=self._clock() + expires_in,
            # a provider that does not rotate refresh tokens keeps the one it gave
            refresh_token=str(refresh)
            if refresh
            else (previous.refresh_token if previous else None),
            id_token=str(id_token) if id_token else (previous.id_token if previous else None),
        )

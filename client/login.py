"""Logging in from a client: OAuth 2.0 against any OpenID provider, tokens kept locally.

- ``device_login``: the device authorization grant (RFC 8628). The provider gives a
  user code and a page; the person opens the page (on any device), enters the code,
  logs in; meanwhile this side polls the token endpoint.
- ``browser_login``: authorization code with PKCE (RFC 7636, S256) and a loopback
  redirect (RFC 8252): a one-shot HTTP listener on ``127.0.0.1`` receives the code.
- ``client_credentials``: a service's own token (no person).

The provider is found by discovery (``<issuer>/.well-known/openid-configuration``).
``TokenStore`` keeps one session per Coffre URL in ``tokens.json`` under the user's
configuration directory (``COFFRE_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/coffre``, else
``~/.config/coffre``), written 0600 in a 0700 directory, and refreshes the access token
with the refresh token when it has expired. Nothing here prints or logs a token.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from wire.errors import InvalidInput, Unauthenticated, Unavailable

#: the public client Coffre's command line registers at a provider
CLI_CLIENT = "coffre-cli"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: an access token this close to its expiry is refreshed first
EXPIRY_MARGIN = 30
TOKENS_FILE = "tokens.json"
DEFAULT_SCOPE = "openid offline_access"


@dataclass
class Session:
    """The tokens of one login (never printed: ``repr`` hides them)."""

    issuer: str
    client_id: str
    access_token: str
    expires_at: float
    refresh_token: str | None = None
    #: for a service's client credentials: the secret is not stored, only its variable
    secret_variable: str | None = None
    scope: str = ""

    def __repr__(self) -> str:
        return f"Session(issuer={self.issuer!r}, client_id={self.client_id!r})"

    @property
    def expired(self) -> bool:
        """Whether the access token is (nearly) expired."""
        return time.time() >= self.expires_at - EXPIRY_MARGIN


def config_dir() -> Path:
    """Where the client keeps its files: ``COFFRE_CONFIG_DIR``, else the XDG place."""
    explicit = os.environ.get("COFFRE_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or "~/.config"
    return Path(base).expanduser() / "coffre"


class Provider:
    """An OpenID provider as its discovery document describes it."""

    def __init__(self, issuer: str, http: httpx.Client | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.http = http or httpx.Client(timeout=15.0)
        url = self.issuer + "/.well-known/openid-configuration"
        try:
            answer = self.http.get(url)
        except httpx.HTTPError as error:
            raise Unavailable(f"the identity provider {self.issuer} cannot be reached") from error
        if answer.status_code != 200:
            raise Unavailable(f"the identity provider's discovery answered {answer.status_code}")
        document = answer.json()
        if document.get("issuer", "").rstrip("/") != self.issuer:
            raise Unauthenticated("the identity provider's discovery names another issuer")
        self.document: dict[str, Any] = document

    def endpoint(self, name: str) -> str:
        """A URL of the discovery document (``token_endpoint``...)."""
        url = self.document.get(name)
        if not isinstance(url, str):
            raise InvalidInput(f"the identity provider has no {name.replace('_', ' ')}")
        return url

    def token(self, form: dict[str, str], auth: tuple[str, str] | None = None) -> dict[str, Any]:
        """POST to the token endpoint; the answer's JSON (``error`` included)."""
        answer = self.http.post(self.endpoint("token_endpoint"), data=form, auth=auth)
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code != 200 and "error" not in body:
            body = {"error": f"HTTP {answer.status_code}"}
        return body if isinstance(body, dict) else {"error": "not a JSON object"}

    def session(self, client_id: str, answer: dict[str, Any], **extra: Any) -> Session:
        """The session a successful token answer opens."""
        if "access_token" not in answer:
            raise Unauthenticated(f"the identity provider refused: {_error(answer)}")
        return Session(
            issuer=self.issuer,
            client_id=client_id,
            access_token=str(answer["access_token"]),
            expires_at=time.time() + float(answer.get("expires_in", 300)),
            refresh_token=answer.get("refresh_token"),
            **{"scope": str(answer.get("scope", "")), **extra},
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def _error(answer: dict[str, Any]) -> str:
    text = str(answer.get("error", "unknown error"))
    detail = answer.get("error_description")
    return f"{text} ({detail})" if isinstance(detail, str) and detail else text


@dataclass(frozen=True)
class DeviceCode:
    """What the person must do to approve this device (RFC 8628 section 3.2)."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


def device_login(
    provider: Provider,
    show: Callable[[DeviceCode], None],
    client_id: str = CLI_CLIENT,
    scope: str = DEFAULT_SCOPE,
    sleep: Callable[[float], None] = time.sleep,
) -> Session:
    """Log in by the device authorization grant: ``show`` tells the person where to go
    and which code to enter; this polls until they approve, refuse or the code expires."""
    answer = provider.http.post(
        provider.endpoint("device_authorization_endpoint"),
        data={"client_id": client_id, "scope": scope},
    )
    body = answer.json()
    if answer.status_code != 200:
        raise Unauthenticated(f"the identity provider refused: {_error(body)}")
    code = DeviceCode(
        user_code=str(body["user_code"]),
        verification_uri=str(body["verification_uri"]),
        verification_uri_complete=body.get("verification_uri_complete"),
        expires_in=int(body.get("expires_in", 600)),
        interval=int(body.get("interval", 5)),
    )
    show(code)
    interval = float(code.interval)
    deadline = time.monotonic() + code.expires_in
    form = {
        "grant_type": DEVICE_GRANT,
        "device_code": str(body["device_code"]),
        "client_id": client_id,
    }
    while time.monotonic() < deadline:
        sleep(interval)
        answer_body = provider.token(form)
        error = answer_body.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5  # RFC 8628 section 3.5
            continue
        return provider.session(client_id, answer_body)
    raise Unauthenticated("the login was not approved in time; run `coffre login` again")


def browser_login(
    provider: Provider,
    open_url: Callable[[str], None],
    client_id: str = CLI_CLIENT,
    scope: str = DEFAULT_SCOPE,
    timeout: float = 300.0,
    extra: dict[str, str] | None = None,
) -> Session:
    """Log in by authorization code with PKCE: ``open_url`` shows the provider's login
    page (a browser); its redirect comes back to a listener on ``127.0.0.1``."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    with _loopback(timeout) as (redirect_uri, wait):
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge.rstrip(b"=").decode("ascii"),
            "code_challenge_method": "S256",
            **(extra or {}),
        }
        open_url(provider.endpoint("authorization_endpoint") + "?" + urlencode(query))
        answer = wait()
    if answer.get("state") != state:
        raise Unauthenticated("the login's answer is not for this request (state differs)")
    if "code" not in answer:
        raise Unauthenticated(f"the login was refused: {_error(answer)}")
    token = provider.token(
        {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        }
    )
    return provider.session(client_id, token)


@contextlib.contextmanager
def _loopback(timeout: float) -> Iterator[tuple[str, Callable[[], dict[str, str]]]]:
    """A one-request HTTP listener on a free loopback port; ``wait()`` gives the query
    of the request it received (the provider's redirect)."""
    received: dict[str, str] = {}
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/callback" or done.is_set():
                self.send_error(404)
                return
            received.update({k: v[0] for k, v in parse_qs(parts.query).items()})
            done.set()
            page = "Connexion terminée : vous pouvez fermer cette page. / Logged in.".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the query holds the code: never logged

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def wait() -> dict[str, str]:
        if not done.wait(timeout):
            raise Unauthenticated("no answer from the login page in time")
        return received

    try:
        yield f"http://127.0.0.1:{server.server_port}/callback", wait
    finally:
        server.shutdown()
        server.server_close()


def client_credentials(
    provider: Provider, client_id: str, secret: str, scope: str = "", variable: str | None = None
) -> Session:
    """A service's token by the client credentials grant (RFC 6749 section 4.4)."""
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    answer = provider.token(form, auth=(client_id, secret))
    return provider.session(client_id, answer, secret_variable=variable)


class TokenStore:
    """The sessions of this user, by Coffre URL, in ``tokens.json`` (0600)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or config_dir()
        self.path = self.directory / TOKENS_FILE

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}  # a damaged file is a logged-out state, not a crash
        return data if isinstance(data, dict) else {}

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{TOKENS_FILE}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temporary, self.path)

    def get(self, url: str) -> Session | None:
        """The session kept for the Coffre at ``url``."""
        entry = self._load().get(_key(url))
        if not isinstance(entry, dict):
            return None
        try:
            return Session(**entry)
        except TypeError:
            return None

    def put(self, url: str, session: Session) -> None:
        """Keep ``session`` for the Coffre at ``url`` (replacing any)."""
        data = self._load()
        data[_key(url)] = asdict(session)
        self._save(data)

    def forget(self, url: str) -> Session | None:
        """Drop the session of ``url``; the one dropped, if any."""
        data = self._load()
        entry = data.pop(_key(url), None)
        if entry is not None:
            self._save(data)
        try:
            return Session(**entry) if isinstance(entry, dict) else None
        except TypeError:
            return None

    def access_token(self, url: str, http: httpx.Client | None = None) -> str | None:
        """A valid access token for ``url``: the kept one, refreshed first if it has
        expired (by refresh token, or a service's client credentials); None if there is
        no session."""
        session = self.get(url)
        if session is None:
            return None
        if not session.expired:
            return session.access_token
        provider = Provider(session.issuer, http)
        if session.refresh_token:
            answer = provider.token(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": session.refresh_token,
                    "client_id": session.client_id,
                }
            )
            if "access_token" not in answer:
                raise Unauthenticated("the login has expired; run `coffre login` again")
            renewed = provider.session(session.client_id, answer)
            # a provider that does not rotate refresh tokens keeps the old one valid
            renewed.refresh_token = renewed.refresh_token or session.refresh_token
        elif session.secret_variable and os.environ.get(session.secret_variable):
            renewed = client_credentials(
                provider,
                session.client_id,
                os.environ[session.secret_variable],
                session.scope,
                session.secret_variable,
            )
        else:
            raise Unauthenticated("the login has expired; run `coffre login` again")
        self.put(url, renewed)
        return renewed.access_token


def revoke(session: Session, http: httpx.Client | None = None) -> bool:
    """Revoke the session's refresh token at its provider (RFC 7009), if it has a
    revocation endpoint; True when the provider accepted."""
    if not session.refresh_token:
        return False
    try:
        provider = Provider(session.issuer, http)
        url = provider.document.get("revocation_endpoint")
        if not isinstance(url, str):
            return False
        answer = provider.http.post(
            url,
            data={
                "token": session.refresh_token,
                "token_type_hint": "refresh_token",
                "client_id": session.client_id,
            },
        )
    except (httpx.HTTPError, Unavailable, Unauthenticated):
        return False
    return answer.status_code == 200


def _key(url: str) -> str:
    return url.rstrip("/")

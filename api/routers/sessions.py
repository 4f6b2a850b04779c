"""The web page's login and session (backend-for-frontend): HTTP translation only.

``/auth/login`` sends the browser to the web issuer; ``/auth/callback`` turns the
issuer's answer into a server-side session (``vault.web_sessions``) and an opaque
cookie; ``/auth/session`` says who is logged in; ``/auth/logout`` ends it. No token
ever reaches the page. These routes take no bearer token, so they have no line of
their own in ``api.scopes``' table (like ``/v1/health``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import SESSION_COOKIE, ServicesDep, check_change, session_principal, web_sessions
from api.routers.common import Router, problem_responses
from api.sessions_models import SessionPublic
from vault.web_login import LOGIN_TTL, WebLogin
from vault.web_sessions import WebSessions
from wire.errors import Unauthenticated, Unavailable

router = Router(prefix="/auth", tags=["sessions"], responses=problem_responses(401, 403, 503))

#: holds a login between its two legs (state, nonce, PKCE verifier; sealed)
LOGIN_COOKIE = "__Host-coffre-login"
#: ``__Host-`` cookies: Secure, Path=/, no Domain; Lax, so the issuer's redirect back
#: (a top-level GET) carries them while other sites' POSTs do not
COOKIE_FLAGS = {"path": "/", "secure": True, "httponly": True, "samesite": "lax"}


def _login(sessions: WebSessions) -> WebLogin:
    if sessions.login is None:
        raise Unavailable("the web login is not configured (COFFRE_WEB_CLIENT_SECRET)")
    return sessions.login


@router.get("/login", name="login", include_in_schema=False)
def login(
    services: ServicesDep, next_path: Annotated[str | None, Query(alias="next")] = None
) -> RedirectResponse:
    """Send the browser to the identity provider's login (authorization code + PKCE)."""
    url, pending = _login(web_sessions(services)).begin(next_path)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(LOGIN_COOKIE, pending, max_age=LOGIN_TTL, **COOKIE_FLAGS)  # type: ignore[arg-type]
    return response


@router.get("/callback", name="callback", include_in_schema=False)
def callback(
    request: Request,
    services: ServicesDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> RedirectResponse:
    """Finish the login the provider sent back: a session, its cookie, then ``next``."""
    sessions = web_sessions(services)
    if error is not None:
        raise Unauthenticated("the identity provider did not log you in")
    tokens, target = _login(sessions).complete(request.cookies.get(LOGIN_COOKIE), state, code)
    principal = services.issuers.authenticate(tokens.access_token)
    session_id = sessions.create(principal, tokens)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, **COOKIE_FLAGS)  # type: ignore[arg-type]
    response.delete_cookie(LOGIN_COOKIE, **COOKIE_FLAGS)  # type: ignore[arg-type]
    return response


@router.get("/session", name="current_session")
def current_session(request: Request, services: ServicesDep) -> SessionPublic:
    """Who is logged in, and the CSRF token for the page's changes."""
    actor = session_principal(request, services).actor
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return SessionPublic(
        role=actor.role.value,
        id=actor.id,
        name=actor.name,
        profession=actor.profession.value if actor.profession else None,
        organisation=actor.organisation,
        csrf_token=web_sessions(services).keys.csrf(cookie),
    )


@router.post("/logout", name="logout", status_code=204)
def logout(request: Request, services: ServicesDep) -> Response:
    """End the session (its refresh token revoked at the provider when it can be) and
    clear the cookie. Like any change made with the cookie, it needs the CSRF token."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is not None:
        check_change(request, services, cookie)
        web_sessions(services).logout(cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, **COOKIE_FLAGS)  # type: ignore[arg-type]
    return response

"""What routes depend on, as ``Annotated`` aliases: services and the authenticated actor.

A route's signature says what it needs (``vault: VaultDep, actor: PatientActor``).
Queries over the projections come from the composition root too, through
``FreshViewsDep``: in embedded mode it catches the projections up before handing a
query object out, so no route decides about freshness.
Role checks here are coarse ("this role may not call this route"); whether *this*
patient may act on *that* space is the vault's decision, never a route's. The bearer
token is verified by the issuer that signed it (``vault.issuers``) and must carry the
OAuth scope the route needs (``api.scopes``), checked before the role.

The web page sends no bearer token: its session cookie stands for one
(``vault.web_sessions``). The session's access token is then checked exactly as a
bearer token would be, and a change (unsafe method) must also carry the session's CSRF
token in ``X-CSRF-Token`` and come from this server's own origin (``Origin``, else
``Sec-Fetch-Site``), so that another site cannot ride the cookie.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.scopes import need_of
from domain.values import Actor
from projections.access_log import AccessLog
from projections.access_views import AccessViews
from projections.notifications import Notifications
from projections.runner import ProjectionRunner, wait_for
from projections.trail_query import Trail
from vault import scopes
from vault.issuers import Issuers
from vault.service import Vault
from vault.tokens import Principal, TokenAuthority
from vault.web_sessions import WebSessions
from wire.errors import (
    CrossSiteRequest,
    Forbidden,
    InsufficientScope,
    Unauthenticated,
)
from wire.values import Role


class ApiSettings(Protocol):
    """The settings the API reads (``vault.settings.Settings`` provides them)."""

    @property
    def log_format(self) -> str:
        """``"json"`` or ``"console"``."""
        ...

    @property
    def run_projections_in_process(self) -> bool:
        """Whether this process also runs the projections (embedded mode)."""
        ...


class Services(Protocol):
    """What the API needs from the composition root (``coffre.bootstrap.Coffre``)."""

    vault: Vault
    tokens: TokenAuthority
    issuers: Issuers
    access_log: AccessLog
    access_views: AccessViews
    notifications: Notifications
    runner: ProjectionRunner
    trail: Trail
    web_sessions: WebSessions | None
    settings: Any  # an ApiSettings; ``Any`` so the pydantic Settings class matches


#: how long a request waits for separate projection workers to catch up (seconds)
SETTLE_TIMEOUT = 30.0


# The dependencies below that only hand out an object, or check one already in hand,
# are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, and under
# load each such hop (a worker thread woken, the event loop woken back) cost a read more
# than its own work. Only what may wait on the network or a disk runs in the pool.


# The services are taken from the request in each dependency below rather than through
# ``ServicesDep``: FastAPI solves a dependency's own dependencies every time it is named,
# cached or not, and the vault and the actor (every route) named it twice a request.


def services_of(request: Request) -> Services:
    """The services ``create_app`` stashed on the application."""
    return request.app.state.services  # type: ignore[no-any-return]


async def get_services(request: Request) -> Services:
    """``services_of`` as a dependency (``ServicesDep``), for routes that need several."""
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_vault(request: Request) -> Vault:
    """The vault application service."""
    return services_of(request).vault


async def get_trail(request: Request) -> Trail:
    """The regulator trail (queries, checkpoints, exports) as it is now projected."""
    return services_of(request).trail


async def current_time(request: Request) -> datetime:
    """The vault's clock's now (the instant views are asked about)."""
    return services_of(request).vault.clock.now()


class FreshViews:
    """The query objects over the projections, caught up first in embedded mode.

    When this process runs the projections itself (``run_projections_in_process``),
    the first query of a request projects what is stored now, so that a caller sees
    their own latest actions; with separate workers the views are eventual, as
    documented. Ask for a query object *after* the use case it follows (an access log
    read is recorded, then the log is queried).
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        self._caught_up = not services.settings.run_projections_in_process

    def _fresh(self) -> None:
        if not self._caught_up:
            self._services.runner.catch_up()
            self._caught_up = True

    def access_log(self) -> AccessLog:
        """Queries over the access-log view."""
        self._fresh()
        return self._services.access_log

    def access_views(self) -> AccessViews:
        """Queries over the access views (who may read what)."""
        self._fresh()
        return self._services.access_views

    def notifications(self) -> Notifications:
        """Queries over the notifications view."""
        self._fresh()
        return self._services.notifications

    def trail(self) -> Trail:
        """The regulator trail."""
        self._fresh()
        return self._services.trail

    def settled(self, *names: str, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until the views ``names`` (every one if none is named) hold every event
        stored now, wherever the projections run (an export must show the reads it just
        recorded); ``Unavailable`` if the projection workers do not get them there
        within ``timeout`` seconds, or one of them is stalled."""
        if self._services.settings.run_projections_in_process:
            self._services.runner.catch_up()
            self._caught_up = True
            return
        # Unavailable: behind, or stalled
        wait_for(self._services.runner, timeout, names or None)


async def fresh_views(request: Request) -> FreshViews:
    """The views for this request (see ``FreshViews``)."""
    return FreshViews(services_of(request))


VaultDep = Annotated[Vault, Depends(get_vault)]
TrailDep = Annotated[Trail, Depends(get_trail)]
FreshViewsDep = Annotated[FreshViews, Depends(fresh_views)]
NowDep = Annotated[datetime, Depends(current_time)]

# auto_error=False: a missing header must become our 401 problem, not FastAPI's 403.
bearer = HTTPBearer(
    auto_error=False,
    description="A JWT access token (RS256, ES256 or EdDSA) of a trusted issuer",
)


#: the web page's session cookie (``__Host-``: Secure, Path=/, no Domain; RFC 6265bis)
SESSION_COOKIE = "__Host-coffre-session"
#: the header a cookie session's changes carry its CSRF token in
CSRF_HEADER = "X-CSRF-Token"
#: methods that change something: with a cookie they need the CSRF checks
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The actor the bearer token (or the web session's) asserts, if it carries the
    scope this route needs; ``Unauthenticated`` without a valid token,
    ``InsufficientScope`` without the scope, ``CrossSiteRequest`` for a cookie's change
    that fails the CSRF checks."""
    services = services_of(request)
    if credentials is not None:
        # A token verified before is answered from memory, on the event loop; a new
        # one may need its issuer's keys fetched, so it is verified in the thread pool.
        principal = services.issuers.remembered(credentials.credentials)
        if principal is None:
            principal = await run_in_threadpool(
                services.issuers.authenticate, credentials.credentials
            )
    else:
        # a session's token may be refreshed at its provider first
        principal = await run_in_threadpool(session_principal, request, services)
    require_scope(principal, request.scope.get("route"))
    return principal.actor


def web_sessions(services: Services) -> WebSessions:
    """The web sessions of this server; ``Unauthenticated`` when it keeps none."""
    sessions = getattr(services, "web_sessions", None)
    if sessions is None:
        raise Unauthenticated("a bearer token is required")
    return sessions  # type: ignore[no-any-return]


def session_principal(request: Request, services: Services) -> Principal:
    """Who the request's session cookie is for, its access token checked like a bearer
    token (refreshed first if it expired)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise Unauthenticated("a bearer token or a session is required")
    sessions = web_sessions(services)
    if request.method in UNSAFE_METHODS:
        check_change(request, services, cookie)
    return services.issuers.authenticate(sessions.access_token(cookie))


def check_change(request: Request, services: Services, cookie: str) -> None:
    """``CrossSiteRequest`` unless a change made with the session ``cookie`` comes from
    this server's origin and carries the session's CSRF token."""
    check_same_origin(request, services.settings.base_url)
    if not web_sessions(services).keys.csrf_matches(cookie, request.headers.get(CSRF_HEADER)):
        raise CrossSiteRequest(f"a change made with a session needs its {CSRF_HEADER}")


def check_same_origin(request: Request, base_url: str) -> None:
    """``CrossSiteRequest`` unless the request comes from a page of ``base_url``'s
    origin: its ``Origin`` header, else (older browsers omit it on some requests) its
    ``Sec-Fetch-Site``; a request with neither is refused."""
    origin = request.headers.get("origin")
    if origin is not None:
        if not hmac.compare_digest(origin.rstrip("/").lower(), origin_of(base_url)):
            raise CrossSiteRequest("this change comes from another site")
        return
    if request.headers.get("sec-fetch-site") != "same-origin":
        raise CrossSiteRequest("this change does not say it comes from this site")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased as browsers send it in ``Origin``."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def require_scope(principal: Principal, route: object) -> None:
    """``InsufficientScope`` unless ``principal``'s token covers what ``route`` needs."""
    need = need_of(route)
    if need is None:
        # fail closed: a route taking a token must say which scope it needs
        raise Forbidden("this operation declares no scope")
    if not scopes.allows(principal.scopes, principal.actor.role, need):
        wanted = need.scope_for(principal.actor.role)
        raise InsufficientScope(f"this operation needs the scope {wanted}", scope=wanted)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_roles(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency admitting only callers whose token has one of ``roles``."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(role.value for role in allowed))

    async def check(actor: CurrentActor) -> Actor:
        if actor.role not in allowed:
            raise Forbidden(f"this operation is for: {names}")
        return actor

    return check


ServiceActor = Annotated[Actor, Depends(require_roles(Role.SERVICE))]
PatientActor = Annotated[Actor, Depends(require_roles(Role.PATIENT))]
RegulatorActor = Annotated[Actor, Depends(require_roles(Role.REGULATOR))]
#: who may put documents into a space (the vault then checks a patient's own space)
DepositorActor = Annotated[
    Actor, Depends(require_roles(Role.PATIENT, Role.PROFESSIONAL, Role.SERVICE))
]

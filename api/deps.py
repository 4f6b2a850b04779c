"""What routes depend on, as ``Annotated`` aliases: services and the authenticated actor.

A route's signature says what it needs (``vault: VaultDep, actor: PatientActor``).
Role checks here are coarse ("this role may not call this route"); whether *this*
patient may act on *that* space is the vault's decision, never a route's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.values import Actor
from projections.access_log import AccessLog
from projections.runner import ProjectionRunner
from projections.trail_query import Trail
from vault.service import Vault
from vault.tokens import TokenAuthority
from wire.errors import Forbidden, Unauthenticated
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
    access_log: AccessLog
    runner: ProjectionRunner
    trail: Trail
    settings: Any  # an ApiSettings; ``Any`` so the pydantic Settings class matches


def get_services(request: Request) -> Services:
    """The services ``create_app`` stashed on the application."""
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


def get_vault(services: ServicesDep) -> Vault:
    """The vault application service."""
    return services.vault


def get_access_log(services: ServicesDep) -> AccessLog:
    """Queries over the access-log projection."""
    return services.access_log


def get_runner(services: ServicesDep) -> ProjectionRunner:
    """The projection runner (to catch up in embedded mode)."""
    return services.runner


def get_trail(services: ServicesDep) -> Trail:
    """The regulator trail (queries, checkpoints, exports)."""
    return services.trail


def get_settings(services: ServicesDep) -> ApiSettings:
    """The process settings."""
    return services.settings  # type: ignore[no-any-return]


VaultDep = Annotated[Vault, Depends(get_vault)]
AccessLogDep = Annotated[AccessLog, Depends(get_access_log)]
RunnerDep = Annotated[ProjectionRunner, Depends(get_runner)]
TrailDep = Annotated[Trail, Depends(get_trail)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]

# auto_error=False: a missing header must become our 401 problem, not FastAPI's 403.
bearer = HTTPBearer(auto_error=False, description="An EdDSA JWT naming the caller")


def current_actor(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The actor the bearer token asserts; ``Unauthenticated`` without a valid one."""
    if credentials is None:
        raise Unauthenticated("a bearer token is required")
    return services.tokens.verify(credentials.credentials)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting only callers whose token has one of ``roles``."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(role.value for role in allowed))

    def check(actor: CurrentActor) -> Actor:
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

"""``coffre login`` and ``coffre logout``: an OpenID provider's tokens for the commands.

``coffre login`` logs in at the provider (by default the Coffre's embedded development
provider, ``<url>/idp``; ``--issuer`` for any other found by discovery) and keeps the
tokens for ``--url`` (``client.login.TokenStore``); every command then uses them when
no ``COFFRE_TOKEN`` is given, refreshing them when they expire. ``coffre logout``
forgets them and revokes the refresh token where the provider can.
"""

from __future__ import annotations

import os
import webbrowser
from collections.abc import Callable
from typing import Annotated

import typer

from client.cli.common import DEFAULT_URL, UrlOption, err, fail, out
from client.login import (
    CLI_CLIENT,
    DEFAULT_SCOPE,
    DeviceCode,
    Provider,
    TokenStore,
    browser_login,
    client_credentials,
    device_login,
    revoke,
)

IssuerOption = Annotated[
    str | None,
    typer.Option(
        "--issuer",
        envvar="COFFRE_ISSUER",
        show_envvar=True,
        help="The OpenID provider's issuer URL (default: the server's own, <url>/idp).",
    ),
]


def login(
    url: UrlOption = DEFAULT_URL,
    issuer: IssuerOption = None,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser/--device",
            help="Authorization code + PKCE in a browser (loopback redirect), or the device "
            "flow: a code to enter on the provider's page, from any device (default).",
        ),
    ] = False,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="--browser: open the page (else print it).")
    ] = True,
    client_id: Annotated[str, typer.Option(help="The OAuth client id.")] = CLI_CLIENT,
    scope: Annotated[str, typer.Option(help="Scopes to ask for.")] = DEFAULT_SCOPE,
    service: Annotated[
        bool,
        typer.Option(
            "--service",
            help="A service's client credentials: --client-id, and its secret in the "
            "variable --secret-env.",
        ),
    ] = False,
    secret_env: Annotated[
        str, typer.Option(help="--service: the variable holding the client's secret.")
    ] = "COFFRE_CLIENT_SECRET",  # noqa: S107 - a variable name, not a secret
) -> None:
    """Log in at an OpenID provider; the tokens are kept for the other commands."""
    provider = Provider(issuer or url.rstrip("/") + "/idp")
    try:
        if service:
            secret = os.environ.get(secret_env)
            if not secret:
                fail(f"--service: set the client's secret in {secret_env}")
            session = client_credentials(
                provider, client_id, secret, _service_scope(scope), secret_env
            )
        elif browser:
            session = browser_login(
                provider, _opener(open_browser), client_id, scope, extra=_consent(scope)
            )
        else:
            session = device_login(provider, _show_code, client_id, scope)
    finally:
        provider.close()
    TokenStore().put(url, session)
    err().print(f"logged in at {session.issuer} for {url}")


def logout(url: UrlOption = DEFAULT_URL) -> None:
    """Forget the tokens kept for ``--url`` and revoke them where the provider can."""
    session = TokenStore().forget(url)
    if session is None:
        err().print(f"not logged in for {url}")
        return
    revoked = revoke(session)
    out().print(f"logged out of {url}" + (" (revoked at the provider)" if revoked else ""))


def _service_scope(scope: str) -> str:
    # a service's token asks no OpenID scope (no person): only what it was given
    return " ".join(s for s in scope.split() if s not in ("openid", "offline_access"))


def _consent(scope: str) -> dict[str, str]:
    # OpenID Connect gives a refresh token for offline_access only with prompt=consent
    return {"prompt": "consent"} if "offline_access" in scope.split() else {}


def _show_code(code: DeviceCode) -> None:
    page = code.verification_uri_complete or code.verification_uri
    typer.echo(f"open {page}", err=True)
    err().print(f"and enter the code: {code.user_code}")
    err().print("waiting for the login…")


def _opener(open_browser: bool) -> Callable[[str], None]:
    def show(page: str) -> None:
        # plain, never wrapped: the URL must stay whole to be copied
        typer.echo(f"log in at: {page}", err=True)
        if open_browser:
            webbrowser.open(page)

    return show

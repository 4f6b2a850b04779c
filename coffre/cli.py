"""The ``coffre`` command: the client's commands and the server's, in one Typer app.

- ``client.cli``         the client's commands (HTTP through the SDK; offline verification)
- ``coffre.cli_server``  serve, migrate, token, projections, blobs, scheduler, demo

The server's commands are imported only when one of them is asked for (or listed by
``--help``): a client-only install (``pip install coffre``, without the ``server`` extra)
runs every client command, and says plainly that a server command needs the extra.
Benchmarks are not part of the command (``python -m bench``; bench/README.md).

Settings come from ``COFFRE_*`` variables (``vault/settings.py``); see ``docs/cli.md``.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperCommand

from client.cli import new_app, register
from client.cli.common import CoffreGroup, fail

#: the server's commands, by name, resolved lazily from ``coffre.cli_server``
SERVER_COMMANDS = (
    "serve",
    "migrate",
    "token",
    "projections",
    "blobs",
    "scheduler",
    "demo",
    "keys",
)
#: the packages of the ``server`` extra: missing one means a client-only install
SERVER_PACKAGES = frozenset(
    {
        "eventsourcing",
        "psycopg",
        "psycopg_pool",
        "minio",
        "fastapi",
        "starlette",
        "uvicorn",
        "structlog",
        "yoyo",
        "jwt",
        "pydantic",
        "pydantic_settings",
        "authlib",
        "joserfc",
    }
)
SERVER_EXTRA_HINT = "pip install 'coffre[server]'"


class ComposedGroup(CoffreGroup):
    """The top group: client commands eagerly, server commands on first use."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        """The client's commands and the server's, sorted as ``--help`` shows them."""
        return sorted({*super().list_commands(ctx), *SERVER_COMMANDS})

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        """A client command, or the server command of that name (imported now)."""
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in SERVER_COMMANDS:
            return found
        try:
            from coffre.cli_server import server_group
        except ModuleNotFoundError as missing:
            if (missing.name or "").split(".")[0] not in SERVER_PACKAGES:
                raise
            return _needs_server(cmd_name, missing.name or "")
        return server_group().get_command(ctx, cmd_name)


def _needs_server(name: str, missing: str) -> TyperCommand:
    """A stand-in for a server command on a client-only install: says what to install."""
    message = (
        f"`coffre {name}` is a server command and needs the server extra "
        f"({missing} is not installed): {SERVER_EXTRA_HINT}"
    )
    stub = typer.Typer(add_completion=False)

    @stub.command(
        name,
        help=escape(f"(needs the server extra: {SERVER_EXTRA_HINT})"),
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )
    def run() -> None:
        # escaped: rich would read `[server]` as markup
        fail(escape(message))

    command = typer.main.get_command(stub)
    command.name = name
    return command


app = new_app(ComposedGroup)
register(app)


def main() -> None:
    """Entry point of the ``coffre`` console script."""
    app()


if __name__ == "__main__":
    main()

"""What every ``coffre`` command shares: options, error handling, consoles, the SDK client.

Client side only (the SDK, typer, rich): the server's commands add their own parts in
``coffre.cli_admin`` (settings, the token issuer).

Output rules: results go to stdout; progress, notes and errors to stderr. Nothing here
ever prints a token, a key or a document byte (only ``coffre token`` prints a token).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from typer.core import TyperGroup

from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from wire.errors import CoffreError, InvalidInput

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_READER_KEY = "~/.config/coffre/reader.key"

UrlOption = Annotated[
    str, typer.Option("--url", envvar="COFFRE_URL", help="Coffre API base URL.", show_envvar=True)
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="COFFRE_TOKEN",
        show_default=False,
        show_envvar=True,
        help="Bearer token (prefer the environment: command lines are visible to others).",
    ),
]
ReaderKeyOption = Annotated[
    Path,
    typer.Option(
        "--reader-key",
        envvar="COFFRE_READER_KEY",
        show_envvar=True,
        help="This machine's device key file (made by `coffre devices add` or `enrol`).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
PatientArg = Annotated[str, typer.Argument(help="The patient's INS (15 characters).")]


def out() -> Console:
    """The console for results (stdout); made per call so test runners capture it."""
    return Console(highlight=False)


def err() -> Console:
    """The console for progress, notes and errors (stderr)."""
    return Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line on stderr and exit non-zero."""
    err().print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


class CoffreGroup(TyperGroup):
    """The top command group: turns expected failures into one line and an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        """Run the command; a Coffre, file or configuration error prints its message."""
        try:
            return super().invoke(ctx)
        except CoffreError as error:
            # details never hold tokens, keys or document bytes (wire.errors' contract)
            fail(error.detail)
        except FileNotFoundError as error:
            fail(f"no such file: {error.filename}")
        except (FileExistsError, IsADirectoryError, PermissionError) as error:
            fail(f"{error.strerror}: {error.filename}")
        except Exception as error:
            # the server's settings (pydantic) are imported only by the server's commands:
            # if pydantic was never imported, no configuration error can have been raised
            pydantic = sys.modules.get("pydantic")
            if pydantic is None or not isinstance(error, pydantic.ValidationError):
                raise
            # only the messages: input values could be secrets from the environment
            fail("configuration: " + "; ".join(_setting_error(e) for e in error.errors()))


def _setting_error(error: Any) -> str:
    # Name the variable to fix (COFFRE_PG_PORT), never its value (it may be a secret).
    loc = "_".join(str(part) for part in error.get("loc", ()) if part != "__root__")
    return f"COFFRE_{loc.upper()}: {error['msg']}" if loc else str(error["msg"])


def parse_instant(value: str | None, field: str) -> datetime | None:
    """An ``--<field>`` ISO date or instant as an aware datetime (``None`` when absent).

    Raises ``InvalidInput`` naming the option when ``value`` is not ISO 8601.
    """
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--{field} must be an ISO date or instant", field=field) from None
    # a bare date or naive time means the user's own clock, not UTC
    return moment if moment.tzinfo else moment.astimezone()


def load_reader_key(path: Path) -> ReaderKey:
    """The reader key at ``path``, with a hint when there is none yet."""
    try:
        return ReaderKey.load(path.expanduser())
    except FileNotFoundError:
        fail(f"no device key at {path}; run `coffre devices enrol` (or `add`) first")


@contextmanager
def client(url: str, token: str | None, reader_key: Path | None = None) -> Iterator[CoffreClient]:
    """An SDK client for a command; ``reader_key`` is loaded only when given."""
    if not token:
        fail("no token: set COFFRE_TOKEN (or pass --token); `coffre token` mints one")
    key = load_reader_key(reader_key) if reader_key is not None else None
    with CoffreClient(url, token, reader_key=key) as coffre:
        yield coffre


@contextmanager
def transfer_bar(description: str) -> Iterator[Any]:
    """A rich progress bar on stderr; yields an SDK ``progress(done, total)`` callback."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    # transient: the bar disappears once done, leaving only the result line
    with Progress(*columns, console=err(), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


def show(
    data: Any,
    as_json: bool,
    render: Callable[[Any], RenderableType],
    *,
    json_data: Any = None,
) -> None:
    """Print an SDK answer on stdout: as JSON (``json_data`` when the answer's own form
    is not JSON-ready), or through ``render`` (a table)."""
    if as_json:
        out().print_json(data=data if json_data is None else json_data)
    else:
        out().print(render(data))


def professional(rpps: str, name: str, profession: str, organisation: str | None) -> dict[str, Any]:
    """A professional as the API takes them (``{id, name, profession, organisation?}``)."""
    found: dict[str, Any] = {"id": rpps, "name": name, "profession": profession}
    if organisation:
        found["organisation"] = organisation
    return found

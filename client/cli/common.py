"""What every ``coffre`` command shares: options, error handling, consoles, the SDK client,
and the two shapes most commands have (one act on one document; one view of a space).

Client side only (the SDK, typer, rich): the server's commands add their own parts in
``coffre.cli_admin`` (settings, the token issuer). An option or argument that two
commands take is defined here once, so it reads and helps the same everywhere.

Output rules: results go to stdout; progress, notes and errors to stderr. Nothing here
ever prints a token, a key or a document byte (only ``coffre token`` prints a token).
"""

from __future__ import annotations

import json
import os
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

from client.login import TokenStore
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
DocumentArg = Annotated[str, typer.Argument(help="The document's id.")]
RppsArg = Annotated[str, typer.Argument(metavar="RPPS", help="The professional's RPPS number.")]
ProfessionalNameOption = Annotated[str, typer.Option(help="The professional's name.")]
ProfessionOption = Annotated[str, typer.Option(help="doctor, pharmacist, nurse...")]
OrganisationOption = Annotated[str | None, typer.Option(help="Where they practise.")]
SinceOption = Annotated[str | None, typer.Option(help="From this ISO instant.")]
UntilOption = Annotated[str | None, typer.Option(help="Before this ISO instant.")]
BeforeOption = Annotated[int | None, typer.Option(help="Page cursor (from a previous page).")]


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
    token = token or TokenStore().access_token(url)
    if not token:
        fail("not logged in: run `coffre login` (or set COFFRE_TOKEN)")
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


def plain(data: Any) -> Any:
    """``data`` as JSON-ready values (UUIDs, dates and the like as strings)."""
    return json.loads(json.dumps(data, default=str))


def document_command(
    act: Callable[[CoffreClient, str, str], object], done: str, doc: str
) -> Callable[..., None]:
    """A command that does one thing to one document of a space (``act``, an SDK call)
    and says ``done`` on stderr; ``doc`` is its help."""

    def command(
        patient_id: PatientArg,
        document_id: DocumentArg,
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
    ) -> None:
        with client(url, token) as coffre:
            act(coffre, patient_id, document_id)
        err().print(done)

    command.__doc__ = doc
    return command


def view_command(
    fetch: Callable[[CoffreClient, str], Any],
    render: Callable[[Any], RenderableType],
    doc: str,
    *,
    as_json_data: Callable[[Any], Any] | None = None,
) -> Callable[..., None]:
    """A command that shows one view of a space (``fetch``, an SDK call) as a table
    (``render``) or as JSON (``as_json_data`` when the view is not JSON-ready); ``doc``
    is its help."""

    def command(
        patient_id: PatientArg,
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with client(url, token) as coffre:
            found = fetch(coffre, patient_id)
        shown = None if as_json_data is None else as_json_data(found)
        show(found, as_json, render, json_data=shown)

    command.__doc__ = doc
    return command


CodeOutOption = Annotated[
    Path | None,
    typer.Option(
        "--code-out",
        metavar="FILE",
        help="Write the one-time code to FILE, a new file readable by its owner "
        "only (development and operator flows; in production the code travels by letter).",
    ),
]


@contextmanager
def code_file(path: Path | None) -> Iterator[Callable[[str], None]]:
    """Yields where the one-time code goes: nowhere, or a new file of mode 0600.

    The file is created before the space is provisioned, so an existing FILE is refused
    before anything is recorded; it is removed again if provisioning fails.
    """
    if path is None:
        yield lambda code: None
        return
    try:
        # O_EXCL: never overwrite (nor write through a planted symlink); 0600 at
        # creation, so the code never sits in a file others may read
        fd = os.open(path.expanduser(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{path} exists; the code is written only to a new file")
    kept = False

    def keep(code: str) -> None:
        nonlocal kept
        os.write(fd, f"{code}\n".encode())
        os.fsync(fd)
        kept = True

    try:
        yield keep
    finally:
        os.close(fd)
        if not kept:
            path.expanduser().unlink(missing_ok=True)

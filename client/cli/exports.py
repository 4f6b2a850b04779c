"""``coffre export``: a patient's archive of their space, downloaded, verified offline
and re-imported into a new space (``client.exports``, ``client.export_verify``).

``export verify`` needs nothing but the archive, the trail's published key set and the
device key the archive was made for: no server, no ``COFFRE_*`` configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from client.cli.common import (
    DEFAULT_READER_KEY,
    DEFAULT_URL,
    PatientArg,
    ReaderKeyOption,
    TokenOption,
    UrlOption,
    client,
    err,
    fail,
    load_reader_key,
    out,
    transfer_bar,
)
from client.cli.trail import KeySetOption
from client.export_verify import verify_archive
from client.trail_verify import load_key_set
from wire.errors import CoffreError

export_app = typer.Typer(
    help="A patient's export of their space: download, verify offline, re-import.",
    no_args_is_help=True,
)

ArchiveArg = Annotated[Path, typer.Argument(metavar="ARCHIVE", help="The export archive (zip).")]


@export_app.command("download")
def download(
    patient_id: PatientArg,
    target: ArchiveArg,
    force: Annotated[bool, typer.Option("--force", help="Replace ARCHIVE if it exists.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
) -> None:
    """Export the space (the export and every read are recorded) into ARCHIVE, keys
    sealed to this device: the server builds it (documents done of total), then it is
    downloaded (resumed if the connection breaks) and checked against its SHA-256."""
    if target.exists() and not force:
        fail(f"{target} exists; pass --force to replace it")
    with client(url, token, reader_key) as coffre:
        with document_bar("building the archive") as building:
            job = coffre.start_export(patient_id)
            job = coffre.wait_export(patient_id, job["job_id"], building=building)
        with transfer_bar("downloading") as progress:
            size = coffre.download_export(patient_id, job, target, progress=progress)
    err().print(
        f"{job['progress']['documents_total']} documents, {size} bytes, SHA-256 checked; "
        "verify it with `coffre export verify`"
    )
    out().print(str(target))


@contextmanager
def document_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr counting documents; yields ``building(done, total)``."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
    )
    with Progress(*columns, console=err(), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def building(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield building


@export_app.command("verify")
def verify(
    archive: ArchiveArg,
    keys: KeySetOption = None,
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
) -> None:
    """Verify ARCHIVE OFFLINE: every hash, every proof against the signed checkpoint,
    every document decrypted with the device key. Exits 1 naming the item that failed."""
    if keys is None:
        fail("--keys KEYSET.json is required: the trail keys the operator publishes")
    try:
        key_set = load_key_set(keys)
    except CoffreError as error:
        fail(escape(f"--keys {keys} is not a trail key set: {error.detail}"))
    try:
        report = verify_archive(archive, key_set, load_reader_key(reader_key))
    except CoffreError as error:
        fail(escape(f"verification FAILED: {error.detail}"))
    out().print(
        f"verified: {report.files} files, {report.documents} documents decrypted, "
        f"{report.log_entries} log entries proved against checkpoint size "
        f"{report.checkpoint_size}",
        markup=False,
    )


@export_app.command("import")
def import_archive(
    archive: ArchiveArg,
    patient_id: PatientArg,
    archive_key: Annotated[
        Path,
        typer.Option("--archive-key", help="The device key the archive was exported for."),
    ],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Deposit every document of ARCHIVE into a new space (as the token's depositor)."""
    reader = load_reader_key(archive_key)
    with client(url, token) as coffre:
        created = coffre.import_export(archive, patient_id, reader=reader)
    out().print(f"{len(created)} documents deposited")

"""``coffre export``: a patient's archive of their space, downloaded, verified offline
and re-imported into a new space (``client.exports``, ``client.export_verify``).

``export verify`` needs nothing but the archive, the trail's published key set and the
device key the archive was made for: no server, no ``COFFRE_*`` configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

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
    """Export the space (every read is recorded) into ARCHIVE, keys sealed to this device."""
    if target.exists() and not force:
        fail(f"{target} exists; pass --force to replace it")
    with client(url, token, reader_key) as coffre, transfer_bar("exporting") as progress:
        size = coffre.export(patient_id, target, progress=progress)
    err().print(f"{size} bytes; check it with `coffre export verify`")
    out().print(str(target))


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

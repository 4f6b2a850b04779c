"""Reads from the command line: this client's reader key, the documents one may read,
and ``read`` (``client.reads``).

A read is decrypted here and lands in place only once the whole document verified;
``download`` remains as a hidden alias of ``read``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from client.cli import render
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
    out,
    plain,
    transfer_bar,
    view_command,
)
from client.sdk import CoffreClient


def read(
    patient_id: PatientArg,
    document_id: Annotated[str, typer.Argument(help="The document to read.")],
    target: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the document.")],
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
) -> None:
    """Read a document (the read is recorded), verify and decrypt it into OUT."""
    if target.exists() and not force:
        fail(f"{target} exists; pass --force to replace it")
    with client(url, token, reader_key) as coffre, transfer_bar("reading") as progress:
        summary = coffre.read(patient_id, document_id, target, progress=progress)
    err().print(f"«{summary.title}» ({summary.type}, version {summary.version}) verified")
    out().print(str(target))


documents = view_command(
    CoffreClient.documents,
    render.documents_table,
    "List the documents of a space that the caller may read.",
    as_json_data=lambda found: [plain(vars(d)) for d in found],
)

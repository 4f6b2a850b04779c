"""``coffre deposit``: a document encrypted here, then deposited (``client.documents``).

The server only sees ciphertext. The confidentiality codes are set with the deposit;
``upload`` remains as a hidden alias of ``deposit``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from client.cli.common import (
    DEFAULT_URL,
    PatientArg,
    TokenOption,
    UrlOption,
    client,
    err,
    out,
    transfer_bar,
)
from wire.errors import InvalidInput


def deposit(
    patient_id: PatientArg,
    file: Annotated[Path, typer.Argument(help="The document to encrypt and deposit.")],
    type_: Annotated[str, typer.Option("--type", help="Document type, e.g. lab_result.")],
    title: Annotated[str, typer.Option(help="Title shown to readers.")],
    date_: Annotated[
        str, typer.Option("--date", help="Document date, YYYY-MM-DD (default: today).")
    ] = "",
    document_id: Annotated[str | None, typer.Option(help="Deposit a new version of it.")] = None,
    source_id: Annotated[
        str | None,
        typer.Option(
            help="Your identifier of the document, SYSTEM|VALUE (a URI, then the value: "
            "'urn:oid:1.2.250.1.213.1.1.9|CR-42'): deposited once, however often retried.",
        ),
    ] = None,
    masked: Annotated[
        bool, typer.Option("--masked", help="MASQUE_PS: hidden from professionals but you.")
    ] = False,
    invisible_to_patient: Annotated[
        bool,
        typer.Option(
            "--invisible-to-patient",
            help="INVISIBLE_PATIENT: held for an announcement consultation until you "
            "release it (coffre release-invisible-to-patient).",
        ),
    ] = False,
    invisible_to_representatives: Annotated[
        bool,
        typer.Option(
            "--invisible-to-representatives",
            help="INVISIBLE_REPRESENTANTS_LEGAUX: kept from the patient's legal representatives.",
        ),
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Encrypt FILE locally and deposit it; prints the document id."""
    source = _source_id(source_id)
    with client(url, token) as coffre, transfer_bar(f"depositing {file.name}") as progress:
        doc, version = coffre.deposit(
            patient_id,
            file,
            type=type_,
            title=title,
            date=date_ or date.today(),
            document_id=document_id,
            progress=progress,
            masked=masked,
            invisible_to_patient=invisible_to_patient,
            invisible_to_representatives=invisible_to_representatives,
            source_id=source,
        )
    out().print(str(doc))
    err().print(f"deposited version {version}")


def _source_id(option: str | None) -> tuple[str, str] | None:
    # FHIR's token syntax, system|value: a URI has no "|", so the first one separates.
    if option is None:
        return None
    system, bar, value = option.partition("|")
    if not bar:
        raise InvalidInput("--source-id is SYSTEM|VALUE", field="source_id")
    return system, value

"""Client commands: everything that talks to a Coffre server through the SDK.

Documents are encrypted before they leave this machine and decrypted after they
arrive; the server only sees ciphertext. A read lands in place only once the whole
document verified. The verbs are the SDK's and RULES.md's: ``deposit`` and ``read``
(``upload`` and ``download`` remain as hidden aliases).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from client.cli import render
from client.cli.common import (
    DEFAULT_READER_KEY,
    DEFAULT_URL,
    JsonOption,
    PatientArg,
    ReaderKeyOption,
    TokenOption,
    UrlOption,
    client,
    err,
    fail,
    out,
    parse_instant,
    show,
    transfer_bar,
)

CodeOutOption = Annotated[
    Path | None,
    typer.Option(
        "--code-out",
        metavar="FILE",
        help="Write the one-time code to FILE, a new file readable by its owner "
        "only (development and operator flows; in production the code travels by letter).",
    ),
]


def provision(
    patient_id: PatientArg,
    code_out: CodeOutOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Provision a patient's space (services only); prints the space id.

    The space's one-time code (for `coffre space activate` or `oppose`) is never
    printed; with --code-out it goes to FILE, which must not exist yet (mode 0600).
    """
    with client(url, token) as coffre, _code_file(code_out) as keep_code:
        info = coffre.provision(patient_id)
        keep_code(info.one_time_code)
    out().print(str(info.space_id))
    err().print(f"space key {info.key_id}")
    if code_out is not None:
        err().print(f"one-time code written to {code_out} (mode 0600)", markup=False)


@contextmanager
def _code_file(path: Path | None) -> Iterator[Callable[[str], None]]:
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


def deposit(
    patient_id: PatientArg,
    file: Annotated[Path, typer.Argument(help="The document to encrypt and deposit.")],
    type_: Annotated[str, typer.Option("--type", help="Document type, e.g. lab_result.")],
    title: Annotated[str, typer.Option(help="Title shown to readers.")],
    date_: Annotated[
        str, typer.Option("--date", help="Document date, YYYY-MM-DD (default: today).")
    ] = "",
    document_id: Annotated[str | None, typer.Option(help="Deposit a new version of it.")] = None,
    masked: Annotated[
        bool, typer.Option("--masked", help="MASQUE_PS: hidden from professionals but you.")
    ] = False,
    invisible_to_patient: Annotated[
        bool,
        typer.Option(
            "--invisible-to-patient",
            help="INVISIBLE_PATIENT: held for an announcement consultation until you "
            "release it (coffre release-to-patient).",
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
        )
    out().print(str(doc))
    err().print(f"deposited version {version}")


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


def documents(
    patient_id: PatientArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the documents of a space that the caller may read."""
    with client(url, token) as coffre:
        found = coffre.documents(patient_id)
    show(found, as_json, render.documents_table, json_data=[_plain(vars(d)) for d in found])


def grant(
    patient_id: PatientArg,
    to: Annotated[str, typer.Option("--to", help="The professional's RPPS number.")],
    name: Annotated[str, typer.Option(help="The professional's name.")],
    profession: Annotated[str, typer.Option(help="doctor, pharmacist, nurse...")],
    organisation: Annotated[str | None, typer.Option(help="Where they practise.")] = None,
    types: Annotated[str | None, typer.Option(help="Only these types: a,b.")] = None,
    documents_: Annotated[
        str | None, typer.Option("--documents", help="Only these: id,id.")
    ] = None,
    expires: Annotated[
        str | None, typer.Option(help="ISO instant, e.g. 2030-01-01T00:00Z.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Let a professional read the whole space, some types or some documents.

    One grant per professional: granting again changes their grant (same id)."""
    if types and documents_:
        fail("pass --types or --documents, not both")
    scope: dict[str, Any] = {"kind": "space"}
    if types:
        scope = {"kind": "types", "types": _split(types)}
    elif documents_:
        scope = {"kind": "documents", "documents": _split(documents_)}
    grantee = {"id": to, "name": name, "profession": profession}
    if organisation:
        grantee["organisation"] = organisation
    with client(url, token) as coffre:
        grant_id = coffre.grant(patient_id, grantee, scope, parse_instant(expires, "expires"))
    out().print(str(grant_id))


def revoke(
    patient_id: PatientArg,
    grant_id: Annotated[
        str | None, typer.Argument(help="The grant to revoke (or --professional).")
    ] = None,
    professional: Annotated[
        str | None,
        typer.Option(metavar="RPPS", help="Revoke this professional's grant, whatever its id."),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Revoke a grant, or a professional's access: their very next read is refused."""
    if (grant_id is None) is (professional is None):
        fail("pass a GRANT_ID or --professional RPPS, not both")
    with client(url, token) as coffre:
        if professional is not None:
            coffre.revoke_professional(patient_id, professional)
        else:
            coffre.revoke(patient_id, grant_id)
    err().print("revoked")


def grants(
    patient_id: PatientArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the grants of a space (the patient only)."""
    with client(url, token) as coffre:
        found = coffre.grants(patient_id)
    show(found, as_json, render.grants_table, json_data=[_plain(vars(g)) for g in found])


def log(
    patient_id: PatientArg,
    actor: Annotated[str | None, typer.Option(help="Only this actor id.")] = None,
    document: Annotated[str | None, typer.Option(help="Only this document id.")] = None,
    action: Annotated[str | None, typer.Option(help="read, deposit, grant, revoke...")] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO instant.")] = None,
    until: Annotated[str | None, typer.Option(help="Before this ISO instant.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Entries per page.")] = 50,
    before: Annotated[int | None, typer.Option(help="Page cursor (from a previous page).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the patient's access log: who did what, when, how, and what was refused."""
    filters: dict[str, Any] = {
        "actor_id": actor,
        "document_id": document,
        "action": action,
        "limit": limit,
        "since": parse_instant(since, "since"),
        "until": parse_instant(until, "until"),
    }
    with client(url, token) as coffre:
        if all_:
            entries = list(coffre.access_log_entries(patient_id, before=before, **filters))
            next_cursor = None
        else:
            page = coffre.access_log(patient_id, before=before, **filters)
            entries, next_cursor = page["entries"], page.get("next_cursor")
    if as_json:
        out().print_json(data={"entries": entries, "next_cursor": next_cursor})
        return
    out().print(render.access_log_table(entries))
    if next_cursor is not None:
        err().print(f"more entries: --before {next_cursor} (or --all)")


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))

"""Client commands: everything that talks to a Coffre server through the SDK.

Documents are encrypted before they leave this machine and decrypted after they
arrive; the server only sees ciphertext. Downloads land in place only once the whole
document verified.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from coffre import cli_render
from coffre.cli_common import (
    DEFAULT_READER_KEY,
    DEFAULT_URL,
    JsonOption,
    ReaderKeyOption,
    TokenOption,
    UrlOption,
    client,
    err,
    fail,
    out,
    transfer_bar,
)
from domain.errors import InvalidInput
from vault.client import ReaderKey

keys_app = typer.Typer(help="This client's reader key.", no_args_is_help=True)

PatientArg = Annotated[str, typer.Argument(help="The patient's INS (15 characters).")]


@keys_app.command("init")
def keys_init(
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
) -> None:
    """Make a reader key (if there is none yet) and register it for the token's actor."""
    path = reader_key.expanduser()
    if path.exists():
        key = ReaderKey.load(path)
        err().print(f"using the existing reader key at {path}")
    else:
        key = ReaderKey.generate()
        key.save(path)
        err().print(f"new reader key saved to {path} (mode 0600)")
    with client(url, token) as coffre:
        coffre.reader_key = key
        out().print(coffre.register_reader_key())


def provision(
    patient_id: PatientArg, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """Provision a patient's space (services only); prints the space id."""
    with client(url, token) as coffre:
        info = coffre.provision(patient_id)
    out().print(str(info.space_id))
    err().print(f"space key {info.key_id}")


def upload(
    patient_id: PatientArg,
    file: Annotated[Path, typer.Argument(help="The document to encrypt and deposit.")],
    type_: Annotated[str, typer.Option("--type", help="Document type, e.g. lab_result.")],
    title: Annotated[str, typer.Option(help="Title shown to readers.")],
    date_: Annotated[
        str, typer.Option("--date", help="Document date, YYYY-MM-DD (default: today).")
    ] = "",
    document_id: Annotated[str | None, typer.Option(help="Deposit a new version of it.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Encrypt FILE locally and deposit it; prints the document id."""
    with client(url, token) as coffre, transfer_bar(f"uploading {file.name}") as progress:
        doc, version = coffre.deposit(
            patient_id,
            file,
            type=type_,
            title=title,
            date=date_ or date.today(),
            document_id=document_id,
            progress=progress,
        )
    out().print(str(doc))
    err().print(f"deposited version {version}")


def download(
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
    with client(url, token, reader_key) as coffre, transfer_bar("downloading") as progress:
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
    if as_json:
        out().print_json(data=[_plain(vars(doc)) for doc in found])
    else:
        out().print(cli_render.documents_table(found))


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
    """Let a professional read the whole space, some types or some documents."""
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
        grant_id = coffre.grant(patient_id, grantee, scope, _instant(expires, "expires"))
    out().print(str(grant_id))


def revoke(
    patient_id: PatientArg,
    grant_id: Annotated[str, typer.Argument(help="The grant to revoke.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Revoke a grant: the grantee's very next read is refused."""
    with client(url, token) as coffre:
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
    if as_json:
        out().print_json(data=[_plain(vars(g)) for g in found])
    else:
        out().print(cli_render.grants_table(found))


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
        "since": _instant(since, "since"),
        "until": _instant(until, "until"),
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
    out().print(cli_render.access_log_table(entries))
    if next_cursor is not None:
        err().print(f"more entries: --before {next_cursor} (or --all)")


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _instant(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--{field} must be an ISO date or instant", field=field) from None
    # a bare date or naive time means the user's own clock, not UTC
    return moment if moment.tzinfo else moment.astimezone()


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))

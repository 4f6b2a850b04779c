"""``coffre log``: the patient's access log, a page or every page (``client.access_log``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from client.cli import render
from client.cli.common import (
    DEFAULT_URL,
    BeforeOption,
    JsonOption,
    PatientArg,
    SinceOption,
    TokenOption,
    UntilOption,
    UrlOption,
    client,
    err,
    out,
    parse_instant,
)


def log(
    patient_id: PatientArg,
    actor: Annotated[str | None, typer.Option(help="Only this actor id.")] = None,
    document: Annotated[str | None, typer.Option(help="Only this document id.")] = None,
    action: Annotated[str | None, typer.Option(help="read, deposit, grant, revoke...")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Entries per page.")] = 50,
    before: BeforeOption = None,
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

"""Grants from the command line: ``grant``, ``revoke``, ``grants`` (``client.grants``).

One grant per professional: granting again changes their grant (same id); a revoke
takes effect at the grantee's very next read.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from client.cli import render
from client.cli.common import (
    DEFAULT_URL,
    OrganisationOption,
    PatientArg,
    ProfessionalNameOption,
    ProfessionOption,
    TokenOption,
    UrlOption,
    client,
    err,
    fail,
    out,
    parse_instant,
    plain,
    professional,
    view_command,
)
from client.sdk import CoffreClient


def grant(
    patient_id: PatientArg,
    to: Annotated[str, typer.Option("--to", help="The professional's RPPS number.")],
    name: ProfessionalNameOption,
    profession: ProfessionOption,
    organisation: OrganisationOption = None,
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
    grantee = professional(to, name, profession, organisation)
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


grants = view_command(
    CoffreClient.grants,
    render.grants_table,
    "List the grants of a space (the patient only).",
    as_json_data=lambda found: [plain(vars(g)) for g in found],
)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]

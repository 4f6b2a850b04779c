"""``coffre representatives``: a patient's legal representatives, ``add``, ``end`` (an
authorised registry service) and ``list`` (``client.representatives``; the list comes
from ``client.blocks``' access rules)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import typer

from client.cli import render
from client.cli.common import (
    DEFAULT_URL,
    PatientArg,
    TokenOption,
    UrlOption,
    client,
    err,
    fail,
    parse_instant,
    view_command,
)

representatives_app = typer.Typer(
    help="A patient's legal representatives (parents of a minor, guardians).",
    no_args_is_help=True,
)

RepresentativeArg = Annotated[
    str, typer.Argument(metavar="REPRESENTATIVE_ID", help="The representative's INS.")
]


class Kind(StrEnum):
    """Why someone represents the patient (``client.representatives.RepresentativeKind``)."""

    PARENT = "parent"
    GUARDIAN = "guardian"


@representatives_app.command("add")
def add_representative(
    patient_id: PatientArg,
    representative_id: RepresentativeArg,
    name: Annotated[str, typer.Option(help="The representative's name.")],
    basis_reference: Annotated[
        str,
        typer.Option(help="The act's reference: birth registration, court decision number."),
    ],
    basis_date: Annotated[
        str, typer.Option(help="The act's date (YYYY-MM-DD): registration, decision.")
    ],
    kind: Annotated[
        Kind, typer.Option(help="parent (until the patient's majority) or guardian.")
    ] = Kind.PARENT,
    until: Annotated[
        str | None, typer.Option(help="Guardians only: end of the representation (ISO).")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Appoint a legal representative (an authorised registry service only), on the act
    of a birth registration (parent) or a court decision (guardian)."""
    end = parse_instant(until, "until")
    try:
        act_date = date.fromisoformat(basis_date)
    except ValueError:
        fail(f"--basis-date must be a date (YYYY-MM-DD), not {basis_date!r}")
    with client(url, token) as coffre:
        coffre.add_representative(
            patient_id,
            representative_id,
            name,
            kind.value,
            end,
            basis_reference=basis_reference,
            basis_date=act_date,
        )
    err().print("representative appointed")


@representatives_app.command("end")
def end_representation(
    patient_id: PatientArg,
    representative_id: RepresentativeArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """End a legal representation (an authorised registry service); it stays in the
    history."""
    with client(url, token) as coffre:
        coffre.end_representation(patient_id, representative_id)
    err().print("representation ended")


representatives_app.command("list")(
    view_command(
        lambda coffre, patient_id: coffre.access_rules(patient_id)["representatives"],
        render.representatives_table,
        "The patient's legal representatives, current and past (the patient or one of them).",
    )
)

"""The rules of a space beyond its life (RULES.md): masks, blocks, emergency access,
legal representatives, and the caller's own notifications.

- ``coffre mask`` / ``coffre unmask``       a document masked from professionals (MASQUE_PS)
- ``coffre hide-from-representatives``      a document secret from the legal
                                            representatives (INVISIBLE_REPRESENTANTS_LEGAUX)
- ``coffre release-to-patient``             a document held for an announcement
                                            consultation, released (INVISIBLE_PATIENT)
- ``coffre block`` / ``coffre unblock``     a professional kept from the whole space
- ``coffre emergency declare | list``       emergency access (bris de glace)
- ``coffre representatives add | end | list``  legal representatives (a registry
                                            service appoints and ends them)
- ``coffre notifications list | acknowledge``  the caller's notifications

Each command is one SDK call of ``client.rules``; the server decides who may do
what, and its refusal is printed as one line with a non-zero exit.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import typer

from client.cli import render
from client.cli.common import (
    DEFAULT_URL,
    JsonOption,
    PatientArg,
    TokenOption,
    UrlOption,
    client,
    err,
    fail,
    out,
    parse_instant,
    professional,
    show,
)

emergency_app = typer.Typer(help="Emergency access (bris de glace).", no_args_is_help=True)
representatives_app = typer.Typer(
    help="A patient's legal representatives (parents of a minor, guardians).",
    no_args_is_help=True,
)
notifications_app = typer.Typer(help="The caller's own notifications.", no_args_is_help=True)


class Kind(StrEnum):
    """Why someone represents the patient (``client.rules.RepresentativeKind``)."""

    PARENT = "parent"
    GUARDIAN = "guardian"


DocumentArg = Annotated[str, typer.Argument(help="The document's id.")]
RppsArg = Annotated[str, typer.Argument(metavar="RPPS", help="The professional's RPPS number.")]
RepresentativeArg = Annotated[
    str, typer.Argument(metavar="REPRESENTATIVE_ID", help="The representative's INS.")
]


# -- masks and blocks (top-level verbs, like grant and revoke) ------------------------


def mask(
    patient_id: PatientArg,
    document_id: DocumentArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Mask a document from professionals (MASQUE_PS).

    Its author still sees it; the attending physician and an emergency access see it
    only if the space's settings say so.
    """
    with client(url, token) as coffre:
        coffre.mask(patient_id, document_id)
    err().print("masked from professionals")


def unmask(
    patient_id: PatientArg,
    document_id: DocumentArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Show a masked document to professionals again (the patient or a representative)."""
    with client(url, token) as coffre:
        coffre.unmask(patient_id, document_id)
    err().print("no longer masked")


def hide_from_representatives(
    patient_id: PatientArg,
    document_id: DocumentArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Keep a document secret from the legal representatives (INVISIBLE_REPRESENTANTS_LEGAUX).

    A minor's right to secrecy for certain care: the patient or the document's author
    sets it, and no command lifts it (a representative could otherwise undo it).
    """
    with client(url, token) as coffre:
        coffre.hide_from_representatives(patient_id, document_id)
    err().print("secret from the legal representatives")


def release_to_patient(
    patient_id: PatientArg,
    document_id: DocumentArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Release a document held for an announcement consultation (INVISIBLE_PATIENT).

    The document's author, once the consultation took place: the patient sees it at
    once (otherwise it becomes visible by itself a month after its deposit).
    """
    with client(url, token) as coffre:
        coffre.release_to_patient(patient_id, document_id)
    err().print("released: the patient sees it")


def block(
    patient_id: PatientArg,
    rpps: RppsArg,
    name: Annotated[str, typer.Option(help="The professional's name.")],
    profession: Annotated[str, typer.Option(help="doctor, pharmacist, nurse...")],
    organisation: Annotated[str | None, typer.Option(help="Where they practise.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Block a professional from every document of the space, grants or not."""
    with client(url, token) as coffre:
        coffre.block(patient_id, professional(rpps, name, profession, organisation))
    err().print("blocked")


def unblock(
    patient_id: PatientArg,
    rpps: RppsArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Lift the block of a professional (a grant they hold applies again)."""
    with client(url, token) as coffre:
        coffre.unblock(patient_id, rpps)
    err().print("not blocked")


# -- emergency access -------------------------------------------------------------------


@emergency_app.command("declare")
def declare(
    patient_id: PatientArg,
    justification: Annotated[
        str,
        typer.Option(help="Why the patient cannot consent and what the immediate risk is."),
    ],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Declare an emergency access (a professional); prints the access id.

    Recorded as an emergency access, time-limited, and notified to the patient and the
    attending physician. Refused (and the refusal recorded) when the patient forbade
    emergency access.
    """
    with client(url, token) as coffre:
        access = coffre.invoke_emergency_access(patient_id, justification)
    out().print(str(access["access_id"]))
    err().print(f"emergency access until {render.when(access['expires_at'])}")


@emergency_app.command("list")
def emergency_list(
    patient_id: PatientArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The emergency accesses declared on the space (the patient or a representative)."""
    with client(url, token) as coffre:
        found = coffre.access_rules(patient_id)["emergency_accesses"]
    show(found, as_json, render.emergency_accesses_table)


# -- legal representatives ---------------------------------------------------------------


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


@representatives_app.command("list")
def representatives_list(
    patient_id: PatientArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The patient's legal representatives, current and past (the patient or one of them)."""
    with client(url, token) as coffre:
        found = coffre.access_rules(patient_id)["representatives"]
    show(found, as_json, render.representatives_table)


# -- notifications -----------------------------------------------------------------------


@notifications_app.command("list")
def notifications_list(
    unread: Annotated[bool, typer.Option("--unread", help="Only those not yet read.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Notifications per page.")] = 50,
    before: Annotated[int | None, typer.Option(help="Page cursor (from a previous page).")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The caller's notifications, newest first.

    New documents, new professionals reading the space, emergency accesses, documents
    awaiting an announcement consultation; the unread count goes to stderr.
    """
    with client(url, token) as coffre:
        page = coffre.notifications(unread=unread, before=before, limit=limit)
    if as_json:
        out().print_json(data=page)
        return
    out().print(render.notifications_table(page["notifications"]))
    err().print(f"{page['unread']} unread")
    if page.get("next_cursor") is not None:
        err().print(f"more notifications: --before {page['next_cursor']}")


@notifications_app.command("acknowledge")
def acknowledge(
    up_to: Annotated[
        int | None,
        typer.Argument(
            min=0, metavar="[POSITION]", help="Read up to this position (default: the newest)."
        ),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Mark the caller's notifications as read, up to POSITION (the # column)."""
    with client(url, token) as coffre:
        if up_to is None:
            newest = coffre.notifications(limit=1)["notifications"]
            if not newest:
                err().print("no notifications")
                return
            up_to = int(newest[0]["position"])
        done = coffre.acknowledge_notifications(up_to)
    err().print(f"read up to {done}")

"""Who may read a space, from the command line (``client.blocks``): ``block`` and
``unblock`` a professional, and in ``coffre space``: ``rules`` (who may currently read
what), ``settings`` and ``physician`` (the attending physician).

The server decides who may do what; its refusal is printed as one line with a non-zero
exit.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from client.blocks import SettingName
from client.cli import render
from client.cli.common import (
    DEFAULT_URL,
    JsonOption,
    OrganisationOption,
    PatientArg,
    ProfessionalNameOption,
    ProfessionOption,
    RppsArg,
    TokenOption,
    UrlOption,
    client,
    err,
    professional,
    show,
    view_command,
)
from client.sdk import CoffreClient
from wire.errors import InvalidInput


def block(
    patient_id: PatientArg,
    rpps: RppsArg,
    name: ProfessionalNameOption,
    profession: ProfessionOption,
    organisation: OrganisationOption = None,
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


access_rules = view_command(
    CoffreClient.access_rules,
    render.access_rules_view,
    """Who may currently read what (the patient or a representative).

    Grants and care team, blocked professionals, the attending physician, settings,
    representatives and emergency accesses.
    """,
)


def settings(
    patient_id: PatientArg,
    forbid_emergency_access: Annotated[
        bool | None,
        typer.Option(
            "--forbid-emergency-access/--allow-emergency-access",
            show_default=False,
            help="Forbid (or allow again) emergency access to the space.",
        ),
    ] = None,
    emergency_reveals_masked: Annotated[
        bool | None,
        typer.Option(
            "--emergency-reveals-masked/--emergency-keeps-masked",
            show_default=False,
            help="Whether an emergency access also reveals masked documents.",
        ),
    ] = None,
    physician_sees_masked: Annotated[
        bool | None,
        typer.Option(
            "--physician-sees-masked/--physician-keeps-masked",
            show_default=False,
            help="Whether the attending physician sees masked documents.",
        ),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change the space's settings (only those given), then print them all."""
    wanted: dict[SettingName, bool | None] = {
        "emergency_access_forbidden": forbid_emergency_access,
        "emergency_reveals_masked": emergency_reveals_masked,
        "attending_physician_sees_masked": physician_sees_masked,
    }
    with client(url, token) as coffre:
        for name, value in wanted.items():
            if value is not None:  # each change is its own recorded event
                coffre.change_setting(patient_id, name, value)
        current = coffre.access_rules(patient_id)["settings"]
    show(current, as_json, render.settings_table)


def physician(
    patient_id: PatientArg,
    rpps: Annotated[
        str | None, typer.Argument(help="The doctor's RPPS number (omit with --none).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The doctor's name.")] = None,
    organisation: OrganisationOption = None,
    none: Annotated[bool, typer.Option("--none", help="Have no attending physician.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Name the attending physician (médecin traitant, a doctor), or none with --none."""
    if none == bool(rpps):
        raise InvalidInput("give the doctor's RPPS number, or --none", field="rpps")
    doctor: dict[str, Any] | None = None
    if rpps:
        if not name:
            raise InvalidInput("--name is needed with the RPPS number", field="name")
        doctor = professional(rpps, name, "doctor", organisation)
    with client(url, token) as coffre:
        coffre.designate_attending_physician(patient_id, doctor)
    said = f"attending physician: {name} ({rpps})" if doctor else "no attending physician"
    err().print(said, markup=False)

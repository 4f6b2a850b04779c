"""``coffre space``: a patient's space, its life and who may read it (RULES.md).

Life: ``state``, ``activate``, ``oppose`` (with the letter's one-time code), ``close``
and ``request-deletion``. Who may read: ``rules`` (who may currently read what),
``settings`` and ``physician`` (the attending physician). Each command is one SDK call
of ``client.rules`` (``activate``: ``client.sdk``); the server decides who may
do what, and its refusal is printed as one line with a non-zero exit.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from client.blocks import SettingName
from client.cli import render
from client.cli.common import (
    DEFAULT_URL,
    JsonOption,
    PatientArg,
    TokenOption,
    UrlOption,
    client,
    err,
    professional,
    show,
)
from wire.errors import InvalidInput

space_app = typer.Typer(
    help="A patient's space: its life (state, activate, oppose, close), who may read it.",
    no_args_is_help=True,
)

CodeOption = Annotated[
    str,
    typer.Option(
        "--code",
        prompt="One-time code (from the letter)",
        hide_input=True,
        # asked for when omitted: a command line is visible to other users (ps)
        help="The letter's one-time code (omit it to be asked for it, unechoed).",
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _confirm(question: str, yes: bool) -> None:
    # an irreversible step: ask on a terminal; scripts must say --yes
    if not yes and not typer.confirm(question, err=True):
        raise typer.Abort()


@space_app.command("state")
def state(
    patient_id: PatientArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where the space is in its life: pending, opposed, open, closed or deleted."""
    with client(url, token) as coffre:
        found = coffre.space_state(patient_id)
    show(found, as_json, render.space_state_table)


@space_app.command("activate")
def activate(
    patient_id: PatientArg,
    code: CodeOption,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Activate the space with the letter's one-time code (it opens at once)."""
    with client(url, token) as coffre:
        coffre.activate(patient_id, code)
    err().print("activated: the space is open")


@space_app.command("oppose")
def oppose(
    patient_id: PatientArg,
    code: CodeOption,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Oppose the space before it opens, with the letter's one-time code."""
    with client(url, token) as coffre:
        coffre.oppose(patient_id, code)
    err().print("opposed: the space will not open")


@space_app.command("close")
def close(
    patient_id: PatientArg,
    express_deletion: Annotated[
        bool,
        typer.Option(
            "--express-deletion",
            help="Delete the data without the 10-year archive (crypto-shredding, irreversible).",
        ),
    ] = False,
    yes: YesOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close the space; prints its new state.

    Every grant and emergency access ends. The data is archived (10 years by default),
    or deleted without the archive period with --express-deletion.
    """
    fate = "DELETED for good" if express_deletion else "archived, then deleted"
    _confirm(f"Close the space of {patient_id}? Its documents will be {fate}.", yes)
    with client(url, token) as coffre:
        found = coffre.close_space(patient_id, express_deletion=express_deletion)
    show(found, as_json, render.space_state_table)


@space_app.command("request-deletion")
def request_deletion(
    patient_id: PatientArg,
    yes: YesOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask for a closed space's archive to be deleted without waiting (irreversible)."""
    _confirm(f"Delete the archive of {patient_id} for good?", yes)
    with client(url, token) as coffre:
        found = coffre.request_deletion(patient_id)
    show(found, as_json, render.space_state_table)


@space_app.command("rules")
def rules(
    patient_id: PatientArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who may currently read what (the patient or a representative).

    Grants and care team, blocked professionals, the attending physician, settings,
    representatives and emergency accesses.
    """
    with client(url, token) as coffre:
        found = coffre.access_rules(patient_id)
    show(found, as_json, render.access_rules_view)


@space_app.command("settings")
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


@space_app.command("physician")
def physician(
    patient_id: PatientArg,
    rpps: Annotated[
        str | None, typer.Argument(help="The doctor's RPPS number (omit with --none).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The doctor's name.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Where they practise.")] = None,
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

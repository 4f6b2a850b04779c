"""The life of a space from the command line (``client.life``): ``provision``, and in
``coffre space``: ``state``, ``activate``, ``oppose`` (with the letter's one-time code),
``close`` and ``request-deletion``.

The server decides who may do what; its refusal is printed as one line with a non-zero
exit. The one-time code is never printed, and never needs to be on a command line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from client.cli import render
from client.cli.common import (
    DEFAULT_URL,
    CodeOutOption,
    JsonOption,
    PatientArg,
    TokenOption,
    UrlOption,
    client,
    code_file,
    err,
    out,
    show,
    view_command,
)
from client.sdk import CoffreClient

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
    with client(url, token) as coffre, code_file(code_out) as keep_code:
        info = coffre.provision(patient_id)
        keep_code(info.one_time_code)
    out().print(str(info.space_id))
    err().print(f"space key {info.key_id}")
    if code_out is not None:
        err().print(f"one-time code written to {code_out} (mode 0600)", markup=False)


state = view_command(
    CoffreClient.space_state,
    render.space_state_table,
    "Where the space is in its life: pending, opposed, open, closed or deleted.",
)


def _code_command(
    act: Callable[[CoffreClient, str, str], object], done: str, doc: str
) -> Callable[..., None]:
    """A command that does ``act`` (an SDK call) with the letter's one-time code."""

    def command(
        patient_id: PatientArg,
        code: CodeOption,
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
    ) -> None:
        with client(url, token) as coffre:
            act(coffre, patient_id, code)
        err().print(done)

    command.__doc__ = doc
    return command


activate = _code_command(
    CoffreClient.activate,
    "activated: the space is open",
    "Activate the space with the letter's one-time code (it opens at once).",
)
oppose = _code_command(
    CoffreClient.oppose,
    "opposed: the space will not open",
    "Oppose the space before it opens, with the letter's one-time code.",
)


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


def _confirm(question: str, yes: bool) -> None:
    # an irreversible step: ask on a terminal; scripts must say --yes
    if not yes and not typer.confirm(question, err=True):
        raise typer.Abort()

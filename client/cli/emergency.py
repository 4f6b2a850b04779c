"""``coffre emergency``: emergency access (bris de glace), ``declare`` and ``list``
(``client.emergency``; the list comes from ``client.blocks``' access rules)."""

from __future__ import annotations

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
    out,
    view_command,
)

emergency_app = typer.Typer(help="Emergency access (bris de glace).", no_args_is_help=True)


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


emergency_app.command("list")(
    view_command(
        lambda coffre, patient_id: coffre.access_rules(patient_id)["emergency_accesses"],
        render.emergency_accesses_table,
        "The emergency accesses declared on the space (the patient or a representative).",
    )
)

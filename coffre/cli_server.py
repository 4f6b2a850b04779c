"""The server's commands of ``coffre``, imported by ``coffre.cli`` only when asked for.

- ``coffre.cli_admin``  serve, migrate, token, blobs, scheduler
- ``coffre.cli_projections``  projections (run, rebuild, lag, retry)
- ``coffre.cli_keys``   the operator's ``keys`` commands (master, trail and token keys);
                        a reader's device keys are the client's ``coffre devices``
- ``coffre.demo``       demo (a scripted story against a running embedded server)

They run next to the data and need the ``server`` extra (the stores, the API, settings).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

import typer
from typer.core import TyperGroup

from client.cli.common import DEFAULT_URL, UrlOption
from coffre import cli_admin, cli_keys, cli_projections

app = typer.Typer(add_completion=False)

app.command()(cli_admin.serve)
app.command()(cli_admin.migrate)
app.command()(cli_admin.token)
app.add_typer(cli_projections.projections_app, name="projections")
app.add_typer(cli_admin.blobs_app, name="blobs")
app.add_typer(cli_admin.scheduler_app, name="scheduler")
app.add_typer(cli_keys.keys_app, name="keys")


@app.command()
def demo(
    url: UrlOption = DEFAULT_URL,
    patient_number: Annotated[
        str, typer.Option(help="13 digits of the demo patient's INS (the key is computed).")
    ] = "",
) -> None:
    """Play a short story against a running embedded server (`coffre serve`), same data dir."""
    from coffre.demo import DEFAULT_PATIENT_NUMBER, run_demo

    run_demo(url, patient_number or DEFAULT_PATIENT_NUMBER)


@cache
def server_group() -> TyperGroup:
    """The server's commands as one click group (built once)."""
    return typer.main.get_group(app)

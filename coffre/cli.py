"""The ``coffre`` command: one Typer app, its commands defined in sibling modules.

- ``coffre.cli_admin``   serve, migrate, token, projections, blobs (next to the data)
- ``coffre.cli_client``  keys, provision, upload, download, documents, grants, log (HTTP)
- ``coffre.cli_space``   space: state, activate, oppose, close, rules, settings, physician
- ``coffre.cli_rules``   mask, unmask, hide-from-representatives, release-to-patient, block,
                         unblock, emergency, representatives,
                         notifications (HTTP)
- ``coffre.demo``        demo (a scripted story against a running embedded server)

Settings come from ``COFFRE_*`` variables (``vault/settings.py``); see ``docs/cli.md``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from coffre import cli_admin, cli_audit, cli_client, cli_rules, cli_space
from coffre.cli_common import DEFAULT_URL, CoffreGroup, UrlOption

app = typer.Typer(
    name="coffre",
    cls=CoffreGroup,
    help="Coffre: an event-sourced, client-encrypted vault for health documents.",
    no_args_is_help=True,
    add_completion=False,
    # a traceback with locals could show a token or a key: never print locals
    pretty_exceptions_show_locals=False,
)

app.command()(cli_admin.serve)
app.command()(cli_admin.migrate)
app.command()(cli_admin.token)
app.add_typer(cli_client.keys_app, name="keys")
app.command()(cli_client.provision)
app.command()(cli_client.upload)
app.command()(cli_client.download)
app.command()(cli_client.documents)
app.command()(cli_client.grant)
app.command()(cli_client.revoke)
app.command()(cli_client.grants)
app.command()(cli_client.log)
app.add_typer(cli_space.space_app, name="space")
app.command()(cli_rules.mask)
app.command()(cli_rules.unmask)
app.command()(cli_rules.hide_from_representatives)
app.command()(cli_rules.release_to_patient)
app.command()(cli_rules.block)
app.command()(cli_rules.unblock)
app.add_typer(cli_rules.emergency_app, name="emergency")
app.add_typer(cli_rules.representatives_app, name="representatives")
app.add_typer(cli_rules.notifications_app, name="notifications")
app.add_typer(cli_admin.projections_app, name="projections")
app.add_typer(cli_admin.blobs_app, name="blobs")
app.add_typer(cli_admin.scheduler_app, name="scheduler")
app.add_typer(cli_audit.audit_app, name="audit")


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


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks (`coffre bench --help` for their options; bench/README.md)."""
    from bench.cli import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))


def main() -> None:
    """Entry point of the ``coffre`` console script."""
    app()


if __name__ == "__main__":
    main()

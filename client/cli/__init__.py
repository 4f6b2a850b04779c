"""The client's commands of ``coffre``: they speak HTTP through the SDK and verify offline.

- ``client.cli.devices`` devices: add, enrol, approve, list, revoke; an enrolment
                         service's codes and approvals
- ``client.cli.core``    provision, deposit, read, documents, grants, log
- ``client.cli.space``   space: state, activate, oppose, close, rules, settings, physician
- ``client.cli.rules``   mask, unmask, hide-from-representatives, release-to-patient, block,
                         unblock, emergency, representatives, notifications
- ``client.cli.audit``   the regulator's trail: export, checkpoints, offline ``verify``

``register`` adds them to a Typer app: ``coffre.cli`` builds the ``coffre`` command from
them and the server's commands; ``app`` here is the client's alone (``python -m client.cli``),
for an install without the server.
"""

from __future__ import annotations

import typer

from client.cli import audit, core, devices, rules, space
from client.cli.common import CoffreGroup

__all__ = ["app", "main", "new_app", "register"]


def register(app: typer.Typer) -> None:
    """Add every client command to ``app`` (in the order ``coffre --help`` lists them)."""
    app.add_typer(devices.devices_app, name="devices")
    app.command()(core.provision)
    app.command()(core.deposit)
    app.command()(core.read)
    # the old verbs, kept working for scripts but no longer shown
    app.command("upload", hidden=True)(core.deposit)
    app.command("download", hidden=True)(core.read)
    app.command()(core.documents)
    app.command()(core.grant)
    app.command()(core.revoke)
    app.command()(core.grants)
    app.command()(core.log)
    app.add_typer(space.space_app, name="space")
    app.command()(rules.mask)
    app.command()(rules.unmask)
    app.command()(rules.hide_from_representatives)
    app.command()(rules.release_to_patient)
    app.command()(rules.block)
    app.command()(rules.unblock)
    app.add_typer(rules.emergency_app, name="emergency")
    app.add_typer(rules.representatives_app, name="representatives")
    app.add_typer(rules.notifications_app, name="notifications")
    app.add_typer(audit.audit_app, name="audit")


def new_app(cls: type[CoffreGroup] = CoffreGroup) -> typer.Typer:
    """An empty ``coffre`` Typer app with the shared group (errors as one line)."""
    return typer.Typer(
        name="coffre",
        cls=cls,
        help="Coffre: an event-sourced, client-encrypted vault for health documents.",
        no_args_is_help=True,
        add_completion=False,
        # a traceback with locals could show a token or a key: never print locals
        pretty_exceptions_show_locals=False,
    )


app = new_app()
register(app)


def main() -> None:
    """Entry point of the client's commands alone."""
    app()

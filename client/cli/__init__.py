"""The client's commands of ``coffre``: they speak HTTP through the SDK and verify offline.

One module per concept, named like the SDK's (``client.<concept>``) and the server's:

- ``client.cli.login``            login, logout (an OpenID provider's tokens)
- ``client.cli.life``             provision; space state, activate, oppose, close,
                                  request-deletion
- ``client.cli.documents``        deposit
- ``client.cli.reads``            read, documents
- ``client.cli.devices``          devices: add, enrol, approve, list, revoke; an enrolment
                                  service's codes and approvals
- ``client.cli.grants``           grant, revoke, grants
- ``client.cli.access_log``       log
- ``client.cli.confidentiality``  mask, unmask, make-invisible-to-representatives,
                                  release-invisible-to-patient
- ``client.cli.blocks``           block, unblock; space rules, settings, physician
- ``client.cli.emergency``        emergency declare | list
- ``client.cli.representatives``  representatives add | end | list
- ``client.cli.notifications``    notifications list | acknowledge
- ``client.cli.trail``            audit: the regulator's trail, exported and verified offline
- ``client.cli.fhir``             fhir provide | documents | retrieve | consents | audit-events
- ``client.cli.exports``          export download | verify | import: a patient's archive

``register`` adds them to a Typer app: ``coffre.cli`` builds the ``coffre`` command from
them and the server's commands; ``app`` here is the client's alone (``python -m client.cli``),
for an install without the server.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from client.cli import (
    access_log,
    blocks,
    confidentiality,
    devices,
    documents,
    emergency,
    exports,
    fhir,
    grants,
    life,
    login,
    notifications,
    reads,
    representatives,
    trail,
)
from client.cli.common import CoffreGroup

__all__ = ["app", "main", "new_app", "register"]

#: the top-level commands, in the order ``coffre --help`` lists them
COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("login", login.login),
    ("logout", login.logout),
    ("provision", life.provision),
    ("deposit", documents.deposit),
    ("read", reads.read),
    ("documents", reads.documents),
    ("grant", grants.grant),
    ("revoke", grants.revoke),
    ("grants", grants.grants),
    ("log", access_log.log),
    ("mask", confidentiality.mask),
    ("unmask", confidentiality.unmask),
    ("make-invisible-to-representatives", confidentiality.make_invisible_to_representatives),
    ("release-invisible-to-patient", confidentiality.release_invisible_to_patient),
    ("block", blocks.block),
    ("unblock", blocks.unblock),
)
#: old names, kept working for scripts but no longer shown
HIDDEN_ALIASES: tuple[tuple[str, Callable[..., None]], ...] = (
    ("upload", documents.deposit),
    ("download", reads.read),
    ("hide-from-representatives", confidentiality.make_invisible_to_representatives),
    ("release-to-patient", confidentiality.release_invisible_to_patient),
)
#: ``coffre space``: its life, and who may read it
SPACE_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("login", login.login),
    ("logout", login.logout),
    ("state", life.state),
    ("activate", life.activate),
    ("oppose", life.oppose),
    ("close", life.close),
    ("request-deletion", life.request_deletion),
    ("rules", blocks.access_rules),
    ("settings", blocks.settings),
    ("physician", blocks.physician),
)


def register(app: typer.Typer) -> None:
    """Add every client command to ``app`` (in the order ``coffre --help`` lists them)."""
    for name, command in COMMANDS:
        app.command(name)(command)
    for name, command in HIDDEN_ALIASES:
        app.command(name, hidden=True)(command)
    app.add_typer(devices.devices_app, name="devices")
    app.add_typer(space_app(), name="space")
    app.add_typer(emergency.emergency_app, name="emergency")
    app.add_typer(representatives.representatives_app, name="representatives")
    app.add_typer(notifications.notifications_app, name="notifications")
    app.add_typer(trail.audit_app, name="audit")
    app.add_typer(fhir.fhir_app, name="fhir")
    app.add_typer(exports.export_app, name="export")


def space_app() -> typer.Typer:
    """A new ``coffre space`` group: the life of a space and who may read it."""
    space = typer.Typer(
        help="A patient's space: its life (state, activate, oppose, close), who may read it.",
        no_args_is_help=True,
    )
    for name, command in SPACE_COMMANDS:
        space.command(name)(command)
    return space


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

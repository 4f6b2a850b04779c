"""``coffre notifications``: the caller's own notifications, ``list`` and ``acknowledge``
(``client.notifications``)."""

from __future__ import annotations

from typing import Annotated

import typer

from client.cli import render
from client.cli.common import (
    DEFAULT_URL,
    BeforeOption,
    JsonOption,
    TokenOption,
    UrlOption,
    client,
    err,
    out,
)

notifications_app = typer.Typer(help="The caller's own notifications.", no_args_is_help=True)


@notifications_app.command("list")
def notifications_list(
    unread: Annotated[bool, typer.Option("--unread", help="Only those not yet read.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Notifications per page.")] = 50,
    before: BeforeOption = None,
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

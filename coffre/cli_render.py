"""Rich tables for what the client commands print: access log, documents, grants.

Pure functions from SDK results to renderables, so the layout is tested without a
server. Titles and names come from the vault and may contain anything printable, so
they are always passed as plain ``Text`` (never interpreted as rich markup).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from vault.dto import DocumentSummary, GrantSummary

#: how the patient reads an action, by the access-log ``action`` column
ACTION_LABELS = {
    "provision": "space opened",
    "deposit": "deposited",
    "new_version": "new version of",
    "delete": "deleted",
    "grant": "granted access",
    "revoke": "revoked access",
    "read": "read",
}


def when(value: Any) -> str:
    """An ISO instant as local ``YYYY-MM-DD HH:MM:SS`` (the patient's own clock)."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def who(entry: Mapping[str, Any]) -> Text:
    """Name on the first line; profession (or role) and organisation on the second."""
    actor = entry.get("actor")
    if not isinstance(actor, Mapping):  # a flat projection row: actor_name, actor_role...
        actor = {key[6:]: value for key, value in entry.items() if key.startswith("actor_")}
    text = Text(str(actor.get("name") or actor.get("id") or "?"), style="bold")
    role = actor.get("profession") or actor.get("role")
    details = [str(part) for part in (role, actor.get("organisation")) if part]
    if details:
        text.append("\n" + ", ".join(details).replace("_", " "), style="dim")
    return text


def what(entry: Mapping[str, Any]) -> Text:
    """The action and its object, in the patient's words."""
    action = str(entry.get("action", "?"))
    detail = entry.get("detail") or {}
    text = Text(ACTION_LABELS.get(action, action))
    title = entry.get("document_title")
    if title:
        text.append(f" «{title}»")
        if entry.get("document_type"):
            text.append(f" ({entry['document_type']})".replace("_", " "), style="dim")
    elif entry.get("document_id"):
        text.append(f" document {str(entry['document_id'])[:8]}…")
    grantee = detail.get("grantee") if isinstance(detail, Mapping) else None
    if isinstance(grantee, Mapping):
        name = grantee.get("name") or grantee.get("grantee_name") or grantee.get("id")
        text.append(f" {'to' if action == 'grant' else 'of'} {name}")
        scope = detail.get("scope")
        if isinstance(scope, Mapping):
            text.append(f" ({scope_label(scope)})", style="dim")
    return text


def how(entry: Mapping[str, Any]) -> Text:
    """normal, emergency or representative; for a read, also on what basis it was allowed."""
    text = Text(str(entry.get("how") or ""))
    detail = entry.get("detail") or {}
    basis = detail.get("basis") if isinstance(detail, Mapping) else None
    if basis and entry.get("outcome") != "refused":
        text.append(f" ({basis})", style="dim")
    return text


def outcome(entry: Mapping[str, Any]) -> Text:
    """``allowed`` or ``REFUSED: reason``, the refusals standing out."""
    if entry.get("outcome") == "refused":
        reason = str(entry.get("reason") or "").replace("_", " ")
        return Text(f"REFUSED{': ' + reason if reason else ''}", style="bold red")
    return Text(str(entry.get("outcome") or "allowed"), style="green")


def scope_label(scope: Mapping[str, Any]) -> str:
    """A grant scope in a few words."""
    kind = scope.get("kind")
    if kind == "types":
        return "types: " + ", ".join(scope.get("types", ())).replace("_", " ")
    if kind == "documents":
        return f"{len(scope.get('documents', ()))} document(s)"
    return "whole space"


def access_log_table(entries: Iterable[Mapping[str, Any]]) -> Table:
    """The patient's access log: when, who, what, how, outcome."""
    table = Table(title="Access log (newest first)", show_lines=True)
    for column in ("when", "who", "what", "how", "outcome"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(
            when(entry.get("at")),
            who(entry),
            what(entry),
            how(entry),
            outcome(entry),
        )
    return table


def documents_table(documents: Iterable[DocumentSummary]) -> Table:
    """Documents of a space, as the caller may see them."""
    table = Table(title="Documents")
    for column in ("document id", "type", "title", "date", "v", "author", "size"):
        table.add_column(column, overflow="fold")
    for doc in documents:
        author = doc.author_name + (
            f", {doc.author_organisation}" if doc.author_organisation else ""
        )
        table.add_row(
            str(doc.document_id),
            doc.type.replace("_", " "),
            Text(doc.title),
            doc.date.isoformat(),
            str(doc.version),
            Text(author),
            f"{doc.size:,} B",
        )
    return table


def grants_table(grants: Iterable[GrantSummary]) -> Table:
    """Grants of a space, active or not."""
    table = Table(title="Grants")
    for column in ("grant id", "grantee", "scope", "granted", "expires", "state"):
        table.add_column(column, overflow="fold")
    for grant in grants:
        grantee = f"{grant.grantee_name} ({grant.grantee_profession or '?'}, {grant.grantee_id})"
        if grant.revoked_at:
            state = Text(f"revoked {when(grant.revoked_at)}", style="red")
        else:
            state = Text(
                "active" if grant.active else "expired", style="green" if grant.active else "dim"
            )
        table.add_row(
            str(grant.grant_id),
            Text(grantee),
            scope_label(grant.scope),
            when(grant.granted_at),
            when(grant.expires_at) if grant.expires_at else "never",
            state,
        )
    return table

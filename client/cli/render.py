"""Rich tables for what the client commands print: access log, documents, grants, and
the rules of a space (its state, who may read it, emergency accesses, notifications).

Pure functions from SDK results to renderables, so the layout is tested without a
server. Titles and names come from the vault and may contain anything printable, so
they are always passed as plain ``Text`` (never interpreted as rich markup).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from wire.dto import DocumentSummary, GrantSummary

#: how the patient reads an action, by the access-log ``action`` column
ACTION_LABELS = {
    "provision": "space opened",
    "deposit": "deposited",
    "new_version": "new version of",
    "delete": "deleted",
    "grant": "granted access",
    "revoke": "revoked access",
    "read": "read",
    "oppose": "opposed the space",
    "open": "space opened",
    "activate": "activated the space",
    "close": "closed the space",
    "request_deletion": "asked for express deletion",
    "delete_space": "space deleted",
    "reopen": "space opened again",
    "code": "one-time code",
    "mask": "masked",
    "unmask": "unmasked",
    "hide_from_representatives": "kept from representatives",
    "hold_for_announcement": "held for an announcement",
    "release_to_patient": "released",
    "block": "blocked a professional",
    "unblock": "lifted a block",
    "attending_physician": "attending physician",
    "setting": "changed a setting",
    "care_team": "care team",
    "add_representative": "representative added",
    "end_representation": "representation ended",
    "emergency_access": "emergency access",
    "announcement_pending": "a document awaits a consultation",
    "device_request": "asked to add the device",
    "device_approve": "approved the device",
    "device_revoke": "revoked the device",
    "device_code": "sent an enrolment code",
    "export": "exported the space",
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
    person = detail.get("representative") if isinstance(detail, Mapping) else None
    if isinstance(person, Mapping):  # an appointment names who, as what, on which act
        text.append(f" {person.get('name') or person.get('id')}")
        text.append(f" ({detail.get('appointment') or detail.get('kind')})", style="dim")
    device = entry.get("device")
    if isinstance(device, Mapping):  # one being added or revoked, or the one a read used
        label = device.get("name") or str(device.get("key_id", ""))[:8] + "…"
        if not action.startswith("device_"):
            text.append(" with device", style="dim")
        text.append(f" «{label}»", style="dim")
    grantee = detail.get("grantee") if isinstance(detail, Mapping) else None
    if isinstance(grantee, Mapping):
        name = grantee.get("name") or grantee.get("grantee_name") or grantee.get("id")
        text.append(f" {'to' if action == 'grant' else 'of'} {name}")
        scope = detail.get("scope")
        if isinstance(scope, Mapping):
            text.append(f" ({scope_label(scope)})", style="dim")
    return text


def how(entry: Mapping[str, Any]) -> Text:
    """normal, emergency or representative; for a read, also on what basis it was allowed;
    and how the actor logged in, when their token said."""
    text = Text(str(entry.get("how") or ""))
    detail = entry.get("detail") or {}
    basis = detail.get("basis") if isinstance(detail, Mapping) else None
    if basis and entry.get("outcome") != "refused":
        text.append(f" ({basis})", style="dim")
    method = entry.get("authentication")
    if method:
        text.append(f"\nlogged in: {method}", style="dim")
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


def grants_table(grants: Iterable[GrantSummary], *, show_basis: bool = False) -> Table:
    """Grants of a space, active or not; ``show_basis`` adds why each exists (consent
    or care team)."""
    table = Table(title="Grants")
    columns = ("grant id", "grantee", "scope", "granted", "expires", "state")
    for column in (*columns, "basis") if show_basis else columns:
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
            *((grant.basis.replace("_", " "),) if show_basis else ()),
        )
    return table


#: the space-level settings in the patient's words (``domain.records.Setting``)
SETTING_LABELS = {
    "emergency_access_forbidden": "emergency access forbidden",
    "emergency_reveals_masked": "an emergency access reveals masked documents",
    "attending_physician_sees_masked": "the attending physician sees masked documents",
}
#: notification kinds in the reader's words (``projections.notifications``)
NOTIFICATION_LABELS = {
    "new_document": "new document",
    "announcement_pending": "a document awaits an announcement consultation",
    "emergency_access": "emergency access",
    "new_professional": "a new professional read the space",
    "representative_appointed": "a legal representative was appointed",
    "device_requested": "a device asked to be added (approve it only if it is yours)",
    "device_refused": "a step about your devices was refused",
    "device_approved": "a device was approved",
    "device_revoked": "a device was revoked",
    "enrolment_code": "an enrolment code was sent to you",
}
_STATUS_STYLES = {"open": "green", "pending": "yellow", "closed": "red", "deleted": "bold red"}
_SPACE_INSTANTS = (
    ("opens_at", "opens"),
    ("activated_at", "activated"),
    ("closed_at", "closed"),
    ("archive_until", "archived until"),
    ("deletion_due_at", "deletion due"),
)


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _active(active: Any, ended: str) -> Text:
    return Text("active", style="green") if active else Text(ended, style="dim")


def space_state_table(state: Mapping[str, Any]) -> Table:
    """Where a space is in its life: its status and the instants that matter."""
    table = Table(title="Space", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", overflow="fold")
    status = str(state.get("status") or "?")
    table.add_row("status", Text(status, style=_STATUS_STYLES.get(status, "")))
    for key, label in _SPACE_INSTANTS:
        if state.get(key):
            table.add_row(label, when(state[key]))
    return table


def settings_table(settings: Mapping[str, Any]) -> Table:
    """The space-level settings, each on or off."""
    table = _table("Settings", "setting", "value")
    for name, value in settings.items():
        table.add_row(SETTING_LABELS.get(name, name), "yes" if value else "no")
    return table


def blocked_table(blocked: Iterable[Mapping[str, Any]]) -> Table:
    """The professionals the patient blocked."""
    table = _table("Blocked professionals", "RPPS", "name", "profession")
    for professional in blocked:
        table.add_row(
            str(professional.get("id")),
            Text(str(professional.get("name") or "")),
            str(professional.get("profession") or "").replace("_", " "),
        )
    return table


def representatives_table(representatives: Iterable[Mapping[str, Any]]) -> Table:
    """The patient's legal representatives, current or past."""
    table = _table("Legal representatives", "INS", "name", "kind", "since", "until", "state")
    for person in representatives:
        ended = person.get("ended_at")
        table.add_row(
            str(person.get("id")),
            Text(str(person.get("name") or "")),
            str(person.get("kind") or ""),
            when(person.get("since")),
            when(person["until"]) if person.get("until") else "—",
            _active(person.get("active"), f"ended {when(ended)}" if ended else "ended"),
        )
    return table


def emergency_accesses_table(accesses: Iterable[Mapping[str, Any]]) -> Table:
    """Emergency accesses declared on the space, current or past."""
    columns = ("access id", "professional", "justification", "started", "expires", "state")
    table = _table("Emergency accesses", *columns)
    for access in accesses:
        table.add_row(
            str(access.get("access_id")),
            Text(f"{access.get('professional_name')} ({access.get('professional_id')})"),
            Text(str(access.get("justification") or "")),
            when(access.get("started_at")),
            when(access.get("expires_at")),
            _active(access.get("active"), "over"),
        )
    return table


def access_rules_view(rules: Mapping[str, Any]) -> Group:
    """Who may currently read what: grants and care team, blocks, the attending
    physician, settings, representatives and emergency accesses."""
    known = {f.name for f in fields(GrantSummary)}
    # only the fields the summary knows: a newer server may answer more
    grants = [GrantSummary(**{k: v for k, v in g.items() if k in known}) for g in rules["grants"]]
    physician = rules.get("attending_physician")
    named = Text("Attending physician: ", style="bold")
    named.append(f"{physician['name']} ({physician['id']})" if physician else "none")
    return Group(
        grants_table(grants, show_basis=True),
        blocked_table(rules.get("blocked", ())),
        named,
        settings_table(rules.get("settings", {})),
        representatives_table(rules.get("representatives", ())),
        emergency_accesses_table(rules.get("emergency_accesses", ())),
    )


def notifications_table(notifications: Iterable[Mapping[str, Any]]) -> Table:
    """The caller's notifications, newest first, unread ones standing out."""
    table = _table("Notifications (newest first)", "#", "when", "what", "by", "document", "")
    for item in notifications:
        what_ = Text(NOTIFICATION_LABELS.get(str(item.get("kind")), str(item.get("kind"))))
        detail = item.get("detail") or {}
        if isinstance(detail, Mapping) and detail.get("justification"):
            what_.append(f": {detail['justification']}", style="dim")
        by = item.get("by") or {}
        read = bool(item.get("read"))
        table.add_row(
            str(item.get("position")),
            when(item.get("at")),
            what_,
            who({"actor": by}) if by.get("name") else Text(""),
            str(item.get("document_id") or ""),
            Text("read", style="dim") if read else Text("NEW", style="bold yellow"),
        )
    return table

"""Access-log rows for the space's own events beyond reads, deposits and grants: its
life (opposition, closure...), confidentiality codes, blocks, representatives, emergency
access...

Kept apart from ``projections.access_log`` so that module stays about reads, deposits
and grants. Rows never carry a code, a key or a birth date. Two side-table flags are
kept here for query-time filtering, named after the codes: ``invisible_to_patient`` (a
document awaiting an announcement consultation, until released) and
``invisible_to_representatives`` (a minor's secret). Which codes keep a row from which
reader is the domain's answer (``domain.reads.codes_hidden_from``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from domain.emergency import EmergencyRefusal
from domain.key_bytes import as_event_detail, stored_text
from domain.space import Space
from projections.source import Event
from projections.store import ViewCursor

Row = Callable[..., dict[str, Any]]

SET_INVISIBLE_TO_PATIENT = (
    "UPDATE access_log_documents SET invisible_to_patient = %(v)s WHERE document_id = %(d)s"
)
SET_INVISIBLE_TO_REPRESENTATIVES = (
    "UPDATE access_log_documents SET invisible_to_representatives = 1 WHERE document_id = %(d)s"
)
INSERT_GRANT = """
INSERT INTO access_log_grants (grant_id, space_id, grantee_id, grantee_name)
VALUES (%(grant_id)s, %(space_id)s, %(grantee_id)s, %(grantee_name)s)
"""

#: events whose row is just an action by the event's actor on the space (``CodeIssued``,
#: ``OpeningScheduled`` and ``BirthDateRecorded`` have none: they are part of the
#: provisioning, which has its own row, and a birth date is nobody's log line)
SIMPLE_ACTIONS: dict[type, str] = {
    Space.Opposed: "oppose",
    Space.Opened: "open",
    Space.Activated: "activate",
    Space.DeletionRequested: "request_deletion",
    Space.Shredded: "delete_space",
}
#: events about one document
DOCUMENT_ACTIONS: dict[type, str] = {
    Space.Masked: "mask",
    Space.Unmasked: "unmask",
    Space.HiddenFromRepresentatives: "hide_from_representatives",
    Space.HeldForAnnouncement: "hold_for_announcement",
    Space.ReleasedToPatient: "release_to_patient",
}

#: refused emergency accesses, with the reason their row shows
EMERGENCY_REFUSALS: dict[type, str] = {
    Space.EmergencyAccessRefused: EmergencyRefusal.FORBIDDEN_BY_PATIENT,
    Space.EmergencyAccessProfessionRefused: EmergencyRefusal.NOT_A_HEALTH_PROFESSION,
}


def space_entry(cursor: ViewCursor, entry_id: int, event: Event, row: Row) -> dict[str, Any] | None:
    """The access-log row of such an event of the space, or None if it has none.

    ``row`` is ``projections.access_log._row`` (passed in to avoid an import cycle).
    """
    space_id, at, actor = (
        event.originator_id,
        getattr(event, "at", None),
        getattr(event, "actor", None),
    )
    kind = type(event)
    if kind in SIMPLE_ACTIONS:
        return row(entry_id, space_id, at, actor, SIMPLE_ACTIONS[kind])
    if kind in DOCUMENT_ACTIONS:
        document_id = event.document_id
        if kind is Space.HeldForAnnouncement:
            cursor.execute(SET_INVISIBLE_TO_PATIENT, {"v": 1, "d": document_id})
        elif kind is Space.ReleasedToPatient:
            cursor.execute(SET_INVISIBLE_TO_PATIENT, {"v": 0, "d": document_id})
        elif kind is Space.HiddenFromRepresentatives:
            cursor.execute(SET_INVISIBLE_TO_REPRESENTATIVES, {"d": document_id})
        return row(entry_id, space_id, at, actor, DOCUMENT_ACTIONS[kind], document_id=document_id)
    if kind is Space.CodeRejected:
        return row(
            entry_id,
            space_id,
            at,
            actor,
            "code",
            outcome="refused",
            reason="wrong_code",
            detail={"purpose": event.purpose},
        )
    if kind is Space.AnnouncementNoticeSent:
        # No document id: the notice says a document awaits, never which one.
        return row(entry_id, space_id, at, actor, "announcement_pending")
    if kind is Space.Closed:
        detail = {
            "express_deletion": event.express_deletion,
            "archive_until": event.archive_until.isoformat(),
            "deletion_due_at": event.deletion_due_at.isoformat(),
        }
        return row(entry_id, space_id, at, actor, "close", detail=detail)
    if kind is Space.Reopened:
        return row(entry_id, space_id, at, actor, "reopen", detail={"reimported": event.reimported})
    return _access_entry(cursor, entry_id, event, row)


def _access_entry(
    cursor: ViewCursor, entry_id: int, event: Event, row: Row
) -> dict[str, Any] | None:
    space_id, at, actor = event.originator_id, event.at, event.actor
    kind = type(event)
    if kind is Space.Blocked:
        return row(
            entry_id, space_id, at, actor, "block", detail={"professional": event.professional}
        )
    if kind is Space.Unblocked:
        detail = {"professional_id": event.professional_id}
        return row(entry_id, space_id, at, actor, "unblock", detail=detail)
    if kind is Space.AttendingPhysicianDesignated:
        detail = {"physician": event.physician}
        return row(entry_id, space_id, at, actor, "attending_physician", detail=detail)
    if kind is Space.SettingChanged:
        detail = {"setting": event.setting, "value": event.value}
        return row(entry_id, space_id, at, actor, "setting", detail=detail)
    if kind is Space.CareTeamJoined:
        cursor.execute(
            INSERT_GRANT,
            {
                "grant_id": event.grant_id,
                "space_id": space_id,
                "grantee_id": event.grantee["id"],
                "grantee_name": event.grantee["name"],
            },
        )
        detail = {
            "grant_id": str(event.grant_id),
            "grantee": event.grantee,
            "basis": "care_team",
            "expires_at": event.expires_at.isoformat() if event.expires_at else None,
        }
        return row(entry_id, space_id, at, actor, "care_team", detail=detail)
    if kind is Space.RepresentativeAdded or kind is Space.RepresentativeAppointed:
        # A sealed name and reference stay in the event (as a justification does): the
        # row names their key, the vault opens them for the page (``open_details``).
        text_key = event.__dict__.get("text_key")
        name = stored_text(event.representative["name"], text_key)
        detail = {
            "representative": {**event.representative, "name": as_event_detail(name)},
            "kind": event.kind,
            "until": event.until.isoformat() if event.until else None,
        }
        if kind is Space.RepresentativeAppointed:
            # The line names the appointment and the act it rests on; a sealed act's
            # line is made once its reference is opened (``name_appointments``).
            reference = stored_text(event.basis["reference"], text_key)
            detail["basis"] = {**event.basis, "reference": as_event_detail(reference)}
            if text_key is None:
                detail["appointment"] = appointment_text(event.kind, event.basis)
        return row(entry_id, space_id, at, actor, "add_representative", detail=detail)
    if kind is Space.RepresentationEnded:
        detail = {"representative_id": event.representative_id, "reason": event.reason}
        return row(entry_id, space_id, at, actor, "end_representation", detail=detail)
    if kind is Space.EmergencyAccessInvoked:
        detail = {
            "access_id": str(event.access_id),
            "justification": as_event_detail(stored_text(event.justification, event.text_key)),
            "expires_at": event.expires_at.isoformat(),
        }
        return row(
            entry_id, space_id, at, actor, "emergency_access", how="emergency", detail=detail
        )
    if kind in EMERGENCY_REFUSALS:
        return row(
            entry_id,
            space_id,
            at,
            actor,
            "emergency_access",
            how="emergency",
            outcome="refused",
            reason=EMERGENCY_REFUSALS[kind],
            detail={
                "justification": as_event_detail(stored_text(event.justification, event.text_key))
            },
        )
    return None


#: how an appointment's act is named on its log line
ACT_NAMES = {"birth_registration": "birth registration", "court_decision": "court decision"}


def appointment_text(kind: str, basis: dict[str, str]) -> str:
    """``parent, birth registration N-2026-123 of 2026-10-21``: what a log line shows."""
    act = ACT_NAMES.get(basis.get("act", ""), basis.get("act", "act"))
    return f"{kind}, {act} {basis.get('reference')} of {basis.get('date')}"


def name_appointments(rows: Iterable[dict[str, Any]]) -> None:
    """Give in place their line (``appointment``) to the appointments of log rows whose
    act's reference was sealed, once the vault opened it (``vault.core.open_details``):
    the row cannot hold the line, which quotes the reference. Rows of appointments
    recorded in clear have theirs already."""
    for entry in rows:
        detail = entry.get("detail")
        if entry.get("action") != "add_representative" or not isinstance(detail, dict):
            continue
        basis = detail.get("basis")
        if "appointment" in detail or not isinstance(basis, dict):
            continue
        if isinstance(basis.get("reference"), str):  # opened (not the row's mark)
            detail["appointment"] = appointment_text(str(detail.get("kind")), basis)

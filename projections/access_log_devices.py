"""Access-log rows for a patient's reader devices, and the device a read was made with.

A device of the patient's is a way into their data: each step about one (a device
asking to be added, a refused step, an approval, a revocation, an enrolment code sent)
is a line of their log. Every device's name is kept in ``access_log_devices`` (by owner
and key id): a line names its device by key id (``access_log.device_key_id``, the one a
read was made with), and the log's query adds the name. Rows never carry a key or a
code.
"""

from __future__ import annotations

from typing import Any

from domain.reader import Reader
from domain.space import Space
from projections.access_log_space import Row
from projections.source import Event
from projections.store import ViewCursor
from wire.values import Role

UPSERT_DEVICE = """
INSERT INTO access_log_devices (owner_role, owner_id, key_id, name)
VALUES (%(role)s, %(id)s, %(key_id)s, %(name)s)
ON CONFLICT (owner_role, owner_id, key_id) DO UPDATE SET name = excluded.name
"""
#: the action of each event about a device (a refusal's is its step's)
DEVICE_ACTIONS: dict[type, str] = {
    Reader.DeviceRequested: "device_request",
    Reader.DeviceApproved: "device_approve",
    Reader.DeviceRevoked: "device_revoke",
    Reader.EnrolmentCodeIssued: "device_code",
}
REFUSED_ACTIONS = {"request": "device_request", "approval": "device_approve"}


def device_entry(
    cursor: ViewCursor, entry_id: int, event: Event, row: Row
) -> dict[str, Any] | None:
    """The patient's log row of a step about one of their devices (None for anyone
    else's devices); remembers every device's name for the reads made with it.

    ``row`` is ``projections.access_log._row`` (passed in to avoid an import cycle).
    """
    owner = event.owner
    if isinstance(event, Reader.DeviceRequested):
        params = {"role": owner["role"], "id": owner["id"], "key_id": event.key_id}
        cursor.execute(UPSERT_DEVICE, {**params, "name": event.name})
    if owner["role"] != Role.PATIENT.value:
        return None
    space_id = Space.create_id(owner["id"])
    device = getattr(event, "key_id", None)
    detail = {"method": event.method} if isinstance(event, Reader.DeviceApproved) else {}
    if isinstance(event, Reader.DeviceRefused):
        action = REFUSED_ACTIONS[event.purpose]
        return row(
            entry_id,
            space_id,
            event.at,
            event.actor,
            action,
            outcome="refused",
            reason=event.rule,
            device_key_id=device,
        )
    action = DEVICE_ACTIONS[type(event)]
    return row(
        entry_id, space_id, event.at, event.actor, action, detail=detail, device_key_id=device
    )


def is_device_event(event: Event) -> bool:
    """Whether ``event`` is a step about a reader device."""
    return type(event) in DEVICE_ACTIONS or isinstance(event, Reader.DeviceRefused)

"""The patient's access log through the SDK: who did what, when, how, and what was
refused, newest first (``api.routers.access_log``, ``projections.access_log``).

::

    with CoffreClient(url, patient_token) as coffre:
        for entry in coffre.access_log_entries(ins, action="read"):
            print(entry["at"], entry["actor"]["name"])
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from client.io import as_uuid, space_path
from client.transport import Transport

__all__ = ["AccessLogMethods"]


class AccessLogMethods(Transport):
    """Calls on a space's access log."""

    def access_log(
        self,
        patient_id: str,
        *,
        before: int | None = None,
        limit: int | None = None,
        actor_id: str | None = None,
        document_id: UUID | str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        """One page of the patient's access log, newest first: ``{entries, next_cursor}``."""
        query = {
            "before": before,
            "limit": limit,
            "actor_id": actor_id,
            "action": action,
            "document_id": None if document_id is None else as_uuid(document_id, "document_id"),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }
        params = {name: str(value) for name, value in query.items() if value is not None}
        return self._request("GET", f"{space_path(patient_id)}/access-log", params=params)

    def access_log_entries(self, patient_id: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every access-log entry matching ``filters`` (see :meth:`access_log`), page by page."""
        before = filters.pop("before", None)
        while True:
            page = self.access_log(patient_id, before=before, **filters)
            yield from page["entries"]
            before = page.get("next_cursor")
            if before is None:
                return

"""The patient's access log: who did what in their space, refused reads included."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query

from api.deps import FreshViews, FreshViewsDep, PatientActor, VaultDep
from api.models import LogEntry, LogPage, LogQuery
from api.routers.common import PatientId, Router, problem_responses
from domain.values import Actor
from projections.access_log import LogFilter
from projections.access_log_space import name_appointments
from vault.service import Vault

router = Router(
    prefix="/v1/spaces/{patient_id}/access-log",
    tags=["access-log"],
    responses=problem_responses(401, 403, 404, 422),
)


@router.get("", name="read_access_log")
def read_access_log(
    patient_id: PatientId,
    query: Annotated[LogQuery, Query()],
    vault: VaultDep,
    views: FreshViewsDep,
    actor: PatientActor,
) -> LogPage:
    """A page of the log, newest first; ``next_cursor`` is the next page's ``before``."""
    where = LogFilter(
        actor_id=query.actor_id,
        document_id=query.document_id,
        action=query.action.value if query.action else None,
        since=query.since,
        until=query.until,
    )
    return log_page(patient_id, vault, views, actor, where, query.before, query.limit)


def log_page(
    patient_id: str,
    vault: Vault,
    views: FreshViews,
    actor: Actor,
    where: LogFilter,
    before: int | None,
    limit: int,
) -> LogPage:
    """A page of a patient's access log as they are shown it (the JSON route's and
    FHIR's ``AuditEvent`` search's): the reading is recorded first (``authorise_log``),
    titles and other sealed free text (justifications, representatives' names and acts)
    are opened for this page only."""
    space_id = vault.authorise_log(patient_id, actor)  # recorded before the log is read
    page = views.access_log().page(space_id, before=before, limit=limit, where=where)
    entries = [LogEntry.from_row(row) for row in opened_rows(vault, patient_id, page.entries)]
    return LogPage(entries=entries, next_cursor=page.next_cursor)


def opened_rows(vault: Vault, patient_id: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a page of the access log its reader was allowed to read (``authorise_log``
    first), with the sealed free text opened for this page only: titles, and details
    (an emergency access's justification, a representative's name and act, whose line
    is then named). The page's route and the patient's export show the same."""
    # titles are sealed in the events: the vault opens those of this page's documents
    sealed = {UUID(str(row["document_id"])) for row in rows if _needs_title(row)}
    titles = vault.log_titles(patient_id, sealed) if sealed else {}
    vault.open_details(rows)
    name_appointments(rows)
    return [
        {**row, "document_title": titles.get(UUID(str(row["document_id"])))}
        if _needs_title(row)
        else row
        for row in rows
    ]


def _needs_title(row: dict[str, Any]) -> bool:
    # '' in the projection: no clear title kept there (see projections.access_log)
    return row.get("document_id") is not None and row.get("document_title") == ""

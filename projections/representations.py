"""Representations: who acts for which patient (``view_representations``), so that a
legal representative's page lists the spaces they may act in.

.. important::
   Display only, like the access views: whether a representative may act in a space is
   decided on the space itself (``domain.reads``), never on this view. Whether a
   representation is in force at a given instant is the domain's answer
   (``domain.records.Representation.active``), asked of the rows at query time
   (``projections.access_views_query.AccessViews.for_representative``).

One row per (space, representative), as the aggregate keeps one representation per
representative: an appointment after an ended one replaces it. Rebuildable from the
events (``migrations/*/0018.representations.sql``).
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.space import Space
from projections.runner import Projection
from projections.source import Event
from projections.store import ViewCursor

__all__ = ["RepresentationsProjection"]


class RepresentationsProjection(Projection):
    """Builds ``view_representations`` from appointments and ends of representations."""

    name = "representations"
    tables = ("view_representations",)

    def apply(self, cursor: ViewCursor, events: Sequence[tuple[int, Event]]) -> None:
        """Write the rows for a batch of events inside the caller's transaction."""
        for _, event in events:
            # appointments, old and new (eventsourcing remakes each event class on the
            # aggregate, so the newer one is not a subclass of the older there)
            if isinstance(event, Space.RepresentativeAdded | Space.RepresentativeAppointed):
                params = {"s": event.originator_id, "r": event.representative["id"]}
                cursor.execute(
                    "DELETE FROM view_representations "
                    "WHERE space_id = %(s)s AND representative_id = %(r)s",
                    params,
                )
                cursor.execute(
                    "INSERT INTO view_representations "
                    "(space_id, representative_id, kind, since, until, ended_at) "
                    "VALUES (%(s)s, %(r)s, %(kind)s, %(since)s, %(until)s, NULL)",
                    {**params, "kind": event.kind, "since": event.at, "until": event.until},
                )
            elif isinstance(event, Space.RepresentationEnded):
                cursor.execute(
                    "UPDATE view_representations SET ended_at = %(at)s "
                    "WHERE space_id = %(s)s AND representative_id = %(r)s",
                    {"s": event.originator_id, "r": event.representative_id, "at": event.at},
                )

"""A trail export as a FHIR R4 Bundle of AuditEvents: the server's side.

The rendering itself is ``wire.trail_fhir`` (pure, shared with the offline verifier,
which renders the Bundle again and requires exact equality); this module dates the
Bundle and looks up the INS of each space.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from projections.trail_events import format_instant
from wire.trail_fhir import INS, RPPS, audit_event, classify, outcome, render_bundle

__all__ = ["INS", "RPPS", "audit_event", "bundle_from_export", "classify", "outcome"]


def bundle_from_export(
    export: str, patients: Callable[[str], str | None], now: datetime
) -> dict[str, Any]:
    """Build the Bundle from a JSON Lines export's text, dated ``now``.

    ``patients(space_id)`` returns the INS of a space (for the Patient entity) or None.
    """
    return render_bundle(export, patients, format_instant(now))

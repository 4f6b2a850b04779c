"""The regulator's side of the SDK: the trail's public key, checkpoints, proofs, exports.

Composed into ``client.sdk.CoffreClient`` (``api.routers.trail``, ``projections.trail``)::

    with CoffreClient(url, regulator_token) as coffre:
        key_set = coffre.trail_keys()      # or the key set published out of band
        coffre.trail_export("trail.jsonl", patient_id=ins)
    report = client.trail_verify.verify_file("trail.jsonl", key_set=key_set)

Everything but the public key and the key set needs a regulator token. An export is streamed to its
sink as it arrives (memory stays flat); to a path it goes through a temporary file in
the same directory, renamed into place only once the whole answer arrived. Arriving is
not verifying: check the file with ``client.trail_verify`` (``coffre audit verify``)
against a public key obtained independently of the export.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from client.io import Sink, open_sink
from client.shapes import Progress
from client.transport import Transport
from wire.checkpoint import key_id_of
from wire.errors import IntegrityFailure, InvalidInput
from wire.trail_keys import TrailKeySet

__all__ = ["ExportFormat", "TrailMethods"]

ExportFormat = Literal["jsonl", "fhir"]


class TrailMethods(Transport):
    """Regulator calls on the trail."""

    def trail_public_key(self) -> tuple[bytes, str]:
        """The trail's Ed25519 public key and its key id (no token needed).

        Fetched from the server, so it proves nothing against that same server: compare
        it with the key published out of band before trusting a verification with it.
        """
        answer = self._request("GET", "/v1/trail/public-key")
        try:
            key = base64.b64decode(answer["public_key"], validate=True)
            key_id = str(answer["key_id"])
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise IntegrityFailure("the server sent a malformed trail public key") from None
        if len(key) != 32 or key_id_of(key) != key_id:
            raise IntegrityFailure("the trail public key does not match its key id")
        return key, key_id

    def trail_keys(self) -> TrailKeySet:
        """Every key that signed the trail, with its validity period (no token needed).

        Like :meth:`trail_public_key`, it proves nothing against the server that sent
        it: compare it with the key set the operator publishes out of band.
        """
        return TrailKeySet.from_json(self._request("GET", "/v1/trail/keys"))

    def trail_checkpoint(self, sign: bool = False) -> dict[str, Any]:
        """The latest signed checkpoint, or (``sign=True``) one signed now over the trail
        as it is; the JSON form that ``--previous`` and ``load_checkpoint`` take."""
        if sign:
            return dict(self._request("POST", "/v1/trail/checkpoints"))
        return dict(self._request("GET", "/v1/trail/checkpoints/latest"))

    def trail_consistency(self, old: int, new: int) -> dict[str, Any]:
        """The RFC 9162 proof that the trail of ``new`` entries extends that of ``old``:
        ``{"old", "new", "proof": [hex, ...]}`` (``wire.merkle.verify_consistency``)."""
        for name, value in (("old", old), ("new", new)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{name} must be a tree size (an integer >= 0)", field=name)
        if old > new:
            raise InvalidInput("old must not exceed new", field="old")
        return dict(self._request("GET", "/v1/trail/consistency", params={"old": old, "new": new}))

    def trail_export(
        self,
        sink: Sink,
        *,
        patient_id: str | None = None,
        actor_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        format: ExportFormat = "jsonl",  # the API's own parameter name
        from_size: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Stream a verifiable export into ``sink`` (a path or a binary file); returns
        the number of bytes written.

        ``patient_id`` or ``actor_id`` (not both) and/or a window [``since``,
        ``until``); ``from_size``: a checkpoint size already held, to also get the
        consistency proof from it. ``progress(done, total or None)`` counts bytes.
        """
        if format not in ("jsonl", "fhir"):
            raise InvalidInput("format is jsonl or fhir", field="format")
        query: dict[str, Any] = {
            "patient_id": patient_id,
            "actor_id": actor_id,
            "since": _instant(since, "since"),
            "until": _instant(until, "until"),
            "format": format,
            "from_size": from_size,
        }
        params = {name: str(value) for name, value in query.items() if value is not None}
        with open_sink(sink) as out:
            return self._stream_to("GET", "/v1/trail/export", out, progress, params=params)


def _instant(value: datetime | None, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(f"{field} must be a time-zone-aware datetime", field=field)
    return value.isoformat()

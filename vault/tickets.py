"""Short-lived signed tickets: upload receipts and ciphertext download links.

A ticket is ``base64url(json payload) + "." + base64url(HMAC-SHA256)``, keyed by a
subkey of the master key. Tickets let the API stay stateless between an upload and the
deposit that names it, and between a read (which records the access and releases the
key) and the download of the ciphertext it authorises.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from wire.errors import IntegrityFailure, InvalidInput

MAX_TICKET_LENGTH = 4096


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TicketSigner:
    """Signs and checks tickets of one purpose ("upload", "content")."""

    def __init__(self, key: bytes, purpose: str) -> None:
        if len(key) < 32:
            raise ValueError("ticket keys are at least 32 bytes")
        self._key = key
        self._purpose = purpose

    def sign(self, payload: dict[str, Any], expires_at: datetime) -> str:
        """A ticket carrying ``payload`` until ``expires_at``."""
        body = dict(payload, purpose=self._purpose, exp=int(expires_at.timestamp()))
        encoded = _b64(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
        return f"{encoded}.{_b64(self._mac(encoded))}"

    def verify(self, ticket: str, now: datetime) -> dict[str, Any]:
        """The payload of a valid, unexpired ticket of this purpose.

        Raises ``InvalidInput`` for malformed tickets and ``IntegrityFailure`` for
        forged, foreign or expired ones; the message never echoes the ticket.
        """
        if not isinstance(ticket, str) or len(ticket) > MAX_TICKET_LENGTH or ticket.count(".") != 1:
            raise InvalidInput("malformed ticket", field="ticket")
        encoded, mac = ticket.split(".")
        try:
            given = _unb64(mac)
        except (binascii.Error, ValueError):
            raise InvalidInput("malformed ticket", field="ticket") from None
        # Constant-time comparison: a timing oracle would let a caller forge MACs.
        if not hmac.compare_digest(given, self._mac(encoded)):
            raise IntegrityFailure("the ticket's signature does not verify")
        body = json.loads(_unb64(encoded))
        if body.get("purpose") != self._purpose:
            raise IntegrityFailure("the ticket is not for this purpose")
        if int(body["exp"]) < now.timestamp():
            raise IntegrityFailure("the ticket has expired")
        return body

    def _mac(self, encoded: str) -> bytes:
        return hmac.new(self._key, f"{self._purpose}|{encoded}".encode(), hashlib.sha256).digest()

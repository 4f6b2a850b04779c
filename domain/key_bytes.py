"""Key material as events carry it: raw bytes checked for size, stored as base64 text."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from wire.errors import InvalidInput

#: what crypto_box_seal adds to what it seals: 32 (ephemeral public key) + 16 (MAC)
SEAL_OVERHEAD = 48
#: crypto_box_seal of a 32-byte key
SEALED_KEY_SIZE = SEAL_OVERHEAD + 32
#: a depositor's sealed data key, sealed again to its document's own key
DOCUMENT_SEALED_KEY_SIZE = SEAL_OVERHEAD + SEALED_KEY_SIZE
PUBLIC_KEY_SIZE = 32


@dataclass(frozen=True)
class SealedText:
    """Free text (a title, a justification) sealed to a key pair of the key store.

    ``box`` is the base64 of a ``crypto_box_seal`` to the key ``key_id`` names: only
    the keyring opens it, and destroying that key (a document's deletion, a space's
    shredding) destroys the text for good, in every event and copy that holds it.
    """

    key_id: str
    box: str = field(repr=False)

    def to_detail(self) -> dict[str, str]:
        """The form views keep it in (a row's JSON detail), for the vault to open."""
        return {"sealed_to": self.key_id, "box": self.box}

    @classmethod
    def from_detail(cls, value: object) -> SealedText | None:
        """The sealed text ``value`` holds in a view's detail, or None for plain values."""
        if isinstance(value, dict) and set(value) == {"sealed_to", "box"}:
            return cls(str(value["sealed_to"]), str(value["box"]))
        return None


def stored_text(text: str, key_id: str | None) -> str | SealedText:
    """An event's free-text field as recorded: sealed when the event names the key it
    was sealed to (``key_id``), clear text in events recorded before sealing."""
    return text if key_id is None else SealedText(key_id, text)


def keep_earlier_shape(fields: dict[str, Any]) -> None:
    """Drop an event's absent ``text_key`` (``fields`` is its ``__dict__``).

    Without a key, the event holds exactly the fields events recorded before sealing
    hold, so that its stored state and its trail digest are shaped as they always were.
    """
    if fields.get("text_key") is None:
        fields.pop("text_key", None)


def as_detail(text: str | SealedText) -> str | dict[str, str]:
    """A recorded free text as views keep it: clear text, or sealed (``to_detail``)."""
    return text if isinstance(text, str) else text.to_detail()


def as_event_detail(text: str | SealedText) -> str | dict[str, str]:
    """Like ``as_detail``, for a view whose row is keyed by the event's notification id
    and must stay small (the access log's rows sit whole in a B-tree index, whose
    entries cannot exceed ~2.7 kB): a sealed text is left in its event, which the
    vault reads back by that id to open it."""
    return text if isinstance(text, str) else {"sealed_to": text.key_id, "in": "event"}


@dataclass(frozen=True)
class DocumentSeal:
    """What a deposit records of its secrets, all sealed to a document key of its own.

    ``sealed_key`` is the depositor's sealed data key sealed again to the document key
    (:data:`DOCUMENT_SEALED_KEY_SIZE` bytes) and ``title`` the sealed title: destroying
    the document key (``key_id``) makes both unreadable, whoever holds the rest.
    """

    key_id: str
    sealed_key: bytes = field(repr=False)
    title: str = field(repr=False)


def decode_key_bytes(value: str | bytes, *, size: int, field: str) -> bytes:
    """Accept raw bytes or base64 text of exactly ``size`` bytes."""
    if isinstance(value, str):
        try:
            value = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"{field} is not valid base64", field=field) from None
    if not isinstance(value, bytes) or len(value) != size:
        raise InvalidInput(f"{field} must be {size} bytes", field=field)
    return value


def b64(data: bytes) -> str:
    """Standard base64 text, the form bytes take inside events."""
    return base64.b64encode(data).decode("ascii")

"""Key material as events carry it: raw bytes checked for size, stored as base64 text."""

from __future__ import annotations

import base64
import binascii

from wire.errors import InvalidInput

#: crypto_box_seal of a 32-byte key: 32 (ephemeral public key) + 16 (MAC) + 32
SEALED_KEY_SIZE = 80
PUBLIC_KEY_SIZE = 32


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

"""PostgreSQL advisory-lock keys: one derivation for every lock Coffre takes.

A key is the first 8 bytes of BLAKE2b over a name in our namespace, as a signed 64-bit
integer (what ``pg_advisory_lock`` takes). Stable across versions: processes of an old
and a new release running side by side during an upgrade must take the same locks.
"""

from __future__ import annotations

import hashlib


def advisory_key(name: str) -> int:
    """The advisory-lock key of ``name`` (``"coffre.schema"``, ``"coffre.view:trail"``)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)

"""Recognising a full disk behind a backend's error, so that it answers one clear
problem (``wire.errors.StorageFull``, 507 ``storage-full``) rather than a vague 503.

The event store's library wraps the driver's error (``eventsourcing``'s
``OperationalError`` around ``sqlite3``'s or ``psycopg``'s), so the whole chain of
causes is looked at.
"""

from __future__ import annotations

import errno
import sqlite3

#: what a full filesystem (or an exhausted quota) answers a write
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

#: PostgreSQL's SQLSTATE for disk_full
_PG_DISK_FULL = "53100"


def storage_full(error: BaseException | None) -> bool:
    """True if ``error`` or one of its causes says the storage is full."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
            return True
        if isinstance(error, sqlite3.Error) and (
            getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "database or disk is full" in str(error)
        ):
            return True
        if getattr(error, "sqlstate", None) == _PG_DISK_FULL:
            return True
        error = error.__cause__ or error.__context__
    return False

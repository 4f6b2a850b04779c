"""The trail's signing keys as published: each key's id, public key and validity period.

The table ``trail_keys`` (migration 0012) holds no secret: it is what the operator
publishes (``wire.trail_keys``). A key enters it when a process first signs, or starts,
with it (:meth:`TrailKeys.adopt`); that ends the period of the key that signed before.
So a rotation is recorded whatever its cause: ``coffre keys rotate-trail``, a new
``COFFRE_TRAIL_KEYS`` deployed, or (a deployment that never set one) a new current
master key its legacy trail key derives from. A process still holding a key whose
period ended may not sign with it (:meth:`TrailKeys.require_signing`): a checkpoint it
signed would fail every verification against the published set.

Also here, for ``projections.trail_query``: what the trail needs of its signer and of
its clock, and the reading of stored checkpoints (one per size and key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from projections.store import ViewStore
from projections.trail_store import parse_sqlite_time
from wire.checkpoint import Checkpoint
from wire.errors import Unavailable
from wire.trail_keys import PublishedKey, TrailKeySet

__all__ = ["Clock", "Signer", "TrailKeys", "checkpoint_rows"]


class Signer(Protocol):
    """What the trail needs of its signing key (``keys.checkpoint.CheckpointSigner``);
    the key itself stays in ``keys``."""

    public_key: bytes
    key_id: str

    def sign(self, size: int, root: bytes, at: datetime) -> Checkpoint:
        """A checkpoint over (size, root, at)."""
        ...

    def sign_manifest(self, manifest: dict[str, Any]) -> bytes:
        """A signature over an export manifest."""
        ...


class Clock(Protocol):
    """Tells the current, time-zone-aware instant."""

    def now(self) -> datetime:
        """The current instant."""
        ...


def checkpoint_rows(store: ViewStore, tail: str, params: dict[str, Any]) -> list[Checkpoint]:
    """The stored checkpoints ``tail`` selects (``WHERE …``/``ORDER BY …``)."""
    # ``tail`` is one of the trail's own literals; values are bound parameters.
    sql = "SELECT size, root, at, key_id, signature FROM trail_checkpoints " + tail  # noqa: S608
    return [
        Checkpoint(
            size=int(r["size"]),
            root=bytes(r["root"]),
            at=_instant(r["at"]),
            key_id=r["key_id"],
            signature=bytes(r["signature"]),
        )
        for r in store.query(sql, params)
    ]


class TrailKeys:
    """Reads and records the trail's keys and their periods."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def adopt(self, signer: Signer, at: datetime, origin: str) -> bool:
        """Record ``signer``'s key as the trail's from ``at``, if it is not known yet.

        Every key still open ends at ``at``. A key checkpoints were already signed with
        (a store older than this table, whose one key had never been recorded) starts
        at its first checkpoint instead. A known key is left as it is: one whose period
        ended stays ended. Returns True when the key was recorded now (a rotation, or
        the first key).
        """
        with self.store.transaction() as cursor:
            if cursor.fetch("SELECT 1 FROM trail_keys WHERE key_id = %(k)s", {"k": signer.key_id}):
                return False
            first = cursor.fetch(
                "SELECT min(at) AS first FROM trail_checkpoints WHERE key_id = %(k)s",
                {"k": signer.key_id},
            )[0]["first"]
            since = at if first is None else min(at, _instant(first))
            # another process may record the same key at the same moment: the key is
            # the table's, so one insert wins and only the winner ends the others
            inserted = cursor.fetch(
                "INSERT INTO trail_keys (key_id, public_key, not_before, not_after, origin)"
                " VALUES (%(k)s, %(p)s, %(since)s, NULL, %(o)s)"
                " ON CONFLICT (key_id) DO NOTHING RETURNING key_id",
                {"k": signer.key_id, "p": signer.public_key, "since": since, "o": origin},
            )
            if inserted:
                cursor.execute(
                    "UPDATE trail_keys SET not_after = %(at)s"
                    " WHERE not_after IS NULL AND key_id <> %(k)s",
                    {"at": at, "k": signer.key_id},
                )
            return bool(inserted)

    def require_signing(self, signer: Signer, at: datetime) -> None:
        """Refuse (:class:`Unavailable`) to sign at ``at`` with a key whose published
        period does not cover it; a key not recorded yet is adopted first."""
        self.adopt(signer, at, "configured")
        key = self.get(signer.key_id)
        if key is None or not key.covers(at):
            raise Unavailable(
                f"the trail key {signer.key_id} of this process is retired; restart it "
                "with the current trail key (coffre keys status)"
            )

    def get(self, key_id: str) -> PublishedKey | None:
        """The recorded key ``key_id``, or None."""
        for key in self.key_set().keys:
            if key.key_id == key_id:
                return key
        return None

    def key_set(self) -> TrailKeySet:
        """Every key recorded, oldest first: the set the operator publishes."""
        rows = self.store.query(
            "SELECT key_id, public_key, not_before, not_after FROM trail_keys"
            " ORDER BY not_before IS NOT NULL, not_before, key_id"
        )
        return TrailKeySet(tuple(_published(row) for row in rows))

    def origins(self) -> dict[str, str]:
        """Where each recorded key came from (``coffre keys status``)."""
        rows = self.store.query("SELECT key_id, origin FROM trail_keys")
        return {row["key_id"]: row["origin"] for row in rows}


def _published(row: dict[str, Any]) -> PublishedKey:
    return PublishedKey(
        key_id=row["key_id"],
        public_key=bytes(row["public_key"]),
        not_before=_instant(row["not_before"]),
        not_after=_instant(row["not_after"]),
    )


def _instant(value: Any) -> Any:
    # PostgreSQL hands back datetimes, SQLite the ISO text it was given
    if value is None or isinstance(value, datetime):
        return value
    return parse_sqlite_time(value)

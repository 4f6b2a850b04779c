"""The keyring: the only code that ever opens a space's secret key.

It makes space key pairs, re-seals document data keys from a space's key to a
reader's key (the heart of key release), shreds space keys and rotates the master
key. Opened secret keys live only inside one method call and are never returned,
logged or stored unwrapped. (Python cannot wipe ``bytes`` from memory; keeping their
lifetime short is what we can do.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from nacl.public import PrivateKey

from keys.keystore import KeyRecord, KeyStore, Rewrap
from keys.master import MasterKeys
from wire.envelope import seal, unseal
from wire.errors import InvalidInput, InvalidKey, KeyDestroyed, UnknownKey, UnknownMasterKey

__all__ = ["Keyring", "SpaceKey", "space_key_aad"]

_PUBLIC_KEY_SIZE = 32
#: key-store rows rewrapped per transaction by a rotation
ROTATION_BATCH = 500


@dataclass(frozen=True)
class SpaceKey:
    """The public half of a new space key pair, and the id events refer to it by."""

    key_id: str
    public_key: bytes = field(repr=False)


def space_key_aad(space_id: UUID, key_id: str) -> bytes:
    """Associated data binding a wrapped space secret to its space and key id.

    A wrapped secret copied into another row (another key id or space) then fails to
    unwrap instead of silently opening someone else's documents.
    """
    return f"coffre-space-key|{space_id}|{key_id}".encode()


class Keyring:
    """Space key pairs, wrapped by the master keys and kept in a key store."""

    def __init__(self, master: MasterKeys, store: KeyStore) -> None:
        self._master = master
        self._store = store

    @property
    def master(self) -> MasterKeys:
        """The master keys in use (after :meth:`rotate`, the merged set)."""
        return self._master

    def create_space_key(self, space_id: UUID) -> SpaceKey:
        """Make and store a new X25519 key pair for a space; return its public half.

        The secret key is wrapped under the current master key, bound to
        ``space_id`` and the new key id, and never leaves this method unwrapped.
        """
        if not isinstance(space_id, UUID):
            raise InvalidInput("space_id must be a UUID", field="space_id")
        key_id = f"spk_{uuid.uuid4().hex}"
        private_key = PrivateKey.generate()
        wrapped = self._master.wrap(bytes(private_key), space_key_aad(space_id, key_id))
        public_key = bytes(private_key.public_key)
        self._store.add(KeyRecord(key_id, space_id, public_key, wrapped))
        return SpaceKey(key_id, public_key)

    def public_key(self, key_id: str) -> bytes:
        """The public key of a space key (still known after destruction)."""
        return self._store.get(key_id).public_key

    def reseal(
        self,
        space_id: UUID,
        key_id: str,
        sealed_data_key: bytes,
        reader_public_key: bytes,
    ) -> bytes:
        """Re-seal a document's data key from the space's key to a reader's key.

        Call only after the read event is durably recorded (DESIGN invariant 2).

        Raises :class:`UnknownKey` if ``key_id`` is not a key of ``space_id``,
        :class:`KeyDestroyed` after shredding, :class:`DecryptionError` if
        ``sealed_data_key`` was not sealed to this space's key (or the stored secret
        was tampered with), :class:`InvalidKey` for a malformed reader key.
        """
        if not isinstance(reader_public_key, bytes) or len(reader_public_key) != _PUBLIC_KEY_SIZE:
            raise InvalidKey(f"a reader public key is exactly {_PUBLIC_KEY_SIZE} bytes")
        record = self._store.get(key_id)
        if record.space_id != space_id:
            raise UnknownKey(f"no key {key_id!r} in this space")
        if record.wrapped is None:
            raise KeyDestroyed(f"the key {key_id!r} of this space was destroyed")
        # the AAD is rebuilt from what the caller asked for, not read from the row,
        # so a row whose wrapped secret was swapped in from elsewhere fails here
        secret = self._master.unwrap(record.wrapped, space_key_aad(space_id, key_id))
        data_key = unseal(sealed_data_key, secret)
        return seal(data_key, reader_public_key)

    def destroy(self, key_id: str, at: datetime) -> None:
        """Crypto-shred a space key: every document sealed to it becomes unreadable.

        Irreversible and idempotent. Record the destruction event before calling.
        """
        self._store.destroy(key_id, at)

    def wrapped_counts(self) -> dict[str, int]:
        """How many live secrets each master key id wraps (what retiring one waits on)."""
        return self._store.count_by_master()

    def rotate(
        self,
        new_master: MasterKeys | None = None,
        progress: Callable[[int, int], None] | None = None,
        *,
        batch_size: int = ROTATION_BATCH,
    ) -> int:
        """Rewrap every live secret of the key store under the current master key;
        return how many rows this call rewrapped.

        ``new_master`` (optional) becomes the keyring's set first, merged with the
        versions already loaded (the keyring keeps the union, so ``new_master`` may omit
        older versions). New keys made while this runs use the new current key.

        Rows are read in keyset pages of ``batch_size`` per older master key id, and
        each page is rewrapped in one transaction that changes a row only if it is still
        wrapped under the id it was read with. So it is resumable (a killed rotation is
        finished by running it again: rows already under the current key are not read
        again), idempotent (a second run rewraps nothing), and safe beside shredding and
        beside another rotation. ``progress(done, total)`` is called once before the
        first batch and after each committed one.

        Raises :class:`UnknownMasterKey` before changing anything if a row is wrapped
        under a version that is not loaded; a stored secret that fails verification
        stops the rotation with :class:`DecryptionError` (earlier batches stay done).
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("a rotation batch holds at least one key", field="batch_size")
        if new_master is not None:
            # switch first: readers keep working whichever version a row holds meanwhile
            self._master = new_master.union(self._master)
        master = self._master
        target = master.current.key_id
        counts = self._store.count_by_master()
        older = sorted(key_id for key_id in counts if key_id != target)
        missing = [key_id for key_id in older if key_id not in master.ids]
        if missing:
            raise UnknownMasterKey(
                f"key-store rows are wrapped under master key(s) not configured: "
                f"{', '.join(missing)}"
            )
        total = sum(counts[key_id] for key_id in older)
        done = 0
        if progress is not None:
            progress(done, total)
        for old in older:
            after = ""
            while page := self._store.wrapped_page(old, after, batch_size):
                done += self._store.rewrap([self._rewrapped(master, record) for record in page])
                after = page[-1].key_id
                if progress is not None:
                    progress(done, total)
        return done

    @staticmethod
    def _rewrapped(master: MasterKeys, record: KeyRecord) -> Rewrap:
        assert record.wrapped is not None  # pages hold live rows only
        aad = space_key_aad(record.space_id, record.key_id)
        secret = master.unwrap(record.wrapped, aad)
        return Rewrap(record.key_id, record.wrapped.master_key_id, master.wrap(secret, aad))

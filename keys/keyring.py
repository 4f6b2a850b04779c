"""The keyring: the only code that ever opens a space's secret key.

It makes space key pairs and document key pairs, re-seals document data keys from a
space's key to a reader's key (the heart of key release), seals and opens free text
(titles, justifications), shreds keys and rotates the master key.

A document key is a key pair of its own per deposited version, kept in the same store
under the same master keys: the deposit's sealed data key and its title are sealed
again to it, so destroying it (the document's deletion) makes both unreadable even to
someone holding the space key, every master key and the events. A space's shredding
destroys the space key and every document key of the space.

Opened secret keys live only inside one method call and are never returned, logged or
stored unwrapped. (Python cannot wipe ``bytes`` from memory; keeping their
lifetime short is what we can do.)
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from nacl.bindings import crypto_box_seal_open
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from domain.key_bytes import DocumentSeal, SealedText, b64
from keys.keystore import KeyRecord, KeyStore, Rewrap
from keys.master import MasterKeys
from wire.envelope import seal, unseal
from wire.errors import (
    DecryptionError,
    InvalidInput,
    InvalidKey,
    KeyDestroyed,
    UnknownKey,
    UnknownMasterKey,
)

__all__ = ["Keyring", "SpaceKey", "seal_text", "space_key_aad"]

#: key id prefixes: a space's key pair, a deposited version's own key pair
SPACE_KEY_PREFIX = "spk_"
DOCUMENT_KEY_PREFIX = "dok_"
_OPEN_FAILED = "a sealed value does not open with its key"

_PUBLIC_KEY_SIZE = 32
#: key-store rows rewrapped per transaction by a rotation
ROTATION_BATCH = 500
#: opened texts (titles, justifications) a keyring keeps, most recently used first
OPENED_TEXTS = 100_000


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

    def __init__(
        self, master: MasterKeys, store: KeyStore, *, opened_texts: int = OPENED_TEXTS
    ) -> None:
        self._master = master
        self._store = store
        # Texts already opened, so that listing a space of 5,000 documents does not
        # unwrap 5,000 keys each time (~0.1 ms each). Opened text only, never a key;
        # in this process's memory, which holds the master keys anyway; a destroyed
        # key's texts leave it at once (and callers never ask for a deleted document's).
        self._opened: OrderedDict[tuple[UUID, str, str], str] = OrderedDict()
        self._opened_by_key: dict[str, set[tuple[UUID, str, str]]] = {}
        self._opened_size = opened_texts
        self._opened_lock = threading.Lock()

    @property
    def master(self) -> MasterKeys:
        """The master keys in use (after :meth:`rotate`, the merged set)."""
        return self._master

    def create_space_key(self, space_id: UUID) -> SpaceKey:
        """Make and store a new X25519 key pair for a space; return its public half.

        The secret key is wrapped under the current master key, bound to
        ``space_id`` and the new key id, and never leaves this method unwrapped.
        """
        return self._create_pair(space_id, SPACE_KEY_PREFIX)

    def seal_deposit(self, space_id: UUID, sealed_key: bytes, title: str) -> DocumentSeal:
        """Make a document key pair for one deposit and seal its secrets to it.

        ``sealed_key`` is the depositor's data key as sealed to the space key; it is
        sealed again to the new key, and so is ``title``. Only the public half is used
        here: nothing is unwrapped. A deposit that records nothing (a retry) should
        :meth:`destroy` the key it did not use.
        """
        key = self._create_pair(space_id, DOCUMENT_KEY_PREFIX)
        box = SealedBox(PublicKey(key.public_key))
        return DocumentSeal(
            key.key_id, box.encrypt(sealed_key), b64(box.encrypt(title.encode("utf-8")))
        )

    def open_texts(self, space_id: UUID, texts: Sequence[SealedText]) -> list[str | None]:
        """Open sealed texts of one space, in order; None where the key was destroyed.

        Each key is fetched (one query for all) and unwrapped once, however many texts
        it opens. Raises :class:`UnknownKey` for a key of another space and
        :class:`DecryptionError` for a box that does not open with its key.
        """
        known = self._cached(space_id, texts)
        wanted = sorted({t.key_id for t in texts if (space_id, t.key_id, t.box) not in known})
        records = self._store.get_many(wanted) if wanted else {}
        boxes: dict[str, _Secret | None] = {}
        for key_id in wanted:
            record = records.get(key_id)
            if record is None or record.space_id != space_id:
                raise UnknownKey(f"no key {key_id!r} in this space")
            boxes[key_id] = None if record.wrapped is None else self._secret(record)
        opened: list[str | None] = []
        for text in texts:
            entry = (space_id, text.key_id, text.box)
            if entry in known:
                opened.append(known[entry])
                continue
            box = boxes[text.key_id]
            plain = None if box is None else box.open(base64.b64decode(text.box)).decode()
            if plain is not None:
                known[entry] = plain
                self._remember(entry, plain)
            opened.append(plain)
        return opened

    def _cached(self, space_id: UUID, texts: Sequence[SealedText]) -> dict[Any, str]:
        with self._opened_lock:
            found = {}
            for text in texts:
                entry = (space_id, text.key_id, text.box)
                plain = self._opened.get(entry)
                if plain is not None:
                    self._opened.move_to_end(entry)
                    found[entry] = plain
            return found

    def _remember(self, entry: tuple[UUID, str, str], plain: str) -> None:
        with self._opened_lock:
            self._opened[entry] = plain
            self._opened_by_key.setdefault(entry[1], set()).add(entry)
            while len(self._opened) > self._opened_size:
                old, _ = self._opened.popitem(last=False)
                self._forget_entry(old)

    def _forget_entry(self, entry: tuple[UUID, str, str]) -> None:
        entries = self._opened_by_key.get(entry[1])
        if entries is not None:
            entries.discard(entry)
            if not entries:
                del self._opened_by_key[entry[1]]

    def public_key(self, key_id: str) -> bytes:
        """The public key of a space key (still known after destruction)."""
        return self._store.get(key_id).public_key

    def reseal(
        self,
        space_id: UUID,
        key_id: str,
        sealed_data_key: bytes,
        reader_public_key: bytes,
        document_key: str | None = None,
    ) -> bytes:
        """Re-seal a document's data key from the space's key to a reader's key.

        ``document_key`` names the deposit's own key when the sealed data key was
        sealed again to it (every deposit since document keys exist; None for older
        ones): it is opened first, then the space key.

        Call only after the read event is durably recorded (DESIGN invariant 2).

        Raises :class:`UnknownKey` if ``key_id`` is not a key of ``space_id``,
        :class:`KeyDestroyed` after shredding, :class:`DecryptionError` if
        ``sealed_data_key`` was not sealed to this space's key (or the stored secret
        was tampered with), :class:`InvalidKey` for a malformed reader key.
        """
        if not isinstance(reader_public_key, bytes) or len(reader_public_key) != _PUBLIC_KEY_SIZE:
            raise InvalidKey(f"a reader public key is exactly {_PUBLIC_KEY_SIZE} bytes")
        wanted = [key_id] if document_key is None else [key_id, document_key]
        records = self._store.get_many(wanted)  # one round trip for both keys
        if document_key is not None:
            # the outer seal first: once the document key is destroyed, nothing opens
            box = self._secret(_live(records, space_id, document_key))
            sealed_data_key = box.open(sealed_data_key)
        secret = self._secret(_live(records, space_id, key_id))
        data_key = unseal(sealed_data_key, secret.secret, secret.public)
        return seal(data_key, reader_public_key)

    def _secret(self, record: KeyRecord) -> _Secret:
        assert record.wrapped is not None  # callers check for destruction first
        # the AAD is rebuilt from the row's space and id: a wrapped secret swapped in
        # from another row fails to unwrap here
        aad = space_key_aad(record.space_id, record.key_id)
        return _Secret(self._master.unwrap(record.wrapped, aad), record.public_key)

    def _create_pair(self, space_id: UUID, prefix: str) -> SpaceKey:
        if not isinstance(space_id, UUID):
            raise InvalidInput("space_id must be a UUID", field="space_id")
        key_id = f"{prefix}{uuid.uuid4().hex}"
        private_key = PrivateKey.generate()
        wrapped = self._master.wrap(bytes(private_key), space_key_aad(space_id, key_id))
        public_key = bytes(private_key.public_key)
        self._store.add(KeyRecord(key_id, space_id, public_key, wrapped))
        return SpaceKey(key_id, public_key)

    def destroy(self, key_id: str, at: datetime) -> None:
        """Crypto-shred a key: every document or text sealed to it becomes unreadable.

        Irreversible and idempotent. Record the destruction event before calling.
        """
        self._store.destroy(key_id, at)
        with self._opened_lock:
            for entry in self._opened_by_key.pop(key_id, set()):
                self._opened.pop(entry, None)

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


def seal_text(key_id: str, public_key: bytes, text: str) -> SealedText:
    """Seal free text to the public half of the key ``key_id`` (no secret is needed,
    so a command may seal while it holds its space); only :meth:`Keyring.open_texts`
    opens it."""
    return SealedText(key_id, b64(SealedBox(PublicKey(public_key)).encrypt(text.encode("utf-8"))))


def _live(records: dict[str, KeyRecord], space_id: UUID, key_id: str) -> KeyRecord:
    record = records.get(key_id)
    if record is None or record.space_id != space_id:
        raise UnknownKey(f"no key {key_id!r} in this space")
    if record.wrapped is None:
        raise KeyDestroyed(f"the key {key_id!r} of this space was destroyed")
    return record


@dataclass(frozen=True)
class _Secret:
    """An unwrapped secret key with its stored public half: opening a sealed box needs
    both, and taking the public half from the key store instead of deriving it from the
    secret (``PrivateKey``) saves an X25519 base-point multiplication per box opened.
    A public half altered in the store opens nothing (the box's nonce is derived from
    it): it fails like a tampered secret."""

    secret: bytes = field(repr=False)
    public: bytes = field(repr=False)

    def open(self, sealed: bytes) -> bytes:
        """The content of a box sealed to this key (:class:`DecryptionError` if not)."""
        try:
            return crypto_box_seal_open(sealed, self.public, self.secret)
        except CryptoError:
            raise DecryptionError(_OPEN_FAILED) from None

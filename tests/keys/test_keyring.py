"""The keyring: space keys, key release (reseal), crypto-shredding and rotation."""

from __future__ import annotations

import base64
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from nacl.public import PrivateKey

from domain.key_bytes import SealedText
from keys.keyring import Keyring, seal_text, space_key_aad
from keys.keystore import KeyRecord, KeyStore, MemoryKeyStore, Rewrap
from keys.master import MasterKey, MasterKeys
from wire.envelope import DataKey, decrypt, encrypt, seal, unseal
from wire.errors import (
    DecryptionError,
    InvalidKey,
    KeyDestroyed,
    MasterKeyError,
    UnknownKey,
    UnknownMasterKey,
)

AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
M1 = MasterKey("mk-1", b"\x01" * 32)
M2 = MasterKey("mk-2", b"\x02" * 32)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> KeyStore:
    if request.param == "memory":
        return MemoryKeyStore()
    return request.getfixturevalue(f"{'pg' if request.param == 'postgres' else 'sqlite'}_store")


@pytest.fixture
def keyring(store: KeyStore) -> Keyring:
    return Keyring(MasterKeys([M1]), store)


@pytest.fixture
def space() -> uuid.UUID:
    return uuid.uuid4()


def test_create_space_key_stores_only_the_wrapped_secret(
    keyring: Keyring, store: KeyStore, space: uuid.UUID
) -> None:
    space_key = keyring.create_space_key(space)
    stored = store.get(space_key.key_id)
    assert stored.space_id == space
    assert stored.public_key == space_key.public_key == keyring.public_key(space_key.key_id)
    assert stored.wrapped is not None and stored.wrapped.master_key_id == "mk-1"
    # the stored secret opens with the AAD that names this space and key id
    secret = keyring.master.unwrap(stored.wrapped, space_key_aad(space, space_key.key_id))
    assert bytes(PrivateKey(secret).public_key) == space_key.public_key
    assert keyring.create_space_key(space).key_id != space_key.key_id


def test_document_round_trip_through_key_release(keyring: Keyring, space: uuid.UUID) -> None:
    # the depositing client encrypts and seals the data key to the space's public key
    space_key = keyring.create_space_key(space)
    data_key = DataKey.generate()
    ciphertext = b"".join(encrypt([b"ordonnance: amoxicilline 1 g"], data_key))
    sealed = seal(data_key, space_key.public_key)
    # key release re-seals it to the reader's registered public key
    reader = PrivateKey.generate()
    for_reader = keyring.reseal(space, space_key.key_id, sealed, bytes(reader.public_key))
    # the reader opens the data key and decrypts locally
    opened = unseal(for_reader, bytes(reader))
    assert b"".join(decrypt([ciphertext], opened)) == b"ordonnance: amoxicilline 1 g"


def test_resealed_key_opens_only_with_the_intended_readers_secret_key(
    keyring: Keyring, space: uuid.UUID
) -> None:
    space_key = keyring.create_space_key(space)
    data_key = DataKey.generate()
    reader, other = PrivateKey.generate(), PrivateKey.generate()
    for_reader = keyring.reseal(
        space, space_key.key_id, seal(data_key, space_key.public_key), bytes(reader.public_key)
    )
    assert unseal(for_reader, bytes(reader)) == data_key
    with pytest.raises(DecryptionError):
        unseal(for_reader, bytes(other))


def test_reseal_refuses_a_data_key_sealed_to_another_space(keyring: Keyring) -> None:
    my_space, their_space = uuid.uuid4(), uuid.uuid4()
    mine = keyring.create_space_key(my_space)
    theirs = keyring.create_space_key(their_space)
    sealed_to_theirs = seal(DataKey.generate(), theirs.public_key)
    reader = bytes(PrivateKey.generate().public_key)
    with pytest.raises(DecryptionError):
        keyring.reseal(my_space, mine.key_id, sealed_to_theirs, reader)


def test_reseal_refuses_a_key_of_another_space(keyring: Keyring, space: uuid.UUID) -> None:
    space_key = keyring.create_space_key(space)
    sealed = seal(DataKey.generate(), space_key.public_key)
    with pytest.raises(UnknownKey):
        keyring.reseal(
            uuid.uuid4(), space_key.key_id, sealed, bytes(PrivateKey.generate().public_key)
        )


def test_reseal_unknown_key_and_bad_reader_key(keyring: Keyring, space: uuid.UUID) -> None:
    reader = bytes(PrivateKey.generate().public_key)
    with pytest.raises(UnknownKey):
        keyring.reseal(space, "spk_nope", b"\x00" * 80, reader)
    space_key = keyring.create_space_key(space)
    sealed = seal(DataKey.generate(), space_key.public_key)
    with pytest.raises(InvalidKey):
        keyring.reseal(space, space_key.key_id, sealed, reader[:31])


def test_destroy_shreds_for_good(keyring: Keyring, store: KeyStore, space: uuid.UUID) -> None:
    space_key = keyring.create_space_key(space)
    sealed = seal(DataKey.generate(), space_key.public_key)
    reader = bytes(PrivateKey.generate().public_key)
    keyring.reseal(space, space_key.key_id, sealed, reader)  # works before

    keyring.destroy(space_key.key_id, AT)
    keyring.destroy(space_key.key_id, AT)  # idempotent

    with pytest.raises(KeyDestroyed):
        keyring.reseal(space, space_key.key_id, sealed, reader)
    assert store.get(space_key.key_id).wrapped is None
    assert keyring.public_key(space_key.key_id) == space_key.public_key


def test_wrapped_secret_copied_to_another_row_does_not_open(
    keyring: Keyring, store: KeyStore, space: uuid.UUID
) -> None:
    # an attacker with write access to the key store copies space A's wrapped secret
    # onto space B's row (same master key, so only the AAD can tell them apart)
    a = keyring.create_space_key(space)
    other_space = uuid.uuid4()
    b = keyring.create_space_key(other_space)
    same_space = keyring.create_space_key(space)
    stolen = store.get(a.key_id).wrapped
    assert stolen is not None
    store.rewrap([Rewrap(b.key_id, "mk-1", stolen), Rewrap(same_space.key_id, "mk-1", stolen)])
    # even data keys sealed to A's public key stay closed through B's row
    sealed_to_a = seal(DataKey.generate(), a.public_key)
    reader = bytes(PrivateKey.generate().public_key)
    with pytest.raises(DecryptionError):
        keyring.reseal(other_space, b.key_id, sealed_to_a, reader)
    with pytest.raises(DecryptionError):
        keyring.reseal(space, same_space.key_id, sealed_to_a, reader)


def test_wrapped_secret_copied_by_sql_does_not_open(
    sqlite_store: KeyStore, sqlite_path: str
) -> None:
    keyring = Keyring(MasterKeys([M1]), sqlite_store)
    space = uuid.uuid4()
    a, b = keyring.create_space_key(space), keyring.create_space_key(space)
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute(
            "UPDATE coffre_space_keys SET wrapped_secret ="
            " (SELECT wrapped_secret FROM coffre_space_keys WHERE key_id = ?) WHERE key_id = ?",
            (a.key_id, b.key_id),
        )
    sealed_to_a = seal(DataKey.generate(), a.public_key)
    with pytest.raises(DecryptionError):
        keyring.reseal(space, b.key_id, sealed_to_a, bytes(PrivateKey.generate().public_key))


def test_rotate_rewraps_every_live_key(keyring: Keyring, store: KeyStore) -> None:
    spaces = [uuid.uuid4() for _ in range(5)]
    made = [(s, keyring.create_space_key(s)) for s in spaces]
    keyring.destroy(made[0][1].key_id, AT)
    calls: list[tuple[int, int]] = []

    count = keyring.rotate(
        MasterKeys([M2, M1]), progress=lambda d, t: calls.append((d, t)), batch_size=3
    )

    assert count == 4
    assert calls == [(0, 4), (3, 4), (4, 4)]  # after each committed batch
    assert store.count_wrapped_by("mk-1") == 0
    assert store.count_wrapped_by("mk-2") == 4
    assert store.get(made[0][1].key_id).wrapped is None  # shredded stays shredded
    # the old master key can now be retired: a keyring with only mk-2 opens everything
    retired = Keyring(MasterKeys([M2]), store)
    reader = PrivateKey.generate()
    for space, space_key in made[1:]:
        data_key = DataKey.generate()
        out = retired.reseal(
            space, space_key.key_id, seal(data_key, space_key.public_key), bytes(reader.public_key)
        )
        assert unseal(out, bytes(reader)) == data_key
    assert keyring.rotate(MasterKeys([M2])) == 0  # nothing left to do


def test_rotate_is_resumable(keyring: Keyring, store: KeyStore) -> None:
    for _ in range(6):
        keyring.create_space_key(uuid.uuid4())

    class Interrupted(Exception):
        pass

    def crash_after_two(done: int, total: int) -> None:
        if done == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        keyring.rotate(MasterKeys([M2, M1]), progress=crash_after_two, batch_size=2)
    assert store.count_wrapped_by("mk-2") == 2
    # a fresh process (old keyring) resumes: only the remaining four are rewrapped
    resumed = Keyring(MasterKeys([M1]), store)
    assert resumed.rotate(MasterKeys([M2, M1]), batch_size=2) == 4
    assert store.count_wrapped_by("mk-1") == 0
    assert resumed.rotate() == 0  # idempotent


def test_rotate_without_the_old_key_listed_still_uses_it(keyring: Keyring, store: KeyStore) -> None:
    keyring.create_space_key(uuid.uuid4())
    assert keyring.rotate(MasterKeys([M2])) == 1
    assert keyring.master.ids == ("mk-2", "mk-1")
    new = keyring.create_space_key(uuid.uuid4())
    assert store.get(new.key_id).wrapped.master_key_id == "mk-2"  # type: ignore[union-attr]


def test_rotate_refuses_rows_under_an_unloaded_key_before_changing_anything(
    store: KeyStore,
) -> None:
    Keyring(MasterKeys([M1]), store).create_space_key(uuid.uuid4())
    Keyring(MasterKeys([M2]), store).create_space_key(uuid.uuid4())
    m3 = MasterKey("mk-3", b"\x03" * 32)
    with pytest.raises(UnknownMasterKey, match="mk-1"):
        Keyring(MasterKeys([m3, M2]), store).rotate()
    assert store.count_by_master() == {"mk-1": 1, "mk-2": 1}


def test_rotate_refuses_a_reused_id_with_another_secret(keyring: Keyring) -> None:
    keyring.create_space_key(uuid.uuid4())
    with pytest.raises(MasterKeyError):
        keyring.rotate(MasterKeys([M2, MasterKey("mk-1", b"\x09" * 32)]))


def test_keys_under_a_forgotten_master_key_cannot_be_opened(store: KeyStore) -> None:
    space = uuid.uuid4()
    space_key = Keyring(MasterKeys([M1]), store).create_space_key(space)
    amnesic = Keyring(MasterKeys([M2]), store)
    with pytest.raises(UnknownMasterKey):
        amnesic.reseal(
            space,
            space_key.key_id,
            seal(DataKey.generate(), space_key.public_key),
            bytes(PrivateKey.generate().public_key),
        )


# -- document keys and sealed text ----------------------------------------------------


def test_a_deposit_seals_its_data_key_and_title_to_a_document_key_of_its_own(
    keyring: Keyring, store: KeyStore, space: uuid.UUID
) -> None:
    space_key = keyring.create_space_key(space)
    data_key = DataKey.generate()
    sealed = seal(data_key, space_key.public_key)
    deposit = keyring.seal_deposit(space, sealed, "IRM cérébrale — suspicion de SEP")
    assert deposit.key_id.startswith("dok_") and store.get(deposit.key_id).space_id == space
    assert len(deposit.sealed_key) == 128 and sealed not in deposit.sealed_key
    reader = PrivateKey.generate()
    # without the document key the space key alone opens nothing of it
    with pytest.raises(DecryptionError):
        keyring.reseal(space, space_key.key_id, deposit.sealed_key, bytes(reader.public_key))
    released = keyring.reseal(
        space,
        space_key.key_id,
        deposit.sealed_key,
        bytes(reader.public_key),
        document_key=deposit.key_id,
    )
    assert unseal(released, bytes(reader)) == data_key
    title = SealedText(deposit.key_id, deposit.title)
    other = seal_text(space_key.key_id, space_key.public_key, "Patient inconscient")
    assert keyring.open_texts(space, [title, other, title]) == [
        "IRM cérébrale — suspicion de SEP",
        "Patient inconscient",
        "IRM cérébrale — suspicion de SEP",
    ]
    # destroying the document key: the title reads as gone, the data key stays shut
    keyring.destroy(deposit.key_id, AT)
    assert keyring.open_texts(space, [title, other]) == [None, "Patient inconscient"]
    with pytest.raises(KeyDestroyed):
        keyring.reseal(
            space,
            space_key.key_id,
            deposit.sealed_key,
            bytes(reader.public_key),
            document_key=deposit.key_id,
        )


@pytest.mark.parametrize("altered", ["space key", "document key"])
def test_a_public_half_altered_in_the_store_opens_nothing(
    keyring: Keyring,
    store: KeyStore,
    space: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
    altered: str,
) -> None:
    """Opening uses the stored public half (not one derived from the secret): a row
    whose public key was swapped releases nothing and opens no title, as a tampered
    secret would."""
    space_key = keyring.create_space_key(space)
    deposit = keyring.seal_deposit(space, seal(DataKey.generate(), space_key.public_key), "Bilan")
    reader = bytes(PrivateKey.generate().public_key)
    target = space_key.key_id if altered == "space key" else deposit.key_id
    stranger = bytes(PrivateKey.generate().public_key)
    real = store.get_many

    def swapped(key_ids: Sequence[str]) -> dict[str, KeyRecord]:
        found = real(key_ids)
        if target in found:
            found[target] = replace(found[target], public_key=stranger)
        return found

    monkeypatch.setattr(store, "get_many", swapped)
    with pytest.raises(DecryptionError):
        keyring.reseal(
            space, space_key.key_id, deposit.sealed_key, reader, document_key=deposit.key_id
        )
    title = SealedText(deposit.key_id, deposit.title)
    if altered == "document key":
        with pytest.raises(DecryptionError):
            keyring.open_texts(space, [title])
    monkeypatch.setattr(store, "get_many", real)
    assert keyring.open_texts(space, [title]) == ["Bilan"]
    keyring.reseal(space, space_key.key_id, deposit.sealed_key, reader, document_key=deposit.key_id)


def test_sealed_text_opens_only_in_its_space_and_unaltered(
    keyring: Keyring, space: uuid.UUID
) -> None:
    space_key = keyring.create_space_key(space)
    text = seal_text(space_key.key_id, space_key.public_key, "justification")
    assert keyring.open_texts(space, [text]) == ["justification"]
    # (opened once, it is remembered for its space only)
    with pytest.raises(UnknownKey):
        keyring.open_texts(uuid.uuid4(), [text])
    with pytest.raises(UnknownKey):
        keyring.open_texts(space, [SealedText("spk_missing", text.box)])
    altered = bytearray(base64.b64decode(text.box))
    altered[-1] ^= 1
    with pytest.raises(DecryptionError):
        keyring.open_texts(space, [SealedText(text.key_id, base64.b64encode(altered).decode())])


def test_get_many_answers_the_keys_that_exist(keyring: Keyring, store: KeyStore) -> None:
    spaces = [uuid.uuid4() for _ in range(3)]
    made = [keyring.create_space_key(space).key_id for space in spaces]
    found = store.get_many([*made, "spk_unknown"])
    assert sorted(found) == sorted(made)
    assert [found[key_id].space_id for key_id in made] == spaces
    assert store.get_many([]) == {}


class CountingStore(MemoryKeyStore):
    """A memory key store that counts the queries ``open_texts`` makes."""

    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    def get_many(self, key_ids: Sequence[str]) -> dict[str, KeyRecord]:
        self.queries += 1
        return super().get_many(key_ids)


def test_a_space_of_5000_titles_opens_in_one_query_then_from_memory() -> None:
    store = CountingStore()
    keyring = Keyring(MasterKeys([M1]), store)
    space = uuid.uuid4()
    space_key = keyring.create_space_key(space)
    sealed = seal(DataKey.generate(), space_key.public_key)
    titles = []
    for number in range(5000):
        deposit = keyring.seal_deposit(space, sealed, f"Compte rendu n°{number}")
        titles.append(SealedText(deposit.key_id, deposit.title))
    opened = keyring.open_texts(space, titles)
    assert opened[4999] == "Compte rendu n°4999" and store.queries == 1
    assert keyring.open_texts(space, titles) == opened and store.queries == 1
    # the bound holds: an LRU smaller than the space still answers right, from the store
    small = Keyring(MasterKeys([M1]), store, opened_texts=100)
    assert small.open_texts(space, titles) == opened and len(small._opened) == 100

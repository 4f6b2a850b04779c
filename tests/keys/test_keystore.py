"""One contract for every key store: memory, SQLite, PostgreSQL (DESIGN invariant 9)."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from keys.keystore import KeyRecord, KeyStore, MemoryKeyStore, Rewrap
from keys.keystore_postgres import PostgresKeyStore
from keys.keystore_sqlite import SQLiteKeyStore
from keys.master import WrappedSecret
from wire.errors import (
    InvalidInput,
    KeyAlreadyExists,
    KeyStoreUnavailable,
    UnknownKey,
)

SPACE = uuid.UUID("6f1c1c9e-7c43-4a0e-9d43-1b1a2f0f0001")
AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def wrapped(master_key_id: str = "mk-1", fill: int = 7) -> WrappedSecret:
    return WrappedSecret(master_key_id, bytes([fill]) * 72)


def record(key_id: str = "spk_1", master_key_id: str = "mk-1", **changes: object) -> KeyRecord:
    fields: dict[str, object] = {
        "key_id": key_id,
        "space_id": SPACE,
        "public_key": b"\x05" * 32,
        "wrapped": wrapped(master_key_id),
    }
    fields.update(changes)
    return KeyRecord(**fields)  # type: ignore[arg-type]


class KeyStoreContract:
    """The behaviour every KeyStore must have; subclasses provide the ``store`` fixture."""

    def test_add_then_get(self, store: KeyStore) -> None:
        store.add(record())
        assert store.get("spk_1") == record()

    @pytest.mark.parametrize("asked", [1, 2, 3, 4, 5, 9])
    def test_get_many_answers_what_exists_whatever_the_count(
        self, store: KeyStore, asked: int
    ) -> None:
        """A few keys are named one by one in the statement, more go as one array
        (PostgreSQL): both answer alike, unknown and repeated ids included."""
        for n in range(asked):
            store.add(record(f"spk_{n}", wrapped=wrapped(fill=n)))
        ids = [f"spk_{n}" for n in range(asked)]
        assert store.get_many(ids) == {key_id: store.get(key_id) for key_id in ids}
        found = store.get_many([ids[0], "spk_nope", ids[0]][: max(1, asked)])
        assert found == {ids[0]: store.get(ids[0])}

    @pytest.mark.parametrize(
        "bad", ["", "spk_é", "spk_1\n", "spk_\u202e1", "spk_\x00", "k" * 129, 7]
    )
    def test_get_many_refuses_a_malformed_id_before_any_statement(
        self, store: KeyStore, bad: object
    ) -> None:
        """Odd Unicode, a trailing newline, NUL, an overlong or non-string id: refused
        whichever statement the count would pick, and nothing else is answered."""
        store.add(record())
        for ids in ([bad], ["spk_1", bad], ["spk_1"] * 5 + [bad]):
            with pytest.raises(InvalidInput):
                store.get_many(ids)  # type: ignore[list-item]

    def test_get_unknown(self, store: KeyStore) -> None:
        with pytest.raises(UnknownKey):
            store.get("spk_nope")

    def test_add_twice_conflicts(self, store: KeyStore) -> None:
        store.add(record())
        with pytest.raises(KeyAlreadyExists):
            store.add(record(master_key_id="mk-2"))
        assert store.get("spk_1") == record()  # the first one is untouched

    def test_destroy_drops_the_wrapped_secret_and_keeps_the_public_key(
        self, store: KeyStore
    ) -> None:
        store.add(record())
        store.destroy("spk_1", AT)
        destroyed = store.get("spk_1")
        assert destroyed.wrapped is None
        assert destroyed.destroyed_at == AT
        assert destroyed.public_key == b"\x05" * 32
        assert destroyed.destroyed

    def test_destroy_is_idempotent_and_keeps_the_first_date(self, store: KeyStore) -> None:
        store.add(record())
        store.destroy("spk_1", AT)
        store.destroy("spk_1", AT + timedelta(days=1))
        assert store.get("spk_1").destroyed_at == AT

    def test_destroy_unknown(self, store: KeyStore) -> None:
        with pytest.raises(UnknownKey):
            store.destroy("spk_nope", AT)

    def test_destroy_needs_an_aware_time(self, store: KeyStore) -> None:
        store.add(record())
        with pytest.raises(InvalidInput):
            store.destroy("spk_1", datetime(2025, 1, 1))
        assert store.get("spk_1").wrapped is not None

    def test_destroy_time_keeps_its_instant_across_zones(self, store: KeyStore) -> None:
        store.add(record())
        paris = timezone(timedelta(hours=1))
        store.destroy("spk_1", datetime(2025, 3, 14, 10, 26, 53, 123456, tzinfo=paris))
        assert store.get("spk_1").destroyed_at == AT.replace(microsecond=123456)

    def test_rewrap(self, store: KeyStore) -> None:
        store.add(record())
        assert store.rewrap([Rewrap("spk_1", "mk-1", wrapped("mk-2", fill=9))]) == 1
        assert store.get("spk_1").wrapped == wrapped("mk-2", fill=9)

    def test_rewrap_never_resurrects_a_destroyed_key(self, store: KeyStore) -> None:
        store.add(record())
        store.destroy("spk_1", AT)
        assert store.rewrap([Rewrap("spk_1", "mk-1", wrapped("mk-2"))]) == 0
        assert store.get("spk_1").wrapped is None
        assert store.get("spk_1").destroyed_at == AT

    def test_rewrap_leaves_a_row_rewrapped_meanwhile(self, store: KeyStore) -> None:
        # two rotations read the same row; the second write finds it moved and skips it
        store.add(record())
        assert store.rewrap([Rewrap("spk_1", "mk-1", wrapped("mk-2", fill=1))]) == 1
        assert store.rewrap([Rewrap("spk_1", "mk-1", wrapped("mk-2", fill=2))]) == 0
        assert store.get("spk_1").wrapped == wrapped("mk-2", fill=1)

    def test_rewrap_unknown_or_empty_changes_nothing(self, store: KeyStore) -> None:
        assert store.rewrap([Rewrap("spk_nope", "mk-1", wrapped("mk-2"))]) == 0
        assert store.rewrap([]) == 0

    def test_rewrap_a_batch_counts_only_what_changed(self, store: KeyStore) -> None:
        for i in range(5):
            store.add(record(f"spk_{i}", "mk-1"))
        store.destroy("spk_0", AT)
        batch = [Rewrap(f"spk_{i}", "mk-1", wrapped("mk-2", fill=i)) for i in range(5)]
        assert store.rewrap(batch) == 4
        assert store.count_by_master() == {"mk-2": 4}
        assert store.get("spk_3").wrapped == wrapped("mk-2", fill=3)

    def test_pages_and_counts_by_master(self, store: KeyStore) -> None:
        for i in range(5):
            store.add(record(f"spk_a{i}", "mk-1"))
        for i in range(3):
            store.add(record(f"spk_b{i}", "mk-2"))
        store.destroy("spk_a0", AT)
        page = store.wrapped_page("mk-1", "", 3)
        assert [r.key_id for r in page] == ["spk_a1", "spk_a2", "spk_a3"]
        assert page[0] == store.get("spk_a1")
        assert [r.key_id for r in store.wrapped_page("mk-1", "spk_a3", 3)] == ["spk_a4"]
        assert store.wrapped_page("mk-1", "spk_a4", 3) == []
        assert store.wrapped_page("mk-9", "", 3) == []
        assert store.count_by_master() == {"mk-1": 4, "mk-2": 3}
        assert store.count_wrapped_by("mk-1") == 4
        assert store.count_wrapped_by("mk-9") == 0

    def test_paging_while_rewrapping_visits_each_key_once(self, store: KeyStore) -> None:
        ids = {f"spk_{i:03}" for i in range(40)}
        for key_id in sorted(ids):
            store.add(record(key_id, "mk-1"))
        seen: list[str] = []
        after = ""
        while page := store.wrapped_page("mk-1", after, 7):
            seen += [r.key_id for r in page]
            store.rewrap([Rewrap(r.key_id, "mk-1", wrapped("mk-2")) for r in page])
            after = page[-1].key_id
        assert sorted(seen) == sorted(ids)
        assert store.count_by_master() == {"mk-2": 40}

    def test_add_a_destroyed_record(self, store: KeyStore) -> None:
        store.add(record(wrapped=None, destroyed_at=AT))
        assert store.get("spk_1").destroyed_at == AT
        assert store.wrapped_page("mk-1", "", 10) == []
        assert store.count_by_master() == {}

    def test_concurrent_use_from_threads(self, store: KeyStore) -> None:
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(10):
                    key_id = f"spk_t{n}_{i}"
                    store.add(record(key_id))
                    assert store.get(key_id).key_id == key_id
                    if i % 2:
                        store.destroy(key_id, AT)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert store.count_wrapped_by("mk-1") == 40


def test_record_invariants() -> None:
    with pytest.raises(InvalidInput):
        record(wrapped=None)  # neither live nor destroyed
    with pytest.raises(InvalidInput):
        record(destroyed_at=AT)  # both
    with pytest.raises(InvalidInput):
        record(space_id=str(SPACE))
    with pytest.raises(InvalidInput):
        record(public_key=b"\x05" * 31)
    with pytest.raises(InvalidInput):
        record(key_id="")
    assert "\\x05" not in repr(record())


class TestMemoryKeyStore(KeyStoreContract):
    @pytest.fixture
    def store(self) -> KeyStore:
        return MemoryKeyStore()


class TestSQLiteKeyStore(KeyStoreContract):
    @pytest.fixture
    def store(self, sqlite_store: SQLiteKeyStore) -> KeyStore:
        return sqlite_store

    def test_uses_wal(self, sqlite_store: SQLiteKeyStore, sqlite_path: str) -> None:
        sqlite_store.add(record())
        with sqlite3.connect(sqlite_path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    def test_destroy_nulls_the_column(self, sqlite_store: SQLiteKeyStore, sqlite_path: str) -> None:
        sqlite_store.add(record())
        sqlite_store.destroy("spk_1", AT)
        with sqlite3.connect(sqlite_path) as conn:
            row = conn.execute(
                "SELECT master_key_id, wrapped_secret FROM coffre_space_keys"
            ).fetchone()
        assert row == (None, None)

    def test_unmigrated_database_is_unavailable(self, tmp_path: Path) -> None:
        store = SQLiteKeyStore(str(tmp_path / "empty.db"))
        with pytest.raises(KeyStoreUnavailable):
            store.get("spk_1")
        store.close()

    def test_closed_store_is_unavailable(self, sqlite_store: SQLiteKeyStore) -> None:
        sqlite_store.close()
        with pytest.raises(KeyStoreUnavailable):
            sqlite_store.get("spk_1")


@pytest.mark.postgres
class TestPostgresKeyStore(KeyStoreContract):
    @pytest.fixture
    def store(self, pg_store: PostgresKeyStore) -> Iterator[KeyStore]:
        yield pg_store

    def test_each_operation_is_one_round_trip_with_no_transaction_around_it(
        self, pg_store: PostgresKeyStore
    ) -> None:
        # Every operation is one statement: in autocommit it is atomic all the same, and
        # a read's key fetch costs one round trip instead of BEGIN, SELECT, COMMIT.
        pg_store.add(record())
        assert pg_store.get("spk_1") == record()
        with pg_store._pool.connection() as conn:
            assert conn.autocommit

    def test_unreachable_database_is_unavailable(self) -> None:
        with (
            PostgresKeyStore(
                "host=127.0.0.1 port=1 user=postgres connect_timeout=1", timeout=0.5
            ) as store,
            pytest.raises(KeyStoreUnavailable),
        ):
            store.get("spk_1")


del KeyStoreContract  # only its subclasses run

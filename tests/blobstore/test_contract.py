"""The BlobStore contract, run against every implementation.

``BlobStoreTestCase`` states the contract once; ``TestMemory``, ``TestFilesystem`` and
``TestS3`` run it on each backend (the last needs ``scripts/s3-server``, see tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from minio import Minio

from vault.blobstore import (
    READ_CHUNK_SIZE,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    new_name,
)
from vault.blobstore_fs import FilesystemBlobStore
from vault.blobstore_memory import MemoryBlobStore
from vault.blobstore_s3 import S3BlobStore
from wire.errors import InvalidInput

MIB = 1024 * 1024
BAD_NAMES = [
    "",
    "../../etc/passwd",
    "0" * 31,  # too short
    "0" * 65,  # too long
    "A" * 32,  # uppercase
    "g" * 32,  # not hex
    "00/" + "0" * 29,
    "jean.dupont@example.org",
    "0" * 32 + "\n",
]


class Boom(Exception):
    """The caller's stream failed."""


def pattern(size: int, piece: int = MIB + 3) -> Iterator[bytes]:
    """``size`` pseudo-random bytes in pieces of an awkward size (not a part multiple)."""
    block = hashlib.sha256(str(size).encode()).digest() * (piece // 32 + 2)
    sent, i = 0, 0
    while sent < size:
        n = min(piece, size - sent)
        start = (i * 7) % 32
        yield block[start : start + n]
        sent, i = sent + n, i + 1


def failing(good_bytes: int) -> Iterator[bytes]:
    """A stream that fails after ``good_bytes``."""
    yield from pattern(good_bytes)
    raise Boom("the upload was interrupted")


def read_all(store: BlobStore, name: str) -> bytes:
    with store.open(name) as pieces:
        parts = list(pieces)
    assert all(0 < len(p) <= READ_CHUNK_SIZE for p in parts)
    return b"".join(parts)


class BlobStoreTestCase:
    """The contract. Subclasses provide the ``store`` fixture."""

    @pytest.fixture
    def store(self) -> BlobStore:
        raise NotImplementedError

    @pytest.mark.parametrize("size", [0, 1, MIB])
    def test_round_trip(self, store: BlobStore, size: int) -> None:
        data = b"".join(pattern(size, piece=4096))
        name = new_name()
        info = store.put(name, pattern(size, piece=4096))
        assert (info.name, info.size) == (name, size)
        assert info.sha256 == hashlib.sha256(data).hexdigest()
        assert store.size(name) == size
        assert read_all(store, name) == data

    @pytest.mark.slow
    def test_large_stream_round_trip(self, store: BlobStore) -> None:
        # 40 MiB: more than two 16 MiB parts, so S3 goes multipart.
        size, name = 40 * MIB, new_name()
        expected = hashlib.sha256()
        for piece in pattern(size):
            expected.update(piece)
        info = store.put(name, pattern(size))
        assert info.size == size
        assert info.sha256 == expected.hexdigest()
        assert store.size(name) == size
        # Read it back as a stream, never holding the whole blob.
        got, count = hashlib.sha256(), 0
        with store.open(name) as pieces:
            for piece in pieces:
                assert len(piece) <= READ_CHUNK_SIZE
                got.update(piece)
                count += len(piece)
        assert (count, got.hexdigest()) == (size, info.sha256)

    def test_failing_stream_stores_nothing(self, store: BlobStore) -> None:
        name = new_name()
        # 20 MiB: the first S3 part was already uploaded when the stream fails.
        with pytest.raises(Boom):
            store.put(name, failing(20 * MIB))
        with pytest.raises(BlobNotFound):
            store.open(name)
        assert name not in set(store.names())

    def test_failing_stream_keeps_the_previous_blob(self, store: BlobStore) -> None:
        name = new_name()
        store.put(name, [b"first version"])
        with pytest.raises(Boom):
            store.put(name, failing(MIB))
        assert read_all(store, name) == b"first version"

    def test_put_replaces(self, store: BlobStore) -> None:
        name = new_name()
        store.put(name, [b"old"])
        store.put(name, [b"new", b"er"])
        assert read_all(store, name) == b"newer"

    def test_missing_blob(self, store: BlobStore) -> None:
        with pytest.raises(BlobNotFound):
            store.open(new_name())
        with pytest.raises(BlobNotFound):
            store.size(new_name())

    def test_delete_is_idempotent(self, store: BlobStore) -> None:
        name = new_name()
        store.delete(name)  # never existed
        store.put(name, [b"x"])
        store.delete(name)
        store.delete(name)
        with pytest.raises(BlobNotFound):
            store.open(name)
        assert name not in set(store.names())

    def test_names_older_than(self, store: BlobStore) -> None:
        name = new_name()
        store.put(name, [b"x"])
        now = datetime.now(UTC)
        assert name in set(store.names())
        # Generous margins: S3's clock is the server's, and its times have 1 s resolution.
        assert name in set(store.names(older_than=now + timedelta(minutes=5)))
        assert name not in set(store.names(older_than=now - timedelta(minutes=5)))

    def test_names_needs_an_aware_cutoff(self, store: BlobStore) -> None:
        with pytest.raises(InvalidInput):
            store.names(older_than=datetime(2030, 1, 1))  # naive on purpose

    @pytest.mark.parametrize("bad", BAD_NAMES)
    def test_rejects_bad_names(self, store: BlobStore, bad: str) -> None:
        with pytest.raises(InvalidInput):
            store.put(bad, [b"x"])
        for call in (store.open, store.size, store.delete):
            with pytest.raises(InvalidInput):
                call(bad)
        with pytest.raises(InvalidInput):
            store.url_for_get(bad, timedelta(minutes=1))

    def test_stream_closed_early(self, store: BlobStore) -> None:
        name = new_name()
        store.put(name, pattern(3 * MIB))
        pieces = store.open(name)
        assert next(pieces)
        pieces.close()
        assert list(pieces) == []
        # The store is still usable afterwards (e.g. the connection went back or was dropped).
        assert store.size(name) == 3 * MIB

    def test_url_for_get_rejects_bad_expiry(self, store: BlobStore) -> None:
        with pytest.raises(InvalidInput):
            store.url_for_get(new_name(), timedelta(days=8))


class TestMemory(BlobStoreTestCase):
    @pytest.fixture
    def store(self) -> BlobStore:
        return MemoryBlobStore()

    def test_has_no_urls(self, store: BlobStore) -> None:
        assert store.url_for_get(new_name(), timedelta(minutes=1)) is None


class TestFilesystem(BlobStoreTestCase):
    @pytest.fixture
    def store(self, tmp_path: Path) -> FilesystemBlobStore:
        return FilesystemBlobStore(tmp_path / "blobs")

    def test_has_no_urls(self, store: BlobStore) -> None:
        assert store.url_for_get(new_name(), timedelta(minutes=1)) is None

    def test_layout_and_modes(self, store: FilesystemBlobStore) -> None:
        name = new_name()
        store.put(name, [b"secret"])
        path = store.root / name[:2] / name[2:4] / name
        assert path.read_bytes() == b"secret"
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700

    def test_interrupted_put_leaves_a_collectable_temporary(
        self, store: FilesystemBlobStore
    ) -> None:
        name = new_name()
        # A put killed mid-write leaves its temporary file: simulate one, a minute old.
        directory = store.root / name[:2] / name[2:4]
        directory.mkdir(parents=True)
        temp = directory / f".{name}.abcd1234.tmp"
        temp.write_bytes(b"half")
        os.utime(temp, (time.time() - 60, time.time() - 60))
        assert list(store.names()) == []
        # A cutoff before the file was written keeps it (it may be a put still running).
        assert store.collect_temporaries(datetime.now(UTC) - timedelta(minutes=5)) == 0
        assert store.collect_temporaries(datetime.now(UTC)) == 1
        assert not temp.exists()

    def test_failed_put_removes_its_temporary(self, store: FilesystemBlobStore) -> None:
        with pytest.raises(Boom):
            store.put(new_name(), failing(10))
        assert [p for p in store.root.rglob("*") if p.is_file()] == []


@pytest.mark.s3
class TestS3(BlobStoreTestCase):
    @pytest.fixture
    def store(self, s3_server: dict[str, str], s3_bucket: str) -> S3BlobStore:
        store = S3BlobStore(**s3_server, bucket=s3_bucket)
        store.ensure_bucket()
        return store

    @pytest.fixture
    def client(self, s3_server: dict[str, str]) -> Minio:
        return Minio(**s3_server, secure=False)

    def test_ensure_bucket_is_idempotent_and_sets_cleanup(
        self, store: S3BlobStore, client: Minio
    ) -> None:
        store.ensure_bucket()
        rules = client.get_bucket_lifecycle(store.bucket).rules
        assert [r.abort_incomplete_multipart_upload.days_after_initiation for r in rules] == [1]

    def test_failing_stream_aborts_the_multipart_upload(
        self, store: S3BlobStore, client: Minio
    ) -> None:
        with pytest.raises(Boom):
            store.put(new_name(), failing(20 * MIB))
        # minio has no public call for this; the private one is fine in a test.
        uploads = client._list_multipart_uploads(store.bucket)
        assert list(uploads.uploads) == []

    def test_presigned_get(self, store: S3BlobStore) -> None:
        name = new_name()
        store.put(name, [b"ciphertext"])
        url = store.url_for_get(name, timedelta(minutes=5))
        assert url is not None
        assert httpx.get(url).content == b"ciphertext"
        # A URL for another name, made by swapping the key, fails the signature check.
        other = url.replace(name, new_name())
        assert httpx.get(other).status_code == 403

    def test_presigned_url_lives_exactly_as_long_as_asked(self, store: S3BlobStore) -> None:
        name = new_name()
        store.put(name, [b"ciphertext"])
        url = httpx.URL(store.url_for_get(name, timedelta(seconds=2)) or "")
        assert url.params["X-Amz-Expires"] == "2"
        signed_at = datetime.strptime(url.params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        assert abs(signed_at.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(seconds=30)
        assert httpx.get(url).content == b"ciphertext"
        time.sleep(3.5)  # S3 checks expiry to the second
        assert httpx.get(url).status_code == 403

    @pytest.mark.parametrize("form", ["host:port", "url"])
    def test_presigned_urls_name_the_public_endpoint(
        self, s3_server: dict[str, str], s3_bucket: str, form: str
    ) -> None:
        # The same server under another name stands for "clients reach S3 elsewhere".
        public = other_name_of(s3_server["endpoint"])
        store = S3BlobStore(
            **s3_server,
            bucket=s3_bucket,
            public_endpoint=public if form == "host:port" else f"http://{public}",
        )
        store.ensure_bucket()
        name = new_name()
        store.put(name, [b"ciphertext"])
        url = httpx.URL(store.url_for_get(name, timedelta(minutes=5)) or "")
        assert f"{url.host}:{url.port}" == public and url.scheme == "http"
        assert httpx.get(url).content == b"ciphertext"  # signed for the host it names

    @pytest.mark.parametrize("bad", ["ftp://s3.example", "https://s3.example/bucket"])
    def test_public_endpoint_must_be_a_host(self, s3_server: dict[str, str], bad: str) -> None:
        with pytest.raises(ValueError, match="S3 endpoint"):
            S3BlobStore(**s3_server, bucket="coffre-nowhere", public_endpoint=bad)

    def test_wrong_secret_key_is_unavailable_not_a_hang(
        self, s3_server: dict[str, str], s3_bucket: str
    ) -> None:
        wrong = {**s3_server, "secret_key": "not-the-secret-key-at-all"}
        store = S3BlobStore(**wrong, bucket=s3_bucket, timeout=5)
        started = time.monotonic()
        with pytest.raises(BlobStoreUnavailable) as caught:
            store.put(new_name(), [b"x"])
        assert time.monotonic() - started < 10
        assert "SignatureDoesNotMatch" in str(caught.value)
        assert wrong["secret_key"] not in str(caught.value)

    def test_pages_of_the_allowed_origins_alone_may_use_presigned_urls(
        self, s3_server: dict[str, str], s3_bucket: str
    ) -> None:
        # CORS for the page's presigned transfers: a second deployment (or test) sharing
        # the bucket adds its origin without taking the first one's away.
        store = S3BlobStore(**s3_server, bucket=s3_bucket)
        store.ensure_bucket()
        store.allow_browsers(["http://127.0.0.1:8123"])
        store.allow_browsers(["http://127.0.0.1:9000"])
        url = f"http://{s3_server['endpoint']}/{s3_bucket}/{new_name()}"
        for origin, allowed in (
            ("http://127.0.0.1:8123", True),
            ("http://127.0.0.1:9000", True),
            ("http://evil.example", False),
        ):
            answer = httpx.options(
                url, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"}
            )
            assert (answer.headers.get("access-control-allow-origin") == origin) is allowed

    def test_unreachable_endpoint_is_unavailable_quickly(self, s3_server: dict[str, str]) -> None:
        dead = {**s3_server, "endpoint": "127.0.0.1:9"}  # discard port: nothing listens
        store = S3BlobStore(**dead, bucket="coffre-nowhere", timeout=2)
        started = time.monotonic()
        with pytest.raises(BlobStoreUnavailable):
            store.size(new_name())
        assert time.monotonic() - started < 10


del BlobStoreTestCase


def other_name_of(endpoint: str) -> str:
    """``endpoint`` under another host name for the same local server (else skip)."""
    host, _, port = endpoint.rpartition(":")
    aliases = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
    if host not in aliases:
        pytest.skip("the S3 server has no second local name")
    return f"{aliases[host]}:{port}"

"""S3BlobStore given several endpoints, the first of them dead, against the real S3
server: every operation is served by the next endpoint, and presigned URLs come for
each endpoint, the one that answers first (``vault.blobstore_s3_failover``)."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta

import httpx
import pytest
import urllib3

from tests.served import free_port
from vault.blobstore import BlobNotFound, new_name
from vault.blobstore_s3 import S3BlobStore
from vault.blobstore_s3_direct import S3DirectUploads

pytestmark = pytest.mark.s3

MIB = 1024 * 1024


@pytest.fixture
def store(s3_server: dict[str, str], s3_bucket: str) -> S3BlobStore:
    """A store whose first endpoint refuses connections and whose second is the server."""
    dead = f"127.0.0.1:{free_port()}"
    made = S3BlobStore(
        f"http://{dead},http://{s3_server['endpoint']}",
        s3_server["access_key"],
        s3_server["secret_key"],
        s3_bucket,
    )
    made.ensure_bucket()
    return made


def test_every_operation_is_served_by_the_endpoint_that_answers(store: S3BlobStore) -> None:
    small, large = os.urandom(1000), os.urandom(6 * MIB)  # a single PUT, a multipart upload
    for data in (small, large):
        name = new_name()
        # a stream: the first part is held while the dead endpoint is tried
        info = store.put(name, (data[i : i + MIB] for i in range(0, len(data), MIB)))
        assert info.size == len(data)
        assert info.sha256 == hashlib.sha256(data).hexdigest()
        assert store.size(name) == len(data)
        with store.open(name) as stream:
            assert b"".join(stream) == data
        store.delete(name)
        with pytest.raises(BlobNotFound):
            store.size(name)


def test_a_part_whose_endpoint_fails_midway_is_sent_to_the_next(
    s3_server: dict[str, str], s3_bucket: str
) -> None:
    # two endpoints, both live; the first drops its connection on the second part
    endpoint = s3_server["endpoint"]
    store = S3BlobStore(
        f"http://{endpoint},http://{endpoint}",
        s3_server["access_key"],
        s3_server["secret_key"],
        s3_bucket,
    )
    store.ensure_bucket()
    first = store._failover.clients[0]
    send = first._upload_part
    tried: list[int] = []

    def flaky(bucket: str, name: str, data: bytes, headers: object, upload: str, n: int) -> str:
        tried.append(n)
        if n == 2:
            raise urllib3.exceptions.ProtocolError("connection dropped")
        return send(bucket, name, data, headers, upload, n)

    first._upload_part = flaky  # type: ignore[method-assign]
    data = os.urandom(12 * MIB)  # three parts of 5 MiB
    name = new_name()
    info = store.put(name, (data[i : i + MIB] for i in range(0, len(data), MIB)))
    assert tried == [1, 2]  # part 2 went to the second endpoint, then part 3 stayed there
    assert info.size == len(data) and info.sha256 == hashlib.sha256(data).hexdigest()
    with store.open(name) as stream:
        assert b"".join(stream) == data


def test_a_put_whose_source_fails_midway_leaves_no_object_and_no_upload(
    store: S3BlobStore,
) -> None:
    def source() -> object:
        yield os.urandom(6 * MIB)
        raise OSError("the client went away")

    name = new_name()
    with pytest.raises(OSError, match="went away"):
        store.put(name, source())  # type: ignore[arg-type]
    with pytest.raises(BlobNotFound):
        store.size(name)
    uploads = store._failover.clients[1]._list_multipart_uploads(store.bucket, prefix=name)
    assert not uploads.uploads


def test_the_endpoint_that_answered_is_tried_first(store: S3BlobStore) -> None:
    # ensure_bucket found the first endpoint dead: later requests go straight to the second
    started = time.monotonic()
    for _ in range(5):
        with pytest.raises(BlobNotFound):
            store.size(new_name())
    assert time.monotonic() - started < 2.0
    name = new_name()
    store.put(name, [b"presigned"])
    url = store.url_for_get(name, timedelta(minutes=1))
    (alternate,) = store.alternate_urls_for_get(name, timedelta(minutes=1))
    assert url is not None
    assert httpx.get(url).content == b"presigned"  # the live endpoint's URL first
    with pytest.raises(httpx.ConnectError):
        httpx.get(alternate)  # then the dead one's, should it come back


def test_direct_upload_parts_have_a_url_per_endpoint(store: S3BlobStore) -> None:
    direct = S3DirectUploads(store)
    name = new_name()
    upload = direct.start(name)
    url = direct.part_url(name, upload, 1, timedelta(minutes=1))
    (alternate,) = direct.alternate_part_urls(name, upload, 1, timedelta(minutes=1))
    assert httpx.URL(url).port != httpx.URL(alternate).port
    assert httpx.put(url, content=b"part one").status_code == 200
    parts = direct.parts(name, upload)
    assert parts is not None and [part.size for part in parts] == [8]
    direct.complete(name, upload, parts)
    assert direct.head(name, 4) == (b"part", 8)
    store.delete(name)

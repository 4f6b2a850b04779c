"""A full disk answers one clear problem, and S3 requests are bounded (issue 16)."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from api.problems import status_for
from vault.blobstore import BlobStoreUnavailable, new_name
from vault.blobstore_fs import FilesystemBlobStore
from vault.blobstore_s3 import S3BlobStore
from vault.diskfull import storage_full
from vault.settings import Settings
from wire.errors import StorageFull, Unavailable


class _Wrapped(Exception):
    """What a persistence library raises around the driver's error."""


def _wrapped(cause: BaseException) -> _Wrapped:
    try:
        raise _Wrapped("persistence failed") from cause
    except _Wrapped as error:
        return error


class _PgError(Exception):
    sqlstate = "53100"


def test_a_full_disk_is_recognised_behind_its_wrappers() -> None:
    assert storage_full(OSError(errno.ENOSPC, "No space left on device"))
    assert storage_full(_wrapped(OSError(errno.EDQUOT, "Disk quota exceeded")))
    full = sqlite3.OperationalError("database or disk is full")
    assert storage_full(_wrapped(full))
    assert storage_full(_wrapped(_PgError()))


def test_other_failures_are_not_a_full_disk() -> None:
    assert not storage_full(OSError(errno.EIO, "Input/output error"))
    assert not storage_full(_wrapped(sqlite3.OperationalError("database is locked")))
    assert not storage_full(None)


def test_storage_full_answers_507_and_stays_retryable() -> None:
    assert issubclass(StorageFull, Unavailable)  # the SDK's retrying retries it
    assert status_for(StorageFull("the disk is full")) == 507
    assert status_for(BlobStoreUnavailable("S3 put: timeout")) == 503


def test_s3_requests_are_bounded_by_the_settings() -> None:
    store = S3BlobStore("127.0.0.1:9", "access", "secret", "bucket", timeout=2, retries=1)
    pool = store._client._http.connection_pool_kw
    assert pool["timeout"].connect_timeout == 2
    assert pool["timeout"].read_timeout == 2
    assert pool["retries"].total == 1
    defaults = Settings.model_fields
    assert defaults["s3_timeout"].default == 10.0
    assert defaults["s3_retries"].default == 2


def test_a_full_filesystem_store_answers_storage_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageFull):
        store.put(new_name(), [b"ciphertext"])
    # nothing stored, and no temporary left behind
    assert list(store.names()) == []
    assert not [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]


class _FullFile:
    """A file on a full disk: writes fail, and so does the flush its close makes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    flush = write

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        os.close(self.fd)
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_close_does_not_hide_storage_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen in the disk-full fault test: the buffered writer's close flushed again, and
    # its raw OSError replaced StorageFull (a 500 instead of a 507).
    store = FilesystemBlobStore(tmp_path / "blobs")
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: _FullFile(fd))
    with pytest.raises(StorageFull):
        store.put(new_name(), [b"ciphertext"])
    assert not [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]

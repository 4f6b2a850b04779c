"""A blob store on a local (or mounted) filesystem, for single-node deployments.

Layout: ``root/ab/cd/<name>`` where ``ab`` and ``cd`` are the name's first four hex digits,
so that no directory grows past 65,536 entries per level. Files are mode 0600 and
directories 0700: blobs are ciphertext, but their sizes and times are still nobody's business.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from vault.blobstore import (
    READ_CHUNK_SIZE,
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    BlobStream,
    check_cutoff,
    check_expiry,
    check_name,
    is_valid_name,
)
from vault.diskfull import FULL_ERRNOS
from wire.errors import StorageFull

_TEMP_SUFFIX = ".tmp"
_END = object()


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn the filesystem's errors into the port's (the path holds only the opaque name)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in FULL_ERRNOS:
            raise StorageFull(f"filesystem blob store: {action}: {exc.strerror}") from None
        raise BlobStoreUnavailable(f"filesystem blob store: {action}: {exc.strerror}") from None


def _modified_before(entry: os.DirEntry[str], limit: float | None) -> bool:
    """True if the file was last written before ``limit`` (or ``limit`` is None)."""
    if limit is None:
        return True
    try:
        return entry.stat().st_mtime < limit
    except FileNotFoundError:
        return False  # deleted while we listed: no longer ours to report
    except OSError as exc:
        raise BlobStoreUnavailable(f"filesystem blob store: list: {exc.strerror}") from None


def _fsync_dir(directory: Path) -> None:
    # A rename is durable only once the directory itself is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemBlobStore(BlobStore):
    """Stores each blob as one file under ``root``, written to a temporary file first."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        with _translated("create root"):
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        check_name(name)
        return self.root / name[:2] / name[2:4] / name

    def put(self, name: str, chunks: Iterable[bytes]) -> BlobInfo:
        """Writes a temporary file in the target directory, fsyncs it, then renames it over
        ``name``: the rename is atomic, so readers see the old blob or the whole new one.

        A process killed mid-put leaves a temporary file behind: :meth:`names` ignores it and
        :meth:`collect_temporaries` removes it.
        """
        path = self._path(name)
        digest, size = hashlib.sha256(), 0
        with _translated("write"):
            # Level by level: ``parents=True`` would make the first level with the
            # default mode (0777 less the umask), not 0700.
            path.parent.parent.mkdir(mode=0o700, exist_ok=True)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            # mkstemp creates the file with mode 0600 and a name no one else can take.
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
        try:
            file = os.fdopen(fd, "wb")
            try:
                source = iter(chunks)
                while (chunk := next(source, _END)) is not _END:
                    # ``next`` sits outside _translated: the caller's own errors (an OSError
                    # from reading their upload, say) must reach them unchanged.
                    digest.update(chunk)
                    size += len(chunk)
                    with _translated("write"):
                        file.write(chunk)
                with _translated("write"):
                    file.flush()
                    os.fsync(file.fileno())
            finally:
                # Closing flushes what is still buffered: after a failed write (a full
                # disk) that fails again, and must not replace the error already raised.
                # On success everything was flushed and fsynced above.
                with contextlib.suppress(OSError):
                    file.close()
            with _translated("write"):
                os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        with _translated("write"):
            _fsync_dir(path.parent)
        return BlobInfo(name=name, size=size, sha256=digest.hexdigest())

    def open(self, name: str) -> BlobStream:
        """Opens the file now (so a missing blob raises here) and streams it in 1 MiB pieces."""
        path = self._path(name)
        try:
            file = path.open("rb")
        except FileNotFoundError:
            raise BlobNotFound(f"no blob named {name}") from None
        except OSError as exc:
            raise BlobStoreUnavailable(f"filesystem blob store: read: {exc.strerror}") from None
        return BlobStream(self._pieces(file), release=file.close)

    @staticmethod
    def _pieces(file: BinaryIO) -> Iterator[bytes]:
        while True:
            with _translated("read"):
                piece = file.read(READ_CHUNK_SIZE)
            if not piece:
                return
            yield piece

    def size(self, name: str) -> int:
        """The file's size in bytes."""
        path = self._path(name)
        try:
            return path.stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"no blob named {name}") from None
        except OSError as exc:
            raise BlobStoreUnavailable(f"filesystem blob store: stat: {exc.strerror}") from None

    def delete(self, name: str) -> None:
        """Unlinks the file if present."""
        path = self._path(name)
        with _translated("delete"):
            path.unlink(missing_ok=True)

    def names(self, *, older_than: datetime | None = None) -> Iterator[str]:
        """Names of the stored files (modified before ``older_than``); temporaries excluded."""
        cutoff = check_cutoff(older_than)
        # Validate now, not at the first next(): hence a generator inside.
        limit = cutoff.timestamp() if cutoff is not None else None

        def matching() -> Iterator[str]:
            for entry in self._files():
                # Skips temporaries (".<name>.<random>.tmp") and anything we did not write.
                if is_valid_name(entry.name) and _modified_before(entry, limit):
                    yield entry.name

        return matching()

    def collect_temporaries(self, older_than: datetime) -> int:
        """Removes temporary files left by interrupted puts that were last written before
        ``older_than``; returns how many. A running put writes its file as its client sends,
        so only one stalled for longer than the cutoff's age could be taken."""
        super().collect_temporaries(older_than)  # checks the cutoff
        limit = older_than.timestamp()
        removed = 0
        for entry in self._files():
            is_temporary = entry.name.startswith(".") and entry.name.endswith(_TEMP_SUFFIX)
            if is_temporary and _modified_before(entry, limit):
                # Another collector may have got there first.
                with contextlib.suppress(FileNotFoundError), _translated("collect"):
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def url_for_get(self, name: str, expires: timedelta) -> str | None:
        """Always None: files have no URLs."""
        check_name(name)
        check_expiry(expires)
        return None

    def _files(self) -> Iterator[os.DirEntry[str]]:
        """Every file two fan-out levels below the root (names and temporaries)."""
        with _translated("list"):
            for first in self._subdirs(self.root):
                for second in self._subdirs(Path(first.path)):
                    with os.scandir(second.path) as entries:
                        yield from (e for e in entries if e.is_file(follow_symlinks=False))

    @staticmethod
    def _subdirs(directory: Path) -> list[os.DirEntry[str]]:
        with os.scandir(directory) as entries:
            return [e for e in entries if len(e.name) == 2 and e.is_dir(follow_symlinks=False)]

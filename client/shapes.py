"""What the SDK streams and parses: a deposit's source as chunks, the meter that counts
and hashes them, and the API's JSON answers as the shared shapes of ``wire.dto``."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import IO, Any
from uuid import UUID

from wire.dto import DocumentSummary, GrantSummary, SpaceKeyInfo
from wire.envelope import CHUNK_SIZE
from wire.errors import IntegrityFailure, InvalidInput

#: ``progress(done, total)``: bytes so far, and the total when it is known
Progress = Callable[[int, int | None], None]
#: what ``deposit`` takes: a path, bytes, a binary file or an iterable of bytes
Source = str | os.PathLike[str] | bytes | IO[bytes] | Iterable[bytes]


class Meter:
    """Counts and hashes bytes as they pass, reporting progress."""

    def __init__(self, progress: Progress | None, total: int | None) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self._sha = hashlib.sha256()

    def wrap(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Yield ``chunks`` unchanged, metering each."""
        if self.progress:
            self.progress(0, self.total)
        for chunk in chunks:
            self._sha.update(chunk)
            self.done += len(chunk)
            if self.progress:
                self.progress(self.done, self.total)
            yield chunk

    def hash(self, chunk: bytes) -> None:
        """Hash ``chunk`` without counting it (``count`` does, in the caller's thread)."""
        self._sha.update(chunk)

    def count(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Yield ``chunks`` unchanged, counting each and reporting progress; for chunks
        already given to :meth:`hash` (a read ahead hashes in its own thread)."""
        if self.progress:
            self.progress(0, self.total)
        for chunk in chunks:
            self.done += len(chunk)
            if self.progress:
                self.progress(self.done, self.total)
            yield chunk

    def hexdigest(self) -> str:
        """SHA-256 of everything metered so far."""
        return self._sha.hexdigest()


@contextlib.contextmanager
def open_source(source: Source) -> Iterator[tuple[Iterable[bytes], int | None]]:
    if isinstance(source, bytes | bytearray):
        yield [bytes(source)], len(source)
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:  # opened now, so a missing file fails before upload
            yield chunks_of(file), os.fstat(file.fileno()).st_size
    elif isinstance(source, io.TextIOBase):
        raise InvalidInput("documents are read from binary files (open with 'rb')", field="source")
    elif hasattr(source, "read"):
        yield chunks_of(source), remaining_size(source)  # type: ignore[arg-type]
    else:
        yield source, None  # type: ignore[misc]


def chunks_of(file: IO[bytes]) -> Iterator[bytes]:
    while piece := file.read(CHUNK_SIZE):
        yield piece


def remaining_size(file: IO[bytes]) -> int | None:
    try:
        here = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(here)
        return end - here
    except (OSError, ValueError, AttributeError):
        return None  # a pipe or socket: size unknown, progress shows bytes only


def as_date(value: date | str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput("document date must be YYYY-MM-DD", field="date") from None
    return value


def b64decode(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise IntegrityFailure(f"the server sent a malformed {field}") from None


def parse_space_key(data: Mapping[str, Any]) -> SpaceKeyInfo:
    return SpaceKeyInfo(
        data["patient_id"], UUID(data["space_id"]), data["key_id"], data["public_key"]
    )


def parse_summary(data: Mapping[str, Any]) -> DocumentSummary:
    return DocumentSummary(
        document_id=UUID(data["document_id"]),
        type=data["type"],
        title=data["title"],
        date=date.fromisoformat(data["date"]),
        version=int(data["version"]),
        author_name=data["author_name"],
        author_organisation=data.get("author_organisation"),
        size=int(data["size"]),
        deposited_at=datetime.fromisoformat(data["deposited_at"]),
    )


def parse_grant(data: Mapping[str, Any]) -> GrantSummary:
    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(data[key]) if data.get(key) else None

    return GrantSummary(
        grant_id=UUID(data["grant_id"]),
        grantee_id=data["grantee_id"],
        grantee_name=data["grantee_name"],
        grantee_profession=data.get("grantee_profession"),
        scope=data["scope"],
        granted_at=datetime.fromisoformat(data["granted_at"]),
        expires_at=when("expires_at"),
        revoked_at=when("revoked_at"),
        active=bool(data["active"]),
    )

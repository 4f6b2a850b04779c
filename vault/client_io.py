"""What the SDK's modules share: request paths and writing a download to its sink.

Kept apart from ``vault.client`` so that its mixins (``client_trail``, ``client_rules``)
import these without importing the client itself.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO
from urllib.parse import quote
from uuid import UUID

from domain.errors import InvalidInput

#: where a download goes: a path (written atomically) or an open binary file
Sink = str | os.PathLike[str] | IO[bytes]


def space_path(patient_id: str) -> str:
    """The API path of a patient's space."""
    # quoted: an id is validated by the server, but must never reshape the path
    return f"/v1/spaces/{quote(str(patient_id), safe='')}"


def document_path(patient_id: str, document_id: UUID | str) -> str:
    """The API path of a document; ``InvalidInput`` before any request for a bad id."""
    return f"{space_path(patient_id)}/documents/{as_uuid(document_id, 'document_id')}"


def as_uuid(value: UUID | str, field: str) -> UUID:
    """``value`` as a UUID, or ``InvalidInput`` naming ``field``."""
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{field} must be a UUID", field=field) from None


@contextlib.contextmanager
def open_sink(sink: Sink) -> Iterator[IO[bytes]]:
    """A binary file as is; a path through a same-directory temporary file, renamed
    into place only once the body completed (nothing lands on failure)."""
    if not isinstance(sink, str | os.PathLike):
        yield sink
        return
    target = os.path.abspath(sink)
    # same directory: the final rename is atomic; mkstemp makes the file 0600
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".coffre-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

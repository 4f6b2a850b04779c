"""What the SDK's modules share: request paths, writing a download to its sink, and
the errors of a download from the blob store itself.

Kept apart from ``client.transport`` so that the offline verifier and the CLI use them
without the HTTP session; the SDK's concept modules (``client.reads``, ...) import them.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from typing import IO
from urllib.parse import quote
from uuid import UUID

from wire.errors import CoffreError, IntegrityFailure, InvalidInput, NotFound, Unavailable

#: where a download goes: a path (written atomically) or an open binary file
Sink = str | os.PathLike[str] | IO[bytes]

# An S3 error body names its cause in <Code>; only that bounded word is ever echoed.
_S3_CODE = re.compile(rb"<Code>([A-Za-z0-9.]{1,64})</Code>")


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


def blob_store_error(status: int, body: bytes) -> CoffreError:
    """The error a refused presigned download stands for (S3 answers XML, not problems).

    An expired or altered presigned URL is refused (403, or 400 for a malformed one):
    that is an :class:`IntegrityFailure`, as for an expired or forged content ticket;
    reading the document again (a new recorded read) gives a fresh URL.
    """
    found = _S3_CODE.search(body[:4096])
    code = found.group(1).decode("ascii") if found else f"HTTP {status}"
    if status in (400, 401, 403):
        return IntegrityFailure(
            f"the blob store refused the content link ({code}): it has expired or was "
            "altered; read the document again"
        )
    if status == 404:
        return NotFound(f"the ciphertext is no longer in the blob store ({code})")
    if status >= 500:
        return Unavailable(f"the blob store failed ({code})")
    return CoffreError(f"the blob store answered {code}")

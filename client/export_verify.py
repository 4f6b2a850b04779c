"""Offline verification of a patient's export archive (``docs/export.md``): needs the
archive, the trail's published key set and the reader key the export was made for.

Pure: no network. Checks, in order, each failure naming the item:

1. the manifest lists every file of the archive, and each file's SHA-256 matches;
2. the trail checkpoint is signed by a key of the key set, valid at its time;
3. every trail entry's inclusion proof leads to the checkpoint's root, and every
   access-log entry has its proved trail entry;
4. every document's sealed key opens with the reader key, and its envelope matches its
   recorded SHA-256 and decrypts (``wire.envelope``).

``ExportVerificationError.item`` names what failed: a file name, ``entry <id>`` or
``document <id>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from client.readerkey import ReaderKey
from wire.checkpoint import Checkpoint, verify_checkpoint
from wire.envelope import DataKey, decrypt
from wire.errors import CoffreError, IntegrityFailure
from wire.merkle import leaf_hash
from wire.merkle.verify import InclusionVerifier
from wire.trail_keys import TrailKeySet

__all__ = [
    "ExportReport",
    "ExportVerificationError",
    "documents_of",
    "open_document",
    "verify_archive",
]

FORMAT = "coffre-export/1"
MANIFEST = "manifest.json"
_PIECE = 1024 * 1024


class ExportVerificationError(IntegrityFailure):
    """An export archive failed verification; ``item`` names what failed."""

    code = "export-verification-failed"

    def __init__(self, item: str, detail: str) -> None:
        super().__init__(f"{item}: {detail}")
        self.item = item


@dataclass(frozen=True)
class ExportReport:
    """What a verification checked."""

    files: int
    documents: int
    log_entries: int
    proved_entries: int
    checkpoint_size: int | None


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError):
        raise ExportVerificationError(MANIFEST, "missing or not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ExportVerificationError(MANIFEST, f"not a {FORMAT} manifest")
    return manifest


def _check_files(archive: zipfile.ZipFile, files: dict[str, str]) -> None:
    present = {name for name in archive.namelist() if name != MANIFEST}
    for name in sorted(present - set(files)):
        raise ExportVerificationError(name, "not listed in the manifest")
    for name, expected in sorted(files.items()):
        if name not in present:
            raise ExportVerificationError(name, "listed in the manifest but missing")
        digest = hashlib.sha256()
        with archive.open(name) as member:
            while piece := member.read(_PIECE):
                digest.update(piece)
        if not hmac.compare_digest(digest.hexdigest(), str(expected)):
            raise ExportVerificationError(name, "its SHA-256 differs from the manifest's")


def _lines(archive: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    with archive.open(name) as member:
        for number, raw in enumerate(member, start=1):
            try:
                yield json.loads(raw)
            except ValueError:
                raise ExportVerificationError(f"{name} line {number}", "not JSON") from None


def _check_trail(archive: zipfile.ZipFile, key_set: TrailKeySet) -> tuple[int, int, int]:
    try:
        checkpoint = Checkpoint.from_json(json.loads(archive.read("trail/checkpoint.json")))
        verify_checkpoint(checkpoint, key_set.key_for(checkpoint))
    except CoffreError as error:
        raise ExportVerificationError("trail/checkpoint.json", str(error)) from None
    verifier = InclusionVerifier(checkpoint.size, checkpoint.root)
    proved: set[int] = set()
    for line in _lines(archive, "trail/entries.ndjson"):
        item = f"entry {line.get('entry_id')}"
        try:
            proof = [bytes.fromhex(node) for node in line["inclusion_proof"]]
            verifier.verify(
                leaf_hash(str(line["entry"]).encode("utf-8")), int(line["leaf_index"]), proof
            )
        except (CoffreError, KeyError, TypeError, ValueError) as error:
            raise ExportVerificationError(item, f"inclusion proof fails: {error}") from None
        proved.add(int(line["entry_id"]))
    entries = 0
    for row in _lines(archive, "access_log.ndjson"):
        entries += 1
        if int(row.get("entry_id", -1)) not in proved:
            raise ExportVerificationError(
                f"entry {row.get('entry_id')}", "no proved trail entry for this log entry"
            )
    return entries, len(proved), checkpoint.size


def documents_of(archive: zipfile.ZipFile) -> Iterator[dict[str, Any]]:
    """The key record of every document of an archive (``documents/<id>.json``)."""
    for name in sorted(archive.namelist()):
        if name.startswith("documents/") and name.endswith(".json"):
            yield json.loads(archive.read(name))


def open_document(
    archive: zipfile.ZipFile, record: dict[str, Any], reader: ReaderKey
) -> Iterator[bytes]:
    """The plaintext of one archived document, checked against its recorded hash and
    decrypted as it streams; raises ``ExportVerificationError`` naming it."""
    document_id = record["document"]["document_id"]
    item = f"document {document_id}"
    try:
        key: DataKey = reader.unseal(base64.b64decode(record["sealed_key"]))
    except CoffreError as error:
        raise ExportVerificationError(item, f"its key does not open: {error}") from None

    def verified(member: IO[bytes]) -> Iterator[bytes]:
        digest = hashlib.sha256()
        while piece := member.read(_PIECE):
            digest.update(piece)
            yield piece
        if not hmac.compare_digest(digest.hexdigest(), str(record["sha256"])):
            raise ExportVerificationError(item, "its envelope differs from its recorded hash")

    with archive.open(f"documents/{document_id}.envelope") as member:
        try:
            yield from decrypt(verified(member), key)
        except ExportVerificationError:
            raise
        except CoffreError as error:
            raise ExportVerificationError(item, f"does not decrypt: {error}") from None


def verify_archive(
    path: str | os.PathLike[str], key_set: TrailKeySet, reader: ReaderKey
) -> ExportReport:
    """Verify an export archive offline (see the module); raises
    ``ExportVerificationError`` naming the first item that fails."""
    with zipfile.ZipFile(path) as archive:
        manifest = _manifest(archive)
        files = manifest.get("files")
        if not isinstance(files, dict):
            raise ExportVerificationError(MANIFEST, "has no files")
        _check_files(archive, files)
        entries = proved = 0
        size: int | None = None
        if manifest.get("checkpoint") is not None:
            entries, proved, size = _check_trail(archive, key_set)
        count = 0
        for record in documents_of(archive):
            for _ in open_document(archive, record, reader):
                pass
            count += 1
        return ExportReport(len(files), count, entries, proved, size)

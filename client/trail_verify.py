"""Offline verification of a trail export: needs the export and the public key (or the
published key set), nothing else.

Pure: no database, no network; ``wire.merkle``, ``wire.checkpoint``,
``wire.trail_keys`` and the standard library. One pass over the lines, constant memory
(plus one hash per chain), so a multi-gigabyte export verifies as it streams. Checks,
in file order:

1. header: format; the public key equals the one given (when given); with a key set,
   the checkpoint names one of its keys, dated inside that key's period, and the
   export's public key is that key; checkpoint signature; the range lies inside the
   checkpoint; given the checkpoint a regulator already holds, the consistency proof
   from it to the export's checkpoint (its key, too, checked against the key set);
2. each entry: well-formed canonical text naming its own leaf index; leaf indices
   strictly increasing inside the range, and without a hole for whole-log exports;
   matches the query (patient / actor); inclusion proof against the checkpoint root;
   its chain link (``prev`` / ``space_prev`` / ``actor_prev``) is the previous entry of
   its chain in the export, and null when the export starts at the first leaf;
3. manifest: signature; states the header's query, range and checkpoint; hashes of the
   header and of all entry lines; counts; each chain ends at the head the header names.

The first failure raises ``TrailVerificationError`` naming the line (1-based) and the
leaf index, and ``check``, a stable slug of what failed; a hash that differs raises
its subclass ``TrailMismatchError`` with ``expected`` and ``calculated``. Without a
public key only self-consistency is checked, and the report says so: an export
re-signed throughout with another key would pass.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from client.trail_checks import (
    FORMAT,
    LEGACY_FORMAT,
    EntryWalker,
    HeaderCheck,
    TrailMismatchError,
    TrailVerificationError,
    fail,
)
from client.trail_ranges import verify_in_ranges
from wire.canonical_fast import loads
from wire.checkpoint import Checkpoint, canonical_json, format_time
from wire.errors import InvalidInput
from wire.trail_fhir import INS, render_bundle, space_of_patient
from wire.trail_keys import TrailKeySet

__all__ = [
    "TrailMismatchError",
    "TrailVerificationError",
    "VerifyReport",
    "export_from_fhir",
    "load_checkpoint",
    "load_key_set",
    "parse_public_key",
    "verify_export",
    "verify_fhir",
    "verify_file",
]

UNKEYED = (
    "no public key given: checked for self-consistency only; an export re-signed "
    "with another key would pass. Verify with the trail's published public key."
)


@dataclass
class VerifyReport:
    """What a successful verification established."""

    entries: int
    checkpoint: Checkpoint
    query: dict[str, Any]
    kind: str
    key_checked: bool
    consistency_from: int | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A few human-readable lines for the CLI."""
        out = [
            f"OK: {self.entries} entries ({self.kind} export) proved against checkpoint "
            f"size {self.checkpoint.size}, root {self.checkpoint.root.hex()}, "
            f"signed {self.checkpoint.at.isoformat()} by key {self.checkpoint.key_id}",
        ]
        if self.consistency_from is not None:
            out.append(f"consistent with the previous checkpoint of size {self.consistency_from}")
        return "\n".join(out + [f"note: {n}" for n in self.notes])


def _lines(source: str | os.PathLike[str] | Iterable[str]) -> Iterator[tuple[int, str, bytes]]:
    """(line number, text without its LF, the line's bytes followed by one LF)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                try:
                    text = raw.decode("utf-8").removesuffix("\n")
                except UnicodeDecodeError:
                    fail("not UTF-8", "format", number)
                yield number, text, raw if raw.endswith(b"\n") else raw + b"\n"
        return
    for number, text in enumerate(source, 1):
        text = text.removesuffix("\n")
        # surrogatepass: a lone surrogate fails the entry's own checks first, as before
        yield number, text, text.encode("utf-8", "surrogatepass") + b"\n"


def _object(text: str, line: int) -> dict[str, Any]:
    try:
        value = loads(text)  # json.loads' value or error, by a C codec where it agrees
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        value = None
    if not isinstance(value, dict):
        fail("not a JSON object", "format", line)
    return value


def verify_export(
    path_or_lines: str | os.PathLike[str] | Iterable[str],
    public_key: bytes | None = None,
    previous_checkpoint: Checkpoint | dict[str, Any] | None = None,
    *,
    previous_public_key: bytes | None = None,
    key_set: TrailKeySet | None = None,
) -> VerifyReport:
    """Verify a ``coffre-trail-export/1`` file (a path) or its lines (strings).

    ``public_key``: the trail's 32-byte Ed25519 key, obtained independently of the
    export; or ``key_set``: the trail's published keys with their validity periods (the
    checkpoint must name one of them and be dated inside its period); or both.
    ``previous_checkpoint``: one the regulator already holds (signed by
    ``previous_public_key``, else by the key set's key it names, else ``public_key``).
    Returns a ``VerifyReport``; raises ``TrailVerificationError`` /
    ``TrailMismatchError`` at the first failure.
    """
    lines = _lines(path_or_lines)
    number, header_text, header_raw = next(lines, (1, "", b"\n"))
    header = _object(header_text, 1)
    state = HeaderCheck(header, public_key, key_set)
    keyed = public_key is not None or key_set is not None
    report = VerifyReport(0, state.checkpoint, state.query, state.kind, keyed)
    if not keyed:
        report.notes.append(UNKEYED)
    if key_set is not None:
        report.notes.append(
            f"checkpoint key {state.checkpoint.key_id} is in the key set, its period "
            f"covering {format_time(state.checkpoint.at)}"
        )
    if previous_checkpoint is not None:
        previous_key = previous_public_key or (
            None if key_set is not None else public_key or state.key
        )
        report.consistency_from = state.check_consistency(previous_checkpoint, previous_key)
    elif header.get("consistency"):
        report.notes.append(
            "the export carries a consistency proof, but no previous "
            "checkpoint was given to check it against"
        )
    if isinstance(path_or_lines, (str, os.PathLike)):
        done = verify_in_ranges(path_or_lines, header_raw, state, public_key, key_set)
        if done is not None:
            lines.close()
            report.entries = done.count
            report.notes.extend(state.completeness.notes)
            return report
    walker = EntryWalker(state)
    for number, text, raw in lines:
        obj = _object(text, number)
        if "manifest" in obj:
            walker.finish(obj, number, header_raw[:-1])
            for extra, _, _ in lines:
                fail("a line follows the manifest", "trailing", extra)
            report.entries = walker.count
            report.notes.extend(state.completeness.notes)
            return report
        walker.entry(obj, number, raw)
    fail(
        f"the export ends after line {number} without its signed manifest "
        f"({walker.count} of {state.count} entries)",
        "truncated",
        number + 1,
    )


def _fhir_binary(bundle: Any) -> str:
    """The text of the signed JSON Lines export a Bundle carries in its ``Binary``."""
    items = bundle.get("entry") if isinstance(bundle, dict) else None
    if not isinstance(items, list):
        fail("the Bundle's entry is not a list", "fhir")
    for item in items:
        resource = item.get("resource") if isinstance(item, dict) else None
        if (
            isinstance(resource, dict)
            and resource.get("resourceType") == "Binary"
            and resource.get("contentType") == "application/jsonl"
        ):
            data = resource.get("data")
            try:
                return base64.b64decode(data, validate=True).decode("utf-8")
            except (ValueError, TypeError):  # binascii.Error and UnicodeDecodeError too
                fail("the Binary's data is not base64 of UTF-8 text", "fhir")
    fail("the Bundle carries no application/jsonl Binary", "format")


def export_from_fhir(bundle: dict[str, Any]) -> list[str]:
    """The signed JSON Lines export a FHIR Bundle carries in its ``Binary`` entry."""
    # split on LF only, as the export was written: an entry may hold U+2028 and the like
    return _fhir_binary(bundle).removesuffix("\n").split("\n")


def verify_fhir(
    bundle: dict[str, Any],
    public_key: bytes | None = None,
    previous_checkpoint: Checkpoint | dict[str, Any] | None = None,
    previous_public_key: bytes | None = None,
    key_set: TrailKeySet | None = None,
) -> VerifyReport:
    """Verify the export inside a FHIR Bundle, then check that the Bundle is exactly its
    rendering by ``wire.trail_fhir.render_bundle`` (the server's own function).

    So every AuditEvent says what its signed entry says (agent, outcome, time, type,
    entities...), in order, and nothing else. The Bundle's time is the one part not
    derived from the export; each space's INS is taken from the Bundle and must derive
    that space's id.
    """
    text = _fhir_binary(bundle)
    lines = text.removesuffix("\n").split("\n")
    report = verify_export(
        lines,
        public_key,
        previous_checkpoint,
        previous_public_key=previous_public_key,
        key_set=key_set,
    )
    timestamp = bundle.get("timestamp")
    if not isinstance(timestamp, str):
        fail("the Bundle has no timestamp", "fhir")
    entries = [json.loads(json.loads(line)["entry"]) for line in lines[1:-1]]
    patients = _claimed_patients(bundle, entries)
    try:
        rendered = render_bundle(text, patients.get, timestamp)
        same = canonical_json(rendered) == canonical_json(bundle)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        fail("the Bundle cannot be rendered from its export", "fhir")
    if not same:
        difference = _first_difference(rendered, bundle)
        fail(f"the Bundle is not the rendering of its export: {difference}", "fhir")
    return report


def _claimed_patients(bundle: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, str]:
    """INS given in the Bundle's entities, by the space id each derives; every space of
    the export must have one (its provisioning names it, or an entity does)."""
    claimed: dict[str, str] = {}
    for item in bundle["entry"]:
        resource = item.get("resource") if isinstance(item, dict) else None
        entities = resource.get("entity") if isinstance(resource, dict) else None
        for entity in entities if isinstance(entities, list) else []:
            what = entity.get("what") if isinstance(entity, dict) else None
            ident = what.get("identifier") if isinstance(what, dict) else None
            if isinstance(ident, dict) and ident.get("system") == INS:
                value = ident.get("value")
                if isinstance(value, str):
                    claimed[str(space_of_patient(value))] = value
    for entry in entries:
        space, details = entry.get("space_id"), entry.get("details")
        named = details.get("patient_id") if isinstance(details, dict) else None
        if isinstance(space, str) and space not in claimed and not isinstance(named, str):
            fail(
                f"no INS in the Bundle derives the space {space} of leaf {entry.get('leaf_index')}",
                "fhir",
                leaf=entry.get("leaf_index") if _is_index(entry.get("leaf_index")) else None,
            )
    return claimed


def _is_index(value: Any) -> bool:
    return type(value) is int and value >= 0


def _first_difference(rendered: dict[str, Any], bundle: dict[str, Any]) -> str:
    """Name the first resource that differs (leaf index for an AuditEvent)."""
    want, got = rendered.get("entry", []), bundle.get("entry")
    if not isinstance(got, list) or len(got) != len(want):
        return f"{len(want)} resources expected"
    for expected, given in zip(want, got, strict=True):
        if canonical_json(expected) != canonical_json(given):
            resource = expected["resource"]
            name = resource.get("id", "")
            if resource["resourceType"] == "AuditEvent":
                return f"the AuditEvent of leaf {name.removeprefix('leaf-')} was altered"
            return f"the {resource['resourceType']} {name} was altered"
    return "the Bundle's own fields were altered"


# -- helpers for the CLI (``coffre audit verify EXPORT --public-key KEY``) ------------


def parse_public_key(text: str) -> bytes:
    """A trail public key given as base64 (as exports carry it) or as 64 hex digits."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise InvalidInput("a trail public key is 32 bytes, base64 or hex", field="public_key")
    return key


def _read_document(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The file as one JSON object if it is one (a Bundle, a checkpoint), else None."""
    with open(path, "rb") as handle:
        first = handle.readline()
        try:
            head = json.loads(first)
        except (ValueError, RecursionError):
            head = None  # a pretty-printed JSON document: its first line is not JSON
        if isinstance(head, dict) and head.get("format") in (FORMAT, LEGACY_FORMAT):
            return None  # a JSON Lines export
        handle.seek(0)
        try:
            document = json.loads(handle.read())
        except (ValueError, RecursionError):
            return None
    return document if isinstance(document, dict) else None


def verify_file(
    path: str | os.PathLike[str],
    public_key: bytes | None = None,
    previous_checkpoint: Checkpoint | dict[str, Any] | None = None,
    *,
    previous_public_key: bytes | None = None,
    key_set: TrailKeySet | None = None,
) -> VerifyReport:
    """Verify a JSON Lines export or a FHIR Bundle export, whichever ``path`` holds.

    ``previous_public_key``: the key that signed ``previous_checkpoint`` if the trail key
    rotated since; default: the key set's key it names, else ``public_key``.
    """
    document = _read_document(path)
    if document is not None and document.get("resourceType") == "Bundle":
        return verify_fhir(document, public_key, previous_checkpoint, previous_public_key, key_set)
    return verify_export(
        path,
        public_key,
        previous_checkpoint,
        previous_public_key=previous_public_key,
        key_set=key_set,
    )


def load_key_set(path: str | os.PathLike[str]) -> TrailKeySet:
    """A published key set file (``coffre keys publish-trail``, ``coffre audit keys``);
    ``CheckpointFormatError`` if it is not one."""
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read())
    except (ValueError, RecursionError):
        document = None
    return TrailKeySet.from_json(document)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checkpoint a regulator kept: a checkpoint JSON file, or the checkpoint of an
    earlier export (JSON Lines or FHIR). Its signature is checked by ``verify_export``."""
    document = _read_document(path)
    if document is None:
        with open(path, encoding="utf-8") as handle:
            return _object(handle.readline(), 1).get("checkpoint") or {}
    if document.get("resourceType") == "Bundle":
        return _object(export_from_fhir(document)[0], 1).get("checkpoint") or {}
    return document

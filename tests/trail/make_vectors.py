"""Generate ``testdata/*.json``: trail exports, one mutation per file.

Run from the project root: ``.venv/bin/python -m tests.trail.make_vectors``. Stale
``*.json`` files are removed first, so the folder is exactly ``build_vectors()``
(``test_trail_vectors.py`` checks the committed files still match it).

Modelled on transparency-dev/merkle's ``testdata``: each file is a complete export
(``lines``) made by the real projection and exporter from ``story.py``'s fixed history,
either untouched or with exactly one tampering, plus what the regulator brings
(``publicKey``, ``previousCheckpoint``) and the verdict the *mutation* implies, stated
here by hand and not asked of the verifier: ``wantErr``, ``wantErrType``, ``wantCheck``
(the failing check's slug), ``wantLine`` (1-based) and ``wantLeaf``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from keys.checkpoint import CheckpointSigner, canonical_json
from projections.trail_query import Trail, TrailQuery
from tests.trail.story import DOCTOR_ID, IMPOSTOR_SEED, PATIENT_A, SEED, T0, story_trail
from wire.checkpoint import Checkpoint

TESTDATA = Path(__file__).resolve().parent / "testdata"
KEY = base64.b64encode(CheckpointSigner(SEED).public_key).decode()
IMPOSTOR = CheckpointSigner(IMPOSTOR_SEED)
Lines = list[str]


def _export(trail: Trail, query: TrailQuery, from_size: int | None = None) -> Lines:
    out = io.StringIO()
    trail.export_jsonl(query, out, from_size=from_size)
    return out.getvalue().splitlines()


def _vector(desc: str, lines: Lines, err: tuple[str, str, int, int | None] | None = None,
            *, key: str | None = KEY, previous: dict[str, Any] | None = None,
            note: str | None = None) -> dict[str, Any]:  # fmt: skip
    vector = {
        "desc": desc,
        "publicKey": key,
        "previousCheckpoint": previous,
        "lines": lines,
        "wantErr": err is not None,
        "wantErrType": err[0] if err else None,
        "wantCheck": err[1] if err else None,
        "wantLine": err[2] if err else None,
        "wantLeaf": err[3] if err else None,
    }
    if note:
        vector["note"] = note
    return vector


# -- mutations: each returns a new list of lines ------------------------------------


def _line_of(lines: Lines, leaf: int) -> int:
    """0-based position of the line of ``leaf``."""
    return next(i for i, line in enumerate(lines) if json.loads(line).get("leaf_index") == leaf)


def _edit_entry(lines: Lines, leaf: int, change: Callable[[dict[str, Any]], None]) -> Lines:
    out, i = list(lines), _line_of(lines, leaf)
    obj = json.loads(out[i])
    entry = json.loads(obj["entry"])
    change(entry)
    obj["entry"] = canonical_json(entry)
    out[i] = canonical_json(obj)
    return out


def _edit_line(lines: Lines, i: int, change: Callable[[dict[str, Any]], None]) -> Lines:
    out = list(lines)
    obj = json.loads(out[i])
    change(obj)
    out[i] = canonical_json(obj)
    return out


def _without(lines: Lines, leaf: int) -> Lines:
    i = _line_of(lines, leaf)
    return lines[:i] + lines[i + 1 :]


def _swap(lines: Lines, a: int, b: int) -> Lines:
    out, i, j = list(lines), _line_of(lines, a), _line_of(lines, b)
    out[i], out[j] = out[j], out[i]
    return out


def _flip(hex_hash: str) -> str:
    return f"{int(hex_hash[:2], 16) ^ 0x10:02x}{hex_hash[2:]}"


def _resign(lines: Lines, signer: CheckpointSigner, root: bytes | None = None) -> Lines:
    """Re-sign the checkpoint (over ``root`` if given) and manifest with ``signer``."""
    header = json.loads(lines[0])
    old = Checkpoint.from_json(header["checkpoint"])
    header["checkpoint"] = signer.sign(old.size, root or old.root, old.at).to_json()
    header["public_key"] = base64.b64encode(signer.public_key).decode()
    out = [canonical_json(header), *lines[1:]]
    manifest = json.loads(out[-1])["manifest"]
    manifest["checkpoint"]["root"] = header["checkpoint"]["root"]
    manifest["key_id"] = signer.key_id
    manifest["header_sha256"] = hashlib.sha256(out[0].encode()).hexdigest()
    signature = base64.b64encode(signer.sign_manifest(manifest)).decode()
    out[-1] = canonical_json({"manifest": manifest, "signature": signature})
    return out


def _chain_of(header: dict[str, Any], entry: dict[str, Any]) -> str:
    kind = header["chain"]["kind"]
    if kind == "space":
        return str(header["query"]["space_id"])
    return f"{entry['actor']['role']}:{entry['actor']['id']}" if kind == "actor" else "log"


def shortened(lines: Lines, drop: list[int], change: Callable[[dict[str, Any]], None]
               | None = None, replace: dict[str, Any] | None = None,
               signer: CheckpointSigner | None = None) -> Lines:  # fmt: skip
    """Entries ``drop`` removed, then everything the trail key signs made consistent
    again and re-signed with the trail key itself (what its holder could do)."""
    kept = [x for x in lines[1:-1] if json.loads(x)["leaf_index"] not in drop]
    header = json.loads(lines[0])
    heads: dict[str, str] = {}
    for line in kept:
        text = json.loads(line)["entry"]
        heads[_chain_of(header, json.loads(text))] = hashlib.sha256(
            b"\x00" + text.encode()).hexdigest()  # fmt: skip
    header["chain"]["heads"], header["count"] = heads, len(kept)
    if change is not None:
        change(header)
    if replace is not None:
        header["completeness"].update(replace)
    head = canonical_json(header)
    manifest = json.loads(lines[-1])["manifest"]
    manifest.update(count=len(kept), range=header["range"],
                    header_sha256=hashlib.sha256(head.encode()).hexdigest(),
                    entries_sha256=hashlib.sha256(
                        "".join(x + "\n" for x in kept).encode()).hexdigest())  # fmt: skip
    signature = base64.b64encode((signer or CheckpointSigner(SEED)).sign_manifest(manifest))
    last = canonical_json({"manifest": manifest, "signature": signature.decode()})
    return [head, *kept, last]


def _set_name(entry: dict[str, Any]) -> None:
    entry["actor"]["name"] = "Dr Someone Else"


def _log_vectors(log: Lines, proved: Lines, previous: dict[str, Any],
                 fork: dict[str, Any]) -> dict[str, dict[str, Any]]:  # fmt: skip
    n = len(log)
    mismatch, failure = "TrailMismatchError", "TrailVerificationError"
    forged = _edit_entry(log, 6, _set_name)[_line_of(log, 6)]
    other_sig = Checkpoint.from_json(json.loads(log[0])["checkpoint"])
    impostor_sig = IMPOSTOR.sign(other_sig.size, other_sig.root, other_sig.at).signature
    return {
        "happy-path": _vector("untouched export of the whole log", log),
        "happy-path-without-key": _vector(
            "untouched, verified without the public key", log, key=None,
            note="passes: self-consistency only, and the report says so"),
        "resigned-throughout-without-key": _vector(
            "checkpoint and manifest re-signed with another key, verified without a key",
            _resign(log, IMPOSTOR), key=None,
            note="passes: without the trail's public key nothing proves who signed"),
        "edited-field": _vector("an actor's name edited in leaf 5", _edit_entry(
            log, 5, _set_name), (mismatch, "inclusion", 7, 5)),
        "edited-proof": _vector("one bit of leaf 3's inclusion proof flipped", _edit_line(
            log, _line_of(log, 3), lambda o: o["inclusion_proof"].__setitem__(
                0, _flip(o["inclusion_proof"][0]))), (mismatch, "inclusion", 5, 3)),
        # consecutive leaves share their upper proof hashes: tampering anywhere is caught
        "edited-proof-shared-hash": _vector(
            "leaf 9's top proof hash (the one leaf 8's proof also carries) flipped",
            _edit_line(log, _line_of(log, 9), lambda o: o["inclusion_proof"].__setitem__(
                -1, _flip(o["inclusion_proof"][-1]))), (mismatch, "inclusion", 11, 9)),
        "proof-of-neighbour": _vector("leaf 7 carries leaf 6's inclusion proof", _edit_line(
            log, _line_of(log, 7), lambda o: o.__setitem__(
                "inclusion_proof", json.loads(log[_line_of(log, 6)])["inclusion_proof"])),
            (mismatch, "inclusion", 9, 7)),
        "edited-last-entry": _vector("an actor's name edited in the last leaf (13)",
            _edit_entry(log, 13, _set_name), (mismatch, "inclusion", 15, 13)),
        "deleted-entry": _vector("leaf 5 deleted", _without(log, 5), (failure, "gap", 7, 6)),
        "inserted-duplicate": _vector("leaf 6 inserted a second time", log[:8] + log[7:],
                                      (failure, "order", 9, 6)),
        "inserted-forged-entry": _vector(
            "a forged leaf 6 inserted before the real one", [*log[:7], forged, *log[7:]],
            (mismatch, "inclusion", 8, 6)),
        "swapped-entries": _vector("leaves 4 and 5 swapped", _swap(log, 4, 5),
                                   (failure, "gap", 6, 5)),
        "truncated": _vector("the last two entries and the manifest cut off", log[:-3],
                             (failure, "truncated", n - 2, None)),
        "truncated-manifest": _vector("the manifest cut off", log[:-1],
                                      (failure, "truncated", n, None)),
        "last-entry-deleted": _vector("the last entry deleted, manifest kept",
                                      log[:-2] + log[-1:], (failure, "count", n - 1, None)),
        "trailing-line": _vector("a line appended after the manifest", [*log, log[3]],
                                 (failure, "trailing", n + 1, None)),
        "entry-line-reformatted": _vector(
            "an entry line re-serialised with spaces (same JSON, other bytes)",
            [*log[:3], json.dumps(json.loads(log[3])), *log[4:]],
            (mismatch, "manifest-hash", n, None)),
        "header-altered": _vector("the header's chain heads altered", _edit_line(
            log, 0, lambda o: o["chain"]["heads"].__setitem__("log", "00" * 32)),
            (mismatch, "manifest-hash", n, None)),
        "checkpoint-resigned-other-key": _vector(
            "checkpoint and manifest re-signed with another key, public key replaced",
            _resign(log, IMPOSTOR), (mismatch, "public-key", 1, None)),
        "checkpoint-signature-other-key": _vector(
            "checkpoint signature replaced by another key's", _edit_line(
                log, 0, lambda o: o["checkpoint"].__setitem__(
                    "signature", base64.b64encode(impostor_sig).decode())),
            (failure, "checkpoint-signature", 1, None)),
        "root-altered": _vector("checkpoint root hash altered", _edit_line(
            log, 0, lambda o: o["checkpoint"].__setitem__("root", _flip(o["checkpoint"]["root"]))),
            (failure, "checkpoint-signature", 1, None)),
        "size-altered": _vector("checkpoint tree size altered", _edit_line(
            log, 0, lambda o: o["checkpoint"].__setitem__("size", o["checkpoint"]["size"] + 1)),
            (failure, "checkpoint-signature", 1, None)),
        "root-altered-and-resigned": _vector(
            "checkpoint over another root, signed with the trail key itself",
            _resign(log, CheckpointSigner(SEED), root=bytes(32)),
            (mismatch, "completeness", 1, n - 3)),
        "manifest-signature-altered": _vector("manifest signature replaced", _edit_line(
            log, n - 1, lambda o: o.__setitem__("signature", json.loads(log[0])["checkpoint"][
                "signature"])), (failure, "manifest-signature", n, None)),
        "consistent-with-previous": _vector(
            "export carrying the proof from the checkpoint the regulator holds", proved,
            previous=previous),
        "inconsistent-checkpoints": _vector(
            "the held checkpoint is of a rewritten history (same key, same size)", proved,
            (mismatch, "consistency", 1, None), previous=fork),
        "consistency-proof-missing": _vector(
            "previous checkpoint given, the export carries no proof from it", log,
            (failure, "consistency", 1, None), previous=previous),
        "consistency-proof-altered": _vector("one bit of the consistency proof flipped",
            _edit_line(proved, 0, lambda o: o["consistency"]["proof"].__setitem__(
                0, _flip(o["consistency"]["proof"][0]))),
            (mismatch, "consistency", 1, None), previous=previous),
    }  # fmt: skip


def _subset_vectors(name: str, lines: Lines, leaves: list[int], foreign: str,
                    foreign_leaf: int) -> dict[str, dict[str, Any]]:  # fmt: skip
    n, second, third = len(lines), leaves[1], leaves[2]
    mismatch, failure = "TrailMismatchError", "TrailVerificationError"
    pos = _line_of(lines, third)
    return {
        f"{name}--happy-path": _vector(f"untouched {name} export", lines),
        f"{name}--edited-field": _vector(f"an actor's name edited in leaf {second}",
            _edit_entry(lines, second, _set_name), (mismatch, "inclusion", 3, second)),
        f"{name}--deleted-entry": _vector(f"leaf {second} deleted", _without(lines, second),
            (mismatch, "chain", 3, third)),
        f"{name}--deleted-first-entry": _vector(f"the first entry (leaf {leaves[0]}) deleted",
            _without(lines, leaves[0]), (failure, "chain", 2, second)),
        f"{name}--inserted-foreign-entry": _vector(
            f"a genuine, proved entry (leaf {foreign_leaf}) of someone else inserted",
            [*lines[:pos], foreign, *lines[pos:]], (failure, "query", pos + 1, foreign_leaf)),
        f"{name}--swapped-entries": _vector(f"leaves {second} and {third} swapped",
            _swap(lines, second, third), (mismatch, "chain", 3, third)),
        f"{name}--truncated": _vector("the last entry and the manifest cut off", lines[:-2],
            (failure, "truncated", n - 1, None)),
        f"{name}--last-entry-deleted": _vector("the last entry deleted, manifest kept",
            lines[:-2] + lines[-1:], (failure, "count", n - 1, None)),
        # what the holder of the trail key could do: drop the last entries, fix the
        # chain head and count, re-sign; the checkpoint's chain-heads map still names
        # the real last entry
        f"{name}--last-entries-dropped-and-resigned": _vector(
            "the last two entries dropped, header fixed, re-signed with the trail key",
            shortened(lines, leaves[-2:]), (failure, "completeness", n - 2, leaves[-3])),
    }  # fmt: skip


def build_vectors() -> dict[str, dict[str, Any]]:
    """Every vector, keyed by file name (without ``.json``)."""
    with story_trail(fork=True) as (forked, _):
        fork = forked.checkpoints()[0].to_json()
    with story_trail() as (trail, _):
        previous = trail.checkpoints()[0].to_json()
        log = _export(trail, TrailQuery())
        proved = _export(trail, TrailQuery(), from_size=6)
        patient = _export(trail, TrailQuery(patient_id=PATIENT_A))
        doctor = _export(trail, TrailQuery(actor_id=DOCTOR_ID))
        window = _export(
            trail, TrailQuery(since=T0 + timedelta(minutes=4), until=T0 + timedelta(minutes=9))
        )
    leaves = {name: [json.loads(x)["leaf_index"] for x in lines[1:-1]]
              for name, lines in (("patient", patient), ("professional", doctor))}  # fmt: skip
    vectors = {f"log--{k}": v for k, v in _log_vectors(log, proved, previous, fork).items()}
    # a genuine entry of patient B (leaf 5) into A's export; one of B's reads into the doctor's
    vectors.update(_subset_vectors("patient", patient, leaves["patient"], log[6], 5))
    vectors.update(_subset_vectors("professional", doctor, leaves["professional"], log[14], 13))
    wn = len(window)
    vectors["window--happy-path"] = _vector("untouched export of a time window", window)
    vectors["window--edited-field"] = _vector(
        "an actor's name edited in leaf 6, inside the window",
        _edit_entry(window, 6, _set_name),
        ("TrailMismatchError", "inclusion", 3, 6),
    )
    vectors["window--edited-proof"] = _vector(
        "one bit of leaf 7's inclusion proof flipped, inside the window",
        _edit_line(window, _line_of(window, 7), lambda o: o["inclusion_proof"].__setitem__(
            0, _flip(o["inclusion_proof"][0]))),
        ("TrailMismatchError", "inclusion", 4, 7),
    )  # fmt: skip
    vectors["window--deleted-entry"] = _vector(
        "leaf 6 deleted from the window",
        _without(window, 6),
        ("TrailVerificationError", "gap", 3, 7),
    )
    vectors["window--deleted-first-entry"] = _vector(
        "the window's first entry deleted",
        window[:1] + window[2:],
        ("TrailVerificationError", "gap", 2, 6),
    )
    first = json.loads(window[1])
    vectors["window--first-entry-dropped-and-resigned"] = _vector(
        "the window's first entry dropped, its range moved, re-signed with the trail key",
        shortened(window, [first["leaf_index"]],
                   lambda h: h["range"].__setitem__("first", h["range"]["first"] + 1),
                   {"before": first}),
        ("TrailVerificationError", "window", 1, first["leaf_index"]),
    )  # fmt: skip
    vectors["window--last-entry-dropped-and-resigned"] = _vector(
        "the window's last entry dropped, its range moved, re-signed with the trail key",
        shortened(window, [json.loads(window[-2])["leaf_index"]],
                   lambda h: h["range"].__setitem__("end", h["range"]["end"] - 1),
                   {"after": json.loads(window[-2])}),
        ("TrailVerificationError", "window", 1, json.loads(window[-2])["leaf_index"]),
    )  # fmt: skip
    vectors["log--last-entries-dropped-and-resigned"] = _vector(
        "the last two entries dropped, the range cut, re-signed with the trail key",
        shortened(log, [12, 13], lambda h: h["range"].__setitem__("end", 12)),
        ("TrailVerificationError", "range", 1, None),
    )
    vectors["window--truncated"] = _vector(
        "the window's manifest cut off", window[:-1], ("TrailVerificationError", "truncated",
                                                        wn, None))  # fmt: skip
    return vectors


def main() -> int:
    """Rewrite ``testdata/`` from ``build_vectors()``."""
    TESTDATA.mkdir(exist_ok=True)
    for stale in TESTDATA.glob("*.json"):
        stale.unlink()
    vectors = build_vectors()
    for name, vector in vectors.items():
        (TESTDATA / f"{name}.json").write_text(json.dumps(vector, indent=2) + "\n")
    print(f"wrote {len(vectors)} vectors to {TESTDATA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

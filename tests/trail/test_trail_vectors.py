"""Walk ``testdata/*.json``: each file one export, untouched or with one tampering.

Every tampered export must fail with the error type, check, line and leaf index the
generator stated for its mutation; every untouched one must verify. Modelled on
transparency-dev/merkle's ``proof/verify_test.go`` probe walkers.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from client.trail_verify import TrailMismatchError, TrailVerificationError, verify_export
from tests.trail.make_vectors import TESTDATA, build_vectors

ERRORS = {
    "TrailVerificationError": TrailVerificationError,
    "TrailMismatchError": TrailMismatchError,
}
FILES = sorted(TESTDATA.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _verify(v: dict[str, Any]) -> Any:
    key = base64.b64decode(v["publicKey"]) if v["publicKey"] else None
    return verify_export(v["lines"], key, v["previousCheckpoint"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_vector(path: Path) -> None:
    v = _load(path)
    assert v["desc"]
    if not v["wantErr"]:
        report = _verify(v)
        assert report.entries == len(v["lines"]) - 2
        assert report.key_checked is (v["publicKey"] is not None)
        return
    with pytest.raises(TrailVerificationError) as info:
        _verify(v)
    error = info.value
    # The verifier names the first bad entry: which check, which line, which leaf.
    assert type(error) is ERRORS[v["wantErrType"]], (v["desc"], error)
    assert (error.check, error.line, error.leaf_index) == (
        v["wantCheck"],
        v["wantLine"],
        v["wantLeaf"],
    ), (v["desc"], str(error))
    if isinstance(error, TrailMismatchError):
        assert error.expected != error.calculated


def test_vectors_are_reproducible() -> None:
    """The committed files are exactly what ``make_vectors.py`` generates today."""
    want = build_vectors()
    on_disk = {p.stem: _load(p) for p in FILES}
    assert sorted(on_disk) == sorted(want), "re-run: .venv/bin/python -m tests.trail.make_vectors"
    for name, vector in want.items():
        assert on_disk[name] == vector, name


def test_every_tampering_kind_has_a_vector() -> None:
    names = {p.stem for p in FILES}
    for kind in ("edited-field", "deleted-entry", "inserted", "swapped-entries", "truncated",
                 "resigned-other-key", "root-altered", "inconsistent-checkpoints"):  # fmt: skip
        assert any(kind in name for name in names), kind
    # all four kinds of export are covered, and each has an untouched control
    for export in ("log", "patient", "professional", "window"):
        assert f"{export}--happy-path" in names

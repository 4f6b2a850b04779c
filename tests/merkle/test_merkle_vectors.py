"""Walk ``testdata/{inclusion,consistency}/*.json`` (cf. verify_test.go's probe walkers).

Each file is one mutation of a good proof, with ``desc``, ``wantErr`` and, when an error
is wanted, ``wantErrType``: decided by the independent reference verifier in
``make_vectors.py``, so these check ``wire.merkle.verify`` against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from make_vectors import TESTDATA, build_vectors

from wire.errors import IntegrityFailure
from wire.merkle import ProofError, RootMismatch, verify_consistency, verify_inclusion

ERRORS = {"ProofError": ProofError, "RootMismatch": RootMismatch}


def _files(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _check(v: dict[str, Any], call: Any) -> None:
    assert v["desc"]
    if not v["wantErr"]:
        call()
        return
    with pytest.raises(IntegrityFailure) as info:
        call()
    assert type(info.value) is ERRORS[v["wantErrType"]], (v["desc"], info.value)


@pytest.mark.parametrize("path", _files("inclusion"), ids=lambda p: p.stem)
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    _check(
        v,
        lambda: verify_inclusion(
            bytes.fromhex(v["leafHash"]),
            v["leafIndex"],
            v["treeSize"],
            [bytes.fromhex(h) for h in v["proof"]],
            bytes.fromhex(v["root"]),
        ),
    )


@pytest.mark.parametrize("path", _files("consistency"), ids=lambda p: p.stem)
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    _check(
        v,
        lambda: verify_consistency(
            v["oldSize"],
            v["newSize"],
            bytes.fromhex(v["oldRoot"]),
            bytes.fromhex(v["newRoot"]),
            [bytes.fromhex(h) for h in v["proof"]],
        ),
    )


def test_vectors_are_reproducible() -> None:
    """The committed files are exactly what ``make_vectors.py`` generates today."""
    want = build_vectors()
    on_disk = {
        f"{kind}/{p.name}": _load(p) for kind in ("inclusion", "consistency") for p in _files(kind)
    }
    assert sorted(on_disk) == sorted(want), "re-run tests/merkle/make_vectors.py"
    for rel, vector in want.items():
        assert on_disk[rel] == vector, rel


def test_there_are_vectors_of_each_kind() -> None:
    for kind in ("inclusion", "consistency"):
        vectors = [_load(p) for p in _files(kind)]
        assert sum(not v["wantErr"] for v in vectors) >= 5
        assert {v["wantErrType"] for v in vectors if v["wantErr"]} == set(ERRORS)

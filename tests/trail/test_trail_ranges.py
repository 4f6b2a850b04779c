"""Verifying an export file in parallel ranges (``client.trail_ranges``) gives exactly the
one-pass walk's verdict: the same report, or the same error (type, check, line, leaf,
message), for every committed vector and for damaged real exports (issue 12, item 4).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import client.trail_ranges as ranges
from client.trail_verify import TrailVerificationError, verify_export
from keys.checkpoint import CheckpointSigner
from tests.trail.make_vectors import TESTDATA
from tests.trail.story import SEED, story_exports

KEY = CheckpointSigner(SEED).public_key
VECTORS = sorted(TESTDATA.glob("*.json")) + sorted((TESTDATA / "legacy").glob("*.json"))


def _story_exports() -> dict[str, list[str]]:
    with story_exports() as (_, texts):
        return {name: text.splitlines() for name, text in texts.items()}


EXPORTS = _story_exports()


@pytest.fixture(autouse=True)
def every_file_in_ranges(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Ranges for any file, three workers (whatever the machine's cores); yields what
    each ``verify_ranges`` call concluded (True: the ranges decided)."""
    monkeypatch.setattr(ranges, "MIN_BYTES", 0)
    monkeypatch.setattr(ranges, "MIN_RANGE", 1)
    monkeypatch.setattr(ranges, "WORKERS", 3)
    concluded: list[bool] = []
    original = ranges.verify_ranges

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        concluded.append(result is not None)
        return result

    monkeypatch.setattr(ranges, "verify_ranges", spy)
    yield concluded


def _outcome(source: Any, key: bytes | None, previous: Any = None) -> tuple[Any, ...]:
    try:
        report = verify_export(source, key, previous)
    except TrailVerificationError as error:
        return (type(error), error.check, error.line, error.leaf_index, str(error))
    return ("ok", report.entries, report.kind, report.key_checked, report.notes,
            report.consistency_from, report.checkpoint)  # fmt: skip


def _write(tmp_path: Path, lines: list[str] | bytes) -> Path:
    path = tmp_path / "export.jsonl"
    data = lines if isinstance(lines, bytes) else "".join(x + "\n" for x in lines).encode()
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("vector", VECTORS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_vectors_verify_alike_in_ranges(
    vector: Path, tmp_path: Path, every_file_in_ranges: list[bool]
) -> None:
    v = json.loads(vector.read_text())
    key = base64.b64decode(v["publicKey"]) if v["publicKey"] else None
    lines = v["lines"]
    if any("\ud800" <= c <= "\udfff" for line in lines for c in line):
        pytest.skip("a lone surrogate has no form in a file")
    one_pass = _outcome(lines, key, v["previousCheckpoint"])
    in_ranges = _outcome(_write(tmp_path, lines), key, v["previousCheckpoint"])
    assert in_ranges == one_pass
    if one_pass[0] == "ok" and len(lines) > 3:
        assert every_file_in_ranges[-1:] == [True]  # the ranges decided, not the fallback


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_story_exports_conclude_in_ranges(
    name: str, tmp_path: Path, every_file_in_ranges: list[bool]
) -> None:
    lines = EXPORTS[name]
    assert _outcome(_write(tmp_path, lines), KEY) == _outcome(lines, KEY)
    assert every_file_in_ranges == [True]


def test_small_files_take_one_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, every_file_in_ranges: list[bool]
) -> None:
    monkeypatch.setattr(ranges, "MIN_BYTES", 8 << 20)
    assert _outcome(_write(tmp_path, EXPORTS["log"]), KEY)[0] == "ok"
    assert every_file_in_ranges == [False]


EDITS = st.sampled_from(["flip", "drop", "swap", "duplicate", "insert", "truncate", "blank"])


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(sorted(EXPORTS)),
    edit=EDITS,
    where=st.floats(0, 1),
    other=st.floats(0, 1),
    bit=st.integers(0, 7),
)
def test_damaged_exports_fail_alike_in_ranges(
    name: str, edit: str, where: float, other: float, bit: int, tmp_path: Path
) -> None:
    lines = [x.encode() + b"\n" for x in EXPORTS[name]]
    i, j = int(where * (len(lines) - 1)), int(other * (len(lines) - 1))
    if edit == "flip":
        data = b"".join(lines)
        at = int(other * (len(data) - 1))
        damaged = data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :]
    elif edit == "truncate":
        data = b"".join(lines)
        damaged = data[: int(other * len(data))]
    else:
        if edit == "drop":
            del lines[i]
        elif edit == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif edit == "duplicate":
            lines.insert(j, lines[i])
        elif edit == "insert":
            lines.insert(i, b'{"a":1}\n')
        else:
            lines.insert(i, b"\n")
        damaged = b"".join(lines)
    path = _write(tmp_path, damaged)
    in_ranges = _outcome(path, KEY)
    saved, ranges.MIN_BYTES = ranges.MIN_BYTES, 1 << 62
    try:
        one_pass = _outcome(path, KEY)  # the same file, walked in one pass
    finally:
        ranges.MIN_BYTES = saved
    assert in_ranges == one_pass


def test_workers_started_clean_conclude_alike(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, every_file_in_ranges: list[bool]
) -> None:
    # a process with threads starts its workers by spawn, not fork
    import multiprocessing

    monkeypatch.setattr(ranges, "_context", lambda: multiprocessing.get_context("spawn"))
    lines = EXPORTS["patient"]
    assert _outcome(_write(tmp_path, lines), KEY) == _outcome(lines, KEY)
    assert every_file_in_ranges == [True]


def test_workers_that_cannot_start_leave_it_to_one_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, every_file_in_ranges: list[bool]
) -> None:
    def no_processes() -> Any:
        raise OSError("no more processes")

    monkeypatch.setattr(ranges, "_context", no_processes)
    lines = EXPORTS["log"]
    assert _outcome(_write(tmp_path, lines), KEY) == _outcome(lines, KEY)
    assert every_file_in_ranges == [False]

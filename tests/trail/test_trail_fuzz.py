"""Issue 9, item 7: the verifier never crashes, and never accepts an altered export.

Hypothesis mutates real exports of the story's trail, JSON Lines and FHIR alike: any
value anywhere (inside entry texts and the Bundle's Binary too) replaced by a hostile
one (deep nesting, lone surrogates, huge numbers, wrong types, bad base64 or hex), keys
deleted or added, lines dropped, raw bytes flipped or made invalid UTF-8. Whatever the
mutation, the verifier answers a ``TrailVerificationError`` (the CLI: exit status 1,
one line, no traceback) or accepts; and it accepts only when nothing it verifies was
changed (for a Bundle: nothing but its own time).
"""

from __future__ import annotations

import base64
import copy
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from client.trail_verify import TrailVerificationError, verify_export, verify_fhir, verify_file
from coffre.cli import app
from keys.checkpoint import CheckpointSigner
from projections.trail_fhir import bundle_from_export
from tests.trail.story import SEED, T0, story_exports
from wire.checkpoint import canonical_json

KEY = CheckpointSigner(SEED).public_key
RAW = "\x00raw\x00"  # stands for a raw JSON text spliced in after serialisation
RAW_JSON = json.dumps(RAW)


def _exports() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with story_exports() as (trail, texts):
        for name, text in texts.items():
            out[name] = text.splitlines()
            out[f"fhir-{name}"] = bundle_from_export(text, trail.patient_of, T0)
    return out


EXPORTS = _exports()
JSONL = [name for name in EXPORTS if not name.startswith("fhir-")]
FHIR = [name for name in EXPORTS if name.startswith("fhir-")]
for _name in JSONL:  # the untouched exports verify, or the fuzzing proves nothing
    verify_export(EXPORTS[_name], KEY)
for _name in FHIR:
    verify_fhir(EXPORTS[_name], KEY)

HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**300, -1, 0, 2**63, 1.0, 1e308, -0.0]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        ["\ud800", "a\udfffb", "!!not base64!!", "zz" * 32, "00" * 32, "A" * 88, "", "é"]
    ),
    st.sampled_from(
        [
            RAW + "[" * 5000 + "]" * 5000,  # deeper than the JSON parser's recursion
            RAW + "{" + '"a":{' * 3000 + "}" * 3001,
            RAW + "1" * 5000,  # more digits than int() takes from text
            RAW + "NaN",
            RAW + "1e999",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _expand(value: Any) -> Any:
    """Entry texts (and a Binary's data) opened up, so mutations reach inside them."""
    if isinstance(value, dict):
        out = {k: _expand(v) for k, v in value.items()}
        if isinstance(value.get("entry"), str):
            out["entry"] = {"__text__": _expand(json.loads(value["entry"]))}
        if value.get("resourceType") == "Binary":
            text = base64.b64decode(value["data"]).decode()
            out["data"] = {"__lines__": [_expand(json.loads(x)) for x in text.splitlines()]}
        return out
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _dump(value: Any) -> str:
    return canonical_json(value).replace(RAW_JSON.replace("\\u0000", "\\u0000"), "")


def _close(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__text__"}:
            return _text(value["__text__"])
        if set(value) == {"__lines__"} and isinstance(value["__lines__"], list):
            lines = "".join(_text(x) + "\n" for x in value["__lines__"])
            return base64.b64encode(lines.encode("utf-8", "surrogatepass")).decode()
        return {k: _close(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_close(v) for v in value]
    return value


def _text(value: Any) -> str:
    """Canonical JSON, a ``RAW`` string spliced in as the raw text that follows it."""
    text = canonical_json(_close(value))
    marker = canonical_json(RAW)[:-1]  # the opening quote and the marker
    while marker in text:
        start = text.index(marker)
        end = text.index('"', start + len(marker))
        text = text[:start] + text[start + len(marker) : end] + text[end + 1 :]
    return text


@st.composite
def mutation(draw: st.DrawFn, document: Any) -> tuple[Any, str]:
    """One change somewhere in ``document`` (expanded): what it did, and the result."""
    expanded = _expand(copy.deepcopy(document))
    paths = [p for p in _paths(expanded) if p and "__lines__" not in p[-1:]]
    path = draw(st.sampled_from(paths))
    parent = expanded
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=8))] = draw(HOSTILE)
    elif action == "add":
        parent.insert(last, draw(HOSTILE))
    else:
        parent[last] = draw(HOSTILE)
    return expanded, f"{action} at {path}"


def _changed(before: Any, after_text: str) -> bool:
    try:
        return canonical_json(json.loads(after_text)) != canonical_json(before)
    except (ValueError, RecursionError):
        return True


def _refused_or_unchanged(check: Any, changed: bool, what: str) -> None:
    try:
        check()
    except TrailVerificationError as error:
        assert str(error), what
        return
    assert not changed, f"accepted an altered export: {what}"


FUZZ = settings(
    max_examples=450,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@FUZZ
@given(data=st.data(), name=st.sampled_from(JSONL))
def test_jsonl_mutations_are_refused_never_crash(data: st.DataObject, name: str) -> None:
    lines = EXPORTS[name]
    position = data.draw(st.integers(0, len(lines) - 1))
    original = json.loads(lines[position])
    mutated, what = data.draw(mutation(original))
    if data.draw(st.booleans(), label="drop a line instead") and len(lines) > 2:
        new_lines = lines[:position] + lines[position + 1 :]
        changed, what = True, f"line {position + 1} dropped"
    else:
        text = _text(mutated)
        new_lines = [*lines[:position], text, *lines[position + 1 :]]
        # the manifest line is signed as canonical JSON, every other line byte for byte
        changed = (
            _changed(original, text) if position == len(lines) - 1 else text != lines[position]
        )
    _refused_or_unchanged(lambda: verify_export(new_lines, KEY), changed, f"{name}: {what}")


@FUZZ
@given(data=st.data(), name=st.sampled_from(FHIR))
def test_fhir_mutations_are_refused_never_crash(data: st.DataObject, name: str) -> None:
    bundle = EXPORTS[name]
    mutated, what = data.draw(mutation(bundle))
    text = _text(mutated)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # not a JSON document (a raw splice): as a file
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "bundle.json").write_text(text, "utf-8", "surrogatepass")
            with pytest.raises(TrailVerificationError):
                verify_file(Path(tmp) / "bundle.json", KEY)
        return
    path = tuple(what.split(" at ", 1)[1].strip("()").split(", "))
    unsigned = "'timestamp'" in path[:1] or (
        path[-1:] == ("'recorded'",) and path[:2] == ("'entry'", "1")
    )
    changed = canonical_json(document) != canonical_json(bundle) and not unsigned
    _refused_or_unchanged(lambda: verify_fhir(document, KEY), changed, f"{name}: {what}")


BYTE_EDITS = st.sampled_from(["flip", "invalid-utf8", "truncate", "insert", "nul"])


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(name=st.sampled_from(list(EXPORTS)), edit=BYTE_EDITS, where=st.floats(0, 1),
       bit=st.integers(0, 7))  # fmt: skip
def test_raw_byte_damage_to_files_is_refused(name: str, edit: str, where: float, bit: int) -> None:
    document = EXPORTS[name]
    data = (
        json.dumps(document, indent=1).encode()
        if isinstance(document, dict)
        else "".join(x + "\n" for x in document).encode()
    )
    at = int(where * (len(data) - 1))
    if edit == "flip":
        damaged = data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :]
    elif edit == "invalid-utf8":
        damaged = data[:at] + b"\xff\xfe" + data[at:]
    elif edit == "truncate":
        damaged = data[:at]
    elif edit == "insert":
        damaged = data[:at] + b'{"a":' + data[at:]
    else:
        damaged = data[:at] + b"\x00" + data[at:]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export"
        path.write_bytes(damaged)
        try:
            verify_file(path, KEY)
        except TrailVerificationError:
            return
    # accepted: only the final line feed, or a Bundle's whitespace or time, changed
    if isinstance(document, list):
        assert damaged.rstrip(b"\n") == data.rstrip(b"\n"), f"{name}: {edit} at {at} accepted"
        return
    parsed = {**json.loads(damaged), "timestamp": document["timestamp"]}
    parsed["entry"][1]["resource"]["recorded"] = document["timestamp"]
    assert canonical_json(parsed) == canonical_json(document), f"{name}: {edit} at {at}"


def _hostile_files(tmp: Path) -> list[Path]:
    """A sample of malformed exports, each a file as a regulator would receive it."""
    log = EXPORTS["log"]
    bundle = EXPORTS["fhir-patient"]
    samples: dict[str, bytes] = {
        "deep": b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "deep-entry": (
            log[0] + "\n" + '{"leaf_index":0,"entry":"' + "[" * 50_000 + '"}\n'
        ).encode(),
        "surrogate": (
            log[0] + '\n{"leaf_index":0,"entry":"\\ud800","inclusion_proof":[]}\n'
        ).encode(),
        "not-utf8": log[0].encode() + b"\n\xff\xfe\xfd\n",
        "entry-is-list": json.dumps({**bundle, "entry": {"a": 1}}).encode(),
        "entry-items-wrong": json.dumps({**bundle, "entry": [1, "x", None]}).encode(),
        "bad-base64": json.dumps(
            {
                **bundle,
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Binary",
                            "contentType": "application/jsonl",
                            "data": "!!!",
                        }
                    }
                ],
            }
        ).encode(),
        "binary-not-utf8": json.dumps(
            {
                **bundle,
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Binary",
                            "contentType": "application/jsonl",
                            "data": base64.b64encode(b"\xff\xfe").decode(),
                        }
                    }
                ],
            }
        ).encode(),
        "huge-number": ('{"format":"coffre-trail-export/2","count":' + "9" * 5000 + "}\n").encode(),
        "header-wrong-types": b'{"format":"coffre-trail-export/2","checkpoint":[],"query":1}\n',
        "empty": b"",
        "manifest-surrogate": "\n".join(
            [*log[:-1], log[-1].replace('"count":', '"x":"\\ud800","count":'), ""]
        ).encode(),
        "checkpoint-surrogate": json.dumps(
            {
                **json.loads(log[0]),
                "checkpoint": {**json.loads(log[0])["checkpoint"], "origin": "\ud800"},
            }
        ).encode()
        + b"\n",
    }
    paths = []
    for name, data in samples.items():
        path = tmp / f"{name}.json"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_the_cli_refuses_malformed_exports_with_status_1_and_no_traceback(
    tmp_path: Path,
) -> None:
    key = base64.b64encode(KEY).decode()
    for path in _hostile_files(tmp_path):
        result = CliRunner().invoke(app, ["audit", "verify", str(path), "--public-key", key])
        assert result.exit_code == 1, (path.stem, result.output)
        assert isinstance(result.exception, SystemExit), (path.stem, repr(result.exception))
        assert "Traceback" not in result.output and "verification FAILED" in result.output
        assert len(result.output.strip().splitlines()) <= 2, result.output


@pytest.mark.parametrize("name", FHIR)
def test_fhir_exports_of_every_kind_verify(name: str) -> None:
    assert verify_fhir(EXPORTS[name], KEY).entries >= 0

"""``wire.canonical_fast`` gives exactly the standard library's answers (issue 12, item 4).

The C codec (msgspec) may only speed up ``canonical_json`` and ``json.loads``, never
change a byte or a verdict. Proved here by hypothesis over arbitrary JSON (any code
point, big integers, floats, nesting, reformatting, mutated texts), over exotic Python
values the standard library refuses, and over trail entries of every domain event type
with any audited field values; the committed vectors (``test_trail_vectors.py``) run the
verifier through the same code.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import UTC, timedelta, timezone
from enum import Enum, IntEnum
from typing import Any

import pytest
from eventsourcing.domain import DomainEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import domain
from client.trail_format import ProofReader, TrailVerificationError, parse_entry, proof_hashes
from projections.trail import EntryBuilder
from projections.trail_events import AUDIT_FIELDS, canonical_value
from tests.trail.story import altered_story, story
from wire import canonical_fast
from wire.canonical_fast import UNDECIDED, canonical_bytes, loads
from wire.checkpoint import canonical_json
from wire.merkle import CompactTree

RELAXED = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same(a: Any, b: Any) -> bool:
    """Equal, type for type (``True`` is not ``1``, ``1`` is not ``1.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


def outcome(function: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", function(*args)
    except Exception as error:  # the type is what must agree
        return "error", type(error)


def test_msgspec_is_installed() -> None:
    # the base dependency: without it every function silently takes the slow path
    assert canonical_fast.msgspec is not None


# -- arbitrary JSON --------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=12)  # no lone surrogate
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**130), max_value=2**130),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.00001, 1e16, 1e-7, 0.1, -0.0, 1e308, 5e-324, 2.5]),
    texts,
    st.sampled_from(["\x00", "\x1f", "\x7f", "\u2028", "\ufeff", '"', "\\", "/", "é", "😀"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=16,
)
float_free = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**130), max_value=2**130), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=16,
)


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    """JSON texts of many shapes, some of them broken."""
    value = draw(json_values)
    text = draw(
        st.sampled_from(
            [
                canonical_json(value),
                json.dumps(value),
                json.dumps(value, ensure_ascii=False, indent=draw(st.sampled_from([None, 1]))),
                json.dumps(value, sort_keys=True),
            ]
        )
    )
    if draw(st.booleans()):  # a mutation: spliced hostile text, a dropped or doubled byte
        at = draw(st.integers(0, len(text)))
        piece = draw(
            st.sampled_from(
                [
                    "",
                    ",",
                    '"',
                    "\\",
                    "\\ud800",
                    "\\udc00",
                    "\\u00e9",
                    "NaN",
                    "-Infinity",
                    "1e400",
                    "01",
                    " ",
                    "\x00",
                    "\x0c",
                    "\ufeff",
                    '{"a":1,"a":2}',
                    "[" * 3,
                    "]",
                    "}",
                    "tru",
                    "-0",
                    "1.0",
                    "\ud800",
                    "1" * 30,
                ]
            )
        )
        cut = draw(st.integers(0, 2))
        text = text[:at] + piece + text[at + cut :]
    return text


@RELAXED
@given(text=json_texts())
def test_loads_is_json_loads(text: str) -> None:
    got, want = outcome(loads, text), outcome(json.loads, text)
    assert got[0] == want[0]
    if got[0] == "ok":
        assert same(got[1], want[1])
    else:
        assert got[1] is want[1]


@RELAXED
@given(text=json_texts())
def test_canonical_value_decides_only_what_canonical_json_decides(text: str) -> None:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return  # the verifier never asks: a lone surrogate fails the entry's UTF-8 check
    value = canonical_fast.canonical_value(text, data)
    if value is UNDECIDED:
        return
    # decided: the text IS canonical_json of the standard library's own decoding
    reference = json.loads(text)
    assert same(value, reference)
    assert canonical_json(reference) == text


@RELAXED
@given(value=float_free)
def test_float_free_canonical_texts_are_decided(value: Any) -> None:
    # the fast path is taken for every float-free value, and agrees
    text = canonical_json(value)
    decided = canonical_fast.canonical_value(text, text.encode("utf-8"))
    assert decided is not UNDECIDED
    assert same(decided, json.loads(text))
    assert canonical_bytes(value) == text.encode("utf-8")


@RELAXED
@given(value=json_values)
def test_canonical_bytes_is_canonical_json_for_json_values(value: Any) -> None:
    assert canonical_bytes(value) == canonical_json(value).encode("utf-8")


class Colour(Enum):
    RED = "red"


class Level(IntEnum):
    LOW = 1


zones = st.sampled_from([UTC, timezone(timedelta(hours=2))])
exotic = st.recursive(
    st.one_of(
        scalars,
        st.uuids(),
        st.datetimes(timezones=zones),
        st.dates(),
        st.binary(max_size=8),
        st.sampled_from([Colour.RED, Level.LOW, float("nan"), float("inf")]),
        st.sampled_from(["\ud800", "a\udfffb"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.sets(st.integers(), max_size=3),
        st.dictionaries(
            st.one_of(texts, st.integers(), st.booleans(), st.none()), inner, max_size=3
        ),
    ),
    max_leaves=10,
)


@RELAXED
@given(value=exotic)
def test_canonical_bytes_is_canonical_json_for_any_value(value: Any) -> None:
    # what the standard library refuses, canonical_bytes refuses with the same error
    want = outcome(lambda v: canonical_json(v).encode("utf-8"), value)
    got = outcome(canonical_bytes, value)
    assert got[0] == want[0]
    if got[0] == "ok":
        assert got[1] == want[1]
    else:
        assert got[1] is want[1]


# -- trail entries of every event type -------------------------------------------------


def _event_names() -> list[str]:
    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{module.name}")
    found: set[str] = set()
    pending = [DomainEvent]
    while pending:
        kind = pending.pop()
        for sub in kind.__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("domain."):
                found.add(sub.__qualname__)
    return sorted(found)


EVENT_NAMES = _event_names()
ACTOR = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["patient", "professional", "service", "representative"]),
        "id": texts,
        "name": st.one_of(st.none(), texts),
        "profession": st.one_of(st.none(), texts),
        "organisation": st.one_of(st.none(), texts),
    }
)
HASH = st.binary(min_size=32, max_size=32).map(bytes.hex)
audited = st.dictionaries(
    st.sampled_from(sorted(AUDIT_FIELDS)), exotic.filter(lambda v: _canonicalisable(v))
)


def _canonicalisable(value: Any) -> bool:
    try:
        # events with a lone surrogate never reach the trail: their digest fails first
        canonical_json(canonical_value(value)).encode("utf-8")
    except (TypeError, ValueError):
        return False
    return True


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    """An entry of the trail's format 2 for any domain event, any audited values."""
    index = draw(st.integers(0, 2**40))
    return {
        "v": 2,
        "leaf_index": index,
        "notification_id": draw(st.integers(1, 2**62)),
        "event": draw(st.sampled_from(EVENT_NAMES)),
        "originator_id": str(draw(st.uuids())),
        "originator_version": draw(st.integers(1, 2**31)),
        "at": "2026-11-02T09:00:00.000000Z",
        "space_id": draw(st.one_of(st.none(), st.uuids().map(str))),
        "actor": draw(st.one_of(st.none(), ACTOR)),
        "details": {k: canonical_value(v) for k, v in draw(audited).items()},
        "event_digest": draw(HASH),
        "prev": draw(st.one_of(st.none(), HASH)),
        "space_prev": draw(st.one_of(st.none(), HASH)),
        "actor_prev": draw(st.one_of(st.none(), HASH)),
        "space_prev_leaf": draw(st.one_of(st.none(), st.integers(0, index))),
        "actor_prev_leaf": draw(st.one_of(st.none(), st.integers(0, index))),
        "heads": draw(HASH),
    }


def test_every_domain_event_type_is_generated() -> None:
    assert len(EVENT_NAMES) > 100
    assert {"Space.Deposited", "Access.Read", "Reader.DeviceApproved"} <= set(EVENT_NAMES)


def _verifier_parse(text: str, index: int) -> tuple[str, Any]:
    try:
        data: bytes | None = text.encode("utf-8")
    except UnicodeEncodeError:
        data = None
    try:
        return "ok", parse_entry(text, 1, index, data)
    except TrailVerificationError as error:
        return "error", str(error)


def _exact_parse(text: str, index: int) -> tuple[str, Any]:
    try:
        return "ok", parse_entry(text, 1, index, None)  # no bytes: the standard library only
    except TrailVerificationError as error:
        return "error", str(error)


@RELAXED
@given(entry=entries(), tamper=st.sampled_from(["none", "spaces", "float", "order", "ascii"]))
def test_entries_of_every_event_type(entry: dict[str, Any], tamper: str) -> None:
    text = canonical_json(entry)
    assert canonical_bytes(entry) == text.encode("utf-8")
    if tamper == "spaces":
        text = json.dumps(entry, sort_keys=True)
    elif tamper == "float":
        text = text.replace(f'"leaf_index":{entry["leaf_index"]}', '"leaf_index":1e3', 1)
    elif tamper == "order":
        text = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
    elif tamper == "ascii":
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    # the verifier's verdict and message are those of the standard library alone
    got, want = _verifier_parse(text, entry["leaf_index"]), _exact_parse(text, entry["leaf_index"])
    assert got[0] == want[0]
    if got[0] == "ok":
        assert same(got[1], want[1])
    else:
        assert got[1] == want[1]


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_real_entries_with_any_field_values(data: st.DataObject) -> None:
    # Real event classes from the vectors' story, fields swapped for generated values,
    # through the trail's own EntryBuilder: the fast encoder writes the same bytes.
    changed = altered_story(data, exotic.filter(_canonicalisable))
    builder = EntryBuilder(CompactTree(), None, lambda kind, key: None, v2_from=0)
    for notification_id, event in enumerate(changed, start=1):
        row = builder.append(notification_id, event)[0]
        entry = json.loads(row.text)
        assert canonical_bytes(entry) == row.text.encode("utf-8")
        assert same(_verifier_parse(row.text, entry["leaf_index"]), ("ok", entry))


def test_story_entries_take_the_fast_path() -> None:
    builder = EntryBuilder(CompactTree(), None, lambda kind, key: None, v2_from=0)
    for notification_id, event in story():
        text = builder.append(notification_id, event)[0].text
        value = canonical_fast.canonical_value(text, text.encode("utf-8"))
        assert value is not UNDECIDED
        assert same(value, json.loads(text))


# -- proofs ----------------------------------------------------------------------------


@RELAXED
@given(
    value=st.one_of(
        st.lists(HASH, max_size=5),
        st.lists(
            st.one_of(
                HASH,
                HASH.map(str.upper),
                texts,
                st.integers(),
                st.none(),
                HASH.map(lambda h: h[:32] + " " + h[32:]),
                st.lists(HASH, min_size=2, max_size=2).map(" ".join),
                HASH.map(lambda h: h + "0"),
            ),
            max_size=4,
        ),
        st.none(),
        texts,
    )
)
def test_proof_hashes_as_one_decoding(value: Any) -> None:
    def reference() -> list[bytes]:
        if not isinstance(value, list) or not all(
            isinstance(h, str) and len(h) == 64 and all(c in "0123456789abcdef" for c in h)
            for h in value
        ):
            raise TrailVerificationError("x", check="inclusion")
        return [bytes.fromhex(h) for h in value]

    got, want = outcome(proof_hashes, value, "inclusion", 1, None), outcome(reference)
    assert got == want


@pytest.mark.parametrize("value", [["ab" * 32, "AB" * 32], ["ab" * 32 + " " + "cd" * 32]])
def test_proof_hashes_refusals(value: list[str]) -> None:
    with pytest.raises(TrailVerificationError):
        proof_hashes(value, "inclusion", 1, None)


def _story_proofs() -> list[tuple[int, list[str]]]:
    from tests.trail.test_trail_ranges import EXPORTS

    return [
        (entry["leaf_index"], entry["inclusion_proof"])
        for entry in (json.loads(line) for line in EXPORTS["log"][1:-1])
    ]


PROOFS = _story_proofs()


@RELAXED
@given(data=st.data())
def test_proof_reader_is_proof_hashes(data: st.DataObject) -> None:
    # increasing leaves, some proofs damaged: the reader answers as proof_hashes each time
    steps = data.draw(st.lists(st.sampled_from(PROOFS), min_size=1, max_size=8))
    steps.sort(key=lambda step: step[0])
    reader = ProofReader()
    for index, proof in steps:
        value: Any = list(proof)
        damage = data.draw(st.sampled_from(["none", "none", "replace", "drop", "add", "type"]))
        where = data.draw(st.integers(0, max(len(value) - 1, 0)))
        if damage == "replace" and value:
            value[where] = data.draw(st.one_of(HASH, HASH.map(str.upper), texts))
        elif damage == "drop" and value:
            del value[where]
        elif damage == "add":
            value.insert(where, data.draw(HASH))
        elif damage == "type":
            value = data.draw(st.one_of(st.none(), texts, st.just(" ".join(proof))))
        try:
            want: Any = proof_hashes(value, "inclusion", 3, index)
        except TrailVerificationError as error:
            want = str(error)
        try:
            got: Any = reader.read(value, index, 3)
        except TrailVerificationError as error:
            got = str(error)
        assert got == want
        if isinstance(got, str):
            return  # the walk stops at a refusal

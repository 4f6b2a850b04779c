"""A C-backed shortcut to ``wire.checkpoint.canonical_json`` and ``json.loads``, used
only where it is sure to give the standard library's answer.

``canonical_json`` (the standard library's encoder: sorted keys, no spaces, UTF-8 kept)
is the trail's definition of an entry's text: what is hashed, signed and verified. It
stays the definition. msgspec (C) decodes and encodes several times faster, but it
writes floats differently (``1e-05`` vs ``0.00001``), refuses some texts the standard
library reads (``NaN``, lone surrogate escapes, nesting deeper than 1,000), and encodes
types the standard library refuses (UUID, datetime, set). So every function here takes
msgspec's answer only when it is provably the standard library's, and otherwise asks the
standard library itself:

- msgspec's decoder runs with a ``float_hook`` that aborts on the first number with a
  fraction or an exponent: a value it returns holds only dicts, lists, strings, ints,
  booleans and None. For such values msgspec's decoding equals ``json.loads`` (same
  last-key-wins, same big ints, same escapes) and its sorted encoding equals
  ``canonical_json`` byte for byte (``tests/trail/test_trail_canonical_fast.py`` proves
  both by hypothesis over every event type and arbitrary JSON, and by the trail's test
  vectors);
- anything msgspec refuses (floats, malformed text, ``NaN``, lone surrogates, deep
  nesting, an exotic type) falls back to the standard library, which then decides,
  errors included.

Without msgspec installed every function is the standard library's own.
"""

from __future__ import annotations

import json
from typing import Any

from wire.checkpoint import canonical_json

try:
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a base dependency; stay exact anyway
    msgspec = None  # type: ignore[assignment]

__all__ = ["UNDECIDED", "canonical_bytes", "canonical_value", "loads"]

#: what ``canonical_value`` returns when msgspec cannot decide: ask the standard library
UNDECIDED: Any = object()


class _FloatSeen(Exception):
    """Raised by the float hook: this text holds a float, msgspec must not decide."""


def _refuse_float(_text: str) -> Any:
    raise _FloatSeen


if msgspec is not None:
    _DECODE = msgspec.json.Decoder(float_hook=_refuse_float).decode
    _ENCODE = msgspec.json.Encoder(order="sorted").encode
    # the float hook's own exception, msgspec's errors, a str with a lone surrogate
    # (UnicodeEncodeError, a ValueError), too deep a nesting
    _REFUSED: tuple[type[BaseException], ...] = (
        _FloatSeen,
        msgspec.MsgspecError,
        ValueError,
        TypeError,
        RecursionError,
    )


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``: the same value, or the same error, only faster."""
    if msgspec is not None:
        try:
            return _DECODE(text)
        except _REFUSED:
            pass
    return json.loads(text)


def canonical_value(text: str, data: bytes) -> Any:
    """The value whose ``canonical_json`` is ``text`` (``data``: its UTF-8 bytes), when
    msgspec can prove it; else ``UNDECIDED``: the text may still be canonical (it holds
    a float, say) or not, and the caller asks ``canonical_json`` as before."""
    if msgspec is None:
        return UNDECIDED
    try:
        value = _DECODE(data)
        if _ENCODE(value) == data:
            return value
    except _REFUSED:
        pass
    return UNDECIDED


def canonical_bytes(value: Any, errors: str = "strict") -> bytes:
    """``canonical_json(value).encode("utf-8", errors)``, by msgspec when its text
    decodes back, without a float, to a value equal to ``value`` (then ``value`` is
    plain JSON data and both encoders agree), else by ``canonical_json`` itself (errors
    included: a lone surrogate, which msgspec refuses, takes that path)."""
    if msgspec is not None:
        try:
            data = _ENCODE(value)
            if _DECODE(data) == value:
                return data
        except _REFUSED:
            pass
    return canonical_json(value).encode("utf-8", errors)

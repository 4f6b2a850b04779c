"""Idempotent feeding on the client side: a deposit that carries a source identifier is
safe to send again, so the SDK sends it again when it cannot know whether it arrived.

The server records a deposit with a given source identifier once (``docs/law.md``,
"Feeding"): sent again with the same receipt, it answers the document already recorded.
So after a timeout, a lost connection or a 5xx, ``retrying`` repeats the very same
request and the caller gets the document's id either way. Without a source identifier
nothing is retried: a repeat could only be refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from wire.errors import InvalidInput, Unavailable
from wire.values import SourceId

T = TypeVar("T")

#: seconds to wait before each new attempt (so four attempts in all, over 3.5 s)
RETRY_PAUSES: tuple[float, ...] = (0.5, 1.0, 2.0)

#: what names a source identifier in the SDK: the value itself, ``(system, value)`` or
#: ``{"system": ..., "value": ...}``
SourceIdLike = SourceId | tuple[str, str] | Mapping[str, str]


def as_source_id(value: SourceIdLike | None) -> SourceId | None:
    """``value`` as a validated ``SourceId`` (``InvalidInput`` before any byte is sent)."""
    if value is None or isinstance(value, SourceId):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return SourceId(*value)
    if isinstance(value, Mapping) and set(value) == {"system", "value"}:
        return SourceId(value["system"], value["value"])
    raise InvalidInput("source_id is (system, value) or a SourceId", field="source_id")


def retrying(call: Callable[[], T], *, pauses: Sequence[float] | None = None) -> T:
    """``call()``, called again after each pause (``RETRY_PAUSES`` by default) while it
    raises ``Unavailable``.

    ``Unavailable`` is what the SDK raises for a timeout, a connection error and a 5xx
    answer: the request may or may not have been applied. Any other error (a 409, a
    422...) is an answer, and is raised at once. ``call`` must be safe to repeat.
    """
    for pause in RETRY_PAUSES if pauses is None else pauses:
        try:
            return call()
        except Unavailable:
            time.sleep(pause)
    return call()

"""The published key set's format (``wire.trail_keys``): parsed strictly, periods exact."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keys.checkpoint import CheckpointSigner
from wire.checkpoint import CheckpointFormatError
from wire.trail_keys import KeyOutsidePeriod, PublishedKey, TrailKeySet, UnknownTrailKey

OLD = CheckpointSigner(b"\x01" * 32)
NEW = CheckpointSigner(b"\x02" * 32)
T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def key_set() -> TrailKeySet:
    return TrailKeySet(
        (
            PublishedKey(OLD.key_id, OLD.public_key, None, T),
            PublishedKey(NEW.key_id, NEW.public_key, T, None),
        )
    )


def test_round_trip_and_periods_are_half_open() -> None:
    document = key_set().to_json()
    assert document["format"] == "coffre-trail-keys/1"
    assert document["keys"][0]["not_after"] == "2026-05-01T09:00:00Z"
    parsed = TrailKeySet.from_json(document)
    assert parsed == key_set()
    old, new = parsed.keys
    assert old.covers(T - SECOND) and not old.covers(T)
    assert new.covers(T) and not new.covers(T - SECOND)


def test_each_checkpoint_gets_the_key_it_names_inside_its_period() -> None:
    keys, root = key_set(), b"\x07" * 32
    assert keys.key_for(OLD.sign(5, root, T - SECOND)) == OLD.public_key
    assert keys.key_for(NEW.sign(5, root, T)) == NEW.public_key
    with pytest.raises(KeyOutsidePeriod, match="outside the period"):
        keys.key_for(OLD.sign(5, root, T))
    with pytest.raises(KeyOutsidePeriod):
        keys.key_for(NEW.sign(5, root, T - SECOND))
    with pytest.raises(UnknownTrailKey):
        keys.key_for(CheckpointSigner(b"\x03" * 32).sign(5, root, T))


def _with(**change: Any) -> dict[str, Any]:
    document = key_set().to_json()
    document["keys"][0].update(change)
    return document


@pytest.mark.parametrize(
    "document",
    [
        None,
        {"format": "other", "keys": []},
        {"format": "coffre-trail-keys/1", "keys": []},
        _with(key_id=NEW.key_id),  # misnamed, and listed twice
        _with(key_id="0" * 16),  # not the key's fingerprint
        _with(public_key=base64.b64encode(b"x" * 31).decode()),
        _with(not_before="2026-06-01T00:00:00Z"),  # ends before it begins
        _with(not_after="yesterday"),
        _with(extra=1),
    ],
)
def test_a_malformed_key_set_is_refused(document: Any) -> None:
    with pytest.raises(CheckpointFormatError):
        TrailKeySet.from_json(document)

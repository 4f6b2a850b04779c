"""The trail key rotates: checkpoints name their key, regulators verify with the key set.

Issue 11's acceptance: trail verification passes across a signing-key rotation, and
fails for a checkpoint signed by a key outside its validity period. On both backends,
through the real projection, exports and offline verifier (``client.trail_verify``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from client.trail_verify import TrailVerificationError, verify_export
from coffre.bootstrap import Coffre
from keys.checkpoint import CheckpointSigner
from projections.runner import ProjectionRunner
from projections.trail_query import Trail, TrailQuery
from tests.scenarios.conftest import Cast, deposit
from tests.trail.scenario import live_history
from vault.clock import ManualClock
from wire.checkpoint import Checkpoint
from wire.errors import Unavailable
from wire.trail_keys import TrailKeySet


def export(trail: Trail, query: TrailQuery | None = None, **options: Any) -> list[str]:
    out = io.StringIO()
    trail.export_jsonl(query or TrailQuery(), out, **options)
    return out.getvalue().splitlines()


@dataclass
class Rotated:
    """A trail exported and checkpointed under its first key, then rotated and grown."""

    old_lines: list[str]
    held: Checkpoint
    old: Trail
    new: Trail


@pytest.fixture
def rotated(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner
) -> Rotated:
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    old_lines = export(coffre.trail)
    held = coffre.trail.latest_checkpoint()
    assert held is not None
    clock.advance(timedelta(hours=1))
    new = CheckpointSigner.from_entry(CheckpointSigner.generate())
    # what `coffre keys rotate-trail` records: the new key's period begins now
    assert coffre.trail.keys.adopt(new, clock.now(), "test")
    clock.advance(timedelta(minutes=1))
    deposit(coffre, cast.patient.actor.id, b"after the rotation", cast.hospital)
    trail_runner.catch_up()
    return Rotated(old_lines, held, coffre.trail, Trail(coffre.views, new, clock))


def test_verification_passes_across_a_rotation(rotated: Rotated, cast: Cast) -> None:
    held, new_trail = rotated.held, rotated.new
    old_key = rotated.old.signer.public_key
    new_lines = export(new_trail, from_size=held.size)
    patient_lines = export(new_trail, TrailQuery(patient_id=cast.patient.actor.id))
    key_set = TrailKeySet.from_json(rotated.old.keys.key_set().to_json())  # as published
    assert [k.key_id for k in key_set.keys] == [held.key_id, new_trail.signer.key_id]
    old_period, new_period = key_set.keys
    assert old_period.not_after == new_period.not_before is not None

    # the old export, the new ones, and the step from the old checkpoint to the new tree
    old_report = verify_export(rotated.old_lines, key_set=key_set)
    assert old_report.checkpoint.key_id == held.key_id
    across = verify_export(new_lines, key_set=key_set, previous_checkpoint=held)
    assert across.checkpoint.key_id == new_trail.signer.key_id
    assert across.consistency_from == held.size
    assert verify_export(patient_lines, key_set=key_set).entries > 0
    # an export made before the key rotated still verifies with its one public key
    assert verify_export(rotated.old_lines, old_key).entries == held.size
    # but the old key alone does not vouch for what the new key signed
    with pytest.raises(TrailVerificationError) as caught:
        verify_export(new_lines, old_key)
    assert caught.value.check == "public-key"


def test_a_checkpoint_signed_outside_its_keys_period_fails(rotated: Rotated) -> None:
    held, old_trail, new_trail = rotated.held, rotated.old, rotated.new
    # A process still holding the retired key refuses to sign with it...
    with pytest.raises(Unavailable, match="retired"):
        old_trail.checkpoint()
    assert old_trail.checkpoint_if_due(timedelta(0)) is None
    # ...and what the retired key signs anyway (a stale server, a stolen old key) fails.
    old_trail.keys.require_signing = lambda signer, at: None  # type: ignore[method-assign]
    late = export(old_trail)
    key_set = old_trail.keys.key_set()
    with pytest.raises(TrailVerificationError) as caught:
        verify_export(late, key_set=key_set)
    assert caught.value.check == "key-period"
    assert caught.value.line == 1
    assert "outside the period of its key" in caught.value.detail
    # the same export passes a verifier given only that key: the period is what caught it
    assert verify_export(late, old_trail.signer.public_key).entries > held.size
    # a held checkpoint signed by a key the set does not list fails too
    stranger = CheckpointSigner.from_entry(CheckpointSigner.generate())
    forged = stranger.sign(held.size, held.root, held.at)
    lines = export(new_trail, from_size=held.size)
    assert verify_export(lines, key_set=key_set, previous_checkpoint=held).entries
    with pytest.raises(TrailVerificationError) as caught:
        verify_export(lines, key_set=key_set, previous_checkpoint=forged)
    assert caught.value.check == "key-unknown"
    # and a checkpoint of the new key dated before its period began (backdated) fails
    backdated = new_trail.signer.sign(held.size, held.root, held.at)
    with pytest.raises(TrailVerificationError) as caught:
        verify_export(lines, key_set=key_set, previous_checkpoint=backdated)
    assert caught.value.check == "key-period"

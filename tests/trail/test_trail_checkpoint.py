"""The trail signing key: checkpoints as C2SP-style signed notes, and export manifests."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from nacl.signing import VerifyKey

from keys.checkpoint import CheckpointSigner, key_id_of
from keys.master import MasterKey, MasterKeys
from keys.sources import KeyEntry
from wire.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    SignatureInvalid,
    verify_checkpoint,
    verify_manifest,
)
from wire.errors import IntegrityFailure, InvalidInput, KeySourceError

AT = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)
ROOT = hashlib.sha256(b"a root").digest()
SEED = hashlib.sha256(b"seed").digest()
SIGNER = CheckpointSigner(SEED)


def test_a_checkpoint_is_a_signed_note() -> None:
    checkpoint = SIGNER.sign(1234, ROOT, AT)
    # The time is kept to the second, as the note states it.
    assert checkpoint.at == AT.replace(microsecond=0)
    body = checkpoint.body().decode()
    assert body == (
        f"coffre-trail/v1\n1234\n{base64.b64encode(ROOT).decode()}\ntime 2026-11-02T09:30:15Z\n"
    )
    verify_checkpoint(checkpoint, SIGNER.public_key)
    # The C2SP signature line: key hash (4 bytes) then the Ed25519 signature over the body.
    note = checkpoint.note()
    assert note.startswith(body + "\n\u2014 coffre-trail ")
    blob = base64.b64decode(note.rstrip("\n").rsplit(" ", 1)[1])
    key_hash = hashlib.sha256(b"coffre-trail\n\x01" + SIGNER.public_key).digest()[:4]
    assert blob[:4] == key_hash
    VerifyKey(SIGNER.public_key).verify(body.encode(), blob[4:])


def test_the_key_id_is_a_fingerprint_of_the_public_key() -> None:
    assert SIGNER.key_id == key_id_of(SIGNER.public_key)
    assert len(SIGNER.key_id) == 16
    # The secret never shows in a repr (logs, tracebacks).
    assert SEED.hex() not in repr(SIGNER) and "redacted" in repr(SIGNER)


def test_the_legacy_key_is_the_one_older_versions_derived() -> None:
    # what stores made before trail keys had a source of their own were signed with
    keys = MasterKeys([MasterKey("mk-1", bytes(32))])
    legacy = CheckpointSigner.legacy(keys)
    assert legacy.secret == keys.derive("trail-checkpoints")
    assert CheckpointSigner.from_entry(legacy).key_id == legacy.key_id
    other = CheckpointSigner.legacy(MasterKeys([MasterKey("mk-2", b"\x01" * 32)]))
    assert other.secret != legacy.secret


def test_a_trail_key_is_named_by_its_fingerprint() -> None:
    fresh = CheckpointSigner.generate()
    assert fresh.key_id == CheckpointSigner(fresh.secret).key_id
    assert fresh.secret != CheckpointSigner.generate().secret
    with pytest.raises(KeySourceError, match="fingerprint"):
        CheckpointSigner.from_entry(KeyEntry("0123456789abcdef", fresh.secret))


@pytest.mark.parametrize(
    "change",
    [
        {"size": 1235},
        {"root": hashlib.sha256(b"another root").digest()},
        {"at": AT.replace(microsecond=0) + timedelta(seconds=1)},
        {"signature": bytes(64)},
        {"origin": "other-log/v1"},
        {"key_id": "0" * 16},
    ],
    ids=["size", "root", "time", "signature", "origin", "key-id"],
)
def test_any_change_breaks_the_signature(change: dict[str, object]) -> None:
    tampered = dataclasses.replace(SIGNER.sign(1234, ROOT, AT), **change)  # type: ignore[arg-type]
    with pytest.raises(SignatureInvalid) as info:
        verify_checkpoint(tampered, SIGNER.public_key)
    assert isinstance(info.value, IntegrityFailure) and info.value.what == "checkpoint"


def test_another_key_does_not_verify() -> None:
    other = CheckpointSigner(hashlib.sha256(b"other").digest())
    with pytest.raises(SignatureInvalid):
        verify_checkpoint(SIGNER.sign(1, ROOT, AT), other.public_key)


def test_json_round_trip_and_malformed_checkpoints() -> None:
    checkpoint = SIGNER.sign(7, ROOT, AT)
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint
    good = checkpoint.to_json()
    for bad in (
        None,
        {k: v for k, v in good.items() if k != "root"},
        {**good, "size": -1},
        {**good, "size": True},
        {**good, "root": "zz" * 32},
        {**good, "root": good["root"].upper()},
        {**good, "time": "2026-11-02 09:30:15"},
        {**good, "signature": "not base64!"},
        {**good, "signature": base64.b64encode(bytes(10)).decode()},
    ):
        with pytest.raises(CheckpointFormatError):
            Checkpoint.from_json(bad)


def test_signing_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput):
        CheckpointSigner(b"short")
    with pytest.raises(InvalidInput):
        SIGNER.sign(-1, ROOT, AT)
    with pytest.raises(InvalidInput):
        SIGNER.sign(1, b"short", AT)
    with pytest.raises(InvalidInput):
        SIGNER.sign(1, ROOT, datetime(2026, 11, 2))  # naive
    # Any time zone is fine; the note is in UTC.
    paris = timezone(timedelta(hours=1))
    assert SIGNER.sign(1, ROOT, AT.astimezone(paris)).at == AT.replace(microsecond=0)


def test_manifests_are_signed_apart_from_checkpoints() -> None:
    manifest = {"count": 3, "format": "coffre-trail-export/1"}
    signature = SIGNER.sign_manifest(manifest)
    verify_manifest(manifest, signature, SIGNER.public_key)
    with pytest.raises(SignatureInvalid):
        verify_manifest({**manifest, "count": 4}, signature, SIGNER.public_key)
    # A checkpoint signature is never a valid manifest signature (domain separation).
    checkpoint = SIGNER.sign(3, ROOT, AT)
    with pytest.raises(SignatureInvalid):
        verify_manifest(manifest, checkpoint.signature, SIGNER.public_key)

"""Idempotent feeding through the vault's use case, on the in-memory fakes: a repeat
records nothing and keeps no second blob, and a deposit that lost a race to the same
source identifier is decided again on the new state (``VaultCore.on_space``)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from domain.confidentiality import Confidentiality
from domain.documents import DepositOutcome
from domain.values import Ciphertext
from tests.unit.conftest import HOSPITAL, World
from vault.blobstore_memory import MemoryBlobStore
from wire.dto import Deposit, UploadReceipt
from wire.envelope import DataKey, encrypt, seal
from wire.errors import AlreadyDeposited
from wire.values import DocumentMetadata, DocumentType, SourceId

METADATA = DocumentMetadata(DocumentType.LAB_RESULT, "Bilan", date(2026, 10, 30))
SOURCE = SourceId("urn:oid:1.2.250.1.213.1.1.9", "CR-2026-000123")


class Feeder:
    """One ciphertext and its sealed key, uploaded as often as asked (a client that
    kept its encrypted file), deposited with the source identifier."""

    def __init__(self, world: World, plaintext: bytes = b"hemoglobine 13.5") -> None:
        self.world = world
        key = DataKey.generate()
        self.ciphertext = b"".join(encrypt([plaintext], key, chunk_size=4096))
        public = base64.b64decode(world.vault.space_key(world.pid).public_key)
        self.sealed = seal(key, public)

    def upload(self) -> UploadReceipt:
        return self.world.vault.upload(self.world.pid, [self.ciphertext], HOSPITAL)

    def deposit(self, receipt: UploadReceipt, **options: Any) -> Deposit:
        vault, pid = self.world.vault, self.world.pid
        options.setdefault("source", SOURCE)
        return vault.deposit(pid, receipt.ticket, METADATA, self.sealed, HOSPITAL, **options)


def blobs(world: World) -> set[str]:
    store = world.vault.blobs
    assert isinstance(store, MemoryBlobStore)
    return set(store.names())


def deposits(world: World) -> int:
    """``Deposited`` events in the whole store."""
    notifications = world.vault.recorder.select_notifications(start=1, limit=100_000)
    return sum(n.topic.endswith(":Space.Deposited") for n in notifications)


def test_a_retry_with_the_same_receipt_answers_the_document(world: World) -> None:
    feeder = Feeder(world)
    receipt = feeder.upload()
    first = feeder.deposit(receipt)
    again = feeder.deposit(receipt)
    assert first.created and not again.created
    assert (again.document_id, again.version) == (first.document_id, 1)
    assert deposits(world) == 1
    assert blobs(world) == {receipt.blob}  # the document's blob stays


def test_the_same_ciphertext_uploaded_again_is_not_kept(world: World) -> None:
    feeder = Feeder(world)
    first = feeder.deposit(feeder.upload())
    copy = feeder.upload()
    assert len(blobs(world)) == 2
    again = feeder.deposit(copy)
    assert (again.document_id, again.created) == (first.document_id, False)
    assert copy.blob not in blobs(world) and len(blobs(world)) == 1
    assert deposits(world) == 1
    assert world.read(first.document_id, world.patient) == b"hemoglobine 13.5"


def test_a_repeat_changes_no_confidentiality_code(world: World) -> None:
    feeder = Feeder(world)
    receipt = feeder.upload()
    first = feeder.deposit(receipt)
    feeder.deposit(receipt, confidentiality=Confidentiality(masked=True))
    space = world.vault.space(world.pid)
    assert not space.documents[first.document_id].masked


def test_other_content_is_refused_naming_the_document_and_its_upload_kept(world: World) -> None:
    first = Feeder(world).deposit(Feeder(world).upload())
    other = Feeder(world, b"autre contenu")
    receipt = other.upload()
    with pytest.raises(AlreadyDeposited) as refused:
        other.deposit(receipt)
    assert refused.value.document_id == str(first.document_id)
    assert deposits(world) == 1
    # the refused upload is not discarded: it may still be deposited as the replacement
    replaced = other.deposit(receipt, document_id=first.document_id)
    assert (replaced.document_id, replaced.version, replaced.created) == (
        first.document_id,
        2,
        True,
    )
    assert world.read(first.document_id, world.patient) == b"autre contenu"


def test_a_deposit_that_lost_the_race_is_decided_again_and_answers_the_winner(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeder = Feeder(world)
    mine, theirs = feeder.upload(), feeder.upload()
    winner: list[DepositOutcome] = []
    conflicts: list[IntegrityError] = []
    commit: Callable[..., None] = world.vault.commit

    def lose_to_another_process(*aggregates: Any) -> None:
        # This deposit decided on the space it loaded; before its save, another process
        # (a fresh load, no shared cache) records the same source identifier first: the
        # save conflicts, and the retry must decide on the state the winner left.
        if not winner:
            space = world.vault.space(world.pid)
            ciphertext = Ciphertext(theirs.blob, theirs.size, theirs.sha256)
            now = world.clock.now()
            winner.append(
                space.deposit(uuid4(), METADATA, ciphertext, feeder.sealed, HOSPITAL, now, SOURCE)
            )
            commit(space)
        try:
            commit(*aggregates)
        except IntegrityError as error:
            conflicts.append(error)
            raise

    monkeypatch.setattr(world.vault, "commit", lose_to_another_process)
    loser = feeder.deposit(mine)
    assert winner[0].recorded and not loser.created
    assert len(conflicts) == 1  # the loser's first save; its retry recorded nothing
    assert loser.document_id == winner[0].document_id
    assert deposits(world) == 1
    assert blobs(world) == {theirs.blob}

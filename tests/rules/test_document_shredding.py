"""Deleting one document is crypto-shredding too (issue 11, "Trust at the edges").

A patient deletes one of their documents. The attacker then holds every key-store
row, every event, every master key and a copy of the document's blob taken before the
deletion, and still cannot open it, nor read its title; a sibling document of the
same space opens with the same attack (so the test can fail) and through the vault.
No title of the deleted document is left in any row, event, log line or file (raw,
hex and base64 forms), and no title of a live one either: titles are sealed.
"""

from __future__ import annotations

import logging
from uuid import uuid4

import pytest

from coffre.bootstrap import Coffre
from projections.runner import wait_for
from tests.rules.test_shredding import (
    key_rows,
    opened_data_keys,
    opened_titles,
    recovered_secrets,
)
from tests.scenarios.conftest import Cast, deposit, read
from tests.scenarios.test_confidentiality import blobs_dump, database_dump, forms
from vault.scheduler import Scheduler
from wire.envelope import DataKey, decrypt
from wire.errors import DecryptionError, Unavailable, UnknownDocument


def test_a_deleted_document_opens_for_nobody_while_its_sibling_still_opens(
    coffre: Coffre, cast: Cast, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    patient = cast.patient.actor
    keys = [DataKey.generate() for _ in range(3)]
    plaintexts = [f"compte rendu {i} {uuid4().hex}".encode() for i in range(3)]
    titles = [f"IRM cérébrale — suspicion de SEP {uuid4().hex[:12]} #{i}" for i in range(3)]
    documents = [
        deposit(coffre, patient.id, plaintext, cast.hospital, data_key=key, title=title)
        for key, plaintext, title in zip(keys, plaintexts, titles, strict=True)
    ]
    victim, sibling = documents[0], documents[1]
    space_id = coffre.vault.space_key(patient.id).space_id
    # The attacker keeps a copy of the victim's ciphertext from before the deletion.
    version = coffre.vault.repository.get(space_id).documents[victim].current
    copy = b"".join(coffre.blobs.open(version.ciphertext.blob))
    assert b"".join(decrypt(iter([copy]), keys[0])) == plaintexts[0]  # (it would open)
    assert read(coffre, patient.id, victim, cast.patient) == plaintexts[0]

    coffre.vault.delete_document(patient.id, victim, patient)

    # Holding every key-store row, every event and every master key...
    secrets = recovered_secrets(coffre)
    # ...the same attack opens the sibling's data key and title...
    (opened,) = opened_data_keys(coffre, space_id, secrets, sibling)
    assert bytes(opened) == bytes(keys[1])
    assert titles[1].encode() in opened_titles(coffre, space_id, secrets)
    # ...but not the deleted document's, nor its title.
    assert opened_data_keys(coffre, space_id, secrets, victim) == []
    assert titles[0].encode() not in opened_titles(coffre, space_id, secrets)
    # The copy of its blob opens with no data key the attacker can reach.
    reachable = opened_data_keys(coffre, space_id, secrets)
    assert len(reachable) == 2
    for key in reachable:
        with pytest.raises(DecryptionError):
            b"".join(decrypt(iter([copy]), key))
    # Its document key is destroyed, its blob gone; the space key and the others live.
    document_key = version.document_key
    assert document_key is not None
    rows = {row["key_id"]: row for row in key_rows(coffre)}
    assert rows[document_key]["wrapped"] is None
    assert sum(1 for row in rows.values() if row["space_id"] == space_id and row["wrapped"]) == 3
    assert version.ciphertext.blob not in set(coffre.blobs.names())

    # Through the vault: the sibling still opens and is listed with its title; the
    # deleted document is neither read nor listed.
    assert read(coffre, patient.id, sibling, cast.patient) == plaintexts[1]
    listed = {d.document_id: d.title for d in coffre.vault.documents(patient.id, patient)}
    assert listed == {sibling: titles[1], documents[2]: titles[2]}
    assert coffre.vault.log_titles(patient.id, documents) == listed
    with pytest.raises(UnknownDocument):
        coffre.vault.read(patient.id, victim, patient, cast.patient.key_id)

    # No title anywhere: rows (projections included), events, files, log lines.
    wait_for(coffre.runner)
    haystacks = {
        "database": database_dump(coffre),
        "files": blobs_dump(coffre),
        "logs": (caplog.text + "".join(capfd.readouterr())).encode(),
    }
    for where, haystack in haystacks.items():
        for title in titles:
            for form in forms(title.encode()):
                assert form not in haystack, f"a title is in the {where}"
    # (the scan sees text: the documents' types are there)
    assert b"lab_result" in haystacks["database"]


def test_a_deletion_cut_short_is_finished_by_the_scheduler(
    coffre: Coffre, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, b"gone", cast.hospital, title="Sérologie VIH")
    space_id = coffre.vault.space_key(patient.id).space_id
    version = coffre.vault.repository.get(space_id).documents[document_id].current
    assert version.document_key is not None

    def down(name: str) -> None:
        raise Unavailable("the key store is down")

    # The deletion is recorded, then the key store fails before anything is destroyed.
    with monkeypatch.context() as patch:
        patch.setattr(coffre.keyring, "destroy", lambda key_id, at: down(key_id))
        with pytest.raises(Unavailable):
            coffre.vault.delete_document(patient.id, document_id, patient)
    assert coffre.keyring._store.get(version.document_key).wrapped is not None
    # A scheduler started afterwards (a new process) follows the deletion and finishes it.
    Scheduler(coffre.vault).run_once()
    assert coffre.keyring._store.get(version.document_key).destroyed
    assert version.ciphertext.blob not in set(coffre.blobs.names())
    with pytest.raises(UnknownDocument):
        coffre.vault.read(patient.id, document_id, patient, cast.patient.key_id)

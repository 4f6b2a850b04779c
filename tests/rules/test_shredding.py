"""After crypto-shredding, nobody can decrypt the space's documents — not even someone
holding the whole database, the key store, every blob and the master keys — nor read
their titles.

RULES.md, Life of a space: "Deletion is crypto-shredding: the patient's key is
destroyed; events stay, readable only as metadata". The attack below takes everything
the server has and tries every combination; a control patient whose space was not
shredded shows that the same attack does open live data, so the test can fail.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from api.app import create_app
from coffre.bootstrap import Coffre
from domain.values import Actor, patient_id_from_number
from keys.keyring import space_key_aad
from keys.master import WrappedSecret
from projections.runner import wait_for
from tests.rules.conftest import REGISTRY
from tests.scenarios.conftest import Cast, deposit
from tests.scenarios.test_confidentiality import blobs_dump, database_dump, forms
from vault.clock import ManualClock
from wire.envelope import DataKey, decrypt, unseal
from wire.errors import DecryptionError
from wire.values import Role

HOSPITAL = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon")


def key_rows(coffre: Coffre) -> list[dict[str, Any]]:
    """Every row of the key store, straight from the database."""
    query = "SELECT key_id, space_id, master_key_id, wrapped_secret FROM coffre_space_keys"
    if coffre.settings.database == "sqlite":
        with sqlite3.connect(coffre.settings.sqlite_path) as conn:
            rows = conn.execute(query).fetchall()
    else:
        with psycopg.connect(coffre.settings.pg_conninfo()) as conn:
            rows = conn.execute(query).fetchall()
    return [
        {
            "key_id": key_id,
            "space_id": UUID(str(space_id)),
            "master_key_id": master,
            "wrapped": bytes(wrapped) if wrapped is not None else None,
        }
        for key_id, space_id, master, wrapped in rows
    ]


def every_event(coffre: Coffre) -> list[Any]:
    """Every stored event, decoded (the attacker runs the application with its keys)."""
    recorder, mapper = coffre.vault.recorder, coffre.vault.mapper
    return [mapper.to_domain_event(n) for n in recorder.select_notifications(start=1, limit=10**6)]


def recovered_secrets(coffre: Coffre) -> list[bytes]:
    """Every space secret key that any key row opens under any master key and binding."""
    rows = key_rows(coffre)
    bindings = {(row["space_id"], row["key_id"]) for row in rows}
    secrets = []
    for row in rows:
        if row["wrapped"] is None:
            continue
        for master_id in coffre.keyring.master.ids:
            for space_id, key_id in bindings:
                try:
                    secrets.append(
                        coffre.keyring.master.unwrap(
                            WrappedSecret(master_id, row["wrapped"]),
                            space_key_aad(space_id, key_id),
                        )
                    )
                except DecryptionError:
                    continue
    return secrets


def opened_boxes(box: bytes, secrets: list[bytes]) -> list[bytes]:
    """What every recovered secret opens of a sealed box (none, usually)."""
    opened = []
    for secret in secrets:
        try:
            opened.append(SealedBox(PrivateKey(secret)).decrypt(box))
        except CryptoError:
            continue
    return opened


def opened_data_keys(
    coffre: Coffre, space_id: UUID, secrets: list[bytes], document_id: UUID | None = None
) -> list[DataKey]:
    """Every data key of ``space_id`` (of ``document_id`` alone, if given) that the
    recovered secrets unseal, through the document key's seal when there is one."""
    opened = []
    for event in every_event(coffre):
        if type(event).__name__ != "Deposited" or event.originator_id != space_id:
            continue
        if document_id is not None and event.document_id != document_id:
            continue
        sealed = base64.b64decode(event.sealed_key)
        # a deposit's data key is sealed to the space key, then to its document key
        inner = opened_boxes(sealed, secrets) if getattr(event, "document_key", None) else [sealed]
        for box in inner:
            for secret in secrets:
                try:
                    opened.append(unseal(box, secret))
                except DecryptionError:
                    continue
    return opened


def opened_titles(coffre: Coffre, space_id: UUID, secrets: list[bytes]) -> list[bytes]:
    """Every sealed title of ``space_id`` that the recovered secrets open."""
    titles = []
    for event in every_event(coffre):
        if type(event).__name__ == "Deposited" and event.originator_id == space_id:
            titles += opened_boxes(base64.b64decode(event.title), secrets)
    return titles


def test_after_shredding_nothing_opens_even_with_everything_the_server_has(
    coffre: Coffre, clock: ManualClock
) -> None:
    # Two patients with documents; the first closes with express deletion.
    victim = patient_id_from_number("1850575000201")
    control = patient_id_from_number("1850575000202")
    for patient_id in (victim, control):
        opens_at = coffre.vault.provision(patient_id, HOSPITAL).opens_at
        assert opens_at is not None
    clock.advance(opens_at - clock.now())
    victim_keys = [DataKey.generate() for _ in range(3)]
    plaintexts = [f"compte rendu {i} du patient".encode() for i in range(3)]
    titles = [f"IRM cérébrale {uuid4().hex[:12]} suspicion de SEP" for _ in range(3)]
    for key, plaintext, title in zip(victim_keys, plaintexts, titles, strict=True):
        deposit(coffre, victim, plaintext, HOSPITAL, data_key=key, title=title)
    control_key = DataKey.generate()
    control_title = f"Bilan {uuid4().hex[:12]}"
    deposit(coffre, control, b"still here", HOSPITAL, data_key=control_key, title=control_title)
    victim_space = coffre.vault.space_key(victim).space_id
    control_space = coffre.vault.space_key(control).space_id
    blobs_before = set(coffre.blobs.names())
    # The attacker even kept a copy of the victim's ciphertexts from before the deletion.
    documents = coffre.vault.repository.get(victim_space).documents.values()
    copies = [b"".join(coffre.blobs.open(d.current.ciphertext.blob)) for d in documents]
    opens = {b"".join(decrypt(iter([c]), k)) for c in copies for k in victim_keys if _opens(c, k)}
    assert opens == set(plaintexts)  # (with the right key, these copies would open)
    me = Actor(Role.PATIENT, victim, "Victime")
    assert coffre.vault.close_space(victim, me, express_deletion=True).status == "deleted"

    # The attacker has: every key-store row, every event, every blob, the master keys.
    secrets = recovered_secrets(coffre)
    # The attack works on live data (the control's key opens, and its document)...
    (opened,) = opened_data_keys(coffre, control_space, secrets)
    assert bytes(opened) == bytes(control_key)
    assert opened_titles(coffre, control_space, secrets) == [control_title.encode()]
    # ...and opens nothing of the shredded space, titles included.
    assert opened_data_keys(coffre, victim_space, secrets) == []
    assert opened_titles(coffre, victim_space, secrets) == []
    # Its key rows (the space key, a key per document) hold no secret any more; its
    # blobs are gone.
    rows = [r for r in key_rows(coffre) if r["space_id"] == victim_space]
    assert len(rows) == 4
    assert all(r["wrapped"] is None and r["master_key_id"] is None for r in rows)
    victim_blobs = blobs_before - set(coffre.blobs.names())
    assert len(victim_blobs) == 3
    # And no data key, plaintext or title of the victim is anywhere to be found, the
    # projections' tables included.
    wait_for(coffre.runner)
    haystack = database_dump(coffre) + blobs_dump(coffre)
    assert control_title.encode() not in haystack  # titles are sealed even while live
    victim_text = [title.encode() for title in titles]
    for secret in [*(bytes(k) for k in victim_keys), *plaintexts, *victim_text]:
        for form in forms(secret):
            assert form not in haystack
    # The copies stay shut to every data key the attacker could open anywhere.
    every_key = opened_data_keys(coffre, control_space, secrets)
    every_key += opened_data_keys(coffre, victim_space, secrets)
    for ciphertext in copies:
        for key in every_key:
            try:
                b"".join(decrypt(iter([ciphertext]), key))
            except DecryptionError:
                continue
            raise AssertionError("a shredded document was decrypted")


def _opens(ciphertext: bytes, key: DataKey) -> bool:
    try:
        b"".join(decrypt(iter([ciphertext]), key))
    except DecryptionError:
        return False
    return True


def test_an_emergency_justification_is_sealed_and_goes_with_the_space(
    coffre: Coffre,
    cast: Cast,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """And so do a legal representative's name and their appointment's act (a court
    decision's reference reveals a guardianship), appointed through the API: a
    representative who never acted leaves no clear trace of either."""
    caplog.set_level(logging.DEBUG)
    patient = cast.patient.actor
    justification = f"Patient inconscient, suspicion d'AVC {uuid4().hex}"
    coffre.vault.invoke_emergency_access(patient.id, justification, cast.doctor.actor)
    guardian = Actor(
        Role.REPRESENTATIVE, patient_id_from_number("1700575000906"), f"Tuteur {uuid4().hex}"
    )
    court = f"TJ Lyon RG 24/{uuid4().hex[:12]}"
    with TestClient(create_app(coffre)) as client:
        token = coffre.tokens.mint(REGISTRY, timedelta(minutes=5))
        answer = client.post(
            f"/v1/spaces/{patient.id}/representatives",
            json={
                "representative": {"id": guardian.id, "name": guardian.name, "kind": "guardian"},
                "basis": {"reference": court, "date": coffre.vault.clock.now().date().isoformat()},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 204, answer.text
    wait_for(coffre.runner)
    # The patient is shown them in clear: their rules, their log, their notifications.
    rules = coffre.vault.access_rules(patient.id, patient)
    (access,) = rules.emergency_accesses
    assert access.justification == justification
    assert [r.name for r in rules.representatives] == [guardian.name]
    space_id = coffre.vault.authorise_log(patient.id, patient)
    entries = coffre.access_log.page(space_id).entries
    (entry,) = [e for e in entries if e["action"] == "emergency_access"]
    (appointed,) = [e for e in entries if e["action"] == "add_representative"]
    coffre.vault.open_details([entry, appointed])
    assert entry["detail"]["justification"] == justification
    assert appointed["detail"]["representative"]["name"] == guardian.name
    assert appointed["detail"]["basis"]["reference"] == court
    notices = coffre.notifications.page("patient", patient.id).notifications
    (notice,) = [n for n in notices if n["kind"] == "emergency_access"]
    (told,) = [n for n in notices if n["kind"] == "representative_appointed"]
    coffre.vault.open_details([notice, told])
    assert notice["detail"]["justification"] == justification
    assert told["detail"]["representative"]["name"] == guardian.name
    assert told["detail"]["basis"]["reference"] == court
    texts = [justification, guardian.name, court]

    def nowhere() -> None:
        haystack = (
            database_dump(coffre)
            + blobs_dump(coffre)
            + (caplog.text + "".join(capfd.readouterr())).encode()
        )
        assert b"lab_result" in haystack or b"provision" in haystack  # the scan sees text
        assert guardian.id.encode() in haystack  # who, as what and when stay clear
        for text in texts:
            for form in forms(text.encode()):
                assert form not in haystack, text

    # Stored sealed to the space key: in no row, event, file or log line...
    nowhere()
    # ...and after the space's shredding, nothing opens them any more.
    assert coffre.vault.close_space(patient.id, patient, express_deletion=True).status == "deleted"
    wait_for(coffre.runner)
    nowhere()
    secrets = recovered_secrets(coffre)
    shredded_key = coffre.vault.repository.get(space_id).shredded_keys[0]
    boxes = []
    for event in every_event(coffre):
        if type(event).__name__ == "EmergencyAccessInvoked":
            assert event.text_key == shredded_key
            boxes.append(event.justification)
        if type(event).__name__ == "RepresentativeAppointed":
            assert event.text_key == shredded_key
            boxes += [event.representative["name"], event.basis["reference"]]
    assert len(boxes) == 3
    for box in boxes:
        assert opened_boxes(base64.b64decode(box), secrets) == []

"""Reads on S3 hand out presigned URLs: the ciphertext does not pass through the API.

A read is recorded, then the key is resealed, then (on S3, by default) the blob store
signs a GET URL for the ciphertext that lives as long as a content ticket. The file
store has no such URLs: its readers use the API's ticket route, as do S3 deployments
that turn presigning off.
"""

from __future__ import annotations

import base64
import io
import os
from datetime import date
from pathlib import Path

import httpx
import pytest

from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre
from domain.values import Actor, patient_id_from_number
from keys.master import MasterKeys
from tests.devices import ENROLMENT, enrol_client
from tests.scenarios.conftest import Cast, deposit
from tests.scenarios.test_transfers import server_env
from tests.served import serve
from vault.tokens import TokenAuthority
from wire.envelope import decrypt, unseal
from wire.values import Role

PLAINTEXT = os.urandom(300_000)
PATIENT = Actor(Role.PATIENT, patient_id_from_number("2671275123456"), "Jeanne Moreau")
HOSPITAL = Actor(Role.SERVICE, "chu-lille", "CHU de Lille", organisation="CHU de Lille")


def test_a_recorded_read_gives_a_presigned_url_on_s3_only(coffre: Coffre, cast: Cast) -> None:
    patient = cast.patient
    document_id = deposit(coffre, patient.actor.id, PLAINTEXT, cast.hospital)
    release = coffre.vault.read(patient.actor.id, document_id, patient.actor, patient.key_id)
    # The URL exists only for a read that is already in the event store.
    assert coffre.vault.repository.get(release.access_id) is not None
    if coffre.settings.blob_store == "fs":
        assert release.content_url is None  # the ticket route serves the file store
        return
    url = httpx.URL(release.content_url or "")
    assert f"{url.host}:{url.port}" == coffre.settings.s3_endpoint
    assert url.params["X-Amz-Expires"] == str(int(coffre.vault.content_ttl.total_seconds()))
    # Whoever holds the URL gets ciphertext only; the key released to the reader opens it.
    key = unseal(base64.b64decode(release.sealed_key), bytes(patient.secret))
    assert b"".join(decrypt([httpx.get(url).content], key)) == PLAINTEXT


@pytest.mark.postgres
@pytest.mark.s3
@pytest.mark.parametrize("presign", [True, False], ids=["presign-default", "presign-off"])
def test_the_sdk_fetches_from_s3_unless_presigning_is_off(
    request: pytest.FixtureRequest, tmp_path: Path, presign: bool
) -> None:
    master = MasterKeys.generate()
    tokens = TokenAuthority.from_seed("coffre", master.derive("token-signing"))
    env = server_env(request, "postgres-s3", tmp_path / "data", master.current.to_line())
    if not presign:
        env["COFFRE_S3_PRESIGN"] = "false"
    log = tmp_path / "server.log"
    with serve(env, log) as (url, _):
        with CoffreClient(url, tokens.mint(HOSPITAL)) as hospital:
            hospital.provision(PATIENT.id)
            document_id, _ = hospital.deposit(
                PATIENT.id, PLAINTEXT, type="lab_result", title="Bilan", date=date(2026, 10, 1)
            )
        reader = ReaderKey.generate()
        with (
            CoffreClient(url, tokens.mint(PATIENT), reader_key=reader) as patient,
            CoffreClient(url, tokens.mint(ENROLMENT)) as enrolment,
        ):
            enrol_client(patient, PATIENT, enrolment)
            out = io.BytesIO()
            patient.read(PATIENT.id, document_id, out)
    assert out.getvalue() == PLAINTEXT
    # Read once the server stopped, so that its output is flushed.
    requests = log.read_text()
    assert "/reads" in requests  # the server logs every request (paths redacted)
    assert ("/v1/content/" in requests) is not presign

"""Idempotent feeding (issue 11): the real app on both backend pairings, and a feeder
that uploads one ciphertext as often as asked, as a hospital that kept its encrypted
file (or a retry that re-sends one receipt) does.

What a test checks afterwards is read from the backends themselves: the ``Deposited``
events in the event store's table and the blobs in the blob store.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from coffre.bootstrap import Coffre, build
from tests.scenarios.conftest import BACKENDS, backend_settings
from tests.uploads.helpers import HOSPITAL, PATIENT
from wire.envelope import DataKey, encrypt, seal

SOURCE = {"system": "urn:oid:1.2.250.1.213.1.1.9", "value": "CR-2026-000123"}
DEPOSITED = "domain.space:Space.Deposited"
_BLOB_NAME = re.compile(r"[0-9a-f]{32}")


@dataclass
class Feeder:
    """One document encrypted once: its ciphertext and the data key sealed to the space."""

    http: httpx.Client | TestClient
    headers: dict[str, str]
    patient_id: str = PATIENT.id
    plaintext: bytes = b"hemoglobine 13.5 g/dL"
    ciphertext: bytes = b""
    sealed_key: str = ""
    receipts: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        space = self.http.get(f"/v1/spaces/{self.patient_id}/key", headers=self.headers)
        assert space.status_code == 200, space.text
        key = DataKey.generate()
        self.ciphertext = b"".join(encrypt([self.plaintext], key, chunk_size=4096))
        public = base64.b64decode(space.json()["public_key"])
        self.sealed_key = base64.b64encode(seal(key, public)).decode()

    def upload(self) -> dict[str, Any]:
        """Upload the ciphertext once more (a blob of its own); returns the upload."""
        answer = self.http.post(
            f"/v1/spaces/{self.patient_id}/uploads",
            content=self.ciphertext,
            headers={**self.headers, "Content-Type": "application/octet-stream"},
        )
        assert answer.status_code == 201, answer.text
        self.receipts.append(answer.json())
        return answer.json()

    def body(self, upload: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """The deposit of ``upload`` with the source identifier."""
        return {
            "receipt": upload["receipt"],
            "type": "lab_result",
            "title": "Bilan sanguin",
            "date": date(2026, 10, 30).isoformat(),
            "sealed_key": self.sealed_key,
            "source_id": SOURCE,
            **extra,
        }

    def deposit(self, upload: dict[str, Any], **extra: Any) -> httpx.Response:
        """POST the deposit (the raw answer)."""
        url = f"/v1/spaces/{self.patient_id}/documents"
        return self.http.post(url, json=self.body(upload, **extra), headers=self.headers)


@pytest.fixture(params=BACKENDS)
def coffre(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Coffre]:
    """A Coffre on one backend pairing; spaces open at once (these tests are about
    deposits, not the opposition period)."""
    settings = backend_settings(request, request.param, tmp_path / "data")
    built = build(settings.model_copy(update={"opposition_period": timedelta(0)}))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(coffre: Coffre) -> Iterator[TestClient]:
    """The real app over ``coffre``, PATIENT's space provisioned by HOSPITAL."""
    with TestClient(create_app(coffre)) as test_client:
        answer = test_client.post(
            "/v1/spaces", json={"patient_id": PATIENT.id}, headers=bearer(coffre, HOSPITAL)
        )
        assert answer.status_code == 201, answer.text
        yield test_client


def bearer(coffre: Coffre, actor: Any) -> dict[str, str]:
    """The bearer header of ``actor`` on ``coffre``."""
    return {"Authorization": f"Bearer {coffre.tokens.mint(actor, timedelta(minutes=10))}"}


def deposited_events(*, sqlite_path: Path | None = None, pg: dict[str, str] | None = None) -> int:
    """``Deposited`` events in the event store's table, counted by SQL."""
    if pg is not None:
        with psycopg.connect(**pg) as conn:  # type: ignore[arg-type]
            query = "SELECT count(*) FROM vault_events WHERE topic = %s"
            row = conn.execute(query, (DEPOSITED,)).fetchone()
    else:
        assert sqlite_path is not None
        with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True) as conn:
            query = "SELECT count(*) FROM stored_events WHERE topic = ?"
            row = conn.execute(query, (DEPOSITED,)).fetchone()
    assert row is not None
    return int(row[0])


def stored_blobs(
    *, blob_dir: Path | None = None, s3: dict[str, str] | None = None, bucket: str = ""
) -> set[str]:
    """Names of the blobs in the files store under ``blob_dir``, or in the S3 bucket."""
    if s3 is None:
        assert blob_dir is not None
        return {p.name for p in blob_dir.rglob("*") if _BLOB_NAME.fullmatch(p.name)}
    from minio import Minio

    minio = Minio(
        s3["endpoint"], access_key=s3["access_key"], secret_key=s3["secret_key"], secure=False
    )
    return {str(o.object_name) for o in minio.list_objects(bucket, recursive=True)}

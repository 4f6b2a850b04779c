"""The server never holds a plaintext document or a data key: canaries prove it.

A document carrying a unique canary is deposited and read; then every place the server
writes to is searched for the canary and for the data key (raw, hex and base64): blob
files or S3 objects, every database row, every log line.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from coffre.bootstrap import Coffre
from domain.values import Scope
from projections.runner import wait_for
from tests.scenarios.conftest import Cast, deposit, read
from wire.envelope import DataKey


def forms(secret: bytes) -> list[bytes]:
    """The shapes a leaked secret could take in storage or logs."""
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    ]


def database_dump(coffre: Coffre) -> bytes:
    """Every row of every table of the vault's database, as bytes."""
    settings = coffre.settings
    if settings.database == "sqlite":
        chunks = []
        with sqlite3.connect(settings.sqlite_path) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    for value in row:
                        chunks.append(value if isinstance(value, bytes) else str(value).encode())
        # The raw files too (WAL included): nothing hides in free pages.
        for path in settings.data_dir.glob("coffre.db*"):
            chunks.append(path.read_bytes())
        return b"\n".join(chunks)
    chunks = []
    with psycopg.connect(settings.pg_conninfo()) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            for (text,) in conn.execute(query):
                chunks.append(text.encode())
            for (column,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema=%s "
                "AND table_name=%s AND data_type='bytea'",
                (schema, table),
            ).fetchall():
                query = sql.SQL("SELECT {} FROM {}.{}").format(
                    sql.Identifier(column), sql.Identifier(schema), sql.Identifier(table)
                )
                for (value,) in conn.execute(query):
                    if value is not None:
                        chunks.append(bytes(value))
    return b"\n".join(chunks)


def blobs_dump(coffre: Coffre) -> bytes:
    """Every stored blob, and every file under the data directory."""
    chunks = [b"".join(coffre.blobs.open(name)) for name in coffre.blobs.names()]
    for path in Path(coffre.settings.data_dir).rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes())
    return b"\n".join(chunks)


def test_no_plaintext_and_no_data_key_anywhere_on_the_server(
    coffre: Coffre, cast: Cast, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"CANARY-{uuid.uuid4().hex}".encode()
    plaintext = b"Compte rendu confidentiel " + canary + b"\n" * 1000
    data_key = DataKey.generate()
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, plaintext, cast.hospital, data_key=data_key)
    coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    assert read(coffre, patient.id, document_id, cast.doctor) == plaintext
    wait_for(coffre.runner)

    secrets = forms(canary) + forms(bytes(data_key))
    haystacks = {
        "database": database_dump(coffre),
        "blobs": blobs_dump(coffre),
        "logs": (caplog.text + "".join(capfd.readouterr())).encode(),
    }
    for where, haystack in haystacks.items():
        for secret in secrets:
            assert secret not in haystack, f"a secret leaked into the {where}"
    # The scan itself works: the ciphertext is there, just not the plaintext.
    assert haystacks["blobs"]

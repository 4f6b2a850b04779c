"""Issue 9, item 3: stalled uploads must not block the server.

Sixteen connections from one depositor announce 2 GiB, send a valid envelope prefix
and go quiet. The caller gets a few upload slots (429 beyond them, at once), the stalled
bodies are ended with a 408 after the idle timeout and their partial blobs removed, and
meanwhile another depositor's deposit and the health check are answered.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from client.sdk import CoffreClient
from tests.scenarios.conftest import BACKENDS
from tests.uploads.helpers import (
    CLINIC,
    HOSPITAL,
    MIB,
    PATIENT,
    Running,
    envelope_prefix,
    open_upload,
    partial_blobs,
    read_answer,
    running,
    wait_for,
)

IDLE_TIMEOUT = 3.0
PER_CALLER = 4
STALLED = 16
#: how long past the idle timeout a stalled connection may stay open (a loaded CI box)
SLACK = 30.0


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    """A server whose uploads time out after a few seconds of silence."""
    extra = {
        "COFFRE_UPLOAD_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
        "COFFRE_UPLOADS_PER_CALLER": str(PER_CALLER),
    }
    with running(request, request.param, tmp_path, extra) as served:
        yield served


def test_stalled_uploads_block_nothing_and_are_closed(server: Running) -> None:
    token = server.token(HOSPITAL)
    # The first stalled upload sends 6 MiB, enough for the put to have started storing
    # (a temporary file; an S3 multipart upload with its first part): its partial blob
    # must be removed when the server gives up on it.
    first = open_upload(server.url, token, PATIENT.id, envelope_prefix(6 * MIB), 2**31)
    wait_for(lambda: bool(partial_blobs(server)), 60, "the first upload's partial blob")
    stalled = [first] + [
        open_upload(server.url, token, PATIENT.id, envelope_prefix(4096), 2**31)
        for _ in range(STALLED - 1)
    ]

    # Meanwhile the API serves, and another depositor deposits.
    assert httpx.get(f"{server.url}/v1/health", timeout=20).status_code == 200
    with CoffreClient(server.url, server.token(CLINIC), timeout=20) as clinic:
        document_id, version = clinic.deposit(
            PATIENT.id, os.urandom(70_000), type="lab_result", title="NFS", date=date(2026, 11, 3)
        )
    assert version == 1 and document_id

    # Every stalled connection is answered and closed by the server: the caller's share
    # with a 408 once the body went quiet, the rest at once with a 429 and Retry-After.
    answers = [read_answer(sock, IDLE_TIMEOUT + SLACK) for sock in stalled]
    assert all(answer.closed for answer in answers), [a.status for a in answers]
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [408] * PER_CALLER + [429] * (STALLED - PER_CALLER)
    assert all(a.headers.get("retry-after") for a in answers if a.status == 429)
    assert all("problem+json" in a.headers["content-type"] for a in answers)

    # Nothing of the abandoned bodies is left in the blob store.
    wait_for(lambda: not partial_blobs(server), 30, "the partial blobs' removal")

    # The slots are free again: the same depositor uploads normally.
    with CoffreClient(server.url, token, timeout=20) as hospital:
        _, version = hospital.deposit(
            PATIENT.id, b"compte rendu", type="lab_result", title="CR", date=date(2026, 11, 3)
        )
    assert version == 1

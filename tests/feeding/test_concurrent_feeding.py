"""Issue 11's acceptance line: "Retried deposits with the same source identifier record
exactly one document: 100 concurrent retries on PostgreSQL give one document, and the
other callers get its id."

A real ``coffre serve`` (uvicorn) on each backend pairing; the hospital uploaded its
encrypted document several times (each upload a blob of its own) and now many callers
send its deposit at the same instant, each naming one of those uploads, all with the
same source identifier: retries of one deposit that lost track of its answer. The space
is one aggregate, so all but one save conflict, reload and are decided again
(``VaultCore.retry``); afterwards the event store holds one ``Deposited``, the blob
store one blob, and every caller holds the same document id.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.feeding import retrying
from tests.feeding.conftest import Feeder, deposited_events, stored_blobs
from tests.scenarios.conftest import BACKENDS
from tests.uploads.helpers import HOSPITAL, PATIENT, running
from wire.errors import Unavailable

#: callers sending the deposit at once; SQLite serialises writers, so fewer there
CALLERS = {"sqlite-fs": 20, "postgres-s3": 100}
#: how many times the same ciphertext was uploaded before the storm
UPLOADS = {"sqlite-fs": 4, "postgres-s3": 10}


@pytest.mark.parametrize("backend", BACKENDS)
def test_retried_deposits_with_the_same_source_identifier_record_exactly_one_document(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    callers = CALLERS[backend]
    with running(request, backend, tmp_path, {}) as server:
        hospital = {"Authorization": f"Bearer {server.token(HOSPITAL)}"}
        with httpx.Client(base_url=server.url, timeout=60) as http:
            feeder = Feeder(http, hospital)
            uploads = [feeder.upload() for _ in range(UPLOADS[backend])]
        start = threading.Barrier(callers)
        retried = Counter[int]()

        def deposit(n: int) -> tuple[int, dict[str, Any]]:
            body = feeder.body(uploads[n % len(uploads)])
            with httpx.Client(base_url=server.url, timeout=60, headers=hospital) as own:

                def send() -> httpx.Response:
                    try:
                        answer = own.post(f"/v1/spaces/{PATIENT.id}/documents", json=body)
                    except httpx.TransportError:
                        retried[n] += 1
                        raise Unavailable("no answer") from None
                    if answer.status_code >= 500:
                        retried[n] += 1
                        raise Unavailable(answer.text)
                    return answer

                start.wait(timeout=60)
                answer = retrying(send)  # what the SDK does with a source identifier
            return answer.status_code, answer.json()

        with ThreadPoolExecutor(max_workers=callers) as pool:
            answers = list(pool.map(deposit, range(callers)))
        patient = {"Authorization": f"Bearer {server.token(PATIENT)}"}
        listed = httpx.get(
            f"{server.url}/v1/spaces/{PATIENT.id}/documents", headers=patient, timeout=60
        )
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 200: callers - 1}, answers
    ids = {answer["document_id"] for _, answer in answers}
    assert len(ids) == 1
    assert {answer["version"] for _, answer in answers} == {1}
    assert [d["document_id"] for d in listed.json()["documents"]] == list(ids)
    # One event, one blob: the losers' uploads were deleted, not left to the collector.
    if backend == "postgres-s3":
        pg = request.getfixturevalue("pg_database")
        assert deposited_events(pg=pg) == 1
        s3, bucket = request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket")
        blobs = stored_blobs(s3=s3, bucket=bucket)
    else:
        assert deposited_events(sqlite_path=server.data_dir / "coffre.db") == 1
        blobs = stored_blobs(blob_dir=server.data_dir)
    assert len(blobs) == 1 and blobs <= {upload["blob"] for upload in uploads}
    print(f"{backend}: {callers} callers, {sum(retried.values())} answers retried after a 5xx")

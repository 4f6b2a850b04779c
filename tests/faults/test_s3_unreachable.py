"""The S3 endpoint unreachable, hung or slow (issue 16).

Coffre (PostgreSQL + the shared S3) reaches S3 through a proxy of the test's own
(``tests.faults.proxy``), with ``COFFRE_S3_TIMEOUT=2`` and ``COFFRE_S3_RETRIES=1``.
With S3 refused, then hung:

- deposits (direct and relayed) fail with a 503 problem (``Unavailable`` in the SDK)
  within the bound those settings give, and record nothing;
- a read authorised before (its key released, its content ticket in hand) fails to
  download with a 503, as often as it is retried, and records no second read;
- a read through the SDK is recorded once (``POST .../reads`` needs no S3) and raises
  ``Unavailable`` when its download fails.

With S3 slow (every piece delayed, under the timeout), deposits still succeed. Then S3
comes back: the earlier read's download completes, and deposits and reads work again,
without a restart.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from coffre.bootstrap import build
from domain.access import Access
from tests.faults.harness import (
    PATIENT,
    World,
    base_env,
    count_events,
    deposited,
    read_back,
    report,
    s3_env,
    seed,
    server,
    settings_of,
)
from tests.faults.proxy import Proxy
from tests.served import scratch_bucket, scratch_database
from wire.errors import Unavailable

PORT, PROXY_PORT = 18310, 18311
TIMEOUT, RETRIES = 2, 1
#: what one failing S3 call may take: every attempt's timeout, the backoff, and room
#: for a loaded machine; a deposit makes at most two calls before it fails
BOUND = 2 * ((RETRIES + 1) * (TIMEOUT + 1) + 1) + 5
KIB = 1024


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, dict[str, str], Proxy]]:
    """A server whose S3 is behind the proxy, its world seeded."""
    s3 = request.getfixturevalue("s3_server")
    pg_admin = request.getfixturevalue("pg_server")
    tmp = tmp_path_factory.mktemp("s3down")
    host, port = s3["endpoint"].rsplit(":", 1)
    with (
        scratch_database(pg_admin, "coffre_faults") as pg,
        scratch_bucket(s3, "coffre-faults") as bucket,
        Proxy(PROXY_PORT, (host, int(port))) as proxy,
    ):
        proxied = dict(s3) | {"endpoint": f"127.0.0.1:{PROXY_PORT}"}
        env = base_env(tmp / "data") | s3_env(pg, proxied, bucket)
        env |= {
            "COFFRE_S3_TIMEOUT": str(TIMEOUT),
            "COFFRE_S3_RETRIES": str(RETRIES),
            # reads through the API's content route, so that its failure is Coffre's
            "COFFRE_S3_PRESIGN": "false",
        }
        with server(env, PORT, tmp / "server.log"):
            yield seed(f"http://127.0.0.1:{PORT}", env), env, proxy


def _deposit(world: World, data: bytes, direct: bool) -> Any:
    with world.hospital(timeout=60) as hospital:
        hospital.direct_uploads = direct
        document_id, _ = hospital.deposit(
            PATIENT.id, data, type="lab_result", title="Bilan", date=date(2026, 10, 1)
        )
    return document_id


def _listed(world: World) -> int:
    with world.patient() as patient:
        return len(patient.documents(PATIENT.id))


def test_s3_unreachable(
    request: pytest.FixtureRequest, deployment: tuple[World, dict[str, str], Proxy]
) -> None:
    world, env, proxy = deployment
    started = time.monotonic()
    before = {name: os.urandom(300 * KIB) for name in ("a", "b")}
    documents = {_deposit(world, data, True): data for data in before.values()}
    headers = {"Authorization": f"Bearer {world.tokens['patient']}"}
    http = httpx.Client(base_url=world.url, headers=headers, timeout=60)
    # A read authorised while S3 is up: recorded, its key released, its ticket in hand.
    first = next(iter(documents))
    release = http.post(
        f"/v1/spaces/{PATIENT.id}/documents/{first}/reads",
        json={"reader_key_id": world.reader.key_id},
    ).json()
    with settings_of(env | {"COFFRE_S3_ENDPOINT": _real()}) as config:
        reads_before = _reads(config)
    faults = checked = sdk_reads = 0
    worst = 0.0
    for mode in ("refuse", "stall"):
        proxy.set(mode)
        faults += 1
        for direct in (True, False):
            listed = _listed(world)
            t0 = time.monotonic()
            with pytest.raises(Unavailable) as caught:
                _deposit(world, os.urandom(200 * KIB), direct)
            took = time.monotonic() - t0
            # the server's 503 problem, not a dropped connection
            assert getattr(caught.value, "status", None) == 503, caught.value
            worst = max(worst, took)
            assert took <= BOUND, f"{mode}: a deposit failed after {took:.1f} s"
            assert _listed(world) == listed, "a failed deposit was recorded"
            checked += 1
        # A read through the SDK: recorded and its key released (no S3 request), then
        # its download fails: one read record, a clear Unavailable.
        with pytest.raises(Unavailable):
            read_back(world, first)
        sdk_reads += 1
        checked += 1
        for _ in range(2):  # the download, and a retry of it
            t0 = time.monotonic()
            answer = http.get(release["content_url"])
            took = time.monotonic() - t0
            worst = max(worst, took)
            assert answer.status_code == 503, answer.status_code
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["type"].endswith("/blob-store-unavailable")
            assert took <= BOUND, f"{mode}: a download failed after {took:.1f} s"
            checked += 1
    proxy.set("slow")
    faults += 1
    slow = os.urandom(200 * KIB)
    documents[_deposit(world, slow, False)] = slow
    proxy.set("pass")
    # S3 back: the earlier read's download completes, against its recorded hash.
    body = http.get(release["content_url"]).content
    assert hashlib.sha256(body).hexdigest() == release["sha256"]
    again = os.urandom(200 * KIB)
    documents[_deposit(world, again, True)] = again
    for document_id, data in documents.items():
        assert read_back(world, document_id) == data
        checked += 1
    http.close()
    with settings_of(env | {"COFFRE_S3_ENDPOINT": _real()}) as config:
        # one read recorded by the authorised read, however often its download failed,
        # plus the reads back just now; deposits: the ones that succeeded, no more
        assert _reads(config) == reads_before + sdk_reads + len(documents)
        coffre = build(config)
        try:
            assert len(deposited(coffre)) == len(documents)
        finally:
            coffre.close()
    report(
        request,
        f"faults: S3 refused, hung and slowed ({faults} outages); {checked} operations "
        f"checked (failures within {worst:.1f} s, bound {BOUND} s); "
        f"{time.monotonic() - started:.0f} s",
    )


def _real() -> str:
    """The S3 server itself, for the test's own look at the deployment's events."""
    return os.environ["COFFRE_TEST_S3_ENDPOINT"]


def _reads(config: Any) -> int:
    coffre = build(config)
    try:
        return count_events(coffre, Access.Read)
    finally:
        coffre.close()

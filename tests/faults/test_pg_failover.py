"""The PostgreSQL primary killed (SIGKILL) during a mixed load of deposits, grants and
reads, on a Patroni cluster (scripts/pg-cluster) behind two API workers.

Twice: once the postmaster alone (Patroni restarts it in place, crash recovery), once
the whole node, Patroni included (the synchronous standby is promoted when the leader
key expires); then a planned switchover demotes the new primary while it serves. The
workers are never restarted: their pools reconnect to whichever node is the primary.
Afterwards every request that got a 2xx is in the event store (each deposit, each
grant, and the read event of every read that released a key), no answer was a 500,
the projections equal a clean rebuild, and the trail verifies.
"""

from __future__ import annotations

import io
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from eventsourcing.application import AggregateNotFoundError

from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from client.trail_verify import verify_export
from coffre.bootstrap import build
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from keys.master import MasterKeys
from projections.trail_query import TrailQuery
from tests.devices import ENROLMENT, enrol_client
from tests.faults.cluster import (
    Cluster,
    cluster_database,
    coffre_env,
    kill_primary,
    running_cluster,
    scratch_bucket,
    stop_process,
    switchover,
    wait_for_writes,
    workers,
)
from tests.replay.views import differences, rebuilt, snapshot
from vault.settings import Settings
from vault.tokens import TokenAuthority
from wire.values import Profession, Role

HOSPITAL = Actor(Role.SERVICE, "chu-faults", "CHU Faults", organisation="CHU Faults")
PATIENT = Actor(Role.PATIENT, patient_id_from_number("2870675123456"), "Jeanne Faults")
DOCTOR = Actor(
    Role.PROFESSIONAL,
    professional_id_from_number("1000000001"),
    "Dr Paul Faults",
    profession=Profession.DOCTOR,
    organisation="Cabinet Faults",
)
#: seconds of load before the first fault, between the faults, and after the last
LOAD_PHASES = (6.0, 8.0, 6.0, 6.0)


class Ledger:
    """What the load was told succeeded (the acknowledged operations), and every status."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.documents: list[UUID] = []
        self.grants: list[UUID] = []
        self.reads: list[UUID] = []
        self.statuses: Counter[int] = Counter()
        self.failures: Counter[str] = Counter()

    def hook(self, response: httpx.Response) -> None:
        """An httpx response hook: every status any client saw."""
        with self.lock:
            self.statuses[response.status_code] += 1

    def add(self, kind: str, value: UUID) -> None:
        """Record one acknowledged operation."""
        with self.lock:
            getattr(self, kind).append(value)

    @property
    def acknowledged(self) -> int:
        """Operations that got a 2xx, to be found in the event store."""
        return len(self.documents) + len(self.grants) + len(self.reads)


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, s3_server: dict[str, str]
) -> Iterator[tuple[Cluster, dict[str, str], list[str], subprocess.Popen[bytes]]]:
    """The cluster, a database and a bucket on it, two API workers and a projection one."""
    tmp = tmp_path_factory.mktemp("pg-failover")
    with (
        running_cluster(15441, 12379, 18008) as cluster,
        cluster_database(cluster, "coffre_failover") as dbname,
        scratch_bucket(s3_server, "coffre-failover") as bucket,
    ):
        master = MasterKeys.generate().current.to_line()
        env = coffre_env(cluster, dbname, s3_server, bucket, master)
        env["COFFRE_ENROLMENT_SERVICES"] = ENROLMENT.id
        with workers(env, tmp, 2) as (urls, projections):
            yield cluster, env, urls, projections


def _tokens(env: dict[str, str]) -> dict[str, str]:
    master = MasterKeys.from_env(env["COFFRE_MASTER_KEYS"])
    authority = TokenAuthority.from_seed("coffre", master.derive("token-signing"))
    actors = {"service": HOSPITAL, "patient": PATIENT, "doctor": DOCTOR, "enrolment": ENROLMENT}
    return {role: authority.mint(actor) for role, actor in actors.items()}


def _setup(url: str, tokens: dict[str, str]) -> tuple[str, UUID]:
    """A space, opened; the doctor granted and enrolled; one document. Returns the
    doctor's reader key id and the document's id."""
    with CoffreClient(url, tokens["service"]) as hospital:
        provisioned = hospital.provision(PATIENT.id)
        document_id, _ = hospital.deposit(
            PATIENT.id, b"bilan", type="lab_result", title="Bilan", date=date(2026, 10, 1)
        )
    with (
        CoffreClient(url, tokens["patient"], reader_key=ReaderKey.generate()) as patient,
        CoffreClient(url, tokens["enrolment"]) as enrolment,
    ):
        patient.activate(PATIENT.id, provisioned.one_time_code)
        enrol_client(patient, PATIENT, enrolment)
        patient.grant(PATIENT.id, {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"})
    with (
        CoffreClient(url, tokens["doctor"], reader_key=ReaderKey.generate()) as doctor,
        CoffreClient(url, tokens["enrolment"]) as enrolment,
    ):
        return enrol_client(doctor, DOCTOR, enrolment), document_id


def _loop(stop: threading.Event, ledger: Ledger, step: Callable[[int], None]) -> None:
    # One client's requests, one after another; a failure is counted and retried later.
    index = 0
    while not stop.is_set():
        index += 1
        try:
            step(index)
        except Exception as error:
            with ledger.lock:
                ledger.failures[type(error).__name__] += 1
            time.sleep(0.3)


def _load(
    urls: list[str], tokens: dict[str, str], reader_key_id: str, first: UUID, ledger: Ledger
) -> tuple[threading.Event, list[threading.Thread]]:
    hooks = {"response": [ledger.hook]}
    hospital = CoffreClient(urls[0], tokens["service"])
    patient = CoffreClient(urls[1], tokens["patient"])
    for client in (hospital, patient):
        client._http.event_hooks = hooks
    reader = httpx.Client(
        base_url=urls[1], headers={"Authorization": f"Bearer {tokens['doctor']}"}, timeout=30
    )
    reader.event_hooks = hooks
    lister = httpx.Client(
        base_url=urls[0], headers={"Authorization": f"Bearer {tokens['patient']}"}, timeout=30
    )
    lister.event_hooks = hooks

    def deposit(index: int) -> None:
        document_id, _ = hospital.deposit(
            PATIENT.id,
            uuid4().bytes * 4,
            type="lab_result",
            title=f"Bilan {index}",
            date=date(2026, 11, 1),
        )
        ledger.add("documents", document_id)

    def grant(index: int) -> None:
        professional = professional_id_from_number(str(2000000000 + index))
        grant_id = patient.grant(
            PATIENT.id, {"id": professional, "name": f"Dr {index}", "profession": "nurse"}
        )
        ledger.add("grants", grant_id)

    def read(index: int) -> None:
        with ledger.lock:
            documents = [first, *ledger.documents]
        document_id = documents[index % len(documents)]
        answer = reader.post(
            f"/v1/spaces/{PATIENT.id}/documents/{document_id}/reads",
            json={"reader_key_id": reader_key_id},
        )
        if answer.is_success:
            ledger.add("reads", UUID(answer.json()["access_id"]))
        else:
            time.sleep(0.2)

    def browse(index: int) -> None:
        # reads that release nothing: the list and the access log
        path = "documents" if index % 2 else "access-log"
        lister.get(f"/v1/spaces/{PATIENT.id}/{path}")
        time.sleep(0.05)

    stop = threading.Event()
    threads = [
        threading.Thread(target=_loop, args=(stop, ledger, step), daemon=True)
        for step in (deposit, grant, read, read, browse)
    ]
    for thread in threads:
        thread.start()
    return stop, threads


def test_acknowledged_operations_survive_the_primary_killed_twice(
    deployment: tuple[Cluster, dict[str, str], list[str], subprocess.Popen[bytes]],
    tmp_path: Path,
    record_property: Callable[[str, Any], None],
) -> None:
    cluster, env, urls, projections = deployment
    tokens = _tokens(env)
    reader_key_id, first = _setup(urls[0], tokens)
    ledger = Ledger()
    stop, threads = _load(urls, tokens, reader_key_id, first, ledger)
    recoveries = []
    try:
        time.sleep(LOAD_PHASES[0])
        kill_primary(cluster, with_patroni=False)
        recoveries.append(wait_for_writes(cluster))
        time.sleep(LOAD_PHASES[1])
        kill_primary(cluster, with_patroni=True)
        recoveries.append(wait_for_writes(cluster))
        time.sleep(LOAD_PHASES[2])
        began = time.monotonic()  # patronictl returns once the switchover is done
        switchover(cluster)
        recoveries.append(time.monotonic() - began + wait_for_writes(cluster))
        time.sleep(LOAD_PHASES[3])
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert ledger.statuses[500] == 0, ledger.statuses
    unhandled = [
        line
        for log in sorted(tmp_path.parent.glob("pg-failover*/worker*.log"))
        for line in log.read_text(errors="replace").splitlines()
        if '"unhandled_error"' in line
    ]
    assert not unhandled, f"{len(unhandled)} unhandled errors in the workers' logs"
    assert ledger.documents and ledger.grants and ledger.reads, ledger.failures

    # The event store, read from the (new) primary by a Coffre of our own.
    settings = Settings(
        data_dir=tmp_path / "checker",
        database="postgres",
        env="development",
        pg_host=env["COFFRE_PG_HOST"],
        pg_port=env["COFFRE_PG_PORT"],
        pg_dbname=env["COFFRE_PG_DBNAME"],
        blob_store="s3",
        s3_endpoint=env["COFFRE_S3_ENDPOINT"],
        s3_access_key=env["COFFRE_S3_ACCESS_KEY"],
        s3_secret_key=env["COFFRE_S3_SECRET_KEY"],
        s3_bucket=env["COFFRE_S3_BUCKET"],
        master_keys=env["COFFRE_MASTER_KEYS"],
    )
    coffre = build(settings)
    space = coffre.vault.space(PATIENT.id)
    missing = [d for d in ledger.documents if d not in space.documents]
    missing += [g for g in ledger.grants if g not in space.grants]
    for access_id in ledger.reads:
        try:
            coffre.vault.repository.get(access_id)
        except AggregateNotFoundError:
            missing.append(access_id)
    assert not missing, f"{len(missing)} acknowledged operations are not in the event store"

    # The projections (the worker's, across both faults, caught up) equal a rebuild.
    assert projections.poll() is None, "the projection worker did not survive the faults"
    stop_process(projections)
    coffre.runner.catch_up()
    live = snapshot(coffre.runner)
    positions = {name: coffre.views.position(name) for name in coffre.runner.projections}
    fresh = rebuilt(coffre.runner)
    assert live == fresh, (
        f"the live views differ from a rebuild (positions {positions}, head "
        f"{coffre.runner.source.last_id()}): {differences(live, fresh)}"
    )
    # The trail, every entry, verifies against the deployment's key.
    out = io.StringIO()
    coffre.trail.export_jsonl(TrailQuery(), out)
    report = verify_export(out.getvalue().splitlines(), coffre.trail.signer.public_key)
    assert report.entries == coffre.trail.size() > 0

    summary = (
        f"faults: primary killed 2 times (postmaster alone, then the node with Patroni), "
        f"then switched over; writes back after "
        f"{', '.join(f'{seconds:.1f} s' for seconds in recoveries)}; "
        f"{ledger.acknowledged} acknowledged operations checked ({len(ledger.documents)} "
        f"deposits, {len(ledger.grants)} grants, {len(ledger.reads)} key releases); "
        f"statuses {dict(sorted(ledger.statuses.items()))}; client errors "
        f"{dict(ledger.failures)}; cluster up in "
        f"{cluster.started_in:.0f} s"
    )
    print(summary)
    record_property("faults", summary)

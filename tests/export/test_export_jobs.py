"""Export jobs (issue 15): 202 then progress then done, the archive downloaded whole or
by ranges to the same bytes (a broken download resumes), 416 for a range beyond the
end, nobody but the owner sees a job, expiry and deletion remove the archive, a job
cut by a restart ends failed, and the export is an act of the patient's access log."""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from client.cli import app as cli
from client.cli import exports as cli_exports
from client.export_verify import verify_archive
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre, build
from domain.values import Actor
from tests.export.test_export import COURT, GUARDIAN, NEW_PATIENT, REGISTRY
from tests.sdk.conftest import HOSPITAL, PATIENT, Enrol
from vault.export_jobs import ExportJobs
from wire.errors import ExportNotReady, RangeNotSatisfiable, UnknownExport

Connect = Callable[[Actor], CoffreClient]
DOCUMENTS = 6


def _space(connect: Connect, enrol: Enrol) -> CoffreClient:
    hospital = connect(HOSPITAL)
    hospital.provision(PATIENT.id)
    for n in range(DOCUMENTS):
        body = f"résultat {n}\n".encode() * (n + 1)
        hospital.deposit(PATIENT.id, body, type="lab_result", title=f"B{n}", date="2026-01-02")
    patient = connect(PATIENT)
    enrol(patient, PATIENT)
    return patient


def _jobs(coffre: Coffre) -> ExportJobs:
    assert coffre.exports is not None
    return coffre.exports


def _done(client: CoffreClient, job: dict[str, Any]) -> dict[str, Any]:
    return client.wait_export(PATIENT.id, job["job_id"], poll=0.05)


def _archive_url(job: dict[str, Any]) -> str:
    return f"/v1/spaces/{PATIENT.id}/exports/{job['job_id']}/archive"


def _get(client: CoffreClient, url: str, **headers: str) -> httpx.Response:
    return client._http.get(url, headers=headers)


def test_a_job_is_accepted_makes_progress_and_its_archive_downloads_and_verifies(
    connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    patient = _space(connect, enrol)
    started = patient._http.post(
        f"/v1/spaces/{PATIENT.id}/exports", json={"reader_key_id": patient.reader_key.key_id}
    )
    assert started.status_code == 202
    job = started.json()
    assert started.headers["Location"] == job["links"]["self"]
    assert job["state"] in ("queued", "running", "done")
    assert job["progress"]["documents_total"] == DOCUMENTS
    seen: list[tuple[int, int]] = []
    done = patient.wait_export(
        PATIENT.id, job["job_id"], building=lambda d, t: seen.append((d, t)), poll=0.05
    )
    assert done["progress"] == {"documents_done": DOCUMENTS, "documents_total": DOCUMENTS}
    assert seen[-1] == (DOCUMENTS, DOCUMENTS)
    assert done["links"]["archive"] == _archive_url(done)

    whole = _get(patient, _archive_url(done))
    assert whole.status_code == 200
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["ETag"] == f'"{done["sha256"]}"'
    assert len(whole.content) == done["size"]
    assert hashlib.sha256(whole.content).hexdigest() == done["sha256"]

    target = tmp_path / "export.zip"
    assert patient.download_export(PATIENT.id, done, target) == done["size"]
    assert target.read_bytes() == whole.content  # byte-identical
    report = verify_archive(target, patient.trail_keys(), patient.reader_key)
    assert report.documents == DOCUMENTS


def test_a_download_broken_midway_resumes_with_a_range_to_the_same_bytes(
    connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    patient = _space(connect, enrol)
    job = _done(patient, patient.start_export(PATIENT.id))
    size, url = job["size"], _archive_url(job)

    # by hand: two ranges make the whole, with the archive's ETag honoured
    half = size // 2
    first = _get(patient, url, Range=f"bytes=0-{half - 1}")
    rest = _get(patient, url, Range=f"bytes={half}-", **{"If-Range": f'"{job["sha256"]}"'})
    assert (first.status_code, rest.status_code) == (206, 206)
    assert first.headers["Content-Range"] == f"bytes 0-{half - 1}/{size}"
    assert rest.headers["Content-Range"] == f"bytes {half}-{size - 1}/{size}"
    assert hashlib.sha256(first.content + rest.content).hexdigest() == job["sha256"]
    # the last bytes, and a stale If-Range: the whole archive again
    tail = _get(patient, url, Range="bytes=-10")
    assert tail.status_code == 206 and len(tail.content) == 10
    stale = _get(patient, url, Range=f"bytes={half}-", **{"If-Range": '"other"'})
    assert stale.status_code == 200 and len(stale.content) == size

    # through the SDK: the first answer breaks after half the bytes; it resumes
    cutter = _Cutter(patient._http._transport, url)
    patient._http._transport = cutter
    target = tmp_path / "resumed.zip"
    assert patient.download_export(PATIENT.id, job, target) == size
    assert cutter.ranges == [f"bytes={size // 2}-"]
    assert hashlib.sha256(target.read_bytes()).hexdigest() == job["sha256"]


class _Cutter(httpx.BaseTransport):
    """Cuts the first whole download of ``url`` after half its bytes (the connection
    dropped); records the ranges asked afterwards."""

    def __init__(self, inner: httpx.BaseTransport, url: str) -> None:
        self.inner, self.url = inner, url
        self.ranges: list[str] = []
        self.cut = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path != self.url:
            return response
        if "Range" in request.headers:
            self.ranges.append(request.headers["Range"])
            return response
        if self.cut:
            return response
        self.cut = True
        body = response.read()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, content=body[: len(body) // 2])


def test_a_range_beyond_the_end_is_416(connect: Connect, enrol: Enrol) -> None:
    patient = _space(connect, enrol)
    job = _done(patient, patient.start_export(PATIENT.id))
    refused = _get(patient, _archive_url(job), Range=f"bytes={job['size']}-")
    assert refused.status_code == 416
    assert refused.headers["Content-Range"] == f"bytes */{job['size']}"
    assert refused.json()["type"].endswith("/range-not-satisfiable")
    with pytest.raises(RangeNotSatisfiable):
        patient._request("GET", _archive_url(job), headers={"Range": "bytes=999999999-"})


def test_nobody_but_its_owner_sees_or_downloads_a_job(
    connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    patient = _space(connect, enrol)
    job = _done(patient, patient.start_export(PATIENT.id))
    url = f"/v1/spaces/{PATIENT.id}/exports/{job['job_id']}"
    missing = f"/v1/spaces/{PATIENT.id}/exports/00000000-0000-4000-8000-000000000000"
    for stranger in (connect(HOSPITAL), connect(NEW_PATIENT)):
        for path in (url, f"{url}/archive"):
            seen, unknown = _get(stranger, path), _get(stranger, missing)
            assert seen.status_code == unknown.status_code == 404
            assert seen.json()["type"] == unknown.json()["type"]
            assert seen.json()["type"].endswith("/unknown-export")
        with pytest.raises(UnknownExport):
            stranger.delete_export(PATIENT.id, job["job_id"])
    # the owner, under another space's path: the same 404
    with pytest.raises(UnknownExport):
        patient.export_job(NEW_PATIENT.id, job["job_id"])
    assert patient.export_job(PATIENT.id, job["job_id"])["state"] == "done"  # still there


def test_expiry_and_the_owners_deletion_remove_the_archive(
    coffre: Coffre, connect: Connect, enrol: Enrol
) -> None:
    patient = _space(connect, enrol)
    jobs = _jobs(coffre)
    job = _done(patient, patient.start_export(PATIENT.id))
    archive = jobs.directory / f"{job['job_id']}.zip"
    assert archive.is_file()
    assert jobs.sweep() == 0  # not yet
    assert jobs.sweep(coffre.vault.clock.now() + jobs.ttl + timedelta(seconds=1)) == 1
    assert not archive.exists()
    assert patient.export_job(PATIENT.id, job["job_id"])["state"] == "expired"
    with pytest.raises(ExportNotReady):
        patient.download_export(PATIENT.id, job, BytesSink())

    again = _done(patient, patient.start_export(PATIENT.id))
    archive = jobs.directory / f"{again['job_id']}.zip"
    assert archive.is_file()
    patient.delete_export(PATIENT.id, again["job_id"])
    assert not archive.exists()
    assert patient.export_job(PATIENT.id, again["job_id"])["state"] == "expired"


class BytesSink:
    """A sink that keeps nothing (the download must be refused before any byte)."""

    def write(self, data: bytes) -> int:
        raise AssertionError("nothing should be written")


@pytest.mark.parametrize("found_by", ["its stale heartbeat", "the sole server"])
def test_a_job_cut_by_a_restart_ends_failed_and_leaves_nothing(
    coffre: Coffre, connect: Connect, enrol: Enrol, found_by: str
) -> None:
    patient = _space(connect, enrol)
    jobs = _jobs(coffre)
    gate, assemble = threading.Event(), jobs.assemble
    jobs.assemble = lambda *args: gate.wait(30) and assemble(*args)
    job = patient.start_export(PATIENT.id)
    try:
        _wait(lambda: patient.export_job(PATIENT.id, job["job_id"])["state"] == "running")
        # the process "restarts": another one starts on the same database, and finds a
        # job whose process stopped beating (at once, for the test), or knows itself
        # the only server (``coffre.asgi.create``, embedded) whose jobs' processes died
        stale = timedelta(0) if found_by == "its stale heartbeat" else timedelta(minutes=5)
        restarted = build(coffre.settings.model_copy(update={"export_stale_after": stale}))
        try:
            if found_by == "the sole server":
                assert _jobs(restarted).get(job["job_id"], PATIENT).state == "running"
                assert _jobs(restarted).sweep(sole=True) == 1
            assert _jobs(restarted).get(job["job_id"], PATIENT).state == "failed"
        finally:
            restarted.close()
    finally:
        gate.set()
    # the cut worker notices, stops and leaves no file behind
    _wait(lambda: not any(jobs.directory.glob(f"{job['job_id']}*")))
    ended = patient.export_job(PATIENT.id, job["job_id"])
    assert (ended["state"], ended["error"]) == ("failed", "interrupted")
    _wait(lambda: _done(patient, patient.start_export(PATIENT.id))["state"] == "done")


def _wait(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def test_the_export_is_an_act_of_the_patients_access_log(
    connect: Connect, enrol: Enrol, tmp_path: Path
) -> None:
    patient = _space(connect, enrol)
    patient.export(PATIENT.id, tmp_path / "mine.zip", poll=0.05)
    connect(REGISTRY).add_representative(
        PATIENT.id,
        GUARDIAN.id,
        GUARDIAN.name,
        "guardian",
        datetime.now(UTC) + timedelta(days=365),
        **COURT,
    )
    guardian = connect(GUARDIAN)
    enrol(guardian, GUARDIAN)
    guardian.export(PATIENT.id, tmp_path / "theirs.zip", poll=0.05)

    # the per-document reads are recorded as ever: one per document per export (views
    # are eventual where projections run apart: the guardian's export waited for none)
    _wait(lambda: len(list(patient.access_log_entries(PATIENT.id, action="read"))) >= 2 * DOCUMENTS)
    assert len(list(patient.access_log_entries(PATIENT.id, action="read"))) == 2 * DOCUMENTS
    exports = list(patient.access_log_entries(PATIENT.id, action="export"))
    assert [e["actor"]["id"] for e in exports] == [GUARDIAN.id, PATIENT.id]  # newest first
    assert all(e["detail"]["documents"] == DOCUMENTS for e in exports)
    assert exports[0]["how"] == "representative"
    # and the patient's own archive carries its export act, proved in the trail
    with zipfile.ZipFile(tmp_path / "mine.zip") as opened:
        log = [json.loads(line) for line in opened.read("access_log.ndjson").splitlines()]
        proved = [json.loads(line) for line in opened.read("trail/entries.ndjson").splitlines()]
    act = [row for row in log if row["action"] == "export"]
    assert [row["actor_id"] for row in act] == [PATIENT.id]
    (leaf,) = [p for p in proved if p["entry_id"] == act[0]["entry_id"]]
    entry = json.loads(leaf["entry"])
    assert (entry["event"], entry["actor"]["id"]) == ("Access.Exported", PATIENT.id)


def test_the_cli_downloads_an_export_with_its_progress(
    connect: Connect, enrol: Enrol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = _space(connect, enrol)
    # the command's client, served in process (its reader key is the enrolled device's)
    monkeypatch.setattr(cli_exports, "client", lambda *args: contextlib.nullcontext(patient))
    target = tmp_path / "cli.zip"
    result = CliRunner().invoke(cli, ["export", "download", PATIENT.id, str(target)])
    assert result.exit_code == 0, result.output
    assert f"{DOCUMENTS} documents" in result.output
    assert "SHA-256 checked" in result.output
    assert verify_archive(target, patient.trail_keys(), patient.reader_key).documents == DOCUMENTS

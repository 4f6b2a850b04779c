"""Documents of every size through a real server, on both backends, in flat memory.

The server is ``coffre serve`` (uvicorn) in a subprocess; the client is the SDK. The
200 MiB round trip runs in a client subprocess of its own so that its peak memory is
measured alone: the growth of its resident set from before the transfers to its peak
(the interpreter and libraries it had loaded before are not the transfer's).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from domain.values import Actor, patient_id_from_number
from keys.master import MasterKeys
from tests.devices import ENROLMENT, enrol_client
from tests.scenarios.conftest import BACKENDS
from tests.served import serve, server_env
from vault.tokens import TokenAuthority
from wire.values import Role

MIB = 1024 * 1024
LIMIT = 64 * MIB
PATIENT = Actor(Role.PATIENT, patient_id_from_number("1790533123456"), "Louise Bernard")
HOSPITAL = Actor(Role.SERVICE, "chu-nantes", "CHU de Nantes", organisation="CHU de Nantes")


@dataclass
class Served:
    """A running server, tokens it accepts, and the patient's reader key."""

    url: str
    log: Path
    hospital_token: str
    patient_token: str
    reader_key_path: Path


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """A server on one backend pairing, with a provisioned patient holding a reader key."""
    master = MasterKeys.generate()
    env = server_env(request, request.param, tmp_path / "data", master.current.to_line())
    tokens = TokenAuthority.from_seed("coffre", master.derive("token-signing"))
    log = tmp_path / "server.log"
    with serve(env, log) as (url, _):
        hospital_token, patient_token = tokens.mint(HOSPITAL), tokens.mint(PATIENT)
        with CoffreClient(url, hospital_token) as hospital:
            hospital.provision(PATIENT.id)
        reader = ReaderKey.generate()
        reader.save(tmp_path / "reader.key")
        with (
            CoffreClient(url, patient_token, reader_key=reader) as patient,
            CoffreClient(url, tokens.mint(ENROLMENT)) as enrolment,
        ):
            enrol_client(patient, PATIENT, enrolment)
        yield Served(url, log, hospital_token, patient_token, tmp_path / "reader.key")


@pytest.mark.parametrize("size", [0, 1, MIB])
def test_small_round_trips(served: Served, size: int) -> None:
    plaintext = os.urandom(size)
    with CoffreClient(served.url, served.hospital_token) as hospital:
        document_id, version = hospital.deposit(
            PATIENT.id, plaintext, type="lab_result", title=f"{size} bytes", date=date(2026, 10, 1)
        )
    assert version == 1
    reader = ReaderKey.load(served.reader_key_path)
    with CoffreClient(served.url, served.patient_token, reader_key=reader) as patient:
        out = io.BytesIO()
        patient.read(PATIENT.id, document_id, out)
    assert out.getvalue() == plaintext


def test_a_200_mib_round_trip_in_flat_client_memory(served: Served, tmp_path: Path) -> None:
    size = 200 * MIB
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.scenarios.transfer_client",
            "--url",
            served.url,
            "--patient",
            PATIENT.id,
            "--size",
            str(size),
            "--out",
            str(tmp_path / "out.bin"),
            "--reader-key",
            str(served.reader_key_path),
        ],
        env={
            **os.environ,
            "DEPOSITOR_TOKEN": served.hospital_token,
            "PATIENT_TOKEN": served.patient_token,
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    growth = report["rss_peak"] - report["rss_before"]
    print(
        f"client RSS for 200 MiB: {report['rss_before'] / MIB:.1f} -> "
        f"{report['rss_peak'] / MIB:.1f} MiB (+{growth / MIB:.1f} MiB)"
    )
    assert report["sent"] == report["received"]
    assert (tmp_path / "out.bin").stat().st_size == size
    assert report["rss_peak"] < LIMIT  # the whole client process, not just its growth
    # The server logged the transfers without a token in sight.
    server_log = served.log.read_text()
    assert served.hospital_token not in server_log and served.patient_token not in server_log

"""Rows 1, 2 and 11: documents through the SDK and a served API, against raw S3.

Rows 1 and 2 time whole SDK calls (``CoffreClient.deposit``: encrypt, upload, record;
``CoffreClient.read``: authorise, record, release the key, fetch, decrypt) against the
bare ``minio`` client putting the same bytes to, and getting the same object from, the
same S3 server. The SDK fetches the ciphertext straight from S3 by the presigned URL the
read hands out (``COFFRE_S3_PRESIGN``, on by default), not through the API. Each
repetition alternates ours and the baseline.

Row 11 runs the client in a process of its own (``bench.memclient``) so that its peak
resident set is the transfer's, and reads the server's peak from ``/proc`` after
resetting it (``clear_refs``) once the server is warm.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from contextlib import suppress
from pathlib import Path

from bench.cli import Options
from bench.deploy import deployment
from bench.deploy import deposit as sdk_deposit
from bench.env import ROOT, BenchEnv, process_tree_rss, quick_ack_baseline
from bench.report import Report, Row
from bench.sinks import NullSink
from bench.timing import interleaved, median
from client.sdk import CoffreClient

MIB = 1024 * 1024

DESCRIBE = {
    "1": ("deposit through the SDK (encrypt, store, record)", "MiB/s", ">=", 0.8, "ratio"),
    "2": (
        "read through the SDK (authorise, record, release, presigned fetch, decrypt)",
        "MiB/s",
        ">=",
        0.5,
        "ratio",
    ),
}
DESCRIBE_MEMORY = {
    "11a": ("peak client RSS, 1 GiB deposit + read", "MiB", "<=", 64, "value"),
    "11b": ("peak server RSS, 1 GiB deposit + read", "MiB", "<=", 128, "value"),
}


def _blob_of(env: BenchEnv, dbname: str, document_id: uuid.UUID) -> str:
    with env.connect(dbname) as conn:
        row = conn.execute(
            "SELECT convert_from(state, 'UTF8')::json->>'blob' FROM vault_events "
            "WHERE topic = 'domain.space:Space.Deposited' "
            "AND convert_from(state, 'UTF8')::json->'document_id'->>'_data_' = %s",
            [document_id.hex],
        ).fetchone()
    assert row is not None, "the deposit is not recorded"
    return str(row[0])


def run_throughput(env: BenchEnv, report: Report, opts: Options) -> None:
    """Rows 1 and 2."""
    size = opts.transfer_mib * MIB
    reps = 4 if opts.quick else 12
    data = os.urandom(size)
    minio = env.minio()
    with deployment(env, "transfer") as deploy:
        patient = deploy.patients[0]
        # warm both paths (first bucket operations on RGW are slow)
        document_id = sdk_deposit(deploy, patient, data)
        minio.put_object(deploy.bucket, "warmup", io.BytesIO(data), len(data))
        hospital = CoffreClient(deploy.url, deploy.hospital_token)
        reader = CoffreClient(deploy.url, patient.token, reader_key=patient.reader)
        try:
            names = iter(range(10**6))

            def ours_put() -> None:
                hospital.deposit(
                    patient.actor.id, data, type="lab_result", title="Bilan", date="2026-10-01"
                )

            def raw_put() -> None:
                minio.put_object(deploy.bucket, f"raw-{next(names)}", io.BytesIO(data), len(data))

            put, put_base = interleaved(ours_put, raw_put, reps)
            report.add(
                Row(
                    "1",
                    DESCRIBE["1"][0],
                    "MiB/s",
                    size / MIB / median(put),
                    size / MIB / median(put_base),
                    "raw minio put, same bytes",
                    ">=",
                    DESCRIBE["1"][3],
                    notes=[
                        f"{opts.transfer_mib} MiB documents, median of {reps} each; the raw "
                        + (
                            "put asks for quick ACKs as Coffre's S3 client does"
                            if quick_ack_baseline()
                            else "put is minio's plain client (waits on RGW's delayed ACKs)"
                        )
                    ],
                )
            )

            blob = _blob_of(env, deploy.dbname, document_id)

            def ours_get() -> None:
                reader.read(patient.actor.id, document_id, NullSink())

            def raw_get() -> None:
                response = minio.get_object(deploy.bucket, blob)
                try:
                    for _ in response.stream(64 * 1024):
                        pass
                finally:
                    response.close()
                    response.release_conn()

            ours_get()
            get, get_base = interleaved(ours_get, raw_get, reps)
            report.add(
                Row(
                    "2",
                    DESCRIBE["2"][0],
                    "MiB/s",
                    size / MIB / median(get),
                    size / MIB / median(get_base),
                    "raw minio get, same object",
                    ">=",
                    DESCRIBE["2"][3],
                    notes=[
                        f"{opts.transfer_mib} MiB documents, median of {reps} each; the SDK "
                        "GETs the ciphertext from S3 by presigned URL (no relay by the API)"
                    ],
                )
            )
        finally:
            hospital.close()
            reader.close()


def _reset_peak(pid: int) -> None:
    with suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def run_memory(env: BenchEnv, report: Report, opts: Options) -> None:
    """Row 11: a 1 GiB document deposited and read, in flat memory on both sides."""
    size = opts.memory_mib * MIB
    with deployment(env, "memory") as deploy:
        patient = deploy.patients[0]
        pid = deploy.served.process.pid
        # warm the server: imports, pools, the first S3 calls
        small = sdk_deposit(deploy, patient, os.urandom(MIB))
        with CoffreClient(deploy.url, patient.token, reader_key=patient.reader) as client:
            client.read(patient.actor.id, small, NullSink())
        server_idle, _ = process_tree_rss(pid)
        _reset_peak(pid)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.memclient",
                "--url",
                deploy.url,
                "--patient",
                patient.actor.id,
                "--size",
                str(size),
                "--reader-key",
                str(patient.key_path),
            ],
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "DEPOSITOR_TOKEN": deploy.hospital_token,
                "PATIENT_TOKEN": patient.token,
            },
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
            cwd=ROOT,
        )
        if result.returncode != 0:
            raise RuntimeError(f"memory client failed: {result.stderr[-2000:]}")
        client_report = json.loads(result.stdout.strip().splitlines()[-1])
        _, server_peak = process_tree_rss(pid)
    label = f"{opts.memory_mib} MiB" if opts.memory_mib < 1024 else f"{opts.memory_mib // 1024} GiB"
    report.add(
        Row(
            "11a",
            f"peak client RSS, {label} deposit + read (whole process)",
            "MiB",
            max(client_report["peak_deposit"], client_report["peak_read"]) / MIB,
            client_report["before"] / MIB,
            "client RSS before the transfers",
            "<=",
            64,
            "value",
            notes=[
                f"client peaks: deposit {client_report['peak_deposit'] / MIB:.1f} MiB, "
                f"read {client_report['peak_read'] / MIB:.1f} MiB; "
                f"{client_report['deposit_s']:.1f} s + {client_report['read_s']:.1f} s"
            ],
        )
    )
    report.add(
        Row(
            "11b",
            f"peak server RSS, {label} deposit + read (coffre serve)",
            "MiB",
            server_peak / MIB,
            server_idle / MIB,
            "server RSS when warm, before",
            "<=",
            128,
            "value",
        )
    )

"""``python -m bench.soak`` in its quick mode keeps working (issue 16): it deploys two
workers and a projection worker, runs every operation of the mix, reports each one with
its percentiles and the processes' resident sizes, and counts no error. Speed is not
asserted; the time limit only catches a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.soak_load import OPS

ROOT = Path(__file__).resolve().parents[2]
#: the whole run, deployment included; the load itself lasts 15 s
HANG = 90.0
#: in the bench's port range, apart from a full soak's 18400-18401
PORT = 18410

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]


def test_quick_soak_runs_every_operation_without_error(
    pg_server: str, s3_server: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "soak.json"
    env = {
        **os.environ,
        "COFFRE_TEST_PG": pg_server,
        "COFFRE_TEST_S3_ENDPOINT": s3_server["endpoint"],
        "COFFRE_TEST_S3_ACCESS_KEY": s3_server["access_key"],
        "COFFRE_TEST_S3_SECRET_KEY": s3_server["secret_key"],
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "bench.soak", "--minutes", "0.25", "--workers", "2"]
    command += ["--clients", "2", "--patients", "2", "--professionals", "1", "--max-size", "0.25"]
    command += ["--every", "5", "--sample", "1", "--warmup", "0", "--port", str(PORT)]
    command += ["--json", str(out)]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG, check=False
    )
    print(result.stdout)
    print(f"the quick soak took {time.monotonic() - started:.0f} s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["operations"]) == set(OPS)
    for op, row in report["operations"].items():
        assert row["count"] > 0, op
        assert row["errors"] == {}, (op, row["errors"])
        assert 0 < row["p50_ms"] <= row["p99_ms"], (op, row)
    assert report["verdict"]["errors"] == 0 and report["verdict"]["pass"]
    samples = report["rss"]
    assert len(samples) >= 5
    # two uvicorn workers under the master, each with its resident size
    assert all(len(s["workers"]) == 2 and all(s["workers"].values()) for s in samples)
    assert all(s["master"] > 0 and s["projections"] > 0 for s in samples)
    assert "VERDICT: PASS" in result.stdout and "| deposit |" in result.stdout

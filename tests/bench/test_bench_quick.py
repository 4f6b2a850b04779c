"""``python -m bench --quick`` keeps working: it completes and every row of the table has
a value. Speed is not asserted (shared CI machines): the time limit only catches a hang,
and the time taken is printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: a hang, not a slow run: the quick bench takes about a minute on a quiet machine
HANG = 900.0

#: every row the issue lists (3, 11 and 13 as two sub-rows each, 12 as four), and 6b
EXPECTED = {"1", "2", "3a", "3b", "4", "5", "6", "6b", "7", "8", "9", "10", "11a", "11b", "14"}
EXPECTED |= {"12a", "12b", "12c", "12d", "13a", "13b"}

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]


def test_quick_bench_measures_every_row(
    pg_server: str, s3_server: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    env = {
        **os.environ,
        "COFFRE_TEST_PG": pg_server,
        "COFFRE_TEST_S3_ENDPOINT": s3_server["endpoint"],
        "COFFRE_TEST_S3_ACCESS_KEY": s3_server["access_key"],
        "COFFRE_TEST_S3_SECRET_KEY": s3_server["secret_key"],
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG,
        check=False,
    )
    elapsed = time.monotonic() - started
    print(result.stdout)
    print(f"the quick bench took {elapsed:.0f} s")
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(out.read_text())
    rows = {row["id"]: row for row in report["rows"]}
    assert set(rows) == EXPECTED
    for row in rows.values():
        assert row["error"] is None, row
        assert row["value"] is not None and row["value"] > 0, row
        assert row["baseline"] is not None and row["baseline"] > 0, row
    assert "| 1 |" in result.stdout and "| 11b |" in result.stdout

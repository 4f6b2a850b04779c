"""The soak's verdict (``bench.soak_report``): flat memory, no error, every operation
run, and the same worker processes throughout. A quick soak in CI once had a worker
replaced as it began; its replacement's warm-up read as growth and nothing said why."""

from __future__ import annotations

from pathlib import Path

from bench.soak_report import MIB, Sample, replaced_workers, verdict, verdict_text

TABLE = {"read": {"count": 10, "errors": {}}}


def _samples(workers: list[dict[int, int]]) -> list[Sample]:
    return [
        Sample(float(t), 26 * MIB, w, 13 * MIB, 100 * MIB, 90 * MIB) for t, w in enumerate(workers)
    ]


def test_the_same_workers_at_a_steady_size_pass() -> None:
    result = verdict(TABLE, _samples([{1: 110 * MIB, 2: 110 * MIB}] * 12), 0.0)
    assert result["pass"] and result["worker_sets"] == 1
    assert "VERDICT: PASS" in verdict_text(result)


def test_a_replaced_worker_fails_the_soak_and_says_so() -> None:
    # the first worker replaced early; the new one is at its final size at once, so the
    # memory alone would pass
    workers = [{1: 110 * MIB, 2: 110 * MIB}] * 2 + [{3: 110 * MIB, 2: 110 * MIB}] * 10
    result = verdict(TABLE, _samples(workers), 0.0)
    assert result["server_memory"]["flat"]
    assert not result["pass"] and result["worker_sets"] == 2
    text = verdict_text(result)
    assert "killed by uvicorn's supervisor" in text and "VERDICT: FAIL" in text


def test_the_supervisor_s_lines_are_quoted_from_the_server_log(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    log.write_text(
        "INFO:     Started server process [11]\n"
        '{"event": "request", "level": "info"}\n'
        "INFO:     Child process [11] died\n"
        "ERROR:    New child process [12] was not ready in time; keeping worker [13]\n"
    )
    assert replaced_workers(log) == [
        "INFO:     Child process [11] died",
        "ERROR:    New child process [12] was not ready in time; keeping worker [13]",
    ]
    assert replaced_workers(tmp_path / "absent.log") == []

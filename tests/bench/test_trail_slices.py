"""``python -m bench.trail_slices`` refuses slice sizes that make no sense before it
touches a database (a zero or negative slice would divide by nothing or never print)."""

from __future__ import annotations

import pytest

from bench.trail_slices import main


@pytest.mark.parametrize(
    "argv",
    [
        ["--slice", "0"],
        ["--slice", "-5"],
        ["--events", "0"],
        ["--events", "1000", "--slice", "1001"],
        ["--events", "1e6"],
        ["--slice", ""],
    ],
)
def test_bad_sizes_are_refused_with_a_usage_error(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COFFRE_BENCH_PG", "host=192.0.2.1 connect_timeout=1")  # never reached
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage: python -m bench.trail_slices" in capsys.readouterr().err

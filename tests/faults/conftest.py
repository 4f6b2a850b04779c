"""The fault tier's terminal summary: the line each fault test recorded about what it
injected and checked (``record_property`` or ``tests.faults.harness.report``), shown
with or without ``-s``, passed or failed."""

from __future__ import annotations

from _pytest.terminal import TerminalReporter

#: the properties fault tests record their report under
REPORTED = ("faults", "cluster_fuzz")


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """List the fault tests' reports at the end of the run."""
    lines = [
        f"{report.nodeid}: {value}"
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name in REPORTED
    ]
    if lines:
        terminalreporter.section("faults injected")
        for line in lines:
            terminalreporter.write_line(line)

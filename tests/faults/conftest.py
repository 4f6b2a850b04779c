"""The fault tier's terminal summary: the line each fault test printed about what it
injected and checked (``tests.faults.harness.report``), shown with or without ``-s``."""

from __future__ import annotations

from _pytest.terminal import TerminalReporter

from tests.faults.harness import REPORTS


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """List the fault tests' reports at the end of the run."""
    if REPORTS:
        terminalreporter.section("faults injected")
        for line in REPORTS:
            terminalreporter.write_line(line)

"""The one table every benchmark row lands in, printed and written as JSON.

A row says what was measured (``value``), what it was measured against in the same run
(``baseline``), their ratio and the target the ratio (or, for memory, the value) must
meet. Ratios are what matter on a shared, noisy machine: absolute figures move with the
neighbours, ratios much less.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

#: "" : no target, the figure is only printed (row 14)
Op = Literal[">=", "<=", ""]


@dataclass
class Row:
    """One line of the table."""

    id: str
    figure: str
    unit: str
    value: float | None
    baseline: float | None
    baseline_label: str
    op: Op
    target: float
    #: what the target applies to: the ratio value/baseline, or the value itself
    on: Literal["ratio", "value"] = "ratio"
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ratio(self) -> float | None:
        """value / baseline, or None when either is missing."""
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def checked(self) -> float | None:
        """The number the target applies to."""
        return self.ratio if self.on == "ratio" else self.value

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None when the row has no value)."""
        x = self.checked
        if x is None or math.isnan(x) or not self.op:
            return None
        return x >= self.target if self.op == ">=" else x <= self.target

    def target_text(self) -> str:
        """The target as the issue writes it."""
        unit = f" {self.unit}" if self.on == "value" else ""
        if not self.op:
            return "none"
        return f"{self.op.replace('>=', '≥').replace('<=', '≤')} {_num(self.target)}{unit}"

    def to_json(self) -> dict[str, Any]:
        """The row with its derived fields."""
        data = asdict(self)
        data.update(ratio=self.ratio, met=self.met, target_text=self.target_text())
        return data


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def machine() -> dict[str, Any]:
    """What the run ran on: cores, RAM, Python, PostgreSQL (filled in by the runner)."""
    mem = 0
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = ""
    with contextlib.suppress(OSError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": commit,
    }


@dataclass
class Report:
    """Every row of one run, with the machine and the run's settings."""

    mode: str
    rows: list[Row] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=machine)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        """Append a row (and show it at once: long runs should say how they go)."""
        self.rows.append(row)

    def table(self, markdown: bool = True) -> str:
        """The table, as Markdown (the same text is printed and goes to the README)."""
        head = ["#", "figure", "ours", "baseline (same run)", "ratio", "target", "met"]
        lines = [
            "| " + " | ".join(head) + " |",
            "|" + "|".join("---" for _ in head) + "|",
        ]
        for row in self.rows:
            if row.error:
                ours, base, ratio, met = "ERROR", "—", "—", "✗"
            else:
                ours = f"{_num(row.value)} {row.unit}"
                base = (
                    f"{_num(row.baseline)} {row.unit} ({row.baseline_label})"
                    if row.baseline is not None
                    else row.baseline_label
                )
                ratio = _num(row.ratio)
                met = {True: "✓", False: "✗", None: "?" if row.op else "—"}[row.met]
            lines.append(
                f"| {row.id} | {row.figure} | {ours} | {base} | {ratio} | {row.target_text()} "
                f"| {met} |"
            )
        return "\n".join(lines)

    def notes(self) -> str:
        """Per-row notes and errors, as a list under the table."""
        out = []
        for row in self.rows:
            for note in row.notes:
                out.append(f"- **{row.id}**: {note}")
            if row.error:
                out.append(f"- **{row.id}** failed: {row.error}")
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        """The whole run as JSON-ready data."""
        return {
            "mode": self.mode,
            "started": self.started,
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "settings": self.settings,
            "rows": [row.to_json() for row in self.rows],
        }

    def write_json(self, path: Path) -> None:
        """Write :meth:`to_json` to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")

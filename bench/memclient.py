"""Row 11's client: deposit then read a large document through the SDK, alone in its
process, and print its peak resident set (``VmHWM``) per phase as one JSON line.

Tokens come from ``DEPOSITOR_TOKEN`` and ``PATIENT_TOKEN``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from bench.sinks import NullSink
from client.readerkey import ReaderKey
from client.sdk import CoffreClient

MIB = 1024 * 1024


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _source(size: int) -> Iterator[bytes]:
    block = os.urandom(MIB)
    sent = 0
    while sent < size:
        piece = block[: min(MIB, size - sent)]
        sent += len(piece)
        yield piece


def main() -> None:
    """Run the two transfers and print ``{before, peak_deposit, peak_read, ...}``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--patient", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--reader-key", required=True)
    args = parser.parse_args()
    reader = ReaderKey.load(args.reader_key)
    before = _status("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    with CoffreClient(args.url, os.environ["DEPOSITOR_TOKEN"], timeout=600) as hospital:
        document_id, _ = hospital.deposit(
            args.patient, _source(args.size), type="lab_result", title="big", date="2026-10-01"
        )
    deposit_s = time.perf_counter() - start
    peak_deposit = _status("VmHWM")
    _reset_peak()
    sink = NullSink()
    start = time.perf_counter()
    with CoffreClient(
        args.url, os.environ["PATIENT_TOKEN"], reader_key=reader, timeout=600
    ) as patient:
        patient.read(args.patient, document_id, sink)
    read_s = time.perf_counter() - start
    peak_read = _status("VmHWM")
    assert sink.size == args.size, (sink.size, args.size)
    print(
        json.dumps(
            {
                "before": before,
                "peak_deposit": peak_deposit,
                "peak_read": peak_read,
                "deposit_s": deposit_s,
                "read_s": read_s,
            }
        )
    )


if __name__ == "__main__":
    main()

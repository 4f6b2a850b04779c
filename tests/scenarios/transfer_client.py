"""A client process that deposits and reads one large document, measuring its memory.

Run by ``test_transfers.py`` as a subprocess so that its peak RSS is the client's
alone. Prints one JSON line: digests of what was sent and received, and the resident
set size before the transfers and at its peak. (tracemalloc is not used: its own
bookkeeping inflates the very RSS being measured.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from client.readerkey import ReaderKey
from client.sdk import CoffreClient

MIB = 1024 * 1024
#: what a caller typically hands the SDK at a time (a file read of 64 KiB)
PIECE = 64 * 1024


def rss_bytes() -> int:
    """The current resident set size of this process."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """The peak resident set size of this process image (VmHWM).

    Not ``getrusage``: its ``ru_maxrss`` survives ``execve``, so a child of a large
    process (pytest) would report its parent's peak.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def generate(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    """``size`` random bytes in 64 KiB pieces, hashed as they are produced."""
    left = size
    while left > 0:
        piece = os.urandom(min(PIECE, left))
        digest.update(piece)
        left -= len(piece)
        yield piece


def main() -> None:
    """Deposit as the depositor, read back as the patient, report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--patient", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reader-key", type=Path, required=True)
    args = parser.parse_args()
    depositor_token = os.environ["DEPOSITOR_TOKEN"]
    patient_token = os.environ["PATIENT_TOKEN"]

    reader = ReaderKey.load(args.reader_key)
    sent = hashlib.sha256()
    rss_before = rss_bytes()
    with CoffreClient(args.url, depositor_token, timeout=120) as depositor:
        document_id, _ = depositor.deposit(
            args.patient,
            generate(args.size, sent),
            type="imaging_report",
            title="Scanner thoracique",
            date=date(2026, 10, 30),
        )
    rss_after_deposit = peak_rss_bytes()
    with CoffreClient(args.url, patient_token, reader_key=reader, timeout=120) as patient:
        patient.read(args.patient, document_id, args.out)
    received = hashlib.sha256()
    with args.out.open("rb") as result:
        while piece := result.read(MIB):
            received.update(piece)
    print(
        json.dumps(
            {
                "sent": sent.hexdigest(),
                "received": received.hexdigest(),
                "rss_before": rss_before,
                "rss_peak_after_deposit": rss_after_deposit,
                "rss_peak": peak_rss_bytes(),
            }
        )
    )


if __name__ == "__main__":
    main()

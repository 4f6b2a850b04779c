"""Coffre's client wing: the SDK, the reader key, the offline trail verifier, the CLI's
client commands.

It imports only ``wire`` (the contracts both sides share), the standard library, PyNaCl,
httpx, typer and rich: installing the client alone (``pip install coffre``, without the
``server`` extra) brings none of the server's packages.

::

    from client import CoffreClient, ReaderKey

    with CoffreClient(url, token, reader_key=ReaderKey.load(path)) as coffre:
        document_id, version = coffre.deposit(patient_id, "report.pdf", type="lab_result",
                                              title="Bilan", date="2026-01-05")
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CoffreClient", "Progress", "ReaderKey", "error_from_problem"]

# Resolved on first use (PEP 562): importing ``client.trail_verify`` alone must not
# import the SDK's HTTP stack (the offline verifier needs no network library at all).
_HOMES = {
    "CoffreClient": "client.sdk",
    "Progress": "client.shapes",
    "ReaderKey": "client.readerkey",
    "error_from_problem": "client.problems",
}


def __getattr__(name: str) -> Any:
    """``from client import CoffreClient`` and the like, imported when first asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module 'client' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)

"""The HTTP connections of the S3 blob store: urllib3's, acknowledging S3's answers at
once (``TCP_QUICKACK``) instead of after the kernel's delayed-ACK timer.

Why: Ceph RGW's beast frontend does not set ``TCP_NODELAY`` unless configured to
(``rgw frontends = beast ... tcp_nodelay=1``), and writes an answer's headers and its
body separately. Nagle's algorithm then holds the body until the headers are
acknowledged, and Linux delays that acknowledgement (about 40 ms) on a connection in
request/answer rhythm. Every S3 call that answers a body (CreateMultipartUpload,
ListParts, CompleteMultipartUpload, a ranged GET) took ~45 ms on an idle RGW, against
2-13 ms with the acknowledgement sent at once (bench/README.md, row 1). Quick-ACK mode
is not sticky (the kernel leaves it on its own), so it is asked for again before each
answer is read. Elsewhere than Linux, or on a gateway that sets ``TCP_NODELAY``, this
changes nothing.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["pool_manager"]

#: absent outside Linux
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def _quick_ack(sock: socket.socket | None) -> None:
    if _QUICKACK is None or sock is None:
        return
    # not a TCP socket (a proxy's tunnel, say): nothing to gain
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


class _QuickAckHTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:
        _quick_ack(self.sock)
        return super().getresponse()


class _QuickAckHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        # the TLS socket wraps the TCP one: the option applies to the same descriptor
        _quick_ack(self.sock)  # type: ignore[arg-type]
        return super().getresponse()


class _QuickAckHTTPPool(HTTPConnectionPool):
    ConnectionCls = _QuickAckHTTPConnection


class _QuickAckHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _QuickAckHTTPSConnection


def pool_manager(**kwargs: Any) -> urllib3.PoolManager:
    """A ``urllib3.PoolManager`` (same arguments) whose connections acknowledge each
    answer at once."""
    manager = urllib3.PoolManager(**kwargs)
    manager.pool_classes_by_scheme = {"http": _QuickAckHTTPPool, "https": _QuickAckHTTPSPool}
    return manager

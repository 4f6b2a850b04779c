"""A pre-forking supervisor for the worker-kill test: ``python -m tests.faults.forkserve
PORT WORKERS``.

It serves Coffre's own ASGI factory (``coffre.asgi:create``) with uvicorn, as
``coffre serve`` does, but imports the application once and *forks* each worker,
replacing any that dies. uvicorn's own supervisor spawns a fresh interpreter per worker
(~1.5 s of CPU importing the application, ten times that on a loaded machine), which is
what 50 restarts cannot afford. Each worker still builds its own application (database
pools, S3 client, key store) after the fork, exactly as a uvicorn worker does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from types import FrameType

import uvicorn

import coffre.asgi  # noqa: F401 - imported before the forks: what they save

children: set[int] = set()


def _serve(sock: socket.socket) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    config = uvicorn.Config(
        "coffre.asgi:create", factory=True, access_log=False, server_header=False
    )
    uvicorn.Server(config).run(sockets=[sock])


def _spawn(sock: socket.socket) -> None:
    pid = os.fork()
    if pid == 0:
        try:
            _serve(sock)
        finally:
            os._exit(0)
    children.add(pid)


def _stop(signum: int, frame: FrameType | None) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in list(children):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    os._exit(0)


def main() -> None:
    """Bind the port, fork the workers, replace each one that dies until SIGTERM."""
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for _ in range(workers):
        _spawn(sock)
    while True:
        pid, _ = os.wait()
        children.discard(pid)
        _spawn(sock)


if __name__ == "__main__":
    main()

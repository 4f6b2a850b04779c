"""A real ``coffre serve`` for the upload and housekeeping tests, and raw HTTP by socket.

Stalled uploads are written by hand on sockets: an HTTP client would not announce
2 GiB, send a few kilobytes and then go quiet, which is what an attacker does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from client.sdk import CoffreClient
from domain.values import Actor, patient_id_from_number
from keys.master import MasterKeys
from tests.served import serve, server_env
from vault.tokens import TokenAuthority
from wire.envelope import DataKey, encrypt
from wire.values import Role

MIB = 1024 * 1024
PATIENT = Actor(Role.PATIENT, patient_id_from_number("1850575123456"), "Inès Moreau")
HOSPITAL = Actor(Role.SERVICE, "chu-rennes", "CHU de Rennes", organisation="CHU de Rennes")
CLINIC = Actor(Role.SERVICE, "clinique-est", "Clinique de l'Est", organisation="Clinique")


@dataclass
class Running:
    """A server on one backend, with a provisioned patient and tokens it accepts."""

    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    backend: str
    env: dict[str, str]
    tokens: TokenAuthority

    def token(self, actor: Actor) -> str:
        """A bearer token for ``actor``."""
        return self.tokens.mint(actor)


@contextmanager
def running(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, extra: dict[str, str]
) -> Iterator[Running]:
    """``coffre serve`` on ``backend`` with ``extra`` settings; PATIENT's space provisioned."""
    master = MasterKeys.generate()
    data_dir = tmp_path / "data"
    env = server_env(request, backend, data_dir, master.current.to_line()) | extra
    tokens = TokenAuthority.from_seed("coffre", master.derive("token-signing"))
    log = tmp_path / "server.log"
    with serve(env, log) as (url, process):
        with CoffreClient(url, tokens.mint(HOSPITAL)) as hospital:
            hospital.provision(PATIENT.id)
        yield Running(url, process, data_dir, log, backend, env, tokens)


def envelope_prefix(size: int) -> bytes:
    """The first ``size``-odd bytes of a genuine Coffre envelope (passes the vault's check)."""
    pieces = encrypt(iter([os.urandom(size)]), DataKey.generate())
    return b"".join(pieces)[:size]


def open_upload(url: str, token: str, patient_id: str, body: bytes, declared: int) -> socket.socket:
    """Start ``POST .../uploads`` announcing ``declared`` bytes, send ``body``, then stop."""
    address = urlsplit(url)
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    head = (
        f"POST /v1/spaces/{patient_id}/uploads HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/octet-stream\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode("ascii") + body)
    return sock


@dataclass
class Answer:
    """What the server sent on a socket before it closed it."""

    status: int
    headers: dict[str, str]
    closed: bool


def read_answer(sock: socket.socket, within: float) -> Answer:
    """Read until the server closes the connection or ``within`` seconds pass."""
    sock.settimeout(within)
    data, closed = b"", False
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            piece = sock.recv(65536)
            if not piece:
                closed = True
                break
            data += piece
    except TimeoutError:
        pass
    except ConnectionResetError:
        closed = True
    finally:
        sock.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1]) if head and head[0].startswith("HTTP/") else 0
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in head[1:])
    }
    return Answer(status, headers, closed)


def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {within} s")


def fs_temporaries(data_dir: Path) -> list[Path]:
    """Temporary files of the file blob store (puts in progress or interrupted)."""
    return sorted((data_dir / "blobs").glob("*/*/.*.tmp"))


def s3_uploads(running: Running) -> list[str]:
    """Upload ids of the incomplete multipart uploads in the server's bucket."""
    from minio import Minio

    env = running.env
    client = Minio(
        env["COFFRE_S3_ENDPOINT"],
        access_key=env["COFFRE_S3_ACCESS_KEY"],
        secret_key=env["COFFRE_S3_SECRET_KEY"],
        secure=False,
    )
    page = client._list_multipart_uploads(env["COFFRE_S3_BUCKET"])
    return [upload.upload_id for upload in page.uploads if upload.upload_id]


def partial_blobs(running: Running) -> list[str]:
    """What an unfinished put holds on this server's backend."""
    if running.backend == "sqlite-fs":
        return [path.name for path in fs_temporaries(running.data_dir)]
    return s3_uploads(running)

"""Issue 9, item 12 (the server's edges): private files, checked ports and hosts, one
server per embedded data directory, and 413 declared wherever it can be answered.

(No ``__init__.py`` here: ``tests/served.py`` must stay the module ``tests.served``.)
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.middleware import MAX_FHIR_TRANSACTION
from client.sdk import CoffreClient
from coffre.bootstrap import build
from coffre.cli_admin import token_authority
from domain.values import Actor, patient_id_from_number
from tests.served import free_port, serve, serve_refused
from vault.settings import Settings
from wire.values import Role

PATIENT = Actor(Role.PATIENT, patient_id_from_number("2750133123456"), "Anne Roux")
HOSPITAL = Actor(Role.SERVICE, "chu-brest", "CHU de Brest", organisation="CHU de Brest")


def _env(data_dir: Path) -> dict[str, str]:
    return {"COFFRE_DATA_DIR": str(data_dir), "COFFRE_LOG_FORMAT": "json"}


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _coffre_serve(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``coffre serve ARGS`` on ``data_dir``, expected to exit (killed after 60 s)."""
    return serve_refused(_env(data_dir), *args)


# -- modes ---------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_the_data_directory_and_every_file_in_it_are_private(tmp_path: Path, umask: int) -> None:
    data_dir = tmp_path / "data"
    # The server inherits the umask it is started under.
    with _umask(umask), serve(_env(data_dir), tmp_path / "server.log") as (url, _):
        os.umask(0o022)
        tokens = token_authority(Settings(data_dir=data_dir))
        with CoffreClient(url, tokens.mint(HOSPITAL)) as hospital:
            hospital.provision(PATIENT.id)
            hospital.deposit(
                PATIENT.id, os.urandom(50_000), type="lab_result", title="NFS", date=date.today()
            )
        seen = _modes(data_dir)

    names = {path.name for path in seen}
    assert {"coffre.db", "coffre.db-wal", "master.keys"} <= names, names
    assert any(path.parent.parent.parent.name == "blobs" for path in seen)  # a blob file
    wrong = {str(path): f"{mode:04o}" for path, mode in seen.items() if mode != _private(path)}
    assert wrong == {}


def _modes(root: Path) -> dict[Path, int]:
    found = {root: stat.S_IMODE(root.stat().st_mode)}
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            path = Path(directory) / name
            found[path] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _private(path: Path) -> int:
    return 0o700 if path.is_dir() else 0o600


# -- ports and hosts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "99999"], "--port: 99999 is not a TCP port (1 to 65535)"),
        (["--port", "0"], "--port: 0 is not a TCP port (1 to 65535)"),
        (["--port", "-1"], "--port: -1 is not a TCP port (1 to 65535)"),
        (["--host", "999.1.2.3", "--port", "8123"], "does not resolve"),
        (["--host", "bad host", "--port", "8123"], "is not an IP address or a host name"),
    ],
)
def test_a_port_or_host_that_cannot_be_served_is_refused(
    tmp_path: Path, args: list[str], says: str
) -> None:
    result = _coffre_serve(tmp_path / "data", *args)
    assert result.returncode != 0
    assert says in " ".join(result.stderr.split())


def test_a_port_from_the_environment_is_checked_too(tmp_path: Path) -> None:
    result = serve_refused(_env(tmp_path / "data") | {"COFFRE_PORT": "70000"})
    assert result.returncode != 0
    assert "COFFRE_PORT: 70000 is not a TCP port" in " ".join(result.stderr.split())


# -- one server per data directory ---------------------------------------------------


def test_a_second_server_on_the_same_data_directory_is_refused_until_the_first_dies(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    with serve(_env(data_dir), tmp_path / "first.log") as (_, first):
        second = _coffre_serve(data_dir, "--port", str(free_port()))
        assert second.returncode == 1
        message = " ".join(second.stderr.split())
        assert str(data_dir.resolve()) in message
        assert f"in use by process {first.pid}" in message

        # The lock dies with its holder, however it dies.
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        with serve(_env(data_dir), tmp_path / "second.log") as (url, _):
            assert url


# -- 413 in the OpenAPI document -----------------------------------------------------


def test_413_is_declared_on_every_operation_that_can_answer_it(tmp_path: Path) -> None:
    coffre = build(Settings(data_dir=tmp_path / "data", opposition_period=timedelta(0)))
    try:
        app = create_app(coffre)
        with TestClient(app) as client:
            document = client.get("/openapi.json").json()
            token = coffre.tokens.mint(HOSPITAL)
            huge = b"{" + b" " * (300 * 1024) + b"}"
            # a FHIR transaction carries its envelopes inline: its own, larger bound
            huger = b"{" + b" " * (MAX_FHIR_TRANSACTION + 1) + b"}"
            checked = 0
            for template, operations in document["paths"].items():
                path = template.format(
                    patient_id=PATIENT.id,
                    document_id="8d7d6c2e-3b1a-4f9e-9a49-5d4d3f1e2a10",
                    grant_id="8d7d6c2e-3b1a-4f9e-9a49-5d4d3f1e2a10",
                    representative_id="x",
                    professional_id="x",
                    setting="x",
                    ticket="x",
                    key_id="x",
                    role="professional",
                    actor_id="x",
                    job_id="8d7d6c2e-3b1a-4f9e-9a49-5d4d3f1e2a10",
                )
                for method, operation in operations.items():
                    declared = "413" in operation["responses"]
                    body = huger if template == "/fhir" else huge
                    answer = client.request(
                        method,
                        path,
                        content=body,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                            "Content-Length": str(len(body)),
                        },
                    )
                    if method.upper() in {"POST", "PUT", "PATCH"}:
                        # Every body-bearing operation can be refused for its size...
                        assert declared, f"{method} {template}"
                        if not template.endswith("/uploads"):
                            assert answer.status_code == 413, f"{method} {template}"
                            checked += 1
                    else:
                        # ...and no other answers 413, so none declares it.
                        assert not declared, f"{method} {template}"
                        assert answer.status_code != 413, f"{method} {template}"
            register = document["paths"]["/v1/spaces/register"]["post"]["responses"]["413"]
            assert register["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
            assert checked >= 20
    finally:
        coffre.close()


def _get_health(sock: socket.socket) -> bytes:
    """One ``GET /v1/health`` on an open connection, read whole; its status line, or
    b"" if the server had closed the connection."""
    try:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            piece = sock.recv(4096)
            if not piece:
                return b""
            answer += piece
    except OSError:  # reset by the server
        return b""
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head.split(b"\r\n")[0]


def test_an_idle_connection_outlives_the_clients_keep_alive(tmp_path: Path) -> None:
    """Issue 16 (bench.soak): with uvicorn's 5 s, equal to the SDK's (httpx's) keep-alive
    expiry, a client reusing a connection idle just under 5 s raced the server's close
    and got a reset (6 in 43,135 operations). The server now keeps idle connections
    longer than clients and proxies do (COFFRE_KEEP_ALIVE_TIMEOUT, 75 s), and says so."""
    port = 18420  # within this test's port range; one server at a time
    with (
        serve(_env(tmp_path / "data"), tmp_path / "serve.log", port=port),
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
    ):
        assert _get_health(sock).startswith(b"HTTP/1.1 200")
        time.sleep(6.5)  # beyond uvicorn's default of 5 s
        assert _get_health(sock).startswith(b"HTTP/1.1 200")
    with (
        serve(
            _env(tmp_path / "short") | {"COFFRE_KEEP_ALIVE_TIMEOUT": "1"},
            tmp_path / "short.log",
            port=port,
        ) as _,
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
    ):
        assert _get_health(sock).startswith(b"HTTP/1.1 200")
        time.sleep(2.5)  # the setting is what uvicorn is given
        assert _get_health(sock) == b""

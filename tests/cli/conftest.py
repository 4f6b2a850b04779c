"""CLI fixtures: a real ``coffre serve`` (uvicorn) in a subprocess, and a CliRunner.

The server is started the way an operator starts it, on a free port with its own
``COFFRE_DATA_DIR``; commands run in process with ``typer.testing.CliRunner`` and the
same data directory, so they mint tokens the server accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from coffre.cli import app
from tests.served import serve

STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Server:
    """A running Coffre server."""

    url: str
    data_dir: Path
    log: Path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``coffre serve`` on the embedded default, in a fresh data directory."""
    data_dir = tmp_path_factory.mktemp("server") / "data"
    log = data_dir.parent / "server.log"
    with serve({"COFFRE_DATA_DIR": str(data_dir), "COFFRE_LOG_FORMAT": "json"}, log) as (url, _):
        yield Server(url, data_dir, log)


Invoke = Callable[..., Result]


@pytest.fixture
def coffre_cli(server: Server) -> Invoke:
    """Run ``coffre ARGS...`` in process against ``server`` (wide output, its data dir)."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        base = {"COFFRE_DATA_DIR": str(server.data_dir), "COFFRE_URL": server.url, "COLUMNS": "200"}
        return runner.invoke(app, list(args), env={**base, **(env or {})})

    return invoke

"""The embedded server (SQLite + files) SIGKILLed 50 times mid-deposit (issue 16): its
one worker, killed and forked again each time (``tests.faults.killing``); every
upload is relayed, the filesystem store taking no direct ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import World, base_env, seed, server
from tests.faults.killing import kill_deposits

PORT = 18301


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[World, dict[str, str], Any, Path]]:
    """The embedded server, one worker under the forking supervisor, its world seeded."""
    tmp = tmp_path_factory.mktemp("killed-embedded")
    env = base_env(tmp / "data")
    log = tmp / "server.log"
    with server(env, PORT, log, workers=1, supervised=True) as process:
        yield seed(f"http://127.0.0.1:{PORT}", env), env, process, log


def test_embedded_server_killed_mid_deposit(
    request: pytest.FixtureRequest, deployment: tuple[World, dict[str, str], Any, Path]
) -> None:
    world, env, process, log = deployment
    kill_deposits(request, world, env, process, log, 1)

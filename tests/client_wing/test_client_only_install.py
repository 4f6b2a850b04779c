"""The client alone: a fresh virtualenv with ``pip install`` of the repository WITHOUT the
``server`` extra brings none of the server's packages, and the SDK, the client's commands
and the offline trail verifier all work there (issue 10, item 3).

Integration tier: it builds a real virtualenv (``python -m venv``) and installs into it;
pip takes the client's few wheels from its cache or the configured index.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coffre.bootstrap import Coffre
from keys.checkpoint import CheckpointSigner
from projections.runner import ProjectionRunner
from projections.trail_query import Trail, TrailQuery
from tests.scenarios.conftest import Cast
from tests.trail.scenario import live_history
from vault.clock import ManualClock

REPO = Path(__file__).resolve().parents[2]
#: what the installer copies: the project file and every package the distribution ships
SHIPPED = ("pyproject.toml", "README.md", "wire", "client", "coffre", "domain", "keys",
           "vault", "projections", "api", "idp", "bench")  # fmt: skip
#: the server's packages: none may be installed, and none imported, on the client side
SERVER_PACKAGES = ("eventsourcing", "psycopg", "minio", "fastapi", "uvicorn", "starlette")
#: the server's own layers: shipped in the distribution, never imported by the client
SERVER_LAYERS = ("domain", "keys", "vault", "projections", "api", "idp", "bench")

PROBE = """
import importlib.util, json, sys
import client
import client.cli
import client.trail_verify
from client import CoffreClient, ReaderKey
from client.trail_verify import verify_file
loaded = sorted({name.split(".")[0] for name in sys.modules})
installed = {name: importlib.util.find_spec(name) is not None for name in NAMES}
print(json.dumps({"loaded": loaded, "installed": installed}))
"""


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COFFRE_", "PYTHON"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtualenv holding ``pip install <repo>``: the client, no extra."""
    base = tmp_path_factory.mktemp("client-only")
    source = base / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SHIPPED:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)])
    assert made.returncode == 0, made.stderr
    installed = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)])
    assert installed.returncode == 0, installed.stderr
    yield venv


def test_the_client_alone_imports_no_server_package(client_venv: Path, tmp_path: Path) -> None:
    python = client_venv / "bin" / "python"
    code = f"NAMES = {list(SERVER_PACKAGES)!r}\n{PROBE}"
    done = _run([str(python), "-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    # not imported by the client...
    assert not set(found["loaded"]) & {*SERVER_PACKAGES, *SERVER_LAYERS}
    assert {"client", "wire"} <= set(found["loaded"])
    # ...and not even installed: the base install brings none of them
    assert found["installed"] == dict.fromkeys(SERVER_PACKAGES, False)


def test_the_coffre_command_runs_its_client_commands_and_names_the_server_extra(
    client_venv: Path, tmp_path: Path
) -> None:
    coffre = str(client_venv / "bin" / "coffre")
    shown = _run([coffre, "--help"], cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "deposit" in shown.stdout and "audit" in shown.stdout
    # a server command says plainly what it needs, in one line, and fails
    serve = _run([coffre, "serve"], cwd=tmp_path)
    assert serve.returncode == 1
    assert "server extra" in serve.stderr and "coffre[server]" in serve.stderr
    assert "Traceback" not in serve.stderr


@pytest.fixture
def exported(
    coffre: Coffre,
    cast: Cast,
    clock: ManualClock,
    trail_runner: ProjectionRunner,
    trail: Trail,
    tmp_path: Path,
) -> Path:
    """A patient's trail exported by the server's code (JSON Lines), in a file."""
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    out = io.StringIO()
    trail.export_jsonl(TrailQuery(patient_id=cast.patient.actor.id), out)
    path = tmp_path / "trail.jsonl"
    path.write_text(out.getvalue())
    return path


def test_the_offline_verifier_runs_from_the_client_only_install(
    client_venv: Path, exported: Path, signer: CheckpointSigner, tmp_path: Path
) -> None:
    coffre = str(client_venv / "bin" / "coffre")
    key = base64.b64encode(signer.public_key).decode()
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    verified = _run([coffre, "audit", "verify", str(exported), "--public-key", key], cwd=workdir)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK: ")
    # a forged export fails there too, naming what failed
    lines = exported.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["entry"] = entry["entry"].replace("Space.Provisioned", "Space.Provisionned")
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join([lines[0], json.dumps(entry), *lines[2:]]) + "\n")
    refused = _run([coffre, "audit", "verify", str(forged), "--public-key", key], cwd=workdir)
    assert refused.returncode == 1
    assert "verification FAILED" in refused.stderr

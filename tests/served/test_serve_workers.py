"""``coffre serve --workers N``: refused while the development OpenID provider runs (its
logins live in one process's memory), accepted when tokens come from elsewhere.

The command checks its settings, then becomes uvicorn (``os.execve``); the exec is
intercepted here, so what is tested is the decision and the command it would run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from coffre import cli_admin
from keys.master import MasterKeys
from tests.served import serve_refused
from vault.tokens import TokenAuthority

EXTERNAL_KEY = TokenAuthority.from_seed("coffre", bytes(32)).public_key_b64


@pytest.fixture
def execs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The command lines ``coffre serve`` would exec into (the exec itself stops it)."""
    seen: list[list[str]] = []

    def execve(_path: str, argv: list[str], _environment: dict[str, str]) -> None:
        seen.append(list(argv))
        raise SystemExit(0)

    monkeypatch.setattr(cli_admin.os, "execve", execve)
    return seen


def _serve(tmp_path: Path, workers: str | None, **variables: str) -> tuple[int, str]:
    app = typer.Typer()
    app.command()(cli_admin.serve)
    environment = {
        "COFFRE_DATABASE": "postgres",
        "COFFRE_ENV": "development",
        "COFFRE_MASTER_KEYS": MasterKeys.generate().current.to_line(),
        "COFFRE_DATA_DIR": str(tmp_path),
        **variables,
    }
    flags = [] if workers is None else ["--workers", workers]
    result = CliRunner().invoke(app, [*flags, "--port", "8123"], env=environment)
    return result.exit_code, " ".join(result.output.split())


def test_several_workers_are_refused_while_the_development_provider_runs(
    tmp_path: Path, execs: list[list[str]]
) -> None:
    code, said = _serve(tmp_path, "2")
    assert code != 0
    assert "serves with one worker" in said and "COFFRE_TOKEN_PUBLIC_KEY" in said
    assert execs == []


@pytest.mark.parametrize("workers", ["2", "64"])
def test_an_external_signers_deployment_serves_with_several_workers(
    tmp_path: Path, execs: list[list[str]], workers: str
) -> None:
    code, _ = _serve(tmp_path, workers, COFFRE_TOKEN_PUBLIC_KEY=EXTERNAL_KEY)
    assert code == 0
    [command] = execs
    assert command[command.index("--workers") + 1] == workers


@pytest.mark.parametrize("workers", ["0", "-3", "65", "1000000", str(2**63)])
def test_a_worker_count_outside_1_to_64_is_refused_whoever_signs(
    tmp_path: Path, execs: list[list[str]], workers: str
) -> None:
    code, said = _serve(tmp_path, workers, COFFRE_TOKEN_PUBLIC_KEY=EXTERNAL_KEY)
    assert code != 0
    assert "must be between 1 and 64" in said
    assert execs == []


def test_the_environment_s_worker_count_is_bounded_too(
    tmp_path: Path, execs: list[list[str]]
) -> None:
    code, said = _serve(tmp_path, None, COFFRE_TOKEN_PUBLIC_KEY=EXTERNAL_KEY, COFFRE_WORKERS="500")
    assert code != 0
    assert "must be between 1 and 64" in said
    assert execs == []


def test_an_empty_public_key_is_no_external_signer(tmp_path: Path, execs: list[list[str]]) -> None:
    # COFFRE_TOKEN_PUBLIC_KEY= (set, empty) means unset everywhere, here too
    code, said = _serve(tmp_path, "2", COFFRE_TOKEN_PUBLIC_KEY="")
    assert code != 0
    assert "serves with one worker" in said
    assert execs == []


def test_workers_get_30_s_to_answer_the_supervisor_s_ping_unless_told_otherwise(
    tmp_path: Path, execs: list[list[str]]
) -> None:
    """uvicorn kills a worker that leaves its ping unanswered for 5 s, its own default;
    ``coffre serve`` gives it ``COFFRE_WORKER_HEALTHCHECK_TIMEOUT`` (30 s; a trailing
    newline, as ``$(cat file)`` leaves none but an env file may, is no error)."""
    code, _ = _serve(tmp_path, "2", COFFRE_TOKEN_PUBLIC_KEY=EXTERNAL_KEY)
    assert code == 0
    code, _ = _serve(
        tmp_path, "2", COFFRE_TOKEN_PUBLIC_KEY=EXTERNAL_KEY, COFFRE_WORKER_HEALTHCHECK_TIMEOUT="7\n"
    )
    assert code == 0
    given = [command[command.index("--timeout-worker-healthcheck") + 1] for command in execs]
    assert given == ["30", "7"]


# "\uff13\uff10" is "30" in full-width digits, which int() itself would take
@pytest.mark.parametrize("seconds", ["0", "3601", "9" * 20, "\uff13\uff10", "1.5", "soon"])
def test_a_healthcheck_timeout_outside_1_to_3600_seconds_is_refused(
    tmp_path: Path, seconds: str
) -> None:
    result = serve_refused(
        {"COFFRE_DATA_DIR": str(tmp_path), "COFFRE_WORKER_HEALTHCHECK_TIMEOUT": seconds},
        "--port",
        "8123",
    )
    assert result.returncode != 0
    assert "COFFRE_WORKER_HEALTHCHECK_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr

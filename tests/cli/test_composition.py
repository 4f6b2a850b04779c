"""How the ``coffre`` command is put together: the client's verbs, the server's commands
imported only when asked for, and no benchmark inside the product."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from coffre.cli import SERVER_COMMANDS, app

SERVER_MODULES = ("eventsourcing", "psycopg", "minio", "fastapi", "uvicorn", "starlette")


def _imported_after(code: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(done.stdout.split())


#: old command names, kept working as hidden aliases: (old, new)
OLD_NAMES = (
    ("upload", "deposit"),
    ("download", "read"),
    ("hide-from-representatives", "make-invisible-to-representatives"),
    ("release-to-patient", "release-invisible-to-patient"),
)


def test_help_shows_deposit_and_read_and_hides_the_old_verbs() -> None:
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    names = {line.split()[1] for line in shown.stdout.splitlines() if line.startswith("│ ")}
    assert {new for _, new in OLD_NAMES} <= names
    assert not ({old for old, _ in OLD_NAMES} | {"bench"}) & names
    # every server command is listed next to the client's
    assert set(SERVER_COMMANDS) <= names


def test_the_old_verbs_remain_as_hidden_aliases() -> None:
    for old, new in OLD_NAMES:
        via_old = CliRunner().invoke(app, [old, "--help"], env={"COLUMNS": "200"})
        via_new = CliRunner().invoke(app, [new, "--help"], env={"COLUMNS": "200"})
        assert via_old.exit_code == 0 == via_new.exit_code
        # the same command: same usage, text and options (padding aside)
        assert via_old.stdout.replace(old, new).split() == via_new.stdout.split()


def test_bench_is_not_a_command_and_the_cli_never_imports_it() -> None:
    assert CliRunner().invoke(app, ["bench"]).exit_code != 0
    assert "bench" not in _imported_after(
        "from coffre.cli import app; app(['--help'], standalone_mode=False)"
    )


def test_client_commands_do_not_import_the_server() -> None:
    loaded = _imported_after(
        "from coffre.cli import app\n"
        "app(['audit', 'verify', '--help'], standalone_mode=False)\n"
        "app(['deposit', '--help'], standalone_mode=False)"
    )
    assert not loaded & {*SERVER_MODULES, "domain", "keys", "vault", "projections", "api"}


def test_a_server_command_is_imported_when_asked_for() -> None:
    loaded = _imported_after(
        "from coffre.cli import app\napp(['migrate', '--help'], standalone_mode=False)"
    )
    assert {"eventsourcing", "vault"} <= loaded

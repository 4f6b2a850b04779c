"""``coffre token``: mints what the server accepts, prints only the token."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from coffre.bootstrap import build
from coffre.cli import app
from coffre.cli_admin import token_authority
from domain.values import Actor, professional_id_from_number
from vault.settings import Settings
from wire.values import Profession, Role

RPPS = professional_id_from_number("1000000001")


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()

    def invoke(*args: str, **env: str | None):
        return runner.invoke(app, list(args), env={"COFFRE_DATA_DIR": str(tmp_path), **env})

    return invoke


def test_a_minted_token_verifies_with_the_servers_authority(run, tmp_path: Path) -> None:
    result = run(
        "token",
        "professional",
        RPPS,
        "--name",
        "Dr Claire Bernard",
        "--profession",
        "doctor",
        "--organisation",
        "Cabinet Bernard",
        "--ttl",
        "5",
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert result.stdout == token + "\n"  # one line, nothing else on stdout

    coffre = build(Settings(data_dir=tmp_path))
    try:
        actor = coffre.tokens.verify(token)
    finally:
        coffre.close()
    assert actor == Actor(
        Role.PROFESSIONAL, RPPS, "Dr Claire Bernard", Profession.DOCTOR, "Cabinet Bernard"
    )


def test_the_cli_derives_the_same_issuer_key_as_bootstrap(tmp_path: Path) -> None:
    # coffre token and coffre demo avoid opening the databases; they must still agree
    # with the key the server builds, or every token they mint is refused.
    settings = Settings(data_dir=tmp_path)
    coffre = build(settings)
    try:
        assert token_authority(settings).public_key_b64 == coffre.tokens.public_key_b64
    finally:
        coffre.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["patient", "123", "--name", "X"], "patient id must be a 15-character INS"),
        (["professional", RPPS, "--name", "X"], "a professional has a profession"),
        (["service", "hopital-nord", "--name", "X", "--ttl", "999999"], "token lifetime"),
    ],
)
def test_bad_input_is_one_line_and_a_failure(run, args: list[str], message: str) -> None:
    result = run("token", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


PROVIDERS = '[{"issuer": "https://psc.test", "audience": "a", "roles": ["professional"]}]'


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"COFFRE_TOKEN_PUBLIC_KEY": "MCowBQYDK2VwAyEA"}, "external issuer"),
        # the server would refuse what is minted: its tokens come from OpenID providers
        (
            {"COFFRE_EMBEDDED_ISSUER": "false", "COFFRE_OIDC_ISSUERS": PROVIDERS},
            "COFFRE_EMBEDDED_ISSUER",
        ),
    ],
)
def test_no_token_is_minted_where_the_embedded_issuer_does_not_sign(
    run, env: dict[str, str], message: str
) -> None:
    result = run("token", "service", "hopital-nord", "--name", "X", **env)
    assert result.exit_code == 1 and message in result.stderr


def test_client_commands_need_a_token(run, tmp_path) -> None:
    # neither COFFRE_TOKEN nor a login kept by `coffre login`
    config = str(tmp_path / "config")
    result = run("documents", "285077512345655", COFFRE_TOKEN=None, COFFRE_CONFIG_DIR=config)
    assert result.exit_code == 1 and "not logged in: run `coffre login`" in result.stderr

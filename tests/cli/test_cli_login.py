"""``coffre login`` / ``coffre logout`` against a real ``coffre serve``, driven from the
test as a person would: the device flow's page, the browser flow's login page (the
embedded development provider's, and panva's), a service's client credentials.

``coffre login`` runs in a subprocess (it waits on the provider, or on its loopback
listener) while the test plays the person; the tokens land in ``COFFRE_CONFIG_DIR``.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from coffre.cast import DEFAULT_PATIENT_NUMBER, HOSPITAL_ID
from domain.values import patient_id_from_number
from keys.sources import FileKeySource
from tests.cli.conftest import Invoke, Server
from tests.idp_flows import embedded_login_page
from tests.panva import PanvaProvider, available
from tests.served import serve

PATIENT_ID = patient_id_from_number(DEFAULT_PATIENT_NUMBER)
WAIT = 60


def _env(server_url: str, config: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")}
    return {
        **env,
        "COFFRE_URL": server_url,
        "COFFRE_CONFIG_DIR": str(config),
        "COLUMNS": "300",
        **extra,
    }


class Login:
    """A running ``coffre login``, its stderr read line by line by a thread (a buffered
    pipe cannot be waited on with ``select``: lines already read ahead would be missed)."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coffre.cli", "login", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put("")  # the end

    def line_with(self, marker: str) -> str:
        """What follows ``marker`` on the first line of the command's stderr holding it."""
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=WAIT)
            except queue.Empty:
                line = ""
            if not line:
                self.process.kill()
                pytest.fail(f"`coffre login` never said {marker!r}: {''.join(seen)}")
            seen.append(line)
            if marker in line:
                return line.split(marker, 1)[1].strip()

    def finished(self) -> None:
        """Wait for the command; it must succeed."""
        self.process.wait(timeout=WAIT)
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        assert self.process.returncode == 0, "".join(rest)


def _provision(coffre_cli: Invoke, patient_id: str) -> None:
    """The demo hospital provisions a space (a token minted by the embedded issuer)."""
    minted = coffre_cli("token", "service", HOSPITAL_ID, "--name", "CHU de Demoville")
    assert minted.exit_code == 0, minted.output
    answer = coffre_cli("provision", patient_id, env={"COFFRE_TOKEN": minted.stdout.strip()})
    assert answer.exit_code == 0 or "exists" in answer.output, answer.output


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The user's configuration directory, made by ``coffre login``."""
    return tmp_path / "config"


def test_the_device_flow_keeps_tokens_0600_and_commands_use_them(
    server: Server, coffre_cli: Invoke, config: Path
) -> None:
    _provision(coffre_cli, PATIENT_ID)
    login = Login(_env(server.url, config))
    page = login.line_with("open ")
    code = login.line_with("enter the code:")
    assert page.startswith(server.url + "/idp/device")
    approved = httpx.post(
        server.url + "/idp/device", data={"user_code": code, "person": "patient", "consent": "yes"}
    )
    assert approved.status_code == 200, approved.text
    login.finished()

    stored = config / "tokens.json"
    assert stored.stat().st_mode & 0o777 == 0o600
    assert config.stat().st_mode & 0o777 == 0o700
    # the client's commands use the kept token (no COFFRE_TOKEN): the patient's log
    shown = coffre_cli("log", PATIENT_ID, "--json", env={"COFFRE_CONFIG_DIR": str(config)})
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["entries"]

    # an expired access token is refreshed on use, and kept
    sessions = json.loads(stored.read_text())
    sessions[server.url]["expires_at"] = 0
    stored.write_text(json.dumps(sessions))
    again = coffre_cli("log", PATIENT_ID, "--json", env={"COFFRE_CONFIG_DIR": str(config)})
    assert again.exit_code == 0, again.output
    renewed = json.loads(stored.read_text())[server.url]
    assert renewed["expires_at"] > 0
    assert renewed["refresh_token"] != sessions[server.url]["refresh_token"]  # rotated

    # logout forgets the tokens and revokes the refresh token at the provider
    out = coffre_cli("logout", env={"COFFRE_CONFIG_DIR": str(config)})
    assert out.exit_code == 0 and "revoked" in out.stdout, out.output
    assert server.url not in json.loads(stored.read_text())
    refused = httpx.post(
        server.url + "/idp/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": renewed["refresh_token"],
            "client_id": "coffre-cli",
        },
    )
    assert refused.status_code == 400
    after = coffre_cli("log", PATIENT_ID, env={"COFFRE_CONFIG_DIR": str(config)})
    assert after.exit_code != 0 and "coffre login" in after.output


def test_the_browser_flow_logs_in_on_a_loopback_redirect(
    server: Server, coffre_cli: Invoke, config: Path
) -> None:
    _provision(coffre_cli, PATIENT_ID)
    login = Login(_env(server.url, config), "--browser", "--no-open")
    authorize = login.line_with("log in at:")
    with httpx.Client() as browser:
        back = embedded_login_page(browser, authorize, "alice")
        assert back.startswith("http://127.0.0.1:") and "code=" in back
        assert browser.get(back).status_code == 200  # the command's own listener
    login.finished()
    # Dr Alice Martin has no grant here: authenticated, and refused by the space's rules
    shown = coffre_cli("log", PATIENT_ID, env={"COFFRE_CONFIG_DIR": str(config)})
    assert shown.exit_code != 0
    assert "not valid" not in shown.output and "coffre login" not in shown.output


def test_a_service_logs_in_with_its_client_credentials(
    server: Server, coffre_cli: Invoke, config: Path
) -> None:
    entries = FileKeySource(server.data_dir / "idp.secrets").load()
    secret = next(e.secret for e in entries if e.key_id == HOSPITAL_ID)
    encoded = base64.urlsafe_b64encode(secret).decode().rstrip("=")
    env = _env(server.url, config, COFFRE_CLIENT_SECRET=encoded)
    login = Login(env, "--service", "--client-id", HOSPITAL_ID, "--scope", "system/Patient.c")
    login.finished()
    assert encoded not in (config / "tokens.json").read_text()  # the secret is not stored
    other = patient_id_from_number("1790612000042")  # its own: the server is shared
    made = coffre_cli("provision", other, env={"COFFRE_CONFIG_DIR": str(config)})
    assert made.exit_code == 0 or "exists" in made.output, made.output


# -- against panva's oidc-provider ----------------------------------------------------


@pytest.fixture(scope="module")
def panva(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanvaProvider]:
    """panva's provider with Coffre's command line registered as a native client."""
    available()
    scopes = "patient/*.cruds"
    provider = PanvaProvider(tmp_path_factory.mktemp("panva-cli"), audience="coffre", scopes=scopes)
    provider.clients.append(
        {
            "client_id": "coffre-cli",
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": f"openid offline_access {scopes}",
            "id_token_signed_response_alg": "ES256",
        }
    )
    provider.accounts["camille"] = {"coffre_role": "patient", "ins": PATIENT_ID, "name": "Camille"}
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def trusting(panva: PanvaProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A ``coffre serve`` trusting panva for patients (and its own embedded issuer)."""
    data_dir = tmp_path_factory.mktemp("trusting") / "data"
    issuers = [{"issuer": panva.issuer, "audience": "coffre", "roles": ["patient"]}]
    env = {
        "COFFRE_DATA_DIR": str(data_dir),
        "COFFRE_LOG_FORMAT": "json",
        "COFFRE_OIDC_ISSUERS": json.dumps(issuers),
    }
    log = data_dir.parent / "server.log"
    with serve(env, log) as (url, _):
        yield Server(url, data_dir, log)


def test_login_works_against_panva_too(
    trusting: Server, panva: PanvaProvider, config: Path
) -> None:
    from typer.testing import CliRunner

    from coffre.cli import app

    def cli(*args: str, **env: str) -> object:
        base = {"COFFRE_DATA_DIR": str(trusting.data_dir), "COFFRE_URL": trusting.url}
        return CliRunner().invoke(app, list(args), env={**base, "COLUMNS": "300", **env})

    minted = cli("token", "service", HOSPITAL_ID, "--name", "CHU")
    cli("provision", PATIENT_ID, COFFRE_TOKEN=minted.stdout.strip())  # type: ignore[attr-defined]
    login = Login(
        _env(trusting.url, config),
        "--browser",
        "--no-open",
        "--issuer",
        panva.issuer,
        "--scope",
        "openid offline_access patient/*.cruds",
    )
    authorize = login.line_with("log in at:")
    redirect = parse_qs(urlsplit(authorize).query)["redirect_uri"][0]
    back = panva.log_in(authorize, "camille", redirect)
    assert httpx.get(back).status_code == 200
    login.finished()
    session = json.loads((config / "tokens.json").read_text())[trusting.url]
    assert session["issuer"] == panva.issuer and session["refresh_token"]
    shown = cli("log", PATIENT_ID, "--json", COFFRE_CONFIG_DIR=str(config))
    assert shown.exit_code == 0, shown.output  # type: ignore[attr-defined]
    # refreshed at panva when expired
    stored = config / "tokens.json"
    sessions = json.loads(stored.read_text())
    sessions[trusting.url]["expires_at"] = 0
    stored.write_text(json.dumps(sessions))
    again = cli("log", PATIENT_ID, "--json", COFFRE_CONFIG_DIR=str(config))
    assert again.exit_code == 0, again.output  # type: ignore[attr-defined]
    assert json.loads(stored.read_text())[trusting.url]["expires_at"] > 0


def test_coffre_token_refuses_in_production(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from coffre.cli import app

    issuers = json.dumps(
        [{"issuer": "https://psc.example", "audience": "c", "roles": ["professional"]}]
    )
    base = {"COFFRE_DATA_DIR": str(tmp_path / "data"), "COFFRE_ENV": "production"}
    args = ["token", "service", HOSPITAL_ID, "--name", "CHU"]
    # production with the embedded issuer on is refused as a configuration
    refused = CliRunner().invoke(app, args, env=base)
    assert refused.exit_code != 0 and "COFFRE_ENV=production" in refused.output
    # and without it, `coffre token` has nothing to mint with
    off = {**base, "COFFRE_EMBEDDED_ISSUER": "false", "COFFRE_OIDC_ISSUERS": issuers}
    refused = CliRunner().invoke(app, args, env=off)
    assert refused.exit_code != 0 and "embedded issuer is off" in refused.output
    assert refused.stdout.count(".") < 2  # no token printed


def test_the_web_page_logs_in_at_the_embedded_provider_with_nothing_configured(
    server: Server,
) -> None:
    # the README's promise: `coffre serve`, then the page's login, as the demo patient
    with httpx.Client(base_url=server.url) as browser:
        start = browser.get("/auth/login", follow_redirects=False)
        assert start.status_code in (302, 303, 307), start.text
        authorize = start.headers["location"]
        assert authorize.startswith(server.url + "/idp/authorize")
        back = embedded_login_page(browser, authorize, "patient")
        assert back.startswith(server.url + "/auth/callback?")
        # the login cookies are Secure: this client sends them back by hand over http
        cookies = {name: value for name, value in start.cookies.items()}
        done = browser.get(back, cookies=cookies, follow_redirects=False)
        assert done.status_code in (302, 303), done.text
        assert "__Host-coffre-session" in done.headers.get("set-cookie", "")

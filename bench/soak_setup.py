"""The soak's deployment: ``coffre serve`` with several workers, a projection worker, an
OpenID provider on loopback, and the people of the load (issue 16).

Several workers rule out the embedded development issuer (its OpenID provider keeps
logins in one process's memory, so ``coffre serve`` refuses ``--workers`` > 1 with it),
so the soak serves as production does: ``COFFRE_EMBEDDED_ISSUER=false`` and one OpenID
provider in ``COFFRE_OIDC_ISSUERS``, here a small one on loopback (discovery and JWKS,
EdDSA) whose tokens the bench signs itself. PostgreSQL means projections run apart:
``coffre projections run`` is started beside the server, as a deployment does.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt

from bench.env import ROOT, BenchEnv, BenchSetupError, Served, serve
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from tests.oidc import new_key, public_jwk
from vault import scopes
from vault.claims import ClaimsMapping, claims_of
from vault.settings import DEMO_ENROLMENT
from wire.values import Profession, Role

AUDIENCE = "coffre-soak"
HOSPITAL_CLIENT, ENROLMENT_CLIENT = "soak-hospital", "soak-enrolment"
HOSPITAL = Actor(Role.SERVICE, "chu-soak", "CHU de Soak")
ENROLMENT = Actor(Role.SERVICE, DEMO_ENROLMENT, DEMO_ENROLMENT)
#: tokens outlive any soak: the bench signs them once, at provisioning
TOKEN_TTL = 6 * 3600
MAPPING = ClaimsMapping(role="role")


class Provider:
    """An OpenID provider on ``127.0.0.1:port``: discovery, JWKS, EdDSA access tokens."""

    def __init__(self, port: int) -> None:
        self.kid = uuid.uuid4().hex[:12]
        self.key = new_key("EdDSA")
        self.issuer = f"http://127.0.0.1:{port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                documents = {
                    "/.well-known/openid-configuration": {
                        "issuer": provider.issuer,
                        "jwks_uri": provider.issuer + "/jwks",
                        "id_token_signing_alg_values_supported": ["EdDSA"],
                    },
                    "/jwks": {"keys": [public_jwk(provider.key, "EdDSA", provider.kid)]},
                }
                if self.path not in documents:
                    self.send_error(404)
                    return
                body = json.dumps(documents[self.path]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def settings(self) -> str:
        """``COFFRE_OIDC_ISSUERS`` trusting this provider for the soak's roles."""
        return json.dumps(
            [
                {
                    "issuer": self.issuer,
                    "audience": AUDIENCE,
                    "roles": ["patient", "professional", "service"],
                    "claims": {"role": "role"},
                    "clients": {
                        HOSPITAL_CLIENT: HOSPITAL.id,
                        ENROLMENT_CLIENT: ENROLMENT.id,
                    },
                }
            ]
        )

    def token(self, actor: Actor) -> str:
        """An access token asserting ``actor`` with every scope of its role."""
        now = int(time.time())
        claims: dict[str, Any] = claims_of(actor, MAPPING)
        if actor.role is Role.SERVICE:
            claims["client_id"] = {HOSPITAL.id: HOSPITAL_CLIENT, ENROLMENT.id: ENROLMENT_CLIENT}[
                actor.id
            ]
        claims.update(
            iss=self.issuer,
            aud=AUDIENCE,
            sub=actor.id,
            iat=now,
            exp=now + TOKEN_TTL,
            jti=uuid.uuid4().hex,
            scope=scopes.full_scopes(actor.role),
        )
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@dataclass
class Person:
    """A patient or professional of the soak, with a token and an approved reader key."""

    actor: Actor
    token: str
    reader: ReaderKey


@dataclass
class Space:
    """A patient's space: its documents, and the churn professional's grant state."""

    patient: Person
    documents: list[UUID] = field(default_factory=list)
    churn_granted: bool = False


@dataclass
class Soaked:
    """The running deployment of a soak and who uses it."""

    served: Served
    projections: subprocess.Popen[bytes]
    hospital_token: str
    spaces: list[Space]
    readers: list[Person]  # professionals granted on every space for good
    churn: list[Person]  # professionals granted and revoked by the load


def patient(n: int) -> Actor:
    """Patient ``n`` of the soak."""
    return Actor(Role.PATIENT, patient_id_from_number(f"2910175{n:06d}"), f"Patient {n}")


def professional(n: int) -> Actor:
    """Professional ``n`` of the soak."""
    return Actor(
        Role.PROFESSIONAL,
        professional_id_from_number(f"30{n:08d}"),
        f"Dr Soak {n}",
        Profession.DOCTOR,
        "Cabinet Soak",
    )


def grantee(actor: Actor) -> dict[str, str]:
    """``actor`` as a grant's grantee."""
    assert actor.profession is not None
    return {
        "id": actor.id,
        "name": actor.name,
        "profession": actor.profession.value,
        "organisation": actor.organisation or "",
    }


def _enrolled(url: str, actor: Actor, token: str, enrolment: CoffreClient) -> Person:
    from tests.devices import enrol_client

    reader = ReaderKey.generate()
    with CoffreClient(url, token, reader_key=reader, timeout=120) as client:
        enrol_client(client, actor, enrolment)
    return Person(actor, token, reader)


@contextlib.contextmanager
def projection_worker(environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``coffre projections run`` with the server's environment."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("COFFRE_")}
    full.update(environment)
    full["PYTHONPATH"] = str(ROOT)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "coffre.cli", "projections", "run"],
            env=full,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        time.sleep(1.0)
        if process.poll() is not None:
            raise BenchSetupError(f"projection worker exited:\n{log.read_text()[-3000:]}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def soak_deployment(
    env: BenchEnv,
    *,
    workers: int,
    patients: int,
    professionals: int,
    port: int,
    seed_document: bytes,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Soaked]:
    """Serve a scratch database and bucket with ``workers`` workers on ``port`` (the
    provider on ``port + 1``); provision ``patients`` spaces, each with one document and
    every reading professional granted; ``professionals`` readers and as many churners.
    ``extra_env`` adds settings for the workers (``--server-env``)."""
    dbname = env.create_db(env.scratch_name("soak"))
    bucket = env.bucket("soak")
    provider = Provider(port + 1)
    try:
        environment = env.server_env(
            dbname,
            bucket,
            COFFRE_EMBEDDED_ISSUER="false",
            COFFRE_OIDC_ISSUERS=provider.settings(),
            **(extra_env or {}),
        )
        with (
            serve(environment, env.work / "serve-soak.log", workers=workers, port=port) as served,
            projection_worker(environment, env.work / "projections-soak.log") as worker,
        ):
            url = served.url
            hospital_token = provider.token(HOSPITAL)
            with (
                CoffreClient(url, hospital_token, timeout=120) as hospital,
                CoffreClient(url, provider.token(ENROLMENT), timeout=120) as enrolment,
            ):
                readers = [
                    _enrolled(url, a, provider.token(a), enrolment)
                    for a in map(professional, range(professionals))
                ]
                churn = [
                    _enrolled(url, a, provider.token(a), enrolment)
                    for a in map(professional, range(1000, 1000 + professionals))
                ]
                spaces = []
                for n in range(patients):
                    actor = patient(n)
                    hospital.provision(actor.id)
                    person = _enrolled(url, actor, provider.token(actor), enrolment)
                    document_id, _ = hospital.deposit(
                        actor.id, seed_document, type="lab_result", title="Bilan", date="2026-10-01"
                    )
                    with CoffreClient(url, person.token, timeout=120) as own:
                        for reader in readers:
                            own.grant(actor.id, grantee(reader.actor))
                    spaces.append(Space(person, [document_id]))
            yield Soaked(served, worker, hospital_token, spaces, readers, churn)
    finally:
        provider.close()

"""Helpers for the API tests: actors, a caller that encrypts for real, counters."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from coffre.bootstrap import Coffre
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from tests.devices import ENROLMENT
from wire.devices import device_request
from wire.envelope import DataKey, decrypt, encrypt, seal, unseal
from wire.values import Profession, Role

HOSPITAL = Actor(Role.SERVICE, "hopital-nord", "Hôpital Nord")
ALICE = Actor(Role.PATIENT, patient_id_from_number("2850775123456"), "Alice Martin")
BRUNO = Actor(Role.PATIENT, patient_id_from_number("1790612987654"), "Bruno Petit")
DOCTOR = Actor(
    Role.PROFESSIONAL,
    professional_id_from_number("1000000001"),
    "Dr Claire Bernard",
    profession=Profession.DOCTOR,
    organisation="Cabinet Bernard",
)
NURSE = Actor(
    Role.PROFESSIONAL,
    professional_id_from_number("1000000002"),
    "Denis Roux",
    profession=Profession.NURSE,
)
AUDITOR = Actor(Role.REGULATOR, "cnil-audit", "CNIL")


@dataclass
class Caller:
    """One actor's side of the conversation: token, device key, helpers.

    ``enrolment_token`` is the enrolment service's, which approves a professional's or
    a service's device and sends a person their enrolment code (``register_reader``).
    """

    client: TestClient
    actor: Actor
    token: str
    device: SigningKey
    enrolment_token: str = ""
    reader_key_id: str | None = None

    @property
    def reader(self) -> PrivateKey:
        """The X25519 secret of this caller's device: what opens released data keys."""
        return self.device.to_curve25519_private_key()

    @property
    def headers(self) -> dict[str, str]:
        """The bearer header."""
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str, **kwargs: Any) -> Any:
        """GET as this caller."""
        return self.client.get(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        """POST as this caller."""
        return self.client.post(
            url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def put(self, url: str, **kwargs: Any) -> Any:
        """PUT as this caller."""
        return self.client.put(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        """DELETE as this caller."""
        return self.client.delete(
            url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def request_device(self, name: str = "test device") -> Any:
        """Ask to add this caller's device with a valid proof (the raw response)."""
        challenge = self.post("/v1/devices/challenges").json()
        signing_key = base64.b64encode(bytes(self.device.verify_key)).decode()
        sign = self.device.sign
        body = device_request(
            signing_key,
            lambda message: sign(message).signature,
            challenge["challenge"],
            challenge["role"],
            challenge["id"],
            name,
        )
        return self.post("/v1/devices", json=body)

    def register_reader(self) -> str:
        """Add this caller's device and have it approved (the enrolment code of a
        person's letter, or the enrolment service); returns its key id."""
        added = self.request_device()
        assert added.status_code == 201, added.text
        key_id = added.json()["key_id"]
        member = f"/v1/readers/{self.actor.role.value}/{self.actor.id}"
        service = {"Authorization": f"Bearer {self.enrolment_token}"}
        if self.actor.role in (Role.PATIENT, Role.REPRESENTATIVE):
            code = self.client.post(f"{member}/enrolment-codes", headers=service)
            assert code.status_code == 201, code.text
            answer = self.post(f"/v1/devices/{key_id}/approval", json=code.json())
        else:
            answer = self.client.post(f"{member}/devices/{key_id}/approval", headers=service)
        assert answer.status_code == 200, answer.text
        self.reader_key_id = key_id
        return key_id

    def upload(self, patient_id: str, plaintext: bytes) -> tuple[dict[str, Any], str]:
        """Encrypt and upload ``plaintext``; returns the upload answer and the sealed key."""
        space = self.get(f"/v1/spaces/{patient_id}/key")
        assert space.status_code == 200, space.text
        data_key = DataKey.generate()
        ciphertext = encrypt(iter([plaintext]), data_key, chunk_size=1024)
        answer = self.post(
            f"/v1/spaces/{patient_id}/uploads",
            content=ciphertext,  # a generator: sent chunked, streamed by the server
            headers={"Content-Type": "application/octet-stream"},
        )
        assert answer.status_code == 201, answer.text
        public = base64.b64decode(space.json()["public_key"])
        return answer.json(), base64.b64encode(seal(data_key, public)).decode()

    def deposit(
        self, patient_id: str, plaintext: bytes = b"bilan sanguin", **metadata: Any
    ) -> dict[str, Any]:
        """Upload and deposit a document; returns the deposit answer."""
        upload, sealed_key = self.upload(patient_id, plaintext)
        body = {
            "receipt": upload["receipt"],
            "type": "lab_result",
            "title": "Bilan sanguin",
            "date": date(2025, 3, 14).isoformat(),
            "sealed_key": sealed_key,
            **metadata,
        }
        answer = self.post(f"/v1/spaces/{patient_id}/documents", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def read(self, patient_id: str, document_id: str) -> Any:
        """Ask for a document's key release (the raw response)."""
        key_id = self.reader_key_id or self.register_reader()
        url = f"/v1/spaces/{patient_id}/documents/{document_id}/reads"
        return self.post(url, json={"reader_key_id": key_id})

    def open_release(self, release: dict[str, Any]) -> bytes:
        """Download the ciphertext a release points to and decrypt it."""
        data_key = unseal(base64.b64decode(release["sealed_key"]), bytes(self.reader))
        url = release["content_url"]
        # a presigned S3 URL (PostgreSQL + S3) is fetched from S3 itself, not the app
        download = httpx.get(url) if url.startswith("http") else self.client.get(url)
        assert download.status_code == 200, download.text
        assert int(download.headers["content-length"]) == len(download.content)
        return b"".join(decrypt(iter([download.content]), data_key))


def caller_factory(client: TestClient, coffre: Coffre) -> Callable[[Actor], Caller]:
    """Make a ``Caller`` for an actor, with a fresh device key and the enrolment
    service's token to approve it."""
    enrolment = coffre.tokens.mint(ENROLMENT)

    def make(actor: Actor) -> Caller:
        return Caller(client, actor, coffre.tokens.mint(actor), SigningKey.generate(), enrolment)

    return make


def grant_space(patient: Caller, professional: Actor, days: int = 1) -> str:
    """``patient`` grants ``professional`` their whole space for ``days``; the grant id."""
    granted = patient.post(
        f"/v1/spaces/{patient.actor.id}/grants",
        json={
            "grantee": {
                "id": professional.id,
                "name": professional.name,
                "profession": professional.profession.value if professional.profession else None,
            },
            "scope": {"kind": "space"},
            "expires_at": (datetime.now(UTC) + timedelta(days=days)).isoformat(),
        },
    )
    assert granted.status_code == 201, granted.text
    return str(granted.json()["grant_id"])


def events(coffre: Coffre) -> int:
    """How many events are stored (the highest notification id)."""
    return coffre.vault.recorder.max_notification_id() or 0


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem body without its per-request ``instance``."""
    return {key: value for key, value in problem.items() if key != "instance"}

"""Approved reader devices for tests that drive the vault directly.

``enrol`` plays the whole device step as a client and its owner would: a challenge,
the proof of possession signed with a fresh Ed25519 key, then the approval a token
alone cannot give — the enrolment code of a person's letter (sent by the enrolment
service), or the enrolment service's approval for a professional or a service. It
returns the X25519 secret that opens what is released to the device, and its key id.

``ENROLMENT`` is the demo's enrolment service, authorised by default in the embedded
mode; other backends name it in ``COFFRE_ENROLMENT_SERVICES`` (``enrolment_services``).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from domain.devices import ByCode, ByService, Enrolment
from domain.reader import Reader
from domain.values import Actor
from vault.service import Vault
from vault.settings import DEMO_ENROLMENT
from wire.devices import device_request
from wire.dto import DeviceInfo
from wire.envelope import reader_key_id
from wire.values import Role

if TYPE_CHECKING:  # the SDK only for the helpers that take its clients
    from client.sdk import CoffreClient

ENROLMENT = Actor(Role.SERVICE, DEMO_ENROLMENT, "Service d'enrôlement", organisation="Coffre")
#: the vault's ``enrolment`` for tests building a ``Vault`` themselves
ENROLMENT_SERVICES = Enrolment(frozenset({ENROLMENT.id}))


def request(vault: Vault, actor: Actor, key: SigningKey, name: str = "test device") -> DeviceInfo:
    """Ask to add ``key`` as a device of ``actor`` with a valid proof: it is pending."""
    challenge = vault.device_challenge(actor)
    signing_key = base64.b64encode(bytes(key.verify_key)).decode()
    body = device_request(
        signing_key,
        lambda message: key.sign(message).signature,
        challenge.challenge,
        challenge.role,
        challenge.id,
        name,
    )
    return vault.request_device(actor, **body)


def enrol(vault: Vault, actor: Actor, name: str = "test device") -> tuple[PrivateKey, str]:
    """A new approved device of ``actor``: its X25519 secret and its key id."""
    key = SigningKey.generate()
    key_id = request(vault, actor, key, name).key_id
    role = actor.role.value
    if actor.role in (Role.PATIENT, Role.REPRESENTATIVE):
        code = vault.issue_enrolment_code(role, actor.id, ENROLMENT)
        vault.approve_device(role, actor.id, key_id, ByCode(code), actor)
    else:
        vault.approve_device(role, actor.id, key_id, ByService(), ENROLMENT)
    return key.to_curve25519_private_key(), key_id


def register_legacy_key(reader: Reader, public_key: bytes, actor: Actor, at: datetime) -> str:
    """Record what ``Reader.register`` recorded before devices existed: an X25519 key
    on a token alone (``Reader.KeyRegistered``, the very fields); returns its key id."""
    key_id = reader_key_id(public_key)
    reader.trigger_event(
        Reader.KeyRegistered,
        key_id=key_id,
        public_key=base64.b64encode(public_key).decode("ascii"),
        actor=actor.to_dict(),
        at=at,
    )
    return key_id


def enrol_client(client: CoffreClient, actor: Actor, enrolment: CoffreClient) -> str:
    """Through the SDK: add ``client``'s key as a device of ``actor`` (the token's) and
    have it approved — with an enrolment code the ``enrolment`` service sends, or by
    that service; returns the key id."""
    device = client.add_device("test device")
    if device.status == "approved":
        return device.key_id
    role = actor.role.value
    if actor.role in (Role.PATIENT, Role.REPRESENTATIVE):
        code = enrolment.issue_enrolment_code(role, actor.id)
        return client.approve_device(device.key_id, code=code).key_id
    return enrolment.approve_member_device(role, actor.id, device.key_id).key_id

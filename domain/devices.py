"""Reader devices: what a device is, how it becomes usable, and who may approve it.

A bearer token alone never makes a key usable. A device asks to be added with a
**proof of possession** (its Ed25519 signature over a fresh, single-use challenge
issued to the same actor) and stays **pending** — no data key is ever sealed to it —
until it is **approved** by a step the token cannot complete:

* by a device of the same owner that is already approved (its signature over the new
  device's keys), for every role;
* for a patient or a representative's first device, by an **enrolment code** sent out
  of band like the letter's one-time code (issued by an enrolment service, single use,
  locked after ``MAX_CODE_FAILURES`` wrong attempts, valid ``ENROLMENT_CODE_TTL``);
* for a professional, a service or a regulator, by an **enrolment service** the
  deployment names (``COFFRE_ENROLMENT_SERVICES``), never by the owner's own token.

The owner (or, for the roles it approves, an enrolment service) may revoke a device at
any time; a revoked device never becomes usable again. Keys registered before devices
existed (``Reader.KeyRegistered``, an X25519 key on a token alone) are **legacy**: they
cannot prove possession, so they are never approved; they are listed, unusable, and
revocable, and their owner adds a device instead.

This module holds the records and the rules; ``domain.reader.Reader`` records the events.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.key_bytes import decode_key_bytes
from domain.life import MAX_CODE_FAILURES
from domain.records import CodeCheck
from domain.values import Actor, AuthorisedServices
from wire import devices as wire_devices
from wire.errors import Conflict, DeviceNotApproved, DeviceRevoked
from wire.values import NAME_MAX, Role, clean_text

#: how long a device's challenge may be answered
CHALLENGE_TTL = timedelta(minutes=5)
#: how long an enrolment code stays valid after it is issued
ENROLMENT_CODE_TTL = timedelta(days=90)
#: a device's name, as its owner reads it in their list
DEVICE_NAME_MAX = NAME_MAX
#: owners whose first device an enrolment code approves (people who hold a letter)
CODE_ROLES = frozenset({Role.PATIENT, Role.REPRESENTATIVE})
#: owners whose devices an enrolment service approves (and may revoke)
SERVICE_ROLES = frozenset({Role.PROFESSIONAL, Role.SERVICE, Role.REGULATOR})


class DeviceStatus(StrEnum):
    """Where a device is: only an approved device receives data keys."""

    PENDING = "pending"  # asked with a proof of possession, awaiting approval
    APPROVED = "approved"
    REVOKED = "revoked"
    LEGACY = "legacy"  # registered before devices existed: never approved, revocable


class Method(StrEnum):
    """How a device was approved."""

    DEVICE = "device"  # signed by an approved device of the same owner
    CODE = "code"  # the owner's enrolment code
    SERVICE = "service"  # an enrolment service


class Refusal(StrEnum):
    """Why a step was refused; recorded (``Reader.DeviceRefused``) and told to the owner."""

    CHALLENGE_USED = "challenge_used"
    BAD_PROOF = "bad_proof"
    DEVICE_REVOKED = "device_revoked"
    BAD_APPROVAL = "bad_approval"
    WRONG_CODE = "wrong_code"
    APPROVER_NOT_AUTHORISED = "approver_not_authorised"


@dataclass
class Device:
    """One device of an owner, as the events built it."""

    key_id: str
    public_key: str  # X25519, base64: what data keys are sealed to
    signing_key: str | None  # Ed25519, base64; None for a legacy key
    name: str | None
    status: DeviceStatus
    requested_at: datetime
    approved_at: datetime | None = None
    method: str | None = None
    approver: str | None = None  # an approving device's key id, or a service's id
    revoked_at: datetime | None = None

    def usable_key(self) -> str:
        """The base64 X25519 key data keys may be sealed to: an approved device's only
        (``DeviceRevoked`` once revoked, ``DeviceNotApproved`` while pending or legacy)."""
        if self.status is DeviceStatus.REVOKED:
            raise DeviceRevoked("this device was revoked: it receives no data key")
        if self.status is DeviceStatus.PENDING:
            raise DeviceNotApproved(
                "this device is not approved: approve it with your enrolment code, an "
                "approved device or your enrolment service"
            )
        if self.status is not DeviceStatus.APPROVED:
            raise DeviceNotApproved("this key was registered before device approval: add a device")
        return self.public_key


@dataclass(frozen=True)
class Step:
    """What a device command did: the device it concerns, and the rule that refused it
    (the refusal is recorded; the caller raises it)."""

    key_id: str
    refusal: Refusal | None = None


@dataclass(frozen=True)
class Challenge:
    """A challenge the vault verified it issued to the caller, unexpired: ``text`` is
    what the device signed, ``nonce`` what makes it single use."""

    text: str
    nonce: str
    expires_at: datetime


@dataclass
class EnrolmentCode:
    """The owner's enrolment code: its digest, until when it is valid, wrong attempts."""

    digest: dict[str, Any]
    expires_at: datetime
    failures: int = 0

    def accepts(self, code: str, check: CodeCheck, at: datetime) -> bool:
        """Whether ``code`` is this one; ``Conflict`` once expired or locked."""
        if at > self.expires_at:
            raise Conflict("the enrolment code has expired: ask for a new one")
        if self.failures >= MAX_CODE_FAILURES:
            raise Conflict(
                "the enrolment code is locked after too many attempts: ask for a new one"
            )
        return isinstance(code, str) and check(code, self.digest)


@dataclass(frozen=True)
class ByDevice:
    """An approval signed by an approved device of the same owner."""

    approver_key_id: str
    signature: bytes | str  # raw, or base64 as the API carries it


@dataclass(frozen=True)
class ByCode:
    """An approval with the owner's enrolment code."""

    code: str


@dataclass(frozen=True)
class ByService:
    """An approval by the enrolment service calling."""


Approval = ByDevice | ByCode | ByService


@dataclass(frozen=True)
class Enrolment(AuthorisedServices):
    """Who may approve the devices of professionals, services and regulators, and
    issue enrolment codes to people: the services the deployment named
    (``COFFRE_ENROLMENT_SERVICES``), and nobody else.

    A ``service`` token alone is not enough: hospitals deposit with that role, and a
    device approval lets its holder receive data keys.
    """

    refusal: str = "devices are enrolled by an authorised enrolment service"


def device_name(name: object) -> str:
    """A device's name, cleaned like every label (``InvalidInput`` otherwise)."""
    return clean_text(name, field="name", max_length=DEVICE_NAME_MAX)


def signed_by_device(
    devices: Mapping[str, Device], device: Device, approval: ByDevice, role: str, actor_id: str
) -> bool:
    """Whether ``approval`` is a valid signature of ``device`` by another approved
    device of the same owner (``devices``, the owner's ``role`` and ``actor_id``)."""
    signature = decode_key_bytes(
        approval.signature, size=wire_devices.SIGNATURE_SIZE, field="signature"
    )
    approver = devices.get(approval.approver_key_id)
    if approver is None or approver.status is not DeviceStatus.APPROVED:
        return False
    if approver.signing_key is None or approver.key_id == device.key_id:
        return False
    message = wire_devices.approval_message(
        role, actor_id, device.key_id, device.public_key, device.signing_key
    )
    return wire_devices.verify(base64.b64decode(approver.signing_key), message, signature)


def answered(
    challenges: Mapping[str, datetime], nonce: str | None, expires_at: datetime | None, at: datetime
) -> dict[str, datetime]:
    """The challenges still to refuse at ``at``: those unexpired, and ``nonce`` if given."""
    kept = {seen: end for seen, end in challenges.items() if end >= at}
    if nonce is not None and expires_at is not None:
        kept[nonce] = expires_at
    return kept


def may_manage(owner_role: str, owner_id: str, actor: Actor, enrolment: Enrolment) -> bool:
    """Whether ``actor`` may list and revoke the devices of the owner (``owner_role``,
    ``owner_id``): the owner, and an enrolment service for the roles it approves."""
    if actor.role.value == owner_role and actor.id == owner_id:
        return True
    return Role(owner_role) in SERVICE_ROLES and enrolment.authorises(actor)

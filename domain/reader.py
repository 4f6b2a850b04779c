"""Reader devices of one actor: the ``Reader`` aggregate (``domain.devices`` holds the
records and the rules it applies).

A read names one of the caller's devices; the data key is resealed to it only when that
device is approved (``usable_key``). Every step is an event: ``DeviceRequested``,
``DeviceRefused`` (a reused challenge, a bad proof, a wrong code, an approval nobody may
give), ``DeviceApproved``, ``DeviceRevoked``, ``EnrolmentCodeIssued``. ``KeyRegistered``
(a key registered on a token alone, before devices existed) replays as a legacy key.
Each event's ``apply`` only assigns; signatures are checked with ``wire.devices``, codes
with the ``CodeCheck`` passed in (the domain never hashes anything itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.devices import (
    CODE_ROLES,
    ENROLMENT_CODE_TTL,
    SERVICE_ROLES,
    Approval,
    ByCode,
    ByDevice,
    Challenge,
    Device,
    DeviceStatus,
    Enrolment,
    EnrolmentCode,
    Method,
    Refusal,
    Step,
    answered,
    device_name,
    may_manage,
    signed_by_device,
)
from domain.key_bytes import b64, decode_key_bytes
from domain.records import CodeCheck
from domain.values import Actor
from wire import devices as wire_devices
from wire.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    UnknownReaderKey,
)
from wire.values import Role, require_aware

READER_NAMESPACE = uuid5(NAMESPACE_URL, "https://coffre.invalid/reader")


class Reader(Aggregate):
    """The reader devices of one actor (its owner)."""

    @staticmethod
    def create_id(role: str, actor_id: str) -> UUID:  # type: ignore[override]
        """One reader aggregate per (role, id)."""
        return uuid5(READER_NAMESPACE, f"{role}:{actor_id}")

    @event("Created")
    def __init__(self, role: str, actor_id: str) -> None:
        self.role = role
        self.actor_id = actor_id
        self.devices: dict[str, Device] = {}
        #: challenges answered, by nonce, until they expire (each is single use)
        self.challenges: dict[str, datetime] = {}
        self.code: EnrolmentCode | None = None

    @classmethod
    def for_actor(cls, actor: Actor) -> Reader:
        """A new, empty reader record for ``actor``."""
        return cls(role=actor.role.value, actor_id=actor.id)

    @property
    def owner(self) -> dict[str, str]:
        """Whose devices these are, as events name them."""
        return {"role": self.role, "id": self.actor_id}

    def is_owner(self, actor: Actor) -> bool:
        """True when ``actor`` is this record's owner."""
        return actor.role.value == self.role and actor.id == self.actor_id

    # -- reading ---------------------------------------------------------------------

    def usable_key(self, key_id: str) -> str:
        """The base64 X25519 key of the approved device ``key_id``.

        ``UnknownReaderKey`` when the owner has no such device, ``DeviceRevoked`` when
        it was revoked, ``DeviceNotApproved`` when it is pending or legacy.
        """
        return self._device(key_id).usable_key()

    def _device(self, key_id: str) -> Device:
        device = self.devices.get(key_id) if isinstance(key_id, str) else None
        if device is None:
            raise UnknownReaderKey("this reader key is not registered to you")
        return device

    # -- asking to be added ----------------------------------------------------------

    def request(
        self,
        signing_key: bytes | str,
        name: str,
        challenge: Challenge,
        signature: bytes | str,
        actor: Actor,
        at: datetime,
    ) -> Step:
        """A device asks to be added with its proof of possession; it stays pending
        until approved.

        ``challenge`` was issued to ``actor`` and is unexpired (the vault checked);
        answered once, it is refused after. The step names its refusal, recorded, when
        the challenge was used, the proof does not verify or the device was revoked.
        """
        self._require_owner(actor)
        key = decode_key_bytes(signing_key, size=wire_devices.SIGNING_KEY_SIZE, field="signing_key")
        signed = decode_key_bytes(signature, size=wire_devices.SIGNATURE_SIZE, field="signature")
        label = device_name(name)
        public_key = wire_devices.encryption_key(key)
        key_id = wire_devices.device_key_id(key)
        at = require_aware(at, field="at")
        seen = {"challenge": challenge.nonce, "challenge_expires_at": challenge.expires_at}
        # The proof covers the name as the device sent it; the list shows it cleaned.
        message = wire_devices.proof_message(
            challenge.text, self.role, self.actor_id, b64(key), name
        )
        refusal = None
        if challenge.nonce in self.challenges:
            refusal = Refusal.CHALLENGE_USED
        elif not wire_devices.verify(key, message, signed):
            refusal = Refusal.BAD_PROOF
        elif key_id in self.devices and self.devices[key_id].status is DeviceStatus.REVOKED:
            refusal = Refusal.DEVICE_REVOKED
        if refusal is not None:
            self._refuse(key_id, "request", refusal, actor, at, **seen)
            return Step(key_id, refusal)
        known = self.devices.get(key_id)
        if known is not None and known.signing_key is not None:
            return Step(key_id)  # asked again: it is already pending or approved
        self.trigger_event(
            self.DeviceRequested,
            owner=self.owner,
            key_id=key_id,
            public_key=b64(public_key),
            signing_key=b64(key),
            name=label,
            actor=actor.to_dict(),
            at=at,
            **seen,
        )
        return Step(key_id)

    class DeviceRequested(Aggregate.Event):
        """A device proved it holds its key and asked to be added; it is pending."""

        owner: dict[str, str]
        key_id: str
        public_key: str
        signing_key: str
        name: str
        challenge: str
        challenge_expires_at: datetime
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.challenges = answered(
                aggregate.challenges, self.challenge, self.challenge_expires_at, self.at
            )
            pending = DeviceStatus.PENDING
            aggregate.devices[self.key_id] = Device(
                self.key_id, self.public_key, self.signing_key, self.name, pending, self.at
            )

    # -- refusals --------------------------------------------------------------------

    def _refuse(
        self,
        key_id: str | None,
        purpose: str,
        rule: Refusal,
        actor: Actor,
        at: datetime,
        challenge: str | None = None,
        challenge_expires_at: datetime | None = None,
    ) -> None:
        # A refused step is recorded like a refused read, and its owner is told.
        self.trigger_event(
            self.DeviceRefused,
            owner=self.owner,
            key_id=key_id,
            purpose=purpose,
            rule=rule.value,
            challenge=challenge,
            challenge_expires_at=challenge_expires_at,
            actor=actor.to_dict(),
            at=at,
        )

    class DeviceRefused(Aggregate.Event):
        """A step (``purpose``: request or approval) was refused; ``rule`` says why."""

        owner: dict[str, str]
        key_id: str | None
        purpose: str
        rule: str
        challenge: str | None
        challenge_expires_at: datetime | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.challenges = answered(
                aggregate.challenges, self.challenge, self.challenge_expires_at, self.at
            )
            if self.rule == Refusal.WRONG_CODE.value and aggregate.code is not None:
                aggregate.code.failures += 1

    # -- approval --------------------------------------------------------------------

    def approve(
        self,
        key_id: str,
        approval: Approval,
        actor: Actor,
        at: datetime,
        *,
        check: CodeCheck,
        enrolment: Enrolment,
    ) -> Step:
        """Approve a pending device.

        The step names its refusal, recorded, when the approval itself fails: a
        signature that is not an approved device's, a wrong code, an approver who may
        not approve. Approving an approved device again changes nothing.
        """
        at = require_aware(at, field="at")
        device = self._device(key_id)
        if device.status is DeviceStatus.APPROVED:
            return Step(key_id)
        if device.status is DeviceStatus.REVOKED:
            raise Conflict("a revoked device stays revoked: add a new device")
        if device.status is DeviceStatus.LEGACY:
            raise Conflict("this key was registered before device approval: add a device")
        approver: str | None = None
        if isinstance(approval, ByDevice):
            self._require_owner(actor)
            ok = signed_by_device(self.devices, device, approval, self.role, self.actor_id)
            method, approver, refusal = (
                Method.DEVICE,
                approval.approver_key_id,
                Refusal.BAD_APPROVAL,
            )
        elif isinstance(approval, ByCode):
            self._require_owner(actor)
            if Role(self.role) not in CODE_ROLES:
                raise Forbidden(
                    "a professional's or a service's devices are approved by an enrolment "
                    "service or one of their approved devices"
                )
            if self.code is None:
                raise Conflict("there is no enrolment code to use: ask for one")
            ok = self.code.accepts(approval.code, check, at)
            method, refusal = Method.CODE, Refusal.WRONG_CODE
        else:
            if Role(self.role) not in SERVICE_ROLES:
                raise Forbidden(
                    "a person's devices are approved with their enrolment code or one of "
                    "their approved devices"
                )
            ok = enrolment.authorises(actor) and not self.is_owner(actor)
            method, approver, refusal = Method.SERVICE, actor.id, Refusal.APPROVER_NOT_AUTHORISED
        if not ok:
            self._refuse(key_id, "approval", refusal, actor, at)
            return Step(key_id, refusal)
        self.trigger_event(
            self.DeviceApproved,
            owner=self.owner,
            key_id=key_id,
            name=device.name,
            method=method.value,
            approver=approver,
            actor=actor.to_dict(),
            at=at,
        )
        return Step(key_id)

    class DeviceApproved(Aggregate.Event):
        """A device was approved (``method``: device, code or service): it may read."""

        owner: dict[str, str]
        key_id: str
        name: str | None
        method: str
        approver: str | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            device = aggregate.devices[self.key_id]
            device.status = DeviceStatus.APPROVED
            device.approved_at = self.at
            device.method = self.method
            device.approver = self.approver
            if self.method == Method.CODE.value:
                aggregate.code = None  # an enrolment code is spent once used

    # -- revocation ------------------------------------------------------------------

    def revoke(self, key_id: str, actor: Actor, at: datetime, enrolment: Enrolment) -> None:
        """Revoke a device: it never receives a data key again. Revoking twice changes
        nothing. The owner may, and an enrolment service for the roles it approves."""
        at = require_aware(at, field="at")
        if not may_manage(self.role, self.actor_id, actor, enrolment):
            raise Forbidden("only a device's owner revokes it")
        device = self._device(key_id)
        if device.status is DeviceStatus.REVOKED:
            return
        self.trigger_event(
            self.DeviceRevoked,
            owner=self.owner,
            key_id=key_id,
            name=device.name,
            actor=actor.to_dict(),
            at=at,
        )

    class DeviceRevoked(Aggregate.Event):
        """A device was revoked."""

        owner: dict[str, str]
        key_id: str
        name: str | None
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            device = aggregate.devices[self.key_id]
            device.status = DeviceStatus.REVOKED
            device.revoked_at = self.at

    # -- enrolment codes -------------------------------------------------------------

    def issue_code(
        self, code: Mapping[str, Any], actor: Actor, at: datetime, enrolment: Enrolment
    ) -> None:
        """An enrolment service records a new enrolment code's digest (replacing, and
        unlocking, any earlier one); the code itself goes out by letter."""
        enrolment.require(actor)
        if Role(self.role) not in CODE_ROLES:
            raise InvalidInput("enrolment codes are for patients and representatives", field="role")
        at = require_aware(at, field="at")
        self.trigger_event(
            self.EnrolmentCodeIssued,
            owner=self.owner,
            code=dict(code),
            expires_at=at + ENROLMENT_CODE_TTL,
            actor=actor.to_dict(),
            at=at,
        )

    class EnrolmentCodeIssued(Aggregate.Event):
        """An enrolment code was issued; only its salted slow hash is kept."""

        owner: dict[str, str]
        code: dict[str, Any]
        expires_at: datetime
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.code = EnrolmentCode(self.code, self.expires_at)

    # -- before devices ----------------------------------------------------------------

    class KeyRegistered(Aggregate.Event):
        """A key registered on a token alone, before devices existed: a legacy key."""

        key_id: str
        public_key: str
        actor: dict[str, Any]
        at: datetime

        def apply(self, aggregate: Any) -> None:
            if self.key_id not in aggregate.devices:
                aggregate.devices[self.key_id] = Device(
                    self.key_id, self.public_key, None, None, DeviceStatus.LEGACY, self.at
                )

    def _require_owner(self, actor: Actor) -> None:
        if not self.is_owner(actor):
            raise Forbidden("only a device's owner asks for it or approves it this way")

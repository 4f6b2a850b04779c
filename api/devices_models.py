"""Request and response bodies of reader devices (``api.routers.devices``).

Only public keys travel: a device's Ed25519 signing key and its X25519 form. Sizes are
capped here; the shapes (key sizes, a usable curve point, the name's characters) are
the domain's to check.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from api.models import ID_MAX, KEY_B64_MAX, TEXT_MAX, TICKET_MAX, RequestModel, ResponseModel
from domain.devices import Approval, ByCode, ByDevice

#: a signature is 64 bytes: 88 characters of base64
SIGNATURE_B64_MAX = 128
CODE_MAX = 64


class DeviceChallengePublic(ResponseModel):
    """A challenge for a device to sign: single use, valid until ``expires_at``, and only
    for the caller it was issued to."""

    challenge: str
    expires_at: dt.datetime
    role: str = Field(description="the actor it was issued to, whom the proof names")
    id: str


class DeviceCreate(RequestModel):
    """A device asks to be added: its Ed25519 public key, its name, and its signature of
    the challenge (``wire.devices.proof_message``)."""

    signing_key: str = Field(max_length=KEY_B64_MAX, description="Ed25519 public key, base64")
    name: str = Field(max_length=TEXT_MAX, description="how its owner will recognise it")
    challenge: str = Field(max_length=TICKET_MAX, description="from POST /v1/devices/challenges")
    signature: str = Field(max_length=SIGNATURE_B64_MAX, description="Ed25519 signature, base64")


class DeviceApprovalCreate(RequestModel):
    """The owner approves a pending device: with their enrolment ``code``, or with the
    signature (``wire.devices.approval_message``) of one of their approved devices."""

    code: str | None = Field(None, max_length=CODE_MAX, description="the enrolment code")
    approver_key_id: str | None = Field(None, max_length=ID_MAX)
    signature: str | None = Field(None, max_length=SIGNATURE_B64_MAX, description="base64")

    @model_validator(mode="after")
    def _one_way(self) -> DeviceApprovalCreate:
        by_code = self.code is not None
        by_device = self.approver_key_id is not None or self.signature is not None
        if by_code == by_device:
            raise ValueError("give either code, or approver_key_id and signature")
        if by_device and (self.approver_key_id is None or self.signature is None):
            raise ValueError("a device's approval gives approver_key_id and signature")
        return self

    def approval(self) -> Approval:
        """The domain's approval (its signature decoded and checked there)."""
        if self.code is not None:
            return ByCode(self.code)
        return ByDevice(str(self.approver_key_id), str(self.signature))


class DevicePublic(ResponseModel):
    """A reader device: only an approved one receives data keys."""

    key_id: str
    name: str | None
    status: Literal["pending", "approved", "revoked", "legacy"]
    public_key: str = Field(description="X25519, base64: what data keys are sealed to")
    signing_key: str | None = Field(description="Ed25519, base64; none for a legacy key")
    requested_at: dt.datetime
    approved_at: dt.datetime | None
    method: Literal["device", "code", "service"] | None
    approver: str | None
    revoked_at: dt.datetime | None


class DeviceList(BaseModel):
    """An owner's devices, oldest first; ``role`` and ``id`` name the owner (what an
    approving device signs)."""

    role: str
    id: str
    devices: list[DevicePublic]


class EnrolmentCodePublic(BaseModel):
    """An enrolment code, given once, for the letter; only its hash is kept."""

    code: str

"""Reader devices in the SDK: add this client's key as a device, approve, list, revoke.

Mixed into ``client.sdk.CoffreClient``, whose ``reader_key`` is this device's key::

    with CoffreClient(url, patient_token, reader_key=ReaderKey.generate()) as coffre:
        coffre.add_device("Jeanne's laptop")            # pending: receives no data key
        coffre.approve_device(coffre.reader_key.key_id, code="7K3QH-M2XAD")  # the letter
        coffre.read(ins, document_id, "bilan.pdf")      # sealed to this approved device

A second device is approved by the first (``approve_device(key_id)`` on a client holding
an approved key signs the new device's keys); a professional's or a service's devices
by their enrolment service (``approve_member_device``). Each method is one route of
``api.routers.devices``; what a device signs is built by ``wire.devices``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from client.transport import Transport
from wire.devices import approval_message, device_key_id, device_request
from wire.dto import DeviceInfo
from wire.envelope import reader_key_id
from wire.errors import IntegrityFailure, UnknownReaderKey

__all__ = ["DeviceMethods", "parse_device"]


class DeviceMethods(Transport):
    """Device calls: this client's ``reader_key`` is the device's key."""

    # -- the caller's own devices ------------------------------------------------------

    def add_device(self, name: str) -> DeviceInfo:
        """Ask to add this client's key as a device of the token's actor, proving it holds
        the key (a fresh challenge, signed); returns it, pending until approved."""
        key = self._reader()
        answer = self._request("POST", "/v1/devices/challenges")
        body = device_request(
            key.signing_key_b64, key.sign, answer["challenge"], answer["role"], answer["id"], name
        )
        device = parse_device(self._request("POST", "/v1/devices", json=body))
        if device.key_id != key.key_id:
            raise IntegrityFailure("the server added a different key id than ours")
        return device

    def approve_device(self, key_id: str, *, code: str | None = None) -> DeviceInfo:
        """Approve one of the caller's pending devices: with the enrolment ``code`` (a
        person's first device), or else signed by this client's key, which must be an
        approved device of the same actor."""
        if code is not None:
            body: dict[str, Any] = {"code": code}
        else:
            approver = self._reader()
            listed = self._request("GET", "/v1/devices")
            target = next(
                (parse_device(d) for d in listed["devices"] if d["key_id"] == key_id), None
            )
            if target is None:
                raise UnknownReaderKey("no device of yours has this key id")
            _require_consistent(target)
            message = approval_message(
                listed["role"], listed["id"], target.key_id, target.public_key, target.signing_key
            )
            signature = base64.b64encode(approver.sign(message)).decode("ascii")
            body = {"approver_key_id": approver.key_id, "signature": signature}
        path = f"/v1/devices/{quote(key_id, safe='')}/approval"
        return parse_device(self._request("POST", path, json=body))

    def enrol_device(self, name: str, code: str) -> DeviceInfo:
        """A person's first device in one call: add this client's key, approve it with
        the enrolment code of their letter."""
        added = self.add_device(name)
        return self.approve_device(added.key_id, code=code)

    def devices(self) -> list[DeviceInfo]:
        """The caller's devices, oldest first, whatever their status."""
        return [parse_device(d) for d in self._request("GET", "/v1/devices")["devices"]]

    def revoke_device(self, key_id: str) -> None:
        """Revoke one of the caller's devices: it never receives a data key again."""
        self._request("DELETE", f"/v1/devices/{quote(key_id, safe='')}")

    # -- an enrolment service's calls ----------------------------------------------------

    def member_devices(self, role: str, actor_id: str) -> list[DeviceInfo]:
        """The devices of a professional or a service (an enrolment service only)."""
        answer = self._request("GET", f"{_member(role, actor_id)}/devices")
        return [parse_device(d) for d in answer["devices"]]

    def approve_member_device(self, role: str, actor_id: str, key_id: str) -> DeviceInfo:
        """Approve a professional's or a service's pending device (an enrolment service)."""
        path = f"{_member(role, actor_id)}/devices/{quote(key_id, safe='')}/approval"
        return parse_device(self._request("POST", path))

    def revoke_member_device(self, role: str, actor_id: str, key_id: str) -> None:
        """Revoke a professional's or a service's device (an enrolment service)."""
        self._request("DELETE", f"{_member(role, actor_id)}/devices/{quote(key_id, safe='')}")

    def issue_enrolment_code(self, role: str, actor_id: str) -> str:
        """A new enrolment code for a patient's or a representative's first device (an
        enrolment service), given once, for the letter."""
        return str(self._request("POST", f"{_member(role, actor_id)}/enrolment-codes")["code"])


def parse_device(data: Mapping[str, Any]) -> DeviceInfo:
    """A device as the API lists it."""

    def instant(name: str) -> datetime | None:
        value = data.get(name)
        return datetime.fromisoformat(value) if value else None

    requested = instant("requested_at")
    if requested is None:
        raise IntegrityFailure("a device without the time it was requested")
    return DeviceInfo(
        key_id=str(data["key_id"]),
        name=data.get("name"),
        status=str(data["status"]),
        public_key=str(data["public_key"]),
        signing_key=data.get("signing_key"),
        requested_at=requested,
        approved_at=instant("approved_at"),
        method=data.get("method"),
        approver=data.get("approver"),
        revoked_at=instant("revoked_at"),
    )


def _require_consistent(device: DeviceInfo) -> None:
    # Sign only keys that are the key id the owner was shown: a server that swapped a
    # device's keys in the list would otherwise get another key approved.
    public = base64.b64decode(device.public_key)
    signing = base64.b64decode(device.signing_key) if device.signing_key else None
    if reader_key_id(public) != device.key_id or (
        signing is not None and device_key_id(signing) != device.key_id
    ):
        raise IntegrityFailure("the server listed keys that are not this key id's")


def _member(role: str, actor_id: str) -> str:
    return f"/v1/readers/{quote(role, safe='')}/{quote(actor_id, safe='')}"

"""Reader devices: the keys data keys are sealed to, which a bearer token alone never
makes usable. Use cases in ``vault.devices``; rules in ``domain.devices``.

The caller's own devices (``/v1/devices``): ask for a challenge, ask to add a device
with its proof of possession (it is pending), approve it (with the enrolment code, or
signed by an approved device), list, revoke. An enrolment service manages the devices
of professionals and services, and sends people their enrolment codes
(``/v1/readers/{role}/{actor_id}/...``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, status

from api.deps import CurrentActor, ServiceActor, VaultDep
from api.devices_models import (
    DeviceApprovalCreate,
    DeviceChallengePublic,
    DeviceCreate,
    DeviceList,
    DevicePublic,
    EnrolmentCodePublic,
)
from api.models import ID_MAX
from api.routers.common import Router, problem_responses
from domain.devices import ByService
from wire.dto import DeviceInfo

router = Router(prefix="/v1", tags=["devices"], responses=problem_responses(401, 403, 422))

KeyId = Annotated[str, Path(max_length=ID_MAX, description="the device's key id")]
OwnerRole = Annotated[str, Path(max_length=ID_MAX, description="the owner's role")]
OwnerId = Annotated[str, Path(max_length=ID_MAX, description="the owner's id")]
_MEMBER = "/readers/{role}/{actor_id}"


@router.post("/devices/challenges", name="device_challenge", status_code=status.HTTP_201_CREATED)
def device_challenge(vault: VaultDep, actor: CurrentActor) -> DeviceChallengePublic:
    """A challenge for the caller's new device to sign."""
    return DeviceChallengePublic.model_validate(vault.device_challenge(actor))


@router.post(
    "/devices",
    name="request_device",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400),
)
def request_device(body: DeviceCreate, vault: VaultDep, actor: CurrentActor) -> DevicePublic:
    """Ask to add a device with its proof of possession: it is pending (it receives no
    data key) until approved. Every attempt is recorded and told to the owner."""
    added = vault.request_device(actor, body.signing_key, body.name, body.challenge, body.signature)
    return DevicePublic.model_validate(added)


@router.get("/devices", name="list_devices")
def list_devices(vault: VaultDep, actor: CurrentActor) -> DeviceList:
    """The caller's devices, oldest first, whatever their status."""
    return _listed(actor.role.value, actor.id, vault.devices(actor.role.value, actor.id, actor))


@router.post(
    "/devices/{key_id}/approval", name="approve_device", responses=problem_responses(404, 409)
)
def approve_device(
    key_id: KeyId, body: DeviceApprovalCreate, vault: VaultDep, actor: CurrentActor
) -> DevicePublic:
    """Approve one of the caller's pending devices: with the enrolment code (a person's
    first device), or signed by one of the caller's approved devices."""
    approved = vault.approve_device(actor.role.value, actor.id, key_id, body.approval(), actor)
    return DevicePublic.model_validate(approved)


@router.delete(
    "/devices/{key_id}",
    name="revoke_device",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
)
def revoke_device(key_id: KeyId, vault: VaultDep, actor: CurrentActor) -> None:
    """Revoke one of the caller's devices: it never receives a data key again."""
    vault.revoke_device(actor.role.value, actor.id, key_id, actor)


@router.get(f"{_MEMBER}/devices", name="list_member_devices")
def list_member_devices(
    role: OwnerRole, actor_id: OwnerId, vault: VaultDep, actor: ServiceActor
) -> DeviceList:
    """An enrolment service lists the devices of a professional or a service."""
    return _listed(role, actor_id, vault.devices(role, actor_id, actor))


@router.post(
    f"{_MEMBER}/devices/{{key_id}}/approval",
    name="approve_member_device",
    responses=problem_responses(404, 409),
)
def approve_member_device(
    role: OwnerRole, actor_id: OwnerId, key_id: KeyId, vault: VaultDep, actor: ServiceActor
) -> DevicePublic:
    """An enrolment service approves a pending device of a professional or a service
    (never its own)."""
    return DevicePublic.model_validate(
        vault.approve_device(role, actor_id, key_id, ByService(), actor)
    )


@router.delete(
    f"{_MEMBER}/devices/{{key_id}}",
    name="revoke_member_device",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
)
def revoke_member_device(
    role: OwnerRole, actor_id: OwnerId, key_id: KeyId, vault: VaultDep, actor: ServiceActor
) -> None:
    """An enrolment service revokes a device of a professional or a service."""
    vault.revoke_device(role, actor_id, key_id, actor)


@router.post(
    f"{_MEMBER}/enrolment-codes", name="issue_enrolment_code", status_code=status.HTTP_201_CREATED
)
def issue_enrolment_code(
    role: OwnerRole, actor_id: OwnerId, vault: VaultDep, actor: ServiceActor
) -> EnrolmentCodePublic:
    """An enrolment service issues a patient's or a representative's enrolment code,
    given once here for the letter (a new one replaces and unlocks the old one)."""
    return EnrolmentCodePublic(code=vault.issue_enrolment_code(role, actor_id, actor))


def _listed(role: str, actor_id: str, found: list[DeviceInfo]) -> DeviceList:
    return DeviceList(
        role=role, id=actor_id, devices=[DevicePublic.model_validate(d) for d in found]
    )

"""Use cases of reader devices: a challenge, a device asking to be added, its approval,
its revocation, the list of an owner's devices, and enrolment codes.

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them). The
rules are the domain's (``domain.devices``, ``domain.reader.Reader``); here a challenge
is issued and checked (a signed ticket naming a random nonce and the actor it was issued
to), codes are made and hashed (``keys.codes``), and each command is saved with
optimistic retries. A refused step is recorded first, then raised as ``Refused``
naming its rule, like a wrong one-time code.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from domain.devices import CHALLENGE_TTL, Approval, Challenge, Device, Step, may_manage
from domain.reader import Reader
from domain.values import Actor, parse_actor_id
from keys.codes import new_code, verify_code
from vault.core import VaultCore
from wire.dto import DeviceChallenge, DeviceInfo
from wire.errors import Forbidden, IntegrityFailure, InvalidInput, Refused
from wire.values import Role


def owner_of(role: str, actor_id: str) -> tuple[str, str]:
    """The owner a path names, validated: ``(role, id)``."""
    try:
        parsed = Role(role)
    except ValueError:
        raise InvalidInput("unknown role", field="role") from None
    return parsed.value, parse_actor_id(parsed, actor_id)


def device_challenge(core: VaultCore, actor: Actor) -> DeviceChallenge:
    """A fresh challenge for ``actor``'s device to sign (``CHALLENGE_TTL``, single use)."""
    expires_at = core.clock.now() + CHALLENGE_TTL
    payload = {"nonce": secrets.token_urlsafe(16), "role": actor.role.value, "id": actor.id}
    ticket = core.device_challenges.sign(payload, expires_at)
    return DeviceChallenge(ticket, expires_at, actor.role.value, actor.id)


def request_device(
    core: VaultCore,
    actor: Actor,
    signing_key: bytes | str,
    name: str,
    challenge: str,
    signature: bytes | str,
) -> DeviceInfo:
    """A device of ``actor`` asks to be added with its proof of possession; it is
    pending (no data key is sealed to it) until approved.

    A forged, expired or someone else's challenge is bad input (``IntegrityFailure``,
    nothing recorded); a reused challenge, a bad proof or a revoked device is a refused
    attempt, recorded and told to the owner (``Refused``).
    """
    checked = _challenge(core, challenge, actor)

    def change() -> tuple[Reader, Step]:
        reader = core.reader(actor.role.value, actor.id)
        now = core.clock.now()
        return reader, reader.request(signing_key, name, checked, signature, actor, now)

    step = core.retry(change)
    if step.refusal is not None:
        raise Refused("the device's proof of possession was refused", rule=step.refusal.value)
    return info(core.reader(actor.role.value, actor.id).devices[step.key_id])


def approve_device(
    core: VaultCore, role: str, actor_id: str, key_id: str, approval: Approval, actor: Actor
) -> DeviceInfo:
    """Approve a pending device of the owner ``(role, actor_id)``: by one of the owner's
    approved devices, the owner's enrolment code, or an enrolment service."""
    role, actor_id = owner_of(role, actor_id)

    def change() -> tuple[Reader, Step]:
        reader = core.reader(role, actor_id)
        now = core.clock.now()
        step = reader.approve(
            key_id, approval, actor, now, check=verify_code, enrolment=core.enrolment
        )
        return reader, step

    step = core.retry(change)
    if step.refusal is not None:
        raise Refused("the approval was refused", rule=step.refusal.value)
    return info(core.reader(role, actor_id).devices[key_id])


def revoke_device(core: VaultCore, role: str, actor_id: str, key_id: str, actor: Actor) -> None:
    """Revoke a device: its next read, and every one after, is refused."""
    role, actor_id = owner_of(role, actor_id)

    def change() -> tuple[Reader, None]:
        reader = core.reader(role, actor_id)
        return reader, reader.revoke(key_id, actor, core.clock.now(), core.enrolment)

    core.retry(change)


def devices(core: VaultCore, role: str, actor_id: str, actor: Actor) -> list[DeviceInfo]:
    """Every device of the owner ``(role, actor_id)``, oldest first: for the owner, and
    for an enrolment service the roles it approves."""
    role, actor_id = owner_of(role, actor_id)
    if not may_manage(role, actor_id, actor, core.enrolment):
        raise Forbidden("only a device's owner lists their devices")
    reader = core.reader(role, actor_id)
    return [info(device) for device in reader.devices.values()]


def issue_enrolment_code(core: VaultCore, role: str, actor_id: str, actor: Actor) -> str:
    """A new enrolment code for a person's first device (an enrolment service only);
    returned once, for the letter, and kept only as a salted slow hash."""
    role, actor_id = owner_of(role, actor_id)
    core.enrolment.require(actor)
    code = new_code()
    digest = core.codes.digest(code)

    def change() -> tuple[Reader, None]:
        reader = core.reader(role, actor_id)
        return reader, reader.issue_code(digest, actor, core.clock.now(), core.enrolment)

    core.retry(change)
    return code


def info(device: Device) -> DeviceInfo:
    """A device as it is listed."""
    return DeviceInfo(
        key_id=device.key_id,
        name=device.name,
        status=device.status.value,
        public_key=device.public_key,
        signing_key=device.signing_key,
        requested_at=device.requested_at,
        approved_at=device.approved_at,
        method=device.method,
        approver=device.approver,
        revoked_at=device.revoked_at,
    )


def _challenge(core: VaultCore, challenge: str, actor: Actor) -> Challenge:
    payload = core.device_challenges.verify(challenge, core.clock.now())
    if payload.get("role") != actor.role.value or payload.get("id") != actor.id:
        raise IntegrityFailure("this challenge was issued to someone else")
    expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
    return Challenge(challenge, str(payload["nonce"]), expires_at)

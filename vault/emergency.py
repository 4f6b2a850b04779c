"""Use case of emergency access (bris de glace): a professional declares it, with a
justification; refused, and the refusal recorded, when the declarer is not a health
professional or the patient forbade it.

A function over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds it as its
method).
"""

from __future__ import annotations

from uuid import uuid4

from domain.emergency import REFUSAL_MESSAGES
from domain.values import Actor
from vault.core import VaultCore, space_seal
from wire.dto import EmergencyGranted
from wire.errors import Refused


def invoke_emergency_access(
    core: VaultCore, patient_id: str, justification: str, actor: Actor
) -> EmergencyGranted:
    """A professional declares an emergency access (bris de glace).

    Refused (and the refusal recorded) when the declarer is not a health professional
    or the patient forbade emergency access.
    Reads during the access are logged with ``how = emergency``; the event names
    the patient, their representatives and the attending physician to notify.
    """
    access_id = uuid4()
    decision = core.on_space(
        patient_id,
        actor,
        lambda s, now: s.invoke_emergency_access(
            access_id,
            justification,
            core.periods,
            actor,
            now,
            # sealed to the space key: shredding the space destroys it with the rest
            seal=space_seal(s),
        ),
    )
    if decision.refusal is not None:
        raise Refused(REFUSAL_MESSAGES[decision.refusal], rule=decision.refusal)
    access = core.space(patient_id, actor).emergency_accesses[access_id]
    return EmergencyGranted(access_id, access.expires_at)

"""Reader keys: the public keys reading clients register to receive data keys."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentActor, VaultDep
from api.models import ReaderKey, ReaderKeyCreate
from api.routers.common import problem_responses

router = APIRouter(prefix="/v1/readers", tags=["readers"], responses=problem_responses(401))


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    name="register_reader_key",
    responses=problem_responses(422),
)
def register_reader_key(body: ReaderKeyCreate, vault: VaultDep, actor: CurrentActor) -> ReaderKey:
    """Register an X25519 public key for the caller; registering it again is harmless."""
    return ReaderKey(key_id=vault.register_reader_key(actor, body.public_key))

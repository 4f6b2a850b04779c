"""The regulator's trail: checkpoints, consistency proofs and verifiable exports.

Only the regulator role reaches the trail; its public key and its key set are public on
purpose, since a verifier must be able to fetch them without credentials (and should
compare them with the ones published out of band).
"""

from __future__ import annotations

import base64
import io
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Annotated, Literal

from fastapi import Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import FreshViewsDep, RegulatorActor, TrailDep
from api.models import ACTOR_ID_PATTERN, Position
from api.routers.common import Router, problem_responses
from api.views_models import CheckpointOut, ConsistencyProof, TrailKeySetOut, TrailPublicKey
from projections.trail_export import TrailQuery
from wire.errors import InvalidInput

router = Router(prefix="/v1/trail", tags=["trail"], responses=problem_responses(401, 403, 422))

PIECE = 1024 * 1024


class ExportQuery(BaseModel):
    """What a regulator asks for: one patient or one actor, and/or a time window."""

    model_config = ConfigDict(extra="forbid")

    patient_id: str | None = Field(None, max_length=32, pattern=ACTOR_ID_PATTERN)
    actor_id: str | None = Field(None, max_length=64, pattern=ACTOR_ID_PATTERN)
    since: datetime | None = None
    until: datetime | None = None
    format: Literal["jsonl", "fhir"] = "jsonl"
    from_size: Position | None = Field(None, description="a checkpoint size you already hold")


@router.get("/public-key", name="trail_public_key")
def public_key(trail: TrailDep) -> TrailPublicKey:
    """The key that signs checkpoints and export manifests."""
    key = trail.signer.public_key
    return TrailPublicKey(
        public_key=base64.b64encode(key).decode("ascii"), key_id=trail.signer.key_id
    )


@router.get("/keys", name="trail_keys")
def keys(trail: TrailDep) -> TrailKeySetOut:
    """Every key that signed the trail, with its validity period (the key set)."""
    return TrailKeySetOut.model_validate(trail.keys.key_set().to_json())


@router.get("/checkpoints/latest", name="latest_checkpoint")
def latest_checkpoint(views: FreshViewsDep, actor: RegulatorActor) -> CheckpointOut:
    """The newest signed checkpoint (one is signed now if the trail has none)."""
    trail = views.trail()
    checkpoint = trail.latest_checkpoint() or trail.checkpoint()
    return CheckpointOut.model_validate(checkpoint.to_json())


@router.post("/checkpoints", name="sign_checkpoint", status_code=201)
def sign_checkpoint(views: FreshViewsDep, actor: RegulatorActor) -> CheckpointOut:
    """Sign a checkpoint over the trail as it is now (on demand)."""
    return CheckpointOut.model_validate(views.trail().checkpoint().to_json())


@router.get("/consistency", name="consistency_proof")
def consistency_proof(
    old: Annotated[Position, Query()],
    new: Annotated[Position, Query()],
    trail: TrailDep,
    actor: RegulatorActor,
) -> ConsistencyProof:
    """The RFC 9162 consistency proof between two tree sizes."""
    if old > new or new > trail.size():
        raise InvalidInput("sizes must satisfy old <= new <= the trail's size", field="new")
    proof = trail.consistency_proof(old, new)
    return ConsistencyProof(old=old, new=new, proof=[node.hex() for node in proof])


@router.get(
    "/export",
    name="export_trail",
    response_model=None,
    responses={
        200: {
            "description": "JSON Lines (format=jsonl) or a FHIR R4 Bundle (format=fhir)",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/fhir+json": {"schema": {"type": "object"}},
            },
        }
    },
)
def export(
    query: Annotated[ExportQuery, Query()],
    views: FreshViewsDep,
    actor: RegulatorActor,
) -> StreamingResponse | JSONResponse:
    """A verifiable export: JSON Lines (streamed) or a FHIR R4 Bundle of AuditEvents."""
    trail = views.trail()
    selection = TrailQuery(
        patient_id=query.patient_id, actor_id=query.actor_id, since=query.since, until=query.until
    )
    if query.format == "fhir":
        bundle = trail.export_fhir(selection, from_size=query.from_size)
        return JSONResponse(bundle, media_type="application/fhir+json")
    # Spooled to a temporary file so that memory stays flat whatever the export's size.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the streaming generator
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
    trail.export_jsonl(selection, text, from_size=query.from_size)
    text.flush()
    text.detach()
    spool.seek(0)
    return StreamingResponse(_stream(spool), media_type="application/x-ndjson")


def _stream(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while piece := spool.read(PIECE):
            yield piece

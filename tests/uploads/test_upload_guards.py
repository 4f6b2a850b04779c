"""The upload guards one by one (issue 9, item 3): pacing, length caps, slots.

``test_stalled_uploads.py`` proves them together against a real server; these pin each
rule down in process, fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException
from starlette.types import Message

from api.app import create_app
from api.middleware import PacedBody, UploadLimits
from api.routers.documents import _Slots
from coffre.bootstrap import Coffre, build
from tests.uploads.helpers import HOSPITAL, PATIENT, envelope_prefix
from vault.settings import Settings
from wire.errors import Unavailable


def _receive(pieces: list[tuple[float, bytes]]) -> object:
    """An ASGI receive that sends each piece after its delay, then ends the body."""
    queue = list(pieces)

    async def receive() -> Message:
        if not queue:
            return {"type": "http.request", "body": b"", "more_body": False}
        delay, body = queue.pop(0)
        await anyio.sleep(delay)
        return {"type": "http.request", "body": body, "more_body": True}

    return receive


def _drain(paced: PacedBody) -> int:
    async def run() -> int:
        while (await paced())["more_body"]:
            pass
        return paced.received

    return anyio.run(run)


LIMITS = UploadLimits(max_bytes=1000, idle_timeout=0.2, min_rate=100, rate_window=0.3)


def test_a_body_that_keeps_coming_passes() -> None:
    paced = PacedBody(_receive([(0.01, b"x" * 100)] * 5), LIMITS, cap=1000)  # type: ignore[arg-type]
    assert _drain(paced) == 500


def test_a_body_that_goes_quiet_is_a_408() -> None:
    paced = PacedBody(_receive([(0, b"x" * 10), (5, b"late")]), LIMITS, cap=1000)  # type: ignore[arg-type]
    with pytest.raises(HTTPException) as raised:
        _drain(paced)
    assert raised.value.status_code == 408
    assert raised.value.headers == {"Connection": "close"}


def test_a_body_that_trickles_is_a_408() -> None:
    # Never quiet for the idle timeout, but 1 byte per 0.1 s is under 100 bytes/s.
    paced = PacedBody(_receive([(0.1, b"x")] * 20), LIMITS, cap=1000)  # type: ignore[arg-type]
    with pytest.raises(HTTPException) as raised:
        _drain(paced)
    assert raised.value.status_code == 408


@pytest.mark.parametrize("cap", [300, 1000])
def test_a_body_longer_than_announced_or_allowed_is_a_413(cap: int) -> None:
    paced = PacedBody(_receive([(0, b"x" * 200)] * 6), LIMITS, cap=cap)  # type: ignore[arg-type]
    with pytest.raises(HTTPException) as raised:
        _drain(paced)
    assert raised.value.status_code == 413


def test_slots_per_caller_then_for_the_process() -> None:
    slots = _Slots(per_caller=2, total=3)
    with slots.claim("service:a"), slots.claim("service:a"):
        with pytest.raises(HTTPException) as raised, slots.claim("service:a"):
            pass
        assert raised.value.status_code == 429
        assert raised.value.headers and raised.value.headers["Retry-After"]
        with slots.claim("service:b"), pytest.raises(Unavailable), slots.claim("service:c"):
            pass
    # All released: the first caller has its share again.
    with slots.claim("service:a"), slots.claim("service:a"):
        pass


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[Coffre, TestClient]]:
    """An embedded Coffre accepting documents of at most 64 KiB."""
    settings = Settings(
        data_dir=tmp_path / "data", opposition_period=timedelta(0), max_document_size=65536
    )
    coffre = build(settings)
    try:
        with TestClient(create_app(coffre)) as client:
            token = coffre.tokens.mint(HOSPITAL)
            client.headers["Authorization"] = f"Bearer {token}"
            assert client.post("/v1/spaces", json={"patient_id": PATIENT.id}).status_code == 201
            yield coffre, client
    finally:
        coffre.close()


def _stored(coffre: Coffre) -> list[Path]:
    return [p for p in (coffre.settings.data_dir / "blobs").rglob("*") if p.is_file()]


def test_an_upload_over_the_maximum_is_a_413_announced_or_not(
    small: tuple[Coffre, TestClient],
) -> None:
    coffre, client = small
    body = envelope_prefix(100_000)
    url = f"/v1/spaces/{PATIENT.id}/uploads"
    headers = {"Content-Type": "application/octet-stream"}
    announced = client.post(url, content=body, headers=headers)
    assert announced.status_code == 413
    assert announced.headers["connection"] == "close"
    # Chunked: counted as it arrives, refused on the piece that goes over.
    chunked = client.post(url, content=iter([body[:40_000], body[40_000:]]), headers=headers)
    assert chunked.status_code == 413
    assert chunked.json()["type"].endswith("/body-too-large")
    assert _stored(coffre) == []
    # Within the maximum, the same route stores it.
    assert client.post(url, content=body[:60_000], headers=headers).status_code == 201

"""The SDK's rule for the other S3 gateways' URLs (``alternates``): the next URL only
while nothing was sent or written, else a retryable ``Unavailable`` (client.uploads,
client.reads), over a fake network where each host behaves as told."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import httpx
import pytest

from client.sdk import CoffreClient
from wire.envelope import DataKey, encrypt
from wire.errors import Unavailable

DEAD, MIDWAY, BROKEN, LIVE = (f"http://{name}.s3.test/b/o" for name in ("dead", "mid", "5xx", "ok"))


class Gateways(httpx.BaseTransport):
    """``dead`` refuses connections, ``mid`` drops them after reading a bit of the body
    (or of the answer), ``5xx`` answers 503, ``ok`` takes and serves ``payload``."""

    def __init__(self, payload: bytes = b"") -> None:
        self.payload = payload
        self.tried: list[str] = []
        self.received = b""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.split(".")[0]
        self.tried.append(host)
        if host == "dead":
            raise httpx.ConnectError("connection refused", request=request)
        if host == "mid":
            if request.method == "PUT":
                next(iter(request.stream))  # type: ignore[arg-type]
                raise httpx.WriteError("connection reset", request=request)
            return httpx.Response(200, stream=_Dropping(self.payload), request=request)
        if host == "5xx":
            return httpx.Response(503, content=b"<Code>SlowDown</Code>", request=request)
        if request.method == "PUT":
            self.received = b"".join(request.stream)  # type: ignore[arg-type]
            return httpx.Response(200, request=request)
        return httpx.Response(200, content=self.payload, request=request)


class _Dropping(httpx.SyncByteStream):
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def __iter__(self) -> Iterator[bytes]:
        yield self._payload[:100]
        raise httpx.ReadError("connection reset")


def _client(gateways: Gateways) -> CoffreClient:
    return CoffreClient("http://coffre.test", "token", transport=gateways)


def _chunks() -> Iterator[bytes]:
    yield b"part "
    yield b"bytes"


def test_a_part_goes_to_the_next_gateway_when_one_refuses_the_connection() -> None:
    gateways = Gateways()
    with _client(gateways) as client:
        client._put_part([DEAD, LIVE], _chunks(), 10)
    assert gateways.tried == ["dead", "ok"]
    assert gateways.received == b"part bytes"


def test_a_part_half_sent_is_not_sent_again() -> None:
    # the part is not held: its bytes are gone, the deposit fails and can be retried
    gateways = Gateways()
    with _client(gateways) as client, pytest.raises(Unavailable, match="WriteError"):
        client._put_part([MIDWAY, LIVE], _chunks(), 10)
    assert gateways.tried == ["mid"]


def test_a_part_with_every_gateway_down_is_unavailable() -> None:
    gateways = Gateways()
    with _client(gateways) as client, pytest.raises(Unavailable, match="ConnectError"):
        client._put_part([DEAD, DEAD], _chunks(), 10)
    assert gateways.tried == ["dead", "dead"]


def _ciphertext(plaintext: bytes, key: DataKey) -> bytes:
    return b"".join(encrypt([plaintext], key))


def test_a_read_goes_to_the_next_gateway_before_anything_is_written() -> None:
    key = DataKey.generate()
    ciphertext = _ciphertext(b"document", key)
    digest = hashlib.sha256(ciphertext).hexdigest()
    gateways = Gateways(ciphertext)
    out = io.BytesIO()
    with _client(gateways) as client:
        client._fetch([DEAD, BROKEN, LIVE], digest, key, out, None)
    assert gateways.tried == ["dead", "5xx", "ok"]
    assert out.getvalue() == b"document"


def test_a_read_cut_midway_is_unavailable_and_not_tried_elsewhere() -> None:
    key = DataKey.generate()
    ciphertext = _ciphertext(b"x" * 1000, key)
    gateways = Gateways(ciphertext)
    with _client(gateways) as client, pytest.raises(Unavailable, match="ReadError"):
        client._fetch([MIDWAY, LIVE], "0" * 64, key, io.BytesIO(), None)
    assert gateways.tried == ["mid"]

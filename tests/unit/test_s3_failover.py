"""The rule for moving from one S3 endpoint to the next (``vault.blobstore_s3_failover``)
and the put stream that can be sent again (``vault.blobstore_s3_streams``)."""

from __future__ import annotations

import pytest

from vault.blobstore import BlobNotFound, BlobStoreUnavailable
from vault.blobstore_s3_failover import (
    EndpointFailed,
    Failover,
    parse_endpoint,
    split_endpoints,
)
from vault.blobstore_s3_streams import HashingReader


def test_a_failed_endpoint_hands_the_request_to_the_next_and_is_then_skipped() -> None:
    calls: list[str] = []

    def request(client: str) -> str:
        calls.append(client)
        if client == "a":
            raise EndpointFailed("S3 put: MaxRetryError: connection refused")
        return f"stored by {client}"

    failover = Failover(["a", "b", "c"])
    assert failover.run("put", request) == "stored by b"
    assert calls == ["a", "b"]
    # b answered: it is tried first from now on, a comes last
    assert failover.order() == [1, 2, 0]
    calls.clear()
    assert failover.run("put", request) == "stored by b"
    assert calls == ["b"]


def test_each_endpoint_is_tried_once_and_the_last_failure_is_raised() -> None:
    calls: list[str] = []

    def request(client: str) -> None:
        calls.append(client)
        raise EndpointFailed(f"S3 get: ServerError: 503 from {client}")

    with pytest.raises(EndpointFailed, match="from b"):
        Failover(["a", "b"]).run("get", request)
    assert calls == ["a", "b"]


@pytest.mark.parametrize(
    "answer",
    [BlobNotFound("no blob named x"), BlobStoreUnavailable("S3 put: AccessDenied: no")],
)
def test_an_answer_of_the_bucket_is_final(answer: Exception) -> None:
    # a missing object or a refused signature is the same at every gateway
    calls: list[str] = []

    def request(client: str) -> None:
        calls.append(client)
        raise answer

    with pytest.raises(type(answer)):
        Failover(["a", "b"]).run("get", request)
    assert calls == ["a"]


def test_a_part_holds_copies_of_reused_buffers() -> None:
    buffer = bytearray(b"aaa")

    def produce() -> object:
        yield buffer
        buffer[:] = b"bbb"  # the producer reuses its buffer
        yield buffer

    reader = HashingReader(produce())  # type: ignore[arg-type]
    assert reader.read(6) == b"aaabbb"
    assert reader.size == 6


def test_endpoint_lists() -> None:
    assert split_endpoints("http://127.0.0.1:1, 127.0.0.1:2,") == [
        "http://127.0.0.1:1",
        "127.0.0.1:2",
    ]
    assert parse_endpoint("https://s3.example.org", False) == ("s3.example.org", True)
    assert parse_endpoint("127.0.0.1:2", False) == ("127.0.0.1:2", False)
    with pytest.raises(ValueError, match="no S3 endpoint"):
        split_endpoints(" , ")
    with pytest.raises(ValueError, match="without a path"):
        parse_endpoint("http://host/bucket", False)

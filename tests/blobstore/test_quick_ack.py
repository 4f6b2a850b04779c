"""The S3 store's HTTP connections ask for an immediate ACK before reading each answer
(``vault.blobstore_s3_http``): without it, RGW's answers with a body came ~40 ms late."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.local_http import local_server
from vault import blobstore_s3_http
from vault.blobstore_s3 import S3BlobStore


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: both requests on one connection

    def do_GET(self) -> None:
        body = b"<ok/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    with local_server(_Answer) as url:
        yield url


def test_each_answer_is_read_with_quick_ack_asked_for(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[socket.socket | None] = []
    real = blobstore_s3_http._quick_ack
    monkeypatch.setattr(
        blobstore_s3_http, "_quick_ack", lambda sock: (asked.append(sock), real(sock))
    )
    http = blobstore_s3_http.pool_manager(maxsize=2)
    for _ in range(2):
        response = http.request("GET", f"{server}/x")
        assert response.status == 200 and response.data == b"<ok/>"
    # once per answer (the option is not sticky), on the connection's TCP socket
    assert len(asked) == 2 and all(isinstance(sock, socket.socket) for sock in asked)
    assert asked[0] is asked[1]  # the same kept-alive connection


def test_quick_ack_is_harmless_without_a_tcp_socket() -> None:
    blobstore_s3_http._quick_ack(None)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
        blobstore_s3_http._quick_ack(unix)  # not TCP: the kernel refuses, nothing raised


def test_the_s3_store_uses_quick_ack_connections() -> None:
    store = S3BlobStore("http://127.0.0.1:9", "access", "secret", "bucket")
    pools = store._client._http.pool_classes_by_scheme
    assert pools["http"].ConnectionCls is blobstore_s3_http._QuickAckHTTPConnection
    assert pools["https"].ConnectionCls is blobstore_s3_http._QuickAckHTTPSConnection

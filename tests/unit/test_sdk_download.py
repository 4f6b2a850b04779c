"""A read's ciphertext by urllib3, straight from the blob store (``client.download``),
over real sockets: a local HTTP server that serves, refuses, fails or breaks off.

The same failover rules as over httpx (``test_sdk_failover``): the next URL only while
nothing was written, and every failure an ``Unavailable`` naming no URL.
"""

from __future__ import annotations

import hashlib
import io
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from client.download import PIECE, Downloader, DownloadFailed, content_length
from client.sdk import CoffreClient
from tests.local_http import local_server
from wire.envelope import DataKey, encrypt
from wire.errors import IntegrityFailure, NotFound, Unavailable

KEY = DataKey.generate()
PLAINTEXT = bytes(range(256)) * 4096 * 3  # 3 MiB: several pieces and records
CIPHERTEXT = b"".join(encrypt([PLAINTEXT], KEY))
DIGEST = hashlib.sha256(CIPHERTEXT).hexdigest()


class _Blobs(BaseHTTPRequestHandler):
    """``/ok`` serves the ciphertext, ``/5xx`` answers 503, ``/403`` an S3 refusal,
    ``/404`` a missing object, ``/cut`` breaks off after 100 KiB, ``/short`` announces
    more than it sends."""

    protocol_version = "HTTP/1.1"
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path.split("?")[0])
        path = self.path.split("?")[0]
        if path == "/ok":
            self._answer(200, CIPHERTEXT)
        elif path == "/5xx":
            self._answer(503, b"<Error><Code>SlowDown</Code></Error>")
        elif path == "/403":
            self._answer(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        elif path == "/404":
            self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>")
        elif path in ("/cut", "/short"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(CIPHERTEXT)))
            self.end_headers()
            self.wfile.write(CIPHERTEXT[: 100 * 1024])
            self.wfile.flush()
            if path == "/cut":
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def blobs() -> Iterator[tuple[str, list[str]]]:
    """The base URL of a local blob server, and the paths it was asked for."""
    seen: list[str] = []
    with local_server(type("Handler", (_Blobs,), {"seen": seen})) as url:
        yield url, seen


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _client() -> CoffreClient:
    # the API is never asked: these downloads name the blob server only
    return CoffreClient("http://coffre.invalid", "token", timeout=5.0)


def test_a_direct_download_decrypts_what_it_verified(blobs: tuple[str, list[str]]) -> None:
    base, seen = blobs
    out = io.BytesIO()
    with _client() as client:
        for _ in range(2):  # the second on the connection the first gave back
            out.seek(0)
            client._fetch([f"{base}/ok?X-Amz-Signature=abc"], DIGEST, KEY, out, None)
    assert out.getvalue() == PLAINTEXT
    assert seen == ["/ok", "/ok"]


def test_the_next_gateway_is_tried_only_before_anything_is_written(
    blobs: tuple[str, list[str]],
) -> None:
    base, seen = blobs
    out = io.BytesIO()
    with _client() as client:
        client._fetch([_closed_port() + "/ok", f"{base}/5xx", f"{base}/ok"], DIGEST, KEY, out, None)
    assert out.getvalue() == PLAINTEXT
    assert seen == ["/5xx", "/ok"]


@pytest.mark.parametrize("path", ["/cut", "/short"])
def test_a_download_broken_off_is_unavailable_and_not_tried_elsewhere(
    blobs: tuple[str, list[str]], path: str
) -> None:
    base, seen = blobs
    with _client() as client, pytest.raises(Unavailable) as raised:
        client._fetch(
            [f"{base}{path}?X-Amz-Signature=secret", f"{base}/ok"], DIGEST, KEY, io.BytesIO(), None
        )
    assert seen == [path]
    assert "secret" not in str(raised.value) and base not in str(raised.value)


def test_refusals_are_the_blob_stores_errors(blobs: tuple[str, list[str]]) -> None:
    base, _ = blobs
    with _client() as client:
        with pytest.raises(IntegrityFailure, match="SignatureDoesNotMatch"):
            client._fetch([f"{base}/403"], DIGEST, KEY, io.BytesIO(), None)
        with pytest.raises(NotFound, match="NoSuchKey"):
            client._fetch([f"{base}/404"], DIGEST, KEY, io.BytesIO(), None)
        with pytest.raises(Unavailable, match="SlowDown"):
            client._fetch([f"{base}/5xx"], DIGEST, KEY, io.BytesIO(), None)
        with pytest.raises(Unavailable, match="download failed"):
            client._fetch([_closed_port() + "/ok"], DIGEST, KEY, io.BytesIO(), None)


def test_a_tampered_ciphertext_is_refused(blobs: tuple[str, list[str]]) -> None:
    base, _ = blobs
    with _client() as client, pytest.raises(IntegrityFailure):
        client._fetch([f"{base}/ok"], "0" * 64, KEY, io.BytesIO(), None)


def test_a_stalled_blob_store_times_out() -> None:
    # a server that accepts the connection and never answers
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/ok"
        with (
            CoffreClient("http://coffre.invalid", "token", timeout=0.5) as client,
            pytest.raises(Unavailable, match="download failed"),
        ):
            client._fetch([url], DIGEST, KEY, io.BytesIO(), None)


def test_which_downloads_go_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    http = httpx.Client()
    s3 = "https://s3.example.org/bucket/object"
    direct = Downloader(http, direct=True, timeout=5.0)
    assert direct.is_direct(s3, api=False)
    assert not direct.is_direct("https://coffre.example.org/v1/content/t", api=True)
    # a caller's own transport routes every request itself
    assert not Downloader(http, direct=False, timeout=5.0).is_direct(s3, api=False)
    # a proxy httpx would honour: httpx then, unless NO_PROXY exempts the host
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    assert not direct.is_direct(s3, api=False)
    monkeypatch.setenv("NO_PROXY", "s3.example.org")
    assert direct.is_direct(s3, api=False)
    http.close()


def test_downloads_read_record_sized_pieces(blobs: tuple[str, list[str]]) -> None:
    base, _ = blobs
    http = httpx.Client()
    downloader = Downloader(http, direct=True, timeout=5.0)
    with downloader.open(f"{base}/ok", api=False) as download:
        pieces = list(download.body())
    assert b"".join(pieces) == CIPHERTEXT
    assert max(len(piece) for piece in pieces) == PIECE
    with downloader.open(f"{base}/cut", api=False) as download, pytest.raises(DownloadFailed):
        list(download.body())
    downloader.close()
    http.close()


@pytest.mark.parametrize(
    ("header", "length"),
    [
        ("1048576", 1048576),
        ("0", 0),
        ("9" * 30, int("9" * 30)),  # huge, but a number: the meter only reports it
        (None, None),
        ("", None),
        (" 5", None),
        ("5\n", None),
        ("-5", None),
        ("5.0", None),
        ("\u00b2", None),  # "²": isdigit, yet int() refuses it
        ("\u0663", None),  # an Arabic-Indic three: isdigit, not what HTTP means
    ],
)
def test_a_content_length_is_plain_ascii_digits_or_unknown(
    header: str | None, length: int | None
) -> None:
    assert content_length(header) == length

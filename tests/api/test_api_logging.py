"""Logs: one line per request with a request id, and never a secret in any line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from api_helpers import ALICE, Caller
from fastapi.testclient import TestClient
from test_api_problems import assert_problem

from api.logging import configure_logging, redact_path, scrub
from coffre.bootstrap import Coffre


@pytest.fixture
def log_lines(client: TestClient) -> Iterator[io.StringIO]:
    """Everything the process logs, rendered as production renders it (JSON)."""
    buffer = io.StringIO()
    configure_logging("json", stream=buffer)
    # The test client's own httpx logger is the *client* side; keep it out of the
    # server's lines even if something turned it up.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    yield buffer
    configure_logging("console")


def parsed(buffer: io.StringIO) -> list[dict]:
    """Every line of ``buffer`` as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_the_canary_no_token_ticket_key_or_receipt_in_any_log_line(
    alice: Caller, caller, log_lines: io.StringIO
) -> None:
    with structlog.testing.capture_logs() as captured:
        upload, sealed_key = alice.upload(ALICE.id, b"canary plaintext document")
        deposit = alice.post(
            f"/v1/spaces/{ALICE.id}/documents",
            json={
                "receipt": upload["receipt"],
                "type": "lab_result",
                "title": "Canary",
                "date": "2025-03-14",
                "sealed_key": sealed_key,
            },
        ).json()
        release = alice.read(ALICE.id, deposit["document_id"]).json()
        assert alice.open_release(release) == b"canary plaintext document"
        # A failing call with the same secrets must not leak them either.
        alice.post(f"/v1/spaces/{ALICE.id}/documents", json={"receipt": upload["receipt"]})
    # capture_logs swapped the processors out; run the same calls rendered, too.
    upload2, sealed_key2 = alice.upload(ALICE.id, b"second canary")
    alice.get(release["content_url"])  # an expired-or-not ticket in a path

    ticket = release["content_url"].rsplit("/", 1)[1]
    secrets = {
        "token": alice.token,
        "token signature": alice.token.rsplit(".", 1)[1],
        "ticket": ticket,
        "receipt": upload["receipt"],
        "receipt 2": upload2["receipt"],
        "sealed key (deposit)": sealed_key,
        "sealed key (deposit 2)": sealed_key2,
        "sealed key (release)": release["sealed_key"],
        "patient id": ALICE.id,
        "plaintext": "canary plaintext",
    }
    structured = repr(captured)
    rendered = log_lines.getvalue()
    assert any(entry.get("event") == "request" for entry in captured)
    assert "request" in rendered
    for name, secret in secrets.items():
        assert secret not in structured, f"{name} in a structured log event"
        assert secret not in rendered, f"{name} in a rendered log line"


def test_one_line_per_request_with_a_redacted_path(alice: Caller, log_lines: io.StringIO) -> None:
    answer = alice.get(f"/v1/spaces/{ALICE.id}/documents", headers={"X-Request-ID": "abc-123-def"})
    assert answer.headers["x-request-id"] == "abc-123-def"
    (line,) = [e for e in parsed(log_lines) if e.get("event") == "request"]
    assert line["request_id"] == "abc-123-def"
    assert line["method"] == "GET"
    assert line["path"] == "/v1/spaces/***/documents"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0


def test_a_refused_authentication_is_logged_with_why_and_never_the_token(
    client: TestClient, log_lines: io.StringIO
) -> None:
    forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."  # alg: none
    answer = client.get("/v1/me/spaces", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    (refused,) = [e for e in parsed(log_lines) if e.get("event") == "authentication_refused"]
    assert refused["reason"] and refused["request_id"] == answer.headers["x-request-id"]
    assert forged not in log_lines.getvalue() and "eyJ" not in log_lines.getvalue()


@pytest.mark.parametrize("incoming", ["a b", "x" * 500, "id\nforged=1", "short"])
def test_an_unsafe_incoming_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    answer = client.get("/v1/health", headers={"X-Request-ID": incoming})
    assert answer.headers["x-request-id"] != incoming
    assert len(answer.headers["x-request-id"]) == 32


def test_an_unexpected_error_is_a_bare_500_logged_with_the_request_id(
    alice: Caller, coffre: Coffre, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail: /etc/coffre/secret.db row 42")

    monkeypatch.setattr(coffre.vault, "documents_page", explode)
    answer = alice.get(f"/v1/spaces/{ALICE.id}/documents")
    body = assert_problem(answer, 500, "internal")
    assert "internal detail" not in answer.text
    assert "RuntimeError" not in answer.text
    request_id = answer.headers["x-request-id"]
    assert body["instance"].endswith(request_id)

    lines = parsed(log_lines)
    (error,) = [e for e in lines if e.get("event") == "unhandled_error"]
    assert error["request_id"] == request_id
    assert error["level"] == "error"
    assert "RuntimeError" in json.dumps(error["exception"])
    (request,) = [e for e in lines if e.get("event") == "request"]
    assert request["status"] == 500


def test_security_headers_on_every_answer(alice: Caller, client: TestClient) -> None:
    for answer in (client.get("/v1/health"), client.get("/v1/nope"), alice.get("/v1/health")):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_redaction_helpers() -> None:
    assert redact_path("/v1/content/eyJhIjoxfQ.sig") == "/v1/content/***"
    assert redact_path("/v1/spaces/285077512345655/grants/x") == "/v1/spaces/***/grants/x"
    assert (
        redact_path("/v1/readers/patient/285077512345655/enrolment-codes")
        == "/v1/readers/patient/***/enrolment-codes"
    )
    assert scrub("token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln here") == "token *** here"
    assert scrub("k=" + "A" * 108) == "k=***"
    assert scrub("plain words stay") == "plain words stay"

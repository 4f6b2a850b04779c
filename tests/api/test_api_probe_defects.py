"""Defects an outside probe found over HTTP (issue 9): bounds, identifiers matched whole,
cursors, existence oracles and the smaller edges. Each test failed on the code before.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote
from uuid import uuid4

from api_helpers import ALICE, AUDITOR, BRUNO, DOCTOR, Caller, events
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api_problems import assert_problem
from typer.testing import CliRunner

from coffre.bootstrap import Coffre
from coffre.cli import app as cli
from domain.inbox import Inbox
from domain.values import patient_id_from_number

HUGE = 10**25
#: a well-formed INS for which no space is ever provisioned
NOBODY = patient_id_from_number("2920133123456")
#: what a careless or hostile client puts around an identifier
AROUND = st.sampled_from(["\n", " ", "\t", "\r\n", "\u00a0", "\u200b", "\x00", "x", "٣"])


# -- 1. one request must not break the views for everyone ------------------------------


def test_an_acknowledgement_beyond_any_store_is_refused_and_changes_nothing(
    alice: Caller, hospital: Caller, coffre: Coffre
) -> None:
    before = events(coffre)
    for up_to in (HUGE, 2**63, 2**63 - 1, before + 10):
        for who in (alice, hospital):
            answer = who.post("/v1/notifications/acknowledgements", json={"up_to": up_to})
            assert_problem(answer, 422, "invalid-input", "up_to")
    assert events(coffre) == before


def test_a_stalled_projection_takes_no_route_down(
    alice: Caller, hospital: Caller, caller: Any, coffre: Coffre
) -> None:
    # A poisoned event, as the code before issue 9 recorded it from the API.
    inbox = Inbox.for_actor(hospital.actor)
    inbox._acknowledged(up_to=HUGE, actor=hospital.actor.to_dict(), at=coffre.vault.clock.now())
    coffre.vault.save(inbox)
    alice.deposit(ALICE.id)
    doctor = caller(DOCTOR)
    for answer in (
        alice.get(f"/v1/spaces/{ALICE.id}/access-log"),
        alice.get("/v1/notifications"),
        doctor.get("/v1/me/spaces"),
        caller(AUDITOR).get("/v1/trail/checkpoints/latest"),
    ):
        assert answer.status_code == 200, answer.text
    log = alice.get(f"/v1/spaces/{ALICE.id}/access-log", params={"action": "deposit"}).json()
    assert len(log["entries"]) == 1  # the views after the poisoned event moved on
    assert set(coffre.runner.stalls()) == {"notifications"}


def test_projections_lag_alerts_on_a_stalled_projection(coffre: Coffre, monkeypatch: Any) -> None:
    inbox = Inbox.for_actor(ALICE)
    inbox._acknowledged(up_to=HUGE, actor=ALICE.to_dict(), at=coffre.vault.clock.now())
    coffre.vault.save(inbox)
    coffre.runner.catch_up()
    monkeypatch.setenv("COFFRE_DATA_DIR", str(coffre.settings.data_dir))
    coffre.close()
    result = CliRunner().invoke(cli, ["projections", "lag"])
    assert result.exit_code == 1
    assert "notifications" in result.output and "stalled" in result.output
    retried = CliRunner().invoke(cli, ["projections", "retry", "notifications"])
    assert retried.exit_code == 0 and "resumes" in retried.output


# -- 4. identifiers are matched whole ----------------------------------------------------


def test_a_patient_id_with_a_trailing_newline_opens_no_second_space(
    hospital: Caller, coffre: Coffre
) -> None:
    before = events(coffre)
    for patient_id in (f"{ALICE.id}\n", f" {ALICE.id}", f"{ALICE.id}\r\n", ALICE.id[:-1] + "٣"):
        answer = hospital.post("/v1/spaces", json={"patient_id": patient_id})
        assert_problem(answer, 422, "invalid-input", "patient_id")
    assert events(coffre) == before


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=AROUND, after=AROUND, which=st.integers(0, 7))
def test_every_identifier_field_is_matched_whole(
    alice: Caller, hospital: Caller, coffre: Coffre, before: str, after: str, which: int
) -> None:
    document = str(uuid4())
    grantee = {"id": DOCTOR.id, "name": "Dr", "profession": "doctor"}
    scope = {"kind": "space"}

    def wrap(value: str) -> str:
        return f"{before}{value}{after}" if which % 2 else f"{value}{after}"

    def path(value: str) -> str:
        return quote(wrap(value), safe="")

    count = events(coffre)
    requests = [
        lambda: hospital.post("/v1/spaces", json={"patient_id": wrap(BRUNO.id)}),
        lambda: alice.get(f"/v1/spaces/{path(ALICE.id)}/state"),
        lambda: alice.post(
            f"/v1/spaces/{ALICE.id}/grants",
            json={"grantee": {**grantee, "id": wrap(DOCTOR.id)}, "scope": scope},
        ),
        lambda: alice.post(
            f"/v1/spaces/{ALICE.id}/grants",
            json={
                "grantee": grantee,
                "scope": {"kind": "documents", "documents": [wrap(document)]},
            },
        ),
        lambda: alice.delete(f"/v1/spaces/{ALICE.id}/grants/{path(document)}"),
        lambda: alice.get(f"/v1/spaces/{ALICE.id}/access-log", params={"before": wrap("5")}),
        lambda: alice.get(
            f"/v1/spaces/{ALICE.id}/access-log", params={"document_id": wrap(document)}
        ),
        lambda: alice.get("/v1/notifications", params={"before": wrap("5")}),
    ]
    answer = requests[which]()
    assert answer.status_code in (404, 422), answer.text
    assert events(coffre) == count


def test_a_uuid_has_one_spelling(alice: Caller) -> None:
    document = uuid4()
    for spelling in (f"{{{document}}}", f"urn:uuid:{document}", document.hex):
        answer = alice.delete(f"/v1/spaces/{ALICE.id}/documents/{spelling}")
        assert_problem(answer, 422, "invalid-input", "document_id")


# -- 5. every query parameter is bounded -------------------------------------------------


def test_huge_and_odd_cursors_are_refused(alice: Caller, caller: Any) -> None:
    for before in (str(HUGE), str(2**63), "5.0", "+5", "5_0", "-1"):
        assert_problem(
            alice.get("/v1/notifications", params={"before": before}), 422, "invalid-input"
        )
        log = alice.get(f"/v1/spaces/{ALICE.id}/access-log", params={"before": before})
        assert_problem(log, 422, "invalid-input")
    auditor = caller(AUDITOR)
    answer = auditor.get("/v1/trail/consistency", params={"old": 1, "new": HUGE})
    assert_problem(answer, 422, "invalid-input")
    assert_problem(
        auditor.get("/v1/trail/export", params={"from_size": HUGE}), 422, "invalid-input"
    )


def test_the_openapi_document_shows_the_bounds(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    log = document["paths"]["/v1/spaces/{patient_id}/access-log"]["get"]["parameters"]
    before = next(p for p in log if p["name"] == "before")["schema"]["anyOf"][0]
    assert before["maximum"] == 2**63 - 1 and before["minimum"] == 1
    actions = document["components"]["schemas"]["LogAction"]["enum"]
    assert {"deposit", "read", "grant", "revoke"} <= set(actions)


# -- 9. no existence oracle ----------------------------------------------------------------


def _requests(document: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    grantee = {"id": DOCTOR.id, "name": "Dr Claire Bernard", "profession": "doctor"}
    return [
        ("GET", "/state", None),
        ("GET", "/key", None),
        ("GET", "/access-log", None),
        ("GET", "/grants", None),
        ("GET", "/access-rules", None),
        ("GET", "/documents", None),
        ("POST", "/activation", {"code": "ABCD-EFGH"}),
        ("POST", "/opposition", {"code": "ABCD-EFGH"}),
        ("POST", "/closure", {"express_deletion": False}),
        ("POST", "/deletion-request", None),
        ("POST", "/grants", {"grantee": grantee, "scope": {"kind": "space"}}),
        ("DELETE", f"/grants/{uuid4()}", None),
        ("PUT", f"/documents/{document}/mask", None),
        ("DELETE", f"/documents/{document}", None),
        ("PUT", "/blocks", {"professional": grantee}),
        ("PUT", "/settings/emergency_access_forbidden", {"value": True}),
        ("POST", "/care-team", {"professional": grantee}),
        ("POST", f"/documents/{document}/reads", {"reader_key_id": "k"}),
        ("GET", f"/documents/{document}/readers", None),
    ]


def test_another_patient_and_a_regulator_cannot_tell_a_space_from_none(
    alice: Caller, hospital: Caller, caller: Any
) -> None:
    document = alice.deposit(ALICE.id)["document_id"]
    hospital.post("/v1/spaces", json={"patient_id": BRUNO.id})
    outsiders = [caller(BRUNO), caller(AUDITOR)]
    outsiders[0].register_reader()
    for outsider in outsiders:
        for method, path, body in _requests(document):
            answers = []
            for patient_id in (ALICE.id, NOBODY):
                url = f"/v1/spaces/{patient_id}{path}"
                if path.endswith("/reads"):
                    body = {"reader_key_id": outsider.reader_key_id or "k"}
                answer = outsider.client.request(method, url, headers=outsider.headers, json=body)
                problem = answer.json()
                answers.append((answer.status_code, problem.get("type"), problem.get("detail")))
            assert answers[0] == answers[1], (outsider.actor.role, method, path, answers)


# -- 12. smaller edges ---------------------------------------------------------------------


def test_a_405_lists_every_method_the_path_has(alice: Caller) -> None:
    answer = alice.client.put(f"/v1/spaces/{ALICE.id}/grants", headers=alice.headers)
    assert_problem(answer, 405, "method-not-allowed")
    allowed = {m.strip() for m in answer.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed


def test_titles_refuse_invisible_formatting_but_keep_scripts(alice: Caller, coffre: Coffre) -> None:
    before = events(coffre)
    refused = ("Bilan \u202esnoitcelfer", "Bilan\u200b sanguin", "Bilan \u2066x\u2069", "\ud800")
    for title in refused:
        upload, sealed = alice.upload(ALICE.id, b"x")
        body = {
            "receipt": upload["receipt"],
            "type": "lab_result",
            "title": title,
            "date": "2025-03-14",
            "sealed_key": sealed,
        }
        answer = alice.post(
            f"/v1/spaces/{ALICE.id}/documents",
            content=json.dumps(body),  # ASCII escapes: a lone surrogate travels as JSON does
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 422, (title, answer.text)
    assert events(coffre) == before
    # Joiners are part of writing (Persian, emoji sequences): kept.
    alice.deposit(ALICE.id, title="می\u200cخواهم 👩\u200d⚕️ Bilan")  # noqa: RUF001


def test_an_unknown_log_action_is_refused_naming_the_known_ones(alice: Caller) -> None:
    answer = alice.get(f"/v1/spaces/{ALICE.id}/access-log", params={"action": "foo"})
    body = assert_problem(answer, 422, "invalid-input", "action")
    assert "deposit" in body["detail"]


def test_error_messages_match_their_input(alice: Caller, hospital: Caller) -> None:
    bad_check_digit = DOCTOR.id[:-1] + str((int(DOCTOR.id[-1]) + 1) % 10)
    grant = {"grantee": {"id": bad_check_digit, "name": "Dr", "profession": "doctor"}}
    answer = alice.post(f"/v1/spaces/{ALICE.id}/grants", json={**grant, "scope": {"kind": "space"}})
    detail = assert_problem(answer, 422, "invalid-input")["detail"]
    assert "check digit" in detail and "11-digit" not in detail
    malformed = "3" + ALICE.id[1:]  # 15 characters, but no INS begins with 3
    detail = assert_problem(
        hospital.post("/v1/spaces", json={"patient_id": malformed}), 422, "invalid-input"
    )["detail"]
    assert "15-character" not in detail
    short = assert_problem(
        hospital.post("/v1/spaces", json={"patient_id": ALICE.id[:-1]}), 422, "invalid-input"
    )["detail"]
    assert "not 14 characters" in short
    upload, sealed = alice.upload(ALICE.id, b"x")
    body = {"receipt": upload["receipt"], "type": "x-ray", "title": "Radio", "date": "2025-03-14"}
    answer = alice.post(f"/v1/spaces/{ALICE.id}/documents", json={**body, "sealed_key": sealed})
    assert answer.status_code == 422
    assert "imaging_report" in answer.json()["detail"]


def test_a_configuration_error_names_its_variable(monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setenv("COFFRE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COFFRE_PG_PORT", "not-a-port")
    result = CliRunner().invoke(cli, ["projections", "lag"])
    assert result.exit_code == 1
    assert "COFFRE_PG_PORT" in result.output and "not-a-port" not in result.output


def test_a_token_lifetime_of_zero_is_refused_plainly(coffre: Coffre) -> None:
    import pytest

    from wire.errors import InvalidInput

    with pytest.raises(InvalidInput, match="longer than 0"):
        coffre.tokens.mint(ALICE, ttl=__import__("datetime").timedelta(0))

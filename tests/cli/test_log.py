"""``coffre log``: the patient's access log as a table (or JSON), refusals standing out."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from rich.console import Console

from client.cli.render import access_log_table
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.cli_admin import token_authority
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from tests.cli.conftest import Invoke, Server
from tests.devices import ENROLMENT, enrol_client
from vault.settings import Settings
from wire.errors import UnknownDocument
from wire.values import Profession, Role

PATIENT = Actor(Role.PATIENT, patient_id_from_number("1790612987654"), "Bruno Petit")
LAB = Actor(Role.SERVICE, "labo-ouest", "Laboratoire de l'Ouest", organisation="Labo Ouest")
DOCTOR = Actor(
    Role.PROFESSIONAL,
    professional_id_from_number("2000000001"),
    "Dr Inès Roux",
    Profession.DOCTOR,
    "Maison de santé du Port",
)
NURSE = Actor(
    Role.PROFESSIONAL, professional_id_from_number("2000000002"), "Paul Garnier", Profession.NURSE
)


def _render(entries: list[dict]) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(access_log_table(entries))
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_rendering_says_who_did_what_how_and_with_what_outcome() -> None:
    actor = {
        "role": "professional",
        "id": "1",
        "name": "Dr Inès Roux",
        "profession": "doctor",
        "organisation": "Maison de santé du Port",
    }
    entries = [
        {
            "entry_id": 3,
            "at": "2026-11-02T09:00:00+00:00",
            "actor": actor,
            "action": "read",
            "document_title": "Bilan [bold]x[/]",
            "document_type": "lab_result",
            "how": "normal",
            "outcome": "refused",
            "reason": "not_authorised",
            "detail": {},
        },
        {
            "entry_id": 2,
            "at": "2026-11-02T08:00:00+00:00",
            "actor": {**actor, "role": "patient", "name": "Bruno Petit", "profession": None},
            "action": "revoke",
            "how": "normal",
            "outcome": "allowed",
            "detail": {"grantee": {"grantee_id": "1", "grantee_name": "Dr Inès Roux"}},
        },
        {
            "entry_id": 1,
            "at": "2026-11-02T07:00:00+00:00",
            "actor": actor,
            "action": "read",
            "document_title": "Bilan",
            "document_type": "lab_result",
            "how": "normal",
            "outcome": "allowed",
            "detail": {"basis": "grant"},
        },
    ]
    text = _render(entries)
    assert "Dr Inès Roux" in text and "doctor, Maison de santé du Port" in text
    assert "REFUSED: not authorised" in text
    assert "revoked access of Dr Inès Roux" in text
    assert "normal (grant)" in text
    assert "«Bilan [bold]x[/]»" in text  # titles are data, never markup


@pytest.fixture(scope="module")
def history(server: Server) -> dict[str, str]:
    """A space where a doctor read, was revoked and refused, and a nurse was refused."""
    authority = token_authority(Settings(data_dir=server.data_dir))

    def connect(actor: Actor) -> CoffreClient:
        token = authority.mint(actor, timedelta(minutes=10))
        return CoffreClient(server.url, token, reader_key=ReaderKey.generate())

    with (
        connect(LAB) as lab,
        connect(PATIENT) as patient,
        connect(DOCTOR) as doctor,
        connect(NURSE) as nurse,
    ):
        lab.provision(PATIENT.id)
        document_id, _ = lab.deposit(
            PATIENT.id, b"Glycemie 5.1", type="lab_result", title="Glycémie", date=date.today()
        )
        grant_id = patient.grant(
            PATIENT.id, {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"}
        )
        with connect(ENROLMENT) as enrolment:
            for reader, actor in ((doctor, DOCTOR), (nurse, NURSE)):
                enrol_client(reader, actor, enrolment)
        doctor.read(PATIENT.id, document_id, io.BytesIO())
        with pytest.raises(UnknownDocument):
            nurse.read(PATIENT.id, document_id, io.BytesIO())
        patient.revoke(PATIENT.id, grant_id)
        with pytest.raises(UnknownDocument):
            doctor.read(PATIENT.id, document_id, io.BytesIO())
    return {"token": authority.mint(PATIENT), "document_id": str(document_id)}


def test_log_table(coffre_cli: Invoke, history: dict[str, str]) -> None:
    result = coffre_cli("log", PATIENT.id, env={"COFFRE_TOKEN": history["token"]})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Access log" in out and "Glycémie" in out
    assert out.count("REFUSED: not authorised") == 2
    assert "revoked access of Dr Inès Roux" in out
    assert "granted access to Dr Inès Roux (whole space)" in out
    assert "Paul Garnier" in out and "nurse" in out
    assert history["token"] not in result.output


def test_log_json_filters_and_paging(coffre_cli: Invoke, history: dict[str, str]) -> None:
    env = {"COFFRE_TOKEN": history["token"]}
    result = coffre_cli("log", PATIENT.id, "--json", "--action", "read", env=env)
    reads = json.loads(result.stdout)["entries"]
    assert [(e["actor"]["name"], e["outcome"]) for e in reads] == [
        ("Dr Inès Roux", "refused"),
        ("Paul Garnier", "refused"),
        ("Dr Inès Roux", "allowed"),
    ]
    one = json.loads(coffre_cli("log", PATIENT.id, "--json", "--limit", "1", env=env).stdout)
    assert len(one["entries"]) == 1 and one["next_cursor"] is not None
    every = json.loads(
        coffre_cli("log", PATIENT.id, "--json", "--limit", "2", "--all", env=env).stdout
    )
    assert [e["action"] for e in every["entries"]][-1] == "provision"
    # provision, open (no opposition period on test servers), deposit, grant, 3 reads, revoke
    assert len(every["entries"]) == 8


def test_only_the_patient_reads_the_log(coffre_cli: Invoke, server: Server) -> None:
    token = token_authority(Settings(data_dir=server.data_dir)).mint(NURSE)
    result = coffre_cli("log", PATIENT.id, env={"COFFRE_TOKEN": token})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


def test_an_unknown_action_is_an_error_not_an_empty_log(
    coffre_cli: Invoke, history: dict[str, str]
) -> None:
    # The probe's "log --action foo" printed an empty log; it now says what is wrong.
    result = coffre_cli(
        "log", PATIENT.id, "--action", "foo", env={"COFFRE_TOKEN": history["token"]}
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "action" in result.stderr
    assert "deposit" in result.stderr  # the known actions are named

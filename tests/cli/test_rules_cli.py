"""The rules of a space through ``coffre`` over real HTTP, on both backends: the life
of a space, masks and the other confidentiality codes, blocks, the attending physician,
settings, who may read what, emergency access, legal representatives and notifications.

The server is ``coffre serve`` (uvicorn) with the law's six-week opposition period, so
a space starts pending and the tests open it with the letter's code (or oppose it).
Setup the commands do not test (provisioning, deposits) goes through the SDK.
"""

from __future__ import annotations

import io
import json
import stat
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import Result
from rich.console import Console
from typer.testing import CliRunner

from client.cli.render import access_rules_view, notifications_table
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.cli import app
from domain.values import Actor, patient_id_from_number, professional_id_from_number
from keys.master import MasterKeys
from tests.devices import ENROLMENT, enrol_client
from tests.scenarios.conftest import BACKENDS
from tests.served import scratch_bucket, scratch_database, serve, server_env
from vault.tokens import TokenAuthority
from wire.errors import UnknownDocument
from wire.values import Profession, Role

HOSPITAL = Actor(Role.SERVICE, "chu-rennes", "CHU de Rennes", organisation="CHU de Rennes")
DOCTOR = Actor(
    Role.PROFESSIONAL,
    professional_id_from_number("4000000001"),
    "Dr Anne Caron",
    Profession.DOCTOR,
    "Cabinet Caron",
)
OTHER_DOCTOR = Actor(
    Role.PROFESSIONAL, professional_id_from_number("4000000002"), "Dr Luc Morel", Profession.DOCTOR
)
GUARDIAN = Actor(Role.REPRESENTATIVE, patient_id_from_number("1550435123456"), "Marc Duval")
#: the registry service these servers authorise to appoint representatives
REGISTRY = Actor(Role.SERVICE, "etat-civil.rennes", "État civil de Rennes")
UUID_LINE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Served:
    """A running server and the issuer of the tokens it accepts."""

    url: str
    tokens: TokenAuthority


def _serve(request: pytest.FixtureRequest, backend: str, where: Path) -> Iterator[Served]:
    master = MasterKeys.generate()
    env = server_env(request, backend, where / "data", master.current.to_line())
    env |= {
        "COFFRE_OPPOSITION_PERIOD": "P42D",  # the law's: a new space is pending
        "COFFRE_PROJECTIONS_IN_PROCESS": "true",  # notifications without a worker
        "COFFRE_REGISTRY_SERVICES": REGISTRY.id,
    }
    with serve(env, where / "server.log") as (url, _):
        yield Served(url, TokenAuthority.from_seed("coffre", master.derive("token-signing")))


@pytest.fixture(scope="module")
def pg_database(pg_server: str) -> Iterator[dict[str, str]]:
    """One database for this module's PostgreSQL server (``server_env`` asks for it)."""
    with scratch_database(pg_server, "coffre_cli") as params:
        yield params


@pytest.fixture(scope="module")
def s3_bucket(s3_server: dict[str, str]) -> Iterator[str]:
    """One bucket for this module's S3-backed server."""
    with scratch_bucket(s3_server, "coffre-cli") as name:
        yield name


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One server per backend pairing for the module (starting one is the slow part);
    each test uses a patient of its own."""
    yield from _serve(request, request.param, tmp_path_factory.mktemp(request.param))


Run = Callable[..., Result]


@pytest.fixture
def coffre_as(served: Served) -> Callable[[Actor], Run]:
    """``coffre_as(actor)("space", "state", ...)`` runs a command with the actor's token."""
    runner = CliRunner()

    def as_actor(actor: Actor) -> Run:
        env = {"COFFRE_URL": served.url, "COFFRE_TOKEN": served.tokens.mint(actor)}

        def run(*args: str, input: str | None = None) -> Result:
            return runner.invoke(app, list(args), env={**env, "COLUMNS": "200"}, input=input)

        return run

    return as_actor


@pytest.fixture
def patient() -> Actor:
    """A patient of their own for each test (the servers are shared)."""
    number = f"2850575{uuid.uuid4().int % 10**6:06d}"  # born May 1985, a fresh serial
    return Actor(Role.PATIENT, patient_id_from_number(number), "Claire Duval")


def _sdk(served: Served, actor: Actor, reader_key: ReaderKey | None = None) -> CoffreClient:
    return CoffreClient(served.url, served.tokens.mint(actor), reader_key=reader_key)


def _provision(served: Served, patient: Actor) -> str:
    """Provision the patient's space; returns the letter's one-time code."""
    with _sdk(served, HOSPITAL) as hospital:
        return hospital.provision(patient.id).one_time_code


def _open_with_document(served: Served, patient: Actor) -> str:
    """An open space (activated with its code) holding one lab result deposited by the
    hospital; its id."""
    code = _provision(served, patient)
    with _sdk(served, patient) as holder:
        holder.activate(patient.id, code)
    with CoffreClient(served.url, served.tokens.mint(HOSPITAL)) as hospital:
        document_id, _ = hospital.deposit(
            patient.id,
            b"bilan",
            type="lab_result",
            title="Bilan lipidique",
            date=date(2026, 1, 5),
        )
    return str(document_id)


def _failed(result: Result, message: str) -> bool:
    """Exit 1 with one error line naming ``message``."""
    return result.exit_code == 1 and result.stderr.count("\n") == 1 and message in result.stderr


# -- life of a space ---------------------------------------------------------------------


def test_activate_state_close_and_request_deletion(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    code = _provision(served, patient)
    holder = coffre_as(patient)
    assert "pending" in holder("space", "state", patient.id).stdout

    # A wrong code is refused; the right one opens the space at once.
    assert _failed(holder("space", "activate", patient.id, "--code", "WRONG"), "code is wrong")
    activated = holder("space", "activate", patient.id, "--code", code)
    assert activated.exit_code == 0, activated.output
    state = json.loads(holder("space", "state", patient.id, "--json").stdout)
    assert state["status"] == "open" and state["activated_at"]

    # Closing asks first; declining changes nothing.
    declined = holder("space", "close", patient.id, input="n\n")
    assert declined.exit_code == 1
    assert json.loads(holder("space", "state", patient.id, "--json").stdout)["status"] == "open"

    closed = holder("space", "close", patient.id, "--yes")
    assert closed.exit_code == 0, closed.output
    assert "closed" in closed.stdout and "archived until" in closed.stdout

    deleted = holder("space", "request-deletion", patient.id, "--yes", "--json")
    assert deleted.exit_code == 0, deleted.output
    assert json.loads(deleted.stdout)["status"] == "deleted"  # no express delay configured


def test_oppose_with_the_letters_code(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    code = _provision(served, patient)
    holder = coffre_as(patient)
    assert _failed(holder("space", "oppose", patient.id, "--code", "WRONG"), "code is wrong")
    # Only the holder opposes, even with the code.
    assert _failed(coffre_as(DOCTOR)("space", "oppose", patient.id, "--code", code), "for:")

    opposed = holder("space", "oppose", patient.id, "--code", code)
    assert opposed.exit_code == 0 and "opposed" in opposed.stderr
    assert json.loads(holder("space", "state", patient.id, "--json").stdout)["status"] == "opposed"
    assert _failed(holder("space", "oppose", patient.id, "--code", code), "before it opens")


def test_provision_writes_the_code_to_a_new_private_file(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor, tmp_path: Path
) -> None:
    hospital, holder = coffre_as(HOSPITAL), coffre_as(patient)
    letter = tmp_path / "code.txt"
    provisioned = hospital("provision", patient.id, "--code-out", str(letter))
    assert provisioned.exit_code == 0, provisioned.output
    assert stat.S_IMODE(letter.stat().st_mode) == 0o600
    code = letter.read_text().strip()
    # The code is in the file only: never on stdout or stderr.
    assert code and code not in provisioned.stdout and code not in provisioned.stderr
    assert "code.txt" in provisioned.stderr

    activated = holder("space", "activate", patient.id, "--code", code)
    assert activated.exit_code == 0, activated.output
    assert json.loads(holder("space", "state", patient.id, "--json").stdout)["status"] == "open"

    # An existing file is never overwritten, and nothing is provisioned then.
    other = Actor(Role.PATIENT, patient_id_from_number("1950575000001"), "Jean Petit")
    refused = hospital("provision", other.id, "--code-out", str(letter))
    assert _failed(refused, "exists; the code is written only to a new file")
    assert letter.read_text().strip() == code
    assert _failed(coffre_as(other)("space", "state", other.id), "error:")
    # A refused provisioning leaves no code file behind.
    again = hospital("provision", patient.id, "--code-out", str(tmp_path / "again.txt"))
    assert _failed(again, "a space exists for this patient")
    assert not (tmp_path / "again.txt").exists()


def test_close_with_express_deletion(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    _open_with_document(served, patient)
    closed = coffre_as(patient)("space", "close", patient.id, "--express-deletion", "--yes")
    assert closed.exit_code == 0, closed.output
    assert "deleted" in closed.stdout


# -- masks -------------------------------------------------------------------------------


def test_mask_and_unmask_a_document(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    document_id = _open_with_document(served, patient)
    key = ReaderKey.generate()
    with _sdk(served, patient) as holder:
        holder.grant(patient.id, {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"})
    holder_cli, doctor_cli = coffre_as(patient), coffre_as(DOCTOR)

    # A granted professional who is not the author cannot mask.
    refused = doctor_cli("mask", patient.id, document_id)
    assert _failed(refused, "only the patient, a representative or the author masks")

    masked = holder_cli("mask", patient.id, document_id)
    assert masked.exit_code == 0 and "masked" in masked.stderr, masked.output
    assert document_id not in doctor_cli("documents", patient.id, "--json").stdout
    with _sdk(served, DOCTOR, key) as doctor, _sdk(served, ENROLMENT) as enrolment:
        enrol_client(doctor, DOCTOR, enrolment)
        with pytest.raises(UnknownDocument):
            doctor.read(patient.id, document_id, BytesIO())

    assert holder_cli("unmask", patient.id, document_id).exit_code == 0
    with _sdk(served, DOCTOR, key) as doctor:
        doctor.read(patient.id, document_id, BytesIO())


def test_mask_an_unknown_or_malformed_document(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    _open_with_document(served, patient)
    holder = coffre_as(patient)
    unknown = holder("mask", patient.id, str(uuid.uuid4()))
    assert _failed(unknown, "error: no such document in this space")
    assert _failed(holder("unmask", patient.id, "not-a-uuid"), "document_id must be a UUID")


# each command under its name, then under its old name (a hidden alias)
@pytest.mark.parametrize(
    "command", ["make-invisible-to-representatives", "hide-from-representatives"]
)
def test_make_a_document_invisible_to_the_legal_representatives(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor, command: str
) -> None:
    document_id = _open_with_document(served, patient)
    with _sdk(served, REGISTRY) as registry:
        until = datetime.now(UTC) + timedelta(days=365)
        registry.add_representative(
            patient.id,
            GUARDIAN.id,
            GUARDIAN.name,
            "guardian",
            until,
            basis_reference="TJ Rennes RG 26/00041",
            basis_date=date(2026, 9, 1),
        )
    holder, guardian = coffre_as(patient), coffre_as(GUARDIAN)
    assert document_id in guardian("documents", patient.id, "--json").stdout

    # A representative cannot keep a document from the representatives.
    refused = guardian(command, patient.id, document_id)
    assert _failed(refused, "this operation is for")

    hidden = holder(command, patient.id, document_id)
    assert hidden.exit_code == 0 and "invisible to the legal" in hidden.stderr, hidden.output
    assert document_id not in guardian("documents", patient.id, "--json").stdout
    assert document_id in holder("documents", patient.id, "--json").stdout


@pytest.mark.parametrize("command", ["release-invisible-to-patient", "release-to-patient"])
def test_release_a_document_held_for_an_announcement(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor, tmp_path: Path, command: str
) -> None:
    _open_with_document(served, patient)
    holder, hospital = coffre_as(patient), coffre_as(HOSPITAL)
    # The hospital's software deposits it held for an announcement consultation.
    report = tmp_path / "compte-rendu.pdf"
    report.write_bytes(b"compte rendu")
    uploaded = hospital(
        "deposit", patient.id, str(report), "--type", "lab_result", "--title", "Biopsie",
        "--invisible-to-patient",
    )  # fmt: skip
    assert uploaded.exit_code == 0, uploaded.output
    document_id = uploaded.stdout.strip()
    assert document_id not in holder("documents", patient.id, "--json").stdout

    # Only the author releases it.
    assert _failed(holder(command, patient.id, document_id), "this operation is for")
    released = hospital(command, patient.id, document_id)
    assert released.exit_code == 0 and "released" in released.stderr, released.output
    assert document_id in holder("documents", patient.id, "--json").stdout
    assert _failed(hospital(command, patient.id, document_id), "not held")


# -- who may read ------------------------------------------------------------------------


def test_block_physician_settings_and_access_rules(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    _open_with_document(served, patient)
    holder = coffre_as(patient)

    def rules() -> dict:
        answer = holder("space", "rules", patient.id, "--json")
        assert answer.exit_code == 0, answer.output
        return json.loads(answer.stdout)

    blocked = holder(
        "block", patient.id, DOCTOR.id, "--name", DOCTOR.name, "--profession", "doctor"
    )
    assert blocked.exit_code == 0, blocked.output
    assert [b["id"] for b in rules()["blocked"]] == [DOCTOR.id]
    table = holder("space", "rules", patient.id).stdout
    assert "Blocked professionals" in table and DOCTOR.name in table
    assert holder("unblock", patient.id, DOCTOR.id).exit_code == 0
    assert rules()["blocked"] == []

    named = holder("space", "physician", patient.id, DOCTOR.id, "--name", DOCTOR.name)
    assert named.exit_code == 0, named.output
    assert rules()["attending_physician"]["id"] == DOCTOR.id
    assert _failed(holder("space", "physician", patient.id), "RPPS number, or --none")
    assert holder("space", "physician", patient.id, "--none").exit_code == 0
    assert rules()["attending_physician"] is None

    changed = holder(
        "space", "settings", patient.id, "--physician-sees-masked", "--emergency-reveals-masked"
    )
    assert changed.exit_code == 0, changed.output
    assert "the attending physician sees masked documents" in changed.stdout
    settings = json.loads(holder("space", "settings", patient.id, "--json").stdout)
    assert settings == {
        "emergency_access_forbidden": False,
        "emergency_reveals_masked": True,
        "attending_physician_sees_masked": True,
    }

    # Only the holder sees or changes who may read.
    doctor = coffre_as(DOCTOR)
    assert _failed(doctor("space", "rules", patient.id), "this operation is for")
    other = ("block", patient.id, OTHER_DOCTOR.id, "--name", OTHER_DOCTOR.name, "--profession")
    assert _failed(doctor(*other, "doctor"), "this operation is for")
    # A block needs a known profession: the server says so, in one line.
    assert _failed(holder(*other, "wizard"), "error:")


# -- emergency access ---------------------------------------------------------------------


def test_emergency_access_then_forbidden(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    _open_with_document(served, patient)
    holder, doctor = coffre_as(patient), coffre_as(DOCTOR)
    why = "Patiente inconsciente aux urgences, allergie suspectée"

    declared = doctor("emergency", "declare", patient.id, "--justification", why)
    assert declared.exit_code == 0, declared.output
    access_id = declared.stdout.strip()
    assert len(access_id) == 36 and "emergency access until" in declared.stderr
    listed = json.loads(holder("emergency", "list", patient.id, "--json").stdout)
    assert [(a["access_id"], a["active"]) for a in listed] == [(access_id, True)]
    assert DOCTOR.name in holder("emergency", "list", patient.id).stdout

    # No justification, or a patient declaring: refused before anything is recorded.
    blank = doctor("emergency", "declare", patient.id, "--justification", " ")
    assert _failed(blank, "justification")
    assert _failed(
        holder("emergency", "declare", patient.id, "--justification", why), "this operation is for"
    )

    # The patient forbids emergency access: the next declaration is refused, and recorded.
    forbidden = holder("space", "settings", patient.id, "--forbid-emergency-access")
    assert forbidden.exit_code == 0 and "yes" in forbidden.stdout
    refused = coffre_as(OTHER_DOCTOR)("emergency", "declare", patient.id, "--justification", why)
    assert _failed(refused, "the patient forbade emergency access")
    log = json.loads(holder("log", patient.id, "--action", "emergency_access", "--json").stdout)
    assert [e["outcome"] for e in log["entries"]] == ["refused", "allowed"]


# -- legal representatives ---------------------------------------------------------------


def test_representatives_add_list_and_end(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    _open_with_document(served, patient)
    registry, hospital, holder = coffre_as(REGISTRY), coffre_as(HOSPITAL), coffre_as(patient)
    add = ("representatives", "add", patient.id, GUARDIAN.id, "--name", GUARDIAN.name)
    add += ("--basis-reference", "TJ Rennes RG 26/00042", "--basis-date", "2026-09-01")

    # Only an authorised registry service appoints one, never the depositing hospital;
    # a parent needs the register's birth date.
    assert _failed(holder(*add, "--kind", "guardian"), "this operation is for")
    assert _failed(hospital(*add, "--kind", "guardian"), "authorised registry")
    assert _failed(registry(*add), "only with the birth date")
    assert registry(*add, "--kind", "uncle").exit_code == 2  # usage: not a kind
    assert _failed(registry(*add, "--kind", "guardian", "--until", "soon"), "--until")
    assert _failed(registry(*add[:-1], "1st of May", "--kind", "guardian"), "--basis-date")

    added = registry(*add, "--kind", "guardian", "--until", "2099-01-01T00:00:00+00:00")
    assert added.exit_code == 0, added.output
    listed = holder("representatives", "list", patient.id)
    assert GUARDIAN.name in listed.stdout and "active" in listed.stdout
    # The guardian acts for the patient.
    assert "open" in coffre_as(GUARDIAN)("space", "state", patient.id).stdout

    assert _failed(hospital("representatives", "end", patient.id, GUARDIAN.id), "registry")
    ended = registry("representatives", "end", patient.id, GUARDIAN.id)
    assert ended.exit_code == 0, ended.output
    (person,) = json.loads(holder("representatives", "list", patient.id, "--json").stdout)
    assert person["active"] is False and person["ended_at"]
    assert _failed(registry("representatives", "end", patient.id, GUARDIAN.id), "already ended")
    # The patient's log names the appointment and its act.
    shown = holder("log", patient.id, "--action", "add_representative")
    assert "Marc Duval" in shown.stdout, shown.output
    (line,) = json.loads(
        holder("log", patient.id, "--action", "add_representative", "--json").stdout
    )["entries"]
    assert (
        line["detail"]["appointment"]
        == "guardian, court decision TJ Rennes RG 26/00042 of 2026-09-01"
    )


# -- one grant per professional ----------------------------------------------------------


def test_grant_again_keeps_the_id_and_revoke_by_professional(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    document_id = _open_with_document(served, patient)
    holder, doctor = coffre_as(patient), coffre_as(DOCTOR)
    grant = ("grant", patient.id, "--to", DOCTOR.id, "--name", DOCTOR.name)
    first = holder(*grant, "--profession", "doctor", "--types", "prescription")
    again = holder(*grant, "--profession", "doctor")
    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert first.stdout == again.stdout  # the same grant, changed to the whole space
    assert document_id in doctor("documents", patient.id, "--json").stdout

    assert _failed(holder("revoke", patient.id), "GRANT_ID or --professional")
    revoked = holder("revoke", patient.id, "--professional", DOCTOR.id)
    assert revoked.exit_code == 0 and "revoked" in revoked.stderr, revoked.output
    assert document_id not in doctor("documents", patient.id, "--json").stdout
    again = holder("revoke", patient.id, "--professional", DOCTOR.id)
    assert _failed(again, "no active grant")


# -- notifications -----------------------------------------------------------------------


def test_notifications_list_and_acknowledge(
    served: Served, coffre_as: Callable[[Actor], Run], patient: Actor
) -> None:
    _open_with_document(served, patient)
    holder = coffre_as(patient)

    listed = holder("notifications", "list")
    assert listed.exit_code == 0, listed.output
    assert "new document" in listed.stdout and "NEW" in listed.stdout
    page = json.loads(holder("notifications", "list", "--unread", "--json").stdout)
    assert page["unread"] >= 1 and page["notifications"]

    acknowledged = holder("notifications", "acknowledge")
    assert acknowledged.exit_code == 0 and "read up to" in acknowledged.stderr
    after = json.loads(holder("notifications", "list", "--unread", "--json").stdout)
    assert after["unread"] == 0 and after["notifications"] == []
    assert holder("notifications", "acknowledge", "-1").exit_code == 2  # usage: a position

    # Another person's notifications are not the patient's: a stranger has none.
    assert "no notifications" in coffre_as(OTHER_DOCTOR)("notifications", "acknowledge").stderr


def test_no_token_is_one_clear_line(served: Served) -> None:
    env = {"COFFRE_URL": served.url, "COFFRE_TOKEN": None}  # None: unset
    result = CliRunner().invoke(app, ["space", "state", "x"], env=env)
    assert _failed(result, "not logged in")


def test_rendering_shows_names_as_written_and_every_section() -> None:
    # Names come from the vault: markup in them is printed, never interpreted.
    name = "Dr [bold]Caron[/]"
    rules = {
        "grants": [
            {
                "grant_id": str(uuid.uuid4()),
                "grantee_id": DOCTOR.id,
                "grantee_name": name,
                "grantee_profession": "doctor",
                "scope": {"kind": "space"},
                "granted_at": "2026-11-02T09:00:00+00:00",
                "expires_at": None,
                "revoked_at": None,
                "active": True,
                "basis": "care_team",
                "added_by_a_newer_server": "ignored",
            }
        ],
        "blocked": [{"id": OTHER_DOCTOR.id, "name": OTHER_DOCTOR.name, "profession": "doctor"}],
        "attending_physician": {"id": DOCTOR.id, "name": name},
        "settings": {"emergency_access_forbidden": True},
        "representatives": [],
        "emergency_accesses": [],
    }
    notifications = [
        {
            "position": 7,
            "kind": "emergency_access",
            "at": "2026-11-02T09:00:00+00:00",
            "by": {"name": name, "profession": "doctor", "organisation": None},
            "document_id": None,
            "detail": {"justification": "Inconsciente"},
            "read": False,
        }
    ]
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(access_rules_view(rules))
    console.print(notifications_table(notifications))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert text.count(name) == 3 and "care team" in text and OTHER_DOCTOR.name in text
    assert "emergency access forbidden" in text and "Legal representatives" in text
    assert "emergency access: Inconsciente" in text and "NEW" in text

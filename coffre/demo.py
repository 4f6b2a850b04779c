"""``coffre demo``: a short, narrated story against a running embedded server.

A hospital deposits three documents in a patient's space, each reader's device is
approved (the patient's with the enrolment code of her letter, the professionals' by
their enrolment service), the patient shares the documents with two doctors (one fully,
one for lab results only), a third professional is refused, a key added with the
patient's token alone gets nothing, a revocation takes effect on the very next read,
and the patient's access log shows it all. Tokens are minted with the embedded issuer
key, derived from the master key in ``COFFRE_DATA_DIR`` (the server's), without opening
the server's databases. Running it again reuses the space and device keys and deposits
three more documents; as a professional holds one grant per space, granting again
changes it and the revocation still ends the access. The command exits non-zero when
any check fails.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.console import Console

from client.cli.common import fail
from client.cli.render import access_log_table
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.cast import DEFAULT_PATIENT_NUMBER, demo_actors
from coffre.cli_admin import settings, token_authority
from domain.values import Actor, patient_id_from_number
from wire.errors import (
    DeviceNotApproved,
    SpaceAlreadyExists,
    Unauthenticated,
    Unavailable,
    UnknownDocument,
)

DOCUMENTS = (
    ("lab_result", "Bilan sanguin", "Hémoglobine 13.2 g/dL\nFerritine 48 µg/L\nCRP < 5 mg/L\n"),
    (
        "hospital_report",
        "Compte rendu d'hospitalisation",
        "Séjour en cardiologie du 2 au 5.\nÉvolution favorable, sortie à domicile.\n",
    ),
    ("prescription", "Ordonnance de sortie", "Bisoprolol 2.5 mg, 1 cp le matin, 3 mois.\n"),
)


@dataclass
class Cast:
    """Who plays in the demo: each actor and a logged-in SDK client for it."""

    actors: dict[str, Actor]
    clients: dict[str, CoffreClient]
    url: str
    tokens: dict[str, str]

    def name(self, role: str) -> str:
        """The display name of a cast member."""
        return self.actors[role].name

    def grantee(self, role: str) -> dict[str, Any]:
        """A cast member as a grant's ``grantee``."""
        actor = self.actors[role]
        return {
            "id": actor.id,
            "name": actor.name,
            "organisation": actor.organisation,
            "profession": actor.profession.value if actor.profession else None,
        }

    def close(self) -> None:
        """Close every client."""
        for client in self.clients.values():
            client.close()


def run_demo(url: str, patient_number: str = DEFAULT_PATIENT_NUMBER) -> None:
    """Play the story against the server at ``url``, narrating each step on stdout."""
    console = Console(highlight=False)
    patient_id = patient_id_from_number(patient_number)
    console.rule("[bold]Coffre demo")
    cast = _cast(url, _actors(patient_id), settings().data_dir / "demo")
    try:
        cast.clients["hospital"].health()  # fail early, in one line, if no server answers
        console.print(f"server {url}; tokens minted with the embedded issuer key (valid 1 hour)")
        for actor in cast.actors.values():
            what = f" ({actor.profession.value})" if actor.profession else ""
            console.print(f"  • {actor.name}{what}, {actor.role.value} {actor.id}")
        _story(cast, patient_id, console)
    except Unavailable as error:
        hint = "is `coffre serve` running, with the same COFFRE_DATA_DIR?"
        raise Unavailable(f"{error.detail}; {hint}") from None
    except Unauthenticated as error:
        # the demo mints with the key of *this* data directory; another server refuses it
        hint = "run the demo with the server's COFFRE_DATA_DIR"
        raise Unauthenticated(f"{error.detail}; {hint}") from None
    finally:
        cast.close()


def _actors(patient_id: str) -> dict[str, Actor]:
    # the story's cast: the regulator has no part in it
    actors = demo_actors(patient_id)
    del actors["regulator"]
    return actors


def _cast(url: str, actors: dict[str, Actor], key_dir: Path) -> Cast:
    authority = token_authority(settings())
    tokens = {role: authority.mint(actor, timedelta(hours=1)) for role, actor in actors.items()}
    clients = {
        role: CoffreClient(url, tokens[role], reader_key=_reader_key(key_dir / f"{role}.key"))
        for role in actors
    }
    return Cast(actors, clients, url, tokens)


def _reader_key(path: Path) -> ReaderKey:
    if path.exists():
        return ReaderKey.load(path)
    key = ReaderKey.generate()
    key.save(path)
    return key


def _story(cast: Cast, patient_id: str, console: Console) -> None:
    hospital, patient = cast.clients["hospital"], cast.clients["patient"]
    step = _Steps(console)

    step("The hospital provisions the patient's space")
    floor = 0  # access-log entries up to this cursor belong to earlier runs
    try:
        provisioned = hospital.provision(patient_id)
        console.print(
            f"  new space {provisioned.space_id}, opening {provisioned.opens_at:%Y-%m-%d}"
        )
        step("The patient activates it with the letter's one-time code: it opens now")
        patient.activate(patient_id, provisioned.one_time_code)
    except SpaceAlreadyExists:
        info = hospital.space_key(patient_id)
        console.print(f"  the space exists already ({info.space_id}): reusing it")
        newest = patient.access_log(patient_id, limit=1)["entries"]
        floor = newest[0]["entry_id"] if newest else 0

    step("Each reader adds its device, approved by a step a token alone cannot take")
    _devices(cast, patient_id, console)

    step("The hospital encrypts and deposits three documents")
    originals: dict[str, tuple[UUID, bytes]] = {}
    for kind, title, text in DOCUMENTS:
        content = text.encode("utf-8")
        doc, _ = hospital.deposit(patient_id, content, type=kind, title=title, date=date.today())
        originals[kind] = (doc, content)
        console.print(f"  «{title}» ({kind}, {len(content)} bytes) -> document {doc}")

    step("The patient grants access (granting again changes the one grant: same id)")
    grant_alice = patient.grant(patient_id, cast.grantee("alice"))
    console.print(f"  {cast.name('alice')}: the whole space (grant {grant_alice})")
    lab_only = {"kind": "types", "types": ["lab_result"]}
    grant_bruno = patient.grant(patient_id, cast.grantee("bruno"), lab_only)
    console.print(f"  {cast.name('bruno')}: lab results only (grant {grant_bruno})")
    visible = cast.clients["bruno"].documents(patient_id)
    kinds = ", ".join(sorted({d.type for d in visible}))
    console.print(f"  {cast.name('bruno')} now lists {len(visible)} document(s), of type: {kinds}")

    step("Reads: each reader decrypts locally what the server released")
    outcomes = [
        _read(
            cast, "alice", "the hospital report", patient_id, originals["hospital_report"], console
        ),
        _read(cast, "bruno", "the lab result", patient_id, originals["lab_result"], console),
        _read(
            cast, "chloe", "the lab result (no grant)", patient_id, originals["lab_result"], console
        ),
    ]

    step("Someone holding the patient's token adds a key of their own: it stays pending")
    outcomes.append(_stolen_token(cast, patient_id, originals["lab_result"], console))

    step(f"The patient revokes {cast.name('alice')}'s grant, then she tries again")
    patient.revoke(patient_id, grant_alice)
    console.print("  revoked: the very next read is refused, whatever the projections' lag")
    outcomes.append(
        _read(
            cast,
            "alice",
            "the hospital report again",
            patient_id,
            originals["hospital_report"],
            console,
        )
    )

    step("The patient reads their access log")
    entries = _wait_for_log(patient, patient_id, floor, grant_alice)
    console.print(access_log_table(entries))

    console.rule("[bold]Summary")
    expected = ("read", "read", "refused", "refused", "refused")
    failed = 0
    for (what, outcome), wanted in zip(outcomes, expected, strict=True):
        failed += outcome != wanted
        console.print(f"  {'✓' if outcome == wanted else '✗ UNEXPECTED'} {what}: {outcome}")
    reads = sum(1 for e in entries if e.get("action") == "read" and e.get("outcome") != "refused")
    refusals = sum(1 for e in entries if e.get("outcome") == "refused")
    revokes = sum(1 for e in entries if e.get("action") == "revoke")
    console.print(
        f"  access log of this run: {len(entries)} entries, {reads} read(s), "
        f"{refusals} refused read(s), {revokes} revocation(s)"
    )
    console.print("  the server only ever held ciphertext; data keys travelled sealed")
    if failed:
        # A demo whose checks fail must not look like a success to a script or CI.
        fail(f"{failed} check(s) of the demo went otherwise than expected (✗ above)")


def _devices(cast: Cast, patient_id: str, console: Console) -> None:
    # The patient's first device: the enrolment code of her letter (sent by the
    # enrolment service). The professionals': approved by their enrolment service.
    enrolment = cast.clients["enrolment"]
    for role in ("patient", "alice", "bruno", "chloe"):
        client, actor = cast.clients[role], cast.actors[role]
        device = client.add_device(f"{cast.name(role)} (demo)")
        if device.status == "pending" and role == "patient":
            code = enrolment.issue_enrolment_code("patient", patient_id)
            device = client.approve_device(device.key_id, code=code)
        elif device.status == "pending":
            device = enrolment.approve_member_device(actor.role.value, actor.id, device.key_id)
        console.print(f"  {cast.name(role)}: device {device.key_id} {device.status}")


def _stolen_token(
    cast: Cast, patient_id: str, document: tuple[UUID, bytes], console: Console
) -> tuple[str, str]:
    # The thief holds a valid token of the patient's but not her enrolment code nor one
    # of her devices: their key is recorded, pending, and never receives a data key.
    patient = cast.clients["patient"]
    description = "a key added with the patient's token alone reads the lab result"
    stolen = cast.tokens["patient"]
    with CoffreClient(cast.url, stolen, reader_key=ReaderKey.generate()) as thief:
        device = thief.add_device("unknown laptop")
        console.print(f"  device {device.key_id} added: {device.status}")
        try:
            thief.read(patient_id, document[0], io.BytesIO())
        except DeviceNotApproved as refused:
            console.print(f"  {description}: [bold red]refused[/] ({refused.rule})")
            patient.revoke_device(device.key_id)
            console.print("  the patient, told of it, revokes that device")
            return description, "refused"
    console.print(f"  {description}: [bold red]RELEASED[/]")
    return description, "read"


class _Steps:
    """Numbered step headings."""

    def __init__(self, console: Console) -> None:
        self.console, self.number = console, 0

    def __call__(self, title: str) -> None:
        self.number += 1
        self.console.print(f"\n[bold cyan]{self.number}. {title}[/]")


def _read(
    cast: Cast,
    role: str,
    what: str,
    patient_id: str,
    document: tuple[UUID, bytes],
    console: Console,
) -> tuple[str, str]:
    """One read attempt, narrated; returns (description, "read" | "refused")."""
    document_id, original = document
    sink = io.BytesIO()
    description = f"{cast.name(role)} reads {what}"
    try:
        cast.clients[role].read(patient_id, document_id, sink)
    except UnknownDocument:
        # a refusal looks exactly like an unknown document, and is recorded
        console.print(f"  {description}: [bold red]refused[/]")
        return description, "refused"
    # compare, never print: document bytes stay off the terminal
    verdict = "decrypted, identical to the deposit" if sink.getvalue() == original else "MISMATCH"
    console.print(f"  {description}: [green]{verdict}[/] ({len(original)} bytes)")
    return description, "read" if sink.getvalue() == original else "mismatch"


def _wait_for_log(
    patient: CoffreClient, patient_id: str, floor: int, revoked: UUID, timeout: float = 15.0
) -> list[dict[str, Any]]:
    # The log is a projection: it trails the event store by a moment. Authorisation
    # never waits on it (revocation was already enforced above); only this display does.
    deadline = time.monotonic() + timeout
    while True:
        entries = []
        for entry in patient.access_log_entries(patient_id, limit=200):
            if entry["entry_id"] <= floor:
                break
            entries.append(entry)
        revoke_ids = [
            e["entry_id"]
            for e in entries
            if e.get("action") == "revoke"
            and str((e.get("detail") or {}).get("grant_id")) == str(revoked)
        ]
        if revoke_ids and any(
            e.get("outcome") == "refused" and e["entry_id"] > revoke_ids[0] for e in entries
        ):
            return entries
        if time.monotonic() > deadline:
            Console(stderr=True).print("the access log is still catching up; showing it as it is")
            return entries
        time.sleep(0.2)

"""Use cases of a space's life: provisioning (one by one and from the insurer's
register), opposition, activation, closure, deletion, re-opening, and what falls due.

Functions over a ``vault.core.VaultCore`` (``vault.service.Vault`` binds them as its
methods); every one is one transaction on the event store (``on_space`` reloads and
retries on a concurrent change). A wrong one-time code is
recorded (``CodeRejected``) and *then* refused, so the patient's log shows attempts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.periods import Periods
from domain.records import RepresentativeKind
from domain.representatives import LegalBasis
from domain.space import Space, b64
from domain.values import Actor, parse_patient_id
from keys.codes import new_code, verify_code
from vault.core import VaultCore, space_seal
from vault.documents import shred_document
from wire.dto import ProvisionedSpace, RegisterEntry, RegisterReport, SpaceState
from wire.errors import Conflict, Forbidden, InvalidInput, Refused, SpaceAlreadyExists
from wire.values import Role

#: spaces stored per transaction by a bulk provisioning
REGISTER_BATCH = 200


@dataclass(frozen=True)
class _Row:
    patient_id: str
    birth_date: date | None
    representatives: tuple[tuple[Actor, RepresentativeKind], ...]


def _parse_row(index: int, entry: RegisterEntry, periods: Periods, now: datetime) -> _Row:
    # Everything the domain would refuse is refused here, before any key is made.
    try:
        patient_id = parse_patient_id(entry.patient_id)
        birth_date = entry.birth_date
        if birth_date is not None and (
            not isinstance(birth_date, date) or isinstance(birth_date, datetime)
        ):
            raise InvalidInput("a birth date is a calendar date", field="birth_date")
        representatives = []
        for rep in entry.representatives:
            try:
                kind = RepresentativeKind(rep.kind)
            except ValueError:
                raise InvalidInput("unknown kind of representative", field="kind") from None
            if kind is RepresentativeKind.PARENT:
                if birth_date is None:
                    raise InvalidInput("a parent is listed only with the birth date", field="kind")
                if periods.majority(birth_date) <= now:
                    raise Conflict("the patient is of age")
            representative = Actor(Role.REPRESENTATIVE, rep.id, rep.name)
            if representative.id == patient_id:
                raise InvalidInput("nobody represents themselves", field="id")
            representatives.append((representative, kind))
    except (InvalidInput, Conflict) as error:
        field = getattr(error, "field", None)
        raise InvalidInput(f"register row {index}: {error.detail}", field=field) from None
    return _Row(patient_id, birth_date, tuple(representatives))


def provision(
    core: VaultCore, patient_id: str, actor: Actor, *, birth_date: date | None = None
) -> ProvisionedSpace:
    """Provision a patient's space with a fresh space key and a one-time code.

    The space is pending: it opens when the opposition period ends unless the person
    opposes before (``oppose``), or earlier if they activate it (``activate``).
    """
    patient_id = parse_patient_id(patient_id)
    space_id = Space.create_id(patient_id)
    if core.exists(space_id):
        raise SpaceAlreadyExists("a space exists for this patient")
    space, code = _new_space(core, patient_id, actor, birth_date, core.clock.now())
    try:
        core.commit(space)
    except IntegrityError:
        raise SpaceAlreadyExists("a space exists for this patient") from None
    return _provisioned(space, code)


def _new_space(
    core: VaultCore, patient_id: str, actor: Actor, birth_date: date | None, now: datetime
) -> tuple[Space, str]:
    # Validate before making a key, so bad input leaves no orphan key behind.
    if actor.role is not Role.SERVICE:
        raise InvalidInput("spaces are provisioned by a platform service", field="actor")
    if birth_date is not None and (
        not isinstance(birth_date, date) or isinstance(birth_date, datetime)
    ):
        raise InvalidInput("a birth date is a calendar date", field="birth_date")
    code = new_code()
    key = core.keyring.create_space_key(Space.create_id(patient_id))
    space = Space.provision(
        patient_id,
        key.key_id,
        key.public_key,
        actor,
        now,
        code=core.codes.digest(code),
        opens_at=now + core.periods.opposition,
        birth_date=birth_date,
    )
    return space, code


def _provisioned(space: Space, code: str, reimported: bool = False) -> ProvisionedSpace:
    return ProvisionedSpace(
        space.patient_id,
        space.id,
        space.key_id,
        space.public_key,
        one_time_code=code,
        opens_at=space.opens_at,
        reimported=reimported,
    )


def provision_register(
    core: VaultCore, entries: Iterable[RegisterEntry], actor: Actor
) -> RegisterReport:
    """Provision spaces for many people at once (the insurer's register).

    Idempotent: a person who already has a space is reported, not an error, so a
    register can be sent again after a failure. Every row is validated before
    anything is stored; spaces are saved ``REGISTER_BATCH`` per transaction.
    """
    if actor.role is not Role.SERVICE:
        raise Forbidden("spaces are provisioned by a platform service")
    now = core.clock.now()
    rows = [_parse_row(index, entry, core.periods, now) for index, entry in enumerate(entries)]
    if any(row.representatives for row in rows):
        # Checked before any key is made; the domain checks it again per space.
        core.registry.require(actor)
    provisioned: list[ProvisionedSpace] = []
    already: list[str] = []
    seen: set[str] = set()
    for start in range(0, len(rows), REGISTER_BATCH):
        fresh: list[_Row] = []
        for row in rows[start : start + REGISTER_BATCH]:
            if row.patient_id in seen or core.exists(Space.create_id(row.patient_id)):
                already.append(row.patient_id)
            else:
                fresh.append(row)
            seen.add(row.patient_id)
        made = [_register_space(core, row, actor) for row in fresh]
        try:
            core.commit(*(space for space, _ in made))
            provisioned += [_provisioned(space, code) for space, code in made]
        except IntegrityError:
            # Another provisioning raced this batch: store one by one instead.
            for (space, _), row in zip(made, fresh, strict=True):
                core.keyring.destroy(space.key_id, core.clock.now())  # never used
                try:
                    again, code = _register_space(core, row, actor)
                    core.commit(again)
                    provisioned.append(_provisioned(again, code))
                except IntegrityError:
                    already.append(row.patient_id)
    return RegisterReport(provisioned, already)


def _register_space(core: VaultCore, row: _Row, actor: Actor) -> tuple[Space, str]:
    now = core.clock.now()
    space, code = _new_space(core, row.patient_id, actor, row.birth_date, now)
    for representative, kind in row.representatives:
        # The register row is the act: the registry's own listing of the person.
        basis = LegalBasis(f"register {actor.id}", now.date())
        space.add_representative(
            representative,
            kind,
            None,
            core.periods,
            actor,
            now,
            basis=basis,
            registry=core.registry,
            seal=space_seal(space),  # as any appointment (vault.representatives)
        )
    return space, code


def reissue_code(core: VaultCore, patient_id: str, actor: Actor) -> ProvisionedSpace:
    """A new letter: a new one-time code replaces the old one (and unlocks it)."""
    code = new_code()
    digest = core.codes.digest(code)

    def command(space: Space, now: datetime) -> Space:
        space.reissue_code(digest, actor, now)
        return space

    return _provisioned(core.on_space(patient_id, actor, command), code)


def oppose(core: VaultCore, patient_id: str, code: str, actor: Actor) -> None:
    """The person (or a representative) opposes the space with the letter's code."""
    ok = core.on_space(patient_id, actor, lambda s, now: s.oppose(code, verify_code, actor, now))
    if not ok:
        raise Refused("the code is wrong", rule="wrong_code")


def activate(core: VaultCore, patient_id: str, code: str, actor: Actor) -> None:
    """The patient (or a representative) activates the space with the letter's code."""
    ok = core.on_space(patient_id, actor, lambda s, now: s.activate(code, verify_code, actor, now))
    if not ok:
        raise Refused("the code is wrong", rule="wrong_code")


def close_space(
    core: VaultCore, patient_id: str, actor: Actor, *, express_deletion: bool = False
) -> SpaceState:
    """The holder closes the space: archived, or deleted on express request.

    (Not ``close``: ``Application.close`` releases the event store's connections.)
    """

    def command(space: Space, now: datetime) -> Space:
        space.close(core.periods, express_deletion, actor, now)
        return space

    space = core.on_space(patient_id, actor, command)
    if space.deletion_due(core.clock.now()):
        apply_due(core, space.id)  # express deletion with no delay: shred now
    return space_state(core, patient_id, actor)


def request_deletion(core: VaultCore, patient_id: str, actor: Actor) -> SpaceState:
    """The holder of a closed space asks for its archive to be deleted now."""

    def command(space: Space, now: datetime) -> Space:
        space.request_deletion(core.periods, actor, now)
        return space

    space = core.on_space(patient_id, actor, command)
    if space.deletion_due(core.clock.now()):
        apply_due(core, space.id)
    return space_state(core, patient_id, actor)


def reopen(core: VaultCore, patient_id: str, actor: Actor) -> ProvisionedSpace:
    """A platform service opens a new space for a person who closed or opposed one.

    An archive still within its period is re-imported; after deletion the space
    starts empty with a new key. Whatever fell due (a deletion) is applied first.
    """
    space_id = core.space(patient_id, actor).id
    apply_due(core, space_id)
    code = new_code()
    digest = core.codes.digest(code)

    def change() -> tuple[Space, tuple[Space, bool]]:
        space = core.space(patient_id, actor)
        now = core.clock.now()
        key_id, public_key = space.key_id, space.public_key
        if space.needs_new_key:
            if actor.role is not Role.SERVICE:  # validate before making a key
                raise Forbidden("a new space is opened by a platform service")
            key = core.keyring.create_space_key(space.id)
            key_id, public_key = key.key_id, b64(key.public_key)
        reimported = space.reopen(key_id, public_key, digest, actor, now)
        return space, (space, reimported)

    space, reimported = core.retry(change)
    return _provisioned(space, code, reimported)


def space_state(core: VaultCore, patient_id: str, actor: Actor) -> SpaceState:
    """The life-cycle state of the space, for the patient or a representative."""
    space = core.space(patient_id, actor)
    now = core.clock.now()
    if not space.is_holder(actor, now):
        raise Forbidden("only the patient sees their space's state")
    return SpaceState(
        patient_id=space.patient_id,
        status=space.status_at(now).value,
        opens_at=space.opens_at,
        activated_at=space.activated_at,
        closed_at=space.closed_at,
        archive_until=space.archive_until,
        deletion_due_at=space.deletion_due_at,
    )


def apply_due(core: VaultCore, space_id: UUID, now: datetime | None = None) -> list[str]:
    """Record what fell due in one space by ``now``; returns the events' names.

    After a shredding is recorded, destroys the shredded keys and removes the
    blobs, and does the same for every document the holder deleted; these steps are
    idempotent and redone on every visit, so a crash between recording and destroying
    is finished by the next run.
    """
    moment = now or core.clock.now()

    def change() -> tuple[Space, tuple[Space, list[str]]]:
        space: Space = core.repository.get(space_id)
        return space, (space, space.apply_due(moment))

    space, names = core.retry(change)
    for key_id in space.shredded_keys:
        core.keyring.destroy(key_id, moment)
    for document in space.documents.values():
        if document.deleted:
            shred_document(core, document, moment)
    return names

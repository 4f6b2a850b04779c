"""Valid events in bulk: one real story recorded once, then cloned with fresh ids.

The story is played on a real (embedded) vault with real commands: a space is
provisioned and opened, reader devices added and approved, documents deposited, a grant given and
revoked, documents read, a read refused, the access log read. Its stored events (the
mapper's own format: ``topic`` + JSON ``state``, ``vault.mapper.to_stored_event``) are
the templates; a clone substitutes the patient's INS, the space id, the document and
grant ids, and gives every access record a fresh aggregate id. Each clone is therefore
what the vault itself would have stored for another patient, and the projections read
it back through the real mapper.
"""

from __future__ import annotations

import base64
import contextlib
import random
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

#: bumped whenever the clones change shape: cached datasets of another version are rebuilt
STORY_VERSION = 2  # 2: readers hold approved devices


@dataclass(frozen=True)
class Template:
    """One stored event of the recorded story."""

    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass
class Story:
    """The recorded story and the ids a clone must replace."""

    space: list[Template]  # the space's own stream, in order
    patient_reader: list[Template]  # the patient's Reader stream
    shared: list[Template]  # other actors' Reader streams: stored once per dataset
    reads: list[Template]  # Access records (reads, refusals, log reads)
    patient_id: str
    space_id: UUID
    patient_reader_id: UUID
    ids: list[UUID]  # document and grant ids


def record_story() -> Story:
    """Play the story on an embedded vault and return its stored events."""
    from bench.env import OffsetClock, open_space
    from coffre.bootstrap import build
    from domain.access import Access
    from domain.reader import Reader
    from domain.space import Space
    from domain.values import Actor, Scope, patient_id_from_number, professional_id_from_number
    from tests.devices import enrol
    from vault.settings import Settings
    from wire.envelope import DataKey, encrypt, seal
    from wire.errors import UnknownDocument
    from wire.values import DocumentMetadata, DocumentType, Profession, Role

    clock = OffsetClock()
    with tempfile.TemporaryDirectory(prefix="coffre-bench-story-") as tmp:
        coffre = build(Settings(data_dir=Path(tmp)), clock=clock)
        try:
            vault = coffre.vault
            hospital = Actor(Role.SERVICE, "chu-lyon", "CHU de Lyon", organisation="CHU de Lyon")
            patient_id = patient_id_from_number("2870675123456")
            open_space(coffre, clock, patient_id, hospital)
            patient = Actor(Role.PATIENT, patient_id, "Jeanne Martin")

            def pro(n: str, name: str) -> Actor:
                return Actor(
                    Role.PROFESSIONAL,
                    professional_id_from_number(n),
                    name,
                    Profession.DOCTOR,
                    "Cabinet",
                )

            doctor = pro("1000000001", "Dr Paul Durand")
            stranger = pro("1000000003", "Dr Marc Petit")
            # approved devices, as tests make them (a patient's with an enrolment code)
            keys = {actor.id: enrol(vault, actor)[1] for actor in (patient, doctor, stranger)}
            space_key = vault.space_key(patient_id)
            documents = []
            for n, (kind, title) in enumerate(
                [
                    (DocumentType.LAB_RESULT, "Bilan sanguin"),
                    (DocumentType.LAB_RESULT, "Ionogramme"),
                    (DocumentType.LAB_RESULT, "Compte rendu"),
                ]
            ):
                key = DataKey.generate()
                receipt = vault.upload(
                    patient_id, encrypt([b"x" * (1000 + n)], key, chunk_size=4096), hospital
                )
                sealed = seal(key, base64.b64decode(space_key.public_key))
                deposit = vault.deposit(
                    patient_id,
                    receipt.ticket,
                    DocumentMetadata(kind, title, date(2026, 10, 30)),
                    sealed,
                    hospital,
                )
                documents.append(deposit.document_id)
            grant = vault.grant(patient_id, doctor, Scope.whole_space(), None, patient)
            for document_id in documents:
                vault.read(patient_id, document_id, patient, keys[patient.id])
            vault.read(patient_id, documents[0], doctor, keys[doctor.id])
            # refused, and recorded: that is the point
            with contextlib.suppress(UnknownDocument):
                vault.read(patient_id, documents[1], stranger, keys[stranger.id])
            vault.authorise_log(patient_id, patient)
            vault.revoke(patient_id, grant, patient)
            notifications = vault.recorder.select_notifications(start=1, limit=10_000)
        finally:
            coffre.close()

    space_id = Space.create_id(patient_id)
    patient_reader_id = Reader.create_id(Role.PATIENT.value, patient_id)
    story = Story([], [], [], [], patient_id, space_id, patient_reader_id, [*documents, grant])
    access_prefix = f"{Access.__module__}:{Access.__qualname__}."
    for n in notifications:
        template = Template(n.originator_id, n.originator_version, n.topic, bytes(n.state))
        if n.originator_id == space_id:
            story.space.append(template)
        elif n.originator_id == patient_reader_id:
            story.patient_reader.append(template)
        elif n.topic.startswith(access_prefix):
            story.reads.append(template)
        else:
            story.shared.append(template)
    return story


def _forms(value: UUID) -> list[tuple[bytes, Any]]:
    # The transcoder stores UUIDs as hex; events may also carry them as text.
    return [(str(value).encode(), str), (value.hex.encode(), lambda u: u.hex)]


Row = tuple[UUID, int, str, bytes]


class Cloner:
    """Makes the stored events of clone ``k`` of the story (``k`` < 10**6)."""

    def __init__(self, story: Story, reads_per_space: int, seed: int = 7) -> None:
        from domain.reader import Reader
        from domain.space import Space
        from domain.values import patient_id_from_number
        from wire.values import Role

        self.story = story
        self.reads_per_space = reads_per_space
        self._rng = random.Random(seed)
        self._space_id = Space.create_id
        self._reader_id = Reader.create_id
        self._patient_from = patient_id_from_number
        self._patient_role = Role.PATIENT.value
        # the access templates weighted like real traffic: mostly allowed reads
        reads = [t for t in story.reads if t.topic.endswith(".Read")]
        others = [t for t in story.reads if not t.topic.endswith(".Read")]
        self._mix = reads * 8 + others

    def patient_id(self, k: int) -> str:
        """The INS of clone ``k``."""
        return self._patient_from(f"1800175{k:06d}")

    def setup(self, k: int) -> list[Row]:
        """The space's stream and the patient's reader stream of clone ``k``."""
        subs = self._substitutions(k)
        rows: list[Row] = []
        space_id = self._space_id(self.patient_id(k))
        reader_id = self._reader_id(self._patient_role, self.patient_id(k))
        for t in self.story.space:
            rows.append((space_id, t.originator_version, t.topic, _sub(t.state, subs)))
        for t in self.story.patient_reader:
            rows.append((reader_id, t.originator_version, t.topic, _sub(t.state, subs)))
        return rows

    def accesses(self, k: int, count: int) -> list[Row]:
        """``count`` access records of clone ``k`` (fresh aggregate ids)."""
        subs = self._substitutions(k)
        rows = []
        for _ in range(count):
            t = self._rng.choice(self._mix)
            rows.append((uuid.uuid4(), 1, t.topic, _sub(t.state, subs)))
        return rows

    def shared(self) -> list[Row]:
        """The streams the clones share (other actors' reader keys): stored once."""
        return [
            (t.originator_id, t.originator_version, t.topic, t.state) for t in self.story.shared
        ]

    def _substitutions(self, k: int) -> list[tuple[bytes, bytes]]:
        patient_id = self.patient_id(k)
        subs = [(self.story.patient_id.encode(), patient_id.encode())]
        new_space = self._space_id(patient_id)
        pairs = [(self.story.space_id, new_space)]
        pairs += [(old, uuid.uuid5(new_space, str(n))) for n, old in enumerate(self.story.ids)]
        for old, new in pairs:
            for text, form in _forms(old):
                subs.append((text, form(new).encode()))
        return subs

    def events(self, clones: range, group: int = 32) -> Iterator[Row]:
        """Every event of ``clones``: groups of spaces set up, then their reads interleaved,
        as many patients' activity interleaves in the real log."""
        ks = list(clones)
        for start in range(0, len(ks), group):
            chunk = ks[start : start + group]
            for k in chunk:
                yield from self.setup(k)
            mixed = [row for k in chunk for row in self.accesses(k, self.reads_per_space)]
            self._rng.shuffle(mixed)
            yield from mixed

    def events_per_clone(self) -> int:
        """How many events one clone stores."""
        return len(self.story.space) + len(self.story.patient_reader) + self.reads_per_space


def _sub(state: bytes, subs: list[tuple[bytes, bytes]]) -> bytes:
    for old, new in subs:
        if old in state:
            state = state.replace(old, new)
    return state

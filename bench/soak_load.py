"""The soak's load: client threads running a mix of operations through the SDK.

Each client thread owns a disjoint set of patients' spaces: it alone deposits into them,
grants and revokes their churn professional, and walks their access logs, so that no
refusal comes from two threads racing on one space (any error is the server's). Reads
are by the space's patient or by a professional granted on every space for good.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.sinks import NullSink
from bench.soak_setup import Person, Soaked, Space, grantee
from client.problems import CoffreError
from client.sdk import CoffreClient

KIB, MIB = 1024, 1024 * 1024

#: operation -> weight (per cent): reads >> deposits > grants, log pages, notifications
MIX: dict[str, int] = {
    "read": 35,  # the patient reads one of their documents
    "read_pro": 35,  # a granted professional reads one
    "deposit": 12,  # the hospital deposits a new document
    "access_log": 8,  # the patient fetches a page of their access log (walking pages)
    "grant": 5,  # the patient grants, or revokes, a professional
    "notifications": 5,  # the patient reads their notifications, acknowledges them
}
OPS = tuple(MIX)

#: deposit sizes: (weight, low, high) bytes
SIZES = ((70, 4 * KIB, 64 * KIB), (25, 64 * KIB, 1 * MIB), (5, 1 * MIB, 4 * MIB))


@dataclass
class Record:
    """One finished operation."""

    op: str
    end: float  # seconds since the load started
    latency: float  # seconds
    error: str | None  # None, an HTTP status ("503"), or an exception's class name


@dataclass
class Recorder:
    """Every operation's outcome, appended by the client threads."""

    started: float = field(default_factory=time.monotonic)
    records: list[Record] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    bytes_deposited: int = 0
    bytes_read: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: Record, message: str | None = None) -> None:
        """Keep ``record`` (and the first few error messages)."""
        with self.lock:
            self.records.append(record)
            if message and len(self.messages) < 20:
                self.messages.append(message)


def label(error: BaseException) -> str:
    """How an error is counted: its HTTP status, else its class name."""
    status = getattr(error, "status", None)
    if isinstance(error, CoffreError) and status:
        return str(status)
    if isinstance(error, httpx.HTTPStatusError):
        return str(error.response.status_code)
    return type(error).__name__


class Sizes:
    """Document sizes drawn from ``SIZES`` (capped at ``largest``), and their bytes."""

    def __init__(self, rng: random.Random, largest: int) -> None:
        self.rng = rng
        self.largest = largest
        self.block = os.urandom(min(largest, 4 * MIB))

    def draw(self) -> int:
        """A size."""
        weights = [w for w, _, _ in SIZES]
        _, low, high = self.rng.choices(SIZES, weights)[0]
        return min(self.largest, self.rng.randint(low, high))

    def data(self, size: int) -> bytes:
        """``size`` bytes (a slice of one random block: the client encrypts anyway)."""
        return os.urandom(16) + self.block[: max(0, size - 16)]


class Client:
    """One client thread's state: its spaces, its SDK sessions, its access-log cursors."""

    def __init__(
        self,
        number: int,
        clients: int,
        soaked: Soaked,
        recorder: Recorder,
        largest: int,
        timeout: float,
        seed: int,
        mix: dict[str, int] | None = None,
    ) -> None:
        self.number = number
        self.mix = mix or MIX
        self.soaked = soaked
        self.recorder = recorder
        self.timeout = timeout
        self.rng = random.Random(seed * 1000 + number)
        self.sizes = Sizes(self.rng, largest)
        self.spaces = soaked.spaces[number::clients]
        self.sessions: dict[str, CoffreClient] = {}
        self.cursors: dict[str, int | None] = {}
        self.operations: dict[str, Callable[[], None]] = {
            "read": self.read,
            "read_pro": self.read_pro,
            "deposit": self.deposit,
            "access_log": self.access_log,
            "grant": self.grant,
            "notifications": self.notifications,
        }

    def session(self, person: Person | None) -> CoffreClient:
        """This thread's keep-alive SDK session as ``person`` (None: the hospital)."""
        key = person.actor.id if person else "hospital"
        if key not in self.sessions:
            token = person.token if person else self.soaked.hospital_token
            reader = person.reader if person else None
            self.sessions[key] = CoffreClient(
                self.soaked.served.url, token, reader_key=reader, timeout=self.timeout
            )
        return self.sessions[key]

    def space(self) -> Space:
        """One of this thread's spaces."""
        return self.rng.choice(self.spaces)

    def read(self) -> None:
        """The patient reads one of their documents."""
        space = self.space()
        self._read(space.patient, space)

    def read_pro(self) -> None:
        """A professional granted on every space reads a document of one of them."""
        space = self.rng.choice(self.soaked.spaces)
        self._read(self.rng.choice(self.soaked.readers), space)

    def _read(self, person: Person, space: Space) -> None:
        sink = NullSink()
        document_id = self.rng.choice(space.documents)
        self.session(person).read(space.patient.actor.id, document_id, sink)
        with self.recorder.lock:
            self.recorder.bytes_read += sink.size

    def deposit(self) -> None:
        """The hospital deposits a new document into one of this thread's spaces."""
        space = self.space()
        size = self.sizes.draw()
        document_id, _ = self.session(None).deposit(
            space.patient.actor.id,
            self.sizes.data(size),
            type="lab_result",
            title="Bilan",
            date="2026-10-01",
        )
        space.documents.append(document_id)
        with self.recorder.lock:
            self.recorder.bytes_deposited += size

    def access_log(self) -> None:
        """The next page of a space's access log (from the newest again at its end)."""
        space = self.space()
        patient_id = space.patient.actor.id
        page = self.session(space.patient).access_log(
            patient_id, before=self.cursors.get(patient_id), limit=50
        )
        self.cursors[patient_id] = page.get("next_cursor")

    def grant(self) -> None:
        """The patient grants their churn professional, or revokes them if granted."""
        space = self.space()
        patient_id = space.patient.actor.id
        churner = self.soaked.churn[self.spaces.index(space) % len(self.soaked.churn)]
        client = self.session(space.patient)
        if space.churn_granted:
            client.revoke_professional(patient_id, churner.actor.id)
        else:
            client.grant(patient_id, grantee(churner.actor))
        space.churn_granted = not space.churn_granted

    def notifications(self) -> None:
        """The patient reads their unread notifications and acknowledges them."""
        space = self.space()
        client = self.session(space.patient)
        page = client.notifications(unread=True, limit=20)
        positions = [n["position"] for n in page["notifications"]]
        if positions:
            client.acknowledge_notifications(max(positions))

    def run(self, stop: threading.Event, interval: float) -> None:
        """Run operations until ``stop``: first one of each (every operation is seen
        even in a short run), then drawn from ``MIX``; one every ``interval`` seconds
        at most (0: back to back)."""
        ops, weights = list(self.mix), list(self.mix.values())
        first = [op for op in OPS if self.mix.get(op)]
        self.rng.shuffle(first)
        due = time.monotonic()
        try:
            while not stop.is_set():
                op = first.pop() if first else self.rng.choices(ops, weights)[0]
                self.once(op)
                if interval:
                    due = max(due + interval, time.monotonic() - interval)
                    stop.wait(max(0.0, due - time.monotonic()))
        finally:
            for session in self.sessions.values():
                session.close()

    def once(self, op: str) -> None:
        """Run ``op`` and record its latency and outcome."""
        began = time.monotonic()
        error: BaseException | None = None
        try:
            self.operations[op]()
        except Exception as caught:  # counted, never hidden: the report lists them
            error = caught
        end = time.monotonic()
        message = None
        if error is not None:
            message = f"{op}: {label(error)}: {type(error).__name__}: {str(error)[:200]}"
        self.recorder.add(
            Record(
                op,
                end - self.recorder.started,
                end - began,
                None if error is None else label(error),
            ),
            message,
        )


def run_clients(
    soaked: Soaked,
    recorder: Recorder,
    *,
    clients: int,
    rate: float,
    largest: int,
    timeout: float,
    seed: int,
    stop: threading.Event,
    mix: dict[str, int] | None = None,
) -> list[threading.Thread]:
    """Start ``clients`` threads (at most ``rate`` operations/s in all, 0: unbounded)."""
    interval = clients / rate if rate else 0.0
    threads = []
    for n in range(clients):
        client = Client(n, clients, soaked, recorder, largest, timeout, seed, mix)
        thread = threading.Thread(
            target=client.run, args=(stop, interval), name=f"soak-client-{n}", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads

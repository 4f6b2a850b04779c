"""Issue 9, item 8: a filtered export's completeness is pinned by the global checkpoint.

Whoever holds the trail key can re-sign an export's manifest; what they cannot do is
change the checkpoint's tree, whose last leaf carries the chain-heads map. So dropping
the last entries of a patient's or an actor's export, or the first or last entry of a
time window, then fixing the header and re-signing, must fail; on both backends.
"""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from client.trail_verify import TrailVerificationError, verify_export
from coffre.bootstrap import Coffre
from keys.checkpoint import CheckpointSigner
from projections.runner import ProjectionRunner
from projections.store import SQLiteViewStore
from projections.trail_query import Trail, TrailQuery
from tests.scenarios.conftest import Cast
from tests.trail.make_vectors import TESTDATA, shortened
from tests.trail.scenario import live_history
from tests.trail.story import SEED, T0, migrate_sqlite, project, story
from vault.clock import ManualClock


def export(trail: Trail, query: TrailQuery, from_size: int | None = None) -> list[str]:
    out = io.StringIO()
    trail.export_jsonl(query, out, from_size=from_size)
    return out.getvalue().splitlines()


def leaves(lines: list[str]) -> list[int]:
    return [json.loads(line)["leaf_index"] for line in lines[1:-1]]


@pytest.fixture
def projected(
    coffre: Coffre, cast: Cast, clock: ManualClock, trail_runner: ProjectionRunner
) -> Cast:
    live_history(coffre, cast, clock)
    trail_runner.catch_up()
    return cast


def refused(lines: list[str], key: bytes, check: str) -> TrailVerificationError:
    with pytest.raises(TrailVerificationError) as info:
        verify_export(lines, key)
    assert info.value.check == check, str(info.value)
    return info.value


def test_a_shortened_patient_export_resigned_with_the_trail_key_is_refused(
    projected: Cast, trail: Trail, signer: CheckpointSigner
) -> None:
    lines = export(trail, TrailQuery(patient_id=projected.patient.actor.id))
    assert verify_export(lines, signer.public_key).notes == []
    indices = leaves(lines)
    for drop in (indices[-1:], indices[-3:]):
        error = refused(shortened(lines, drop, signer=signer), signer.public_key, "completeness")
        assert f"ends at leaf {indices[-1]}" in str(error)
    # everything dropped: the map still names the head
    refused(shortened(lines, indices, signer=signer), signer.public_key, "completeness")


def test_a_shortened_professional_export_resigned_is_refused(
    projected: Cast, trail: Trail, signer: CheckpointSigner
) -> None:
    for role in (None, "professional"):
        query = TrailQuery(actor_id=projected.doctor.actor.id, actor_role=role)
        lines = export(trail, query)
        verify_export(lines, signer.public_key)
        error = refused(
            shortened(lines, leaves(lines)[-1:], signer=signer),
            signer.public_key,
            "completeness",
        )
        assert "entries are missing" in str(error)


def test_a_time_window_missing_its_first_or_last_entry_is_refused(
    projected: Cast, trail: Trail, signer: CheckpointSigner, clock: ManualClock
) -> None:
    start = clock.now() - timedelta(minutes=5)
    window = TrailQuery(since=start + timedelta(minutes=1), until=start + timedelta(minutes=3))
    lines = export(trail, window)
    verify_export(lines, signer.public_key)
    first, last = json.loads(lines[1]), json.loads(lines[-2])

    def moved(name: str, step: int) -> Any:
        return lambda h: h["range"].__setitem__(name, h["range"][name] + step)

    key = signer.public_key
    # the first entry dropped, the range moved; the leaf "before" kept, or replaced by
    # the dropped one (genuine, proved, but dated inside the window)
    refused(shortened(lines, [first["leaf_index"]], moved("first", 1), signer=signer), key,
            "window")  # fmt: skip
    refused(
        shortened(lines, [first["leaf_index"]], moved("first", 1), {"before": first}, signer),
        key,
        "window",
    )
    refused(
        shortened(lines, [last["leaf_index"]], moved("end", -1), {"after": last}, signer),
        key,
        "window",
    )
    # the boundaries themselves cannot be dropped
    refused(shortened(lines, [], None, {"before": None}, signer), key, "completeness")
    # the whole log, cut short and re-signed
    log = export(trail, TrailQuery())
    cut = leaves(log)[-2:]
    refused(shortened(log, cut, moved("end", -2), signer=signer), key, "range")


def test_a_patients_window_before_their_last_entry_carries_the_tail(
    projected: Cast, trail: Trail, signer: CheckpointSigner, clock: ManualClock
) -> None:
    start = clock.now() - timedelta(minutes=5)
    query = TrailQuery(patient_id=projected.patient.actor.id, until=start + timedelta(minutes=2))
    lines = export(trail, query)
    header = json.loads(lines[0])
    (chain,) = header["completeness"]["chains"].values()
    assert chain["tail"], "the patient's later entries bridge the window's end to the head"
    assert verify_export(lines, signer.public_key).entries == len(lines) - 2
    refused(shortened(lines, leaves(lines)[-1:], signer=signer), signer.public_key,
            "completeness")  # fmt: skip


# -- trails begun by the previous version (format 1) ---------------------------------------


def _format1_store(path: Path) -> SQLiteViewStore:
    """What the previous version left: format-1 leaves, no chain-heads map."""
    migrate_sqlite(path)
    store = SQLiteViewStore(str(path))
    with store.transaction() as cursor:
        cursor.execute("INSERT INTO trail_format (id, v2_from) VALUES (1, %(n)s)", {"n": 1 << 62})
    project(store, story()[:8])
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript("DELETE FROM trail_format; DELETE FROM trail_chains; "
                         "DELETE FROM trail_heads;")  # fmt: skip
    return store


def test_a_trail_begun_by_format_1_keeps_its_leaves_and_its_checkpoints(tmp_path: Path) -> None:
    store = _format1_store(tmp_path / "trail.sqlite")
    signer = CheckpointSigner(SEED)
    trail = Trail(store, signer, ManualClock(T0 + timedelta(hours=1)))
    old = trail.checkpoint()
    texts = [json.loads(row["entry"]) for row in store.query("SELECT entry FROM trail_entries")]
    assert {entry["v"] for entry in texts} == {1}
    # Not grown yet: exports verify, saying that completeness is not pinned.
    lines = export(trail, TrailQuery(actor_id=story()[3][1].actor["id"]))
    report = verify_export(lines, signer.public_key)
    assert any("NOT pinned" in note for note in report.notes)
    # The trail grows under the new version: format 2 from there, the map filled.
    project(store, story()[8:])
    rows = store.query("SELECT leaf_index, entry FROM trail_entries ORDER BY leaf_index")
    assert [json.loads(r["entry"])["v"] for r in rows] == [1] * 8 + [2] * (len(rows) - 8)
    assert trail.audit_checkpoints() == 1
    for query in (TrailQuery(), TrailQuery(actor_id=story()[3][1].actor["id"])):
        lines = export(trail, query, from_size=old.size)
        assert verify_export(lines, signer.public_key, old.to_json()).notes == []
    lines = export(trail, TrailQuery(actor_id=story()[3][1].actor["id"]))
    refused(shortened(lines, leaves(lines)[-1:], signer=signer), signer.public_key,
            "completeness")  # fmt: skip
    # A rebuild reproduces every leaf, format 1 ones included: the checkpoint still holds.
    before = [r["entry"] for r in rows]
    with closing(sqlite3.connect(tmp_path / "trail.sqlite")) as db, db:
        db.executescript("DELETE FROM trail_entries; DELETE FROM trail_nodes; "
                         "DELETE FROM trail_chains; DELETE FROM trail_heads; "
                         "DELETE FROM tracking;")  # fmt: skip
    project(store, story())
    again = store.query("SELECT entry FROM trail_entries ORDER BY leaf_index")
    assert [r["entry"] for r in again] == before
    assert trail.audit_checkpoints() == 2


LEGACY = sorted((TESTDATA / "legacy").glob("*.json"))


@pytest.mark.parametrize("path", LEGACY, ids=lambda p: p.stem)
def test_format_1_exports_verify_when_whole_else_are_refused_clearly(path: Path) -> None:
    """The vectors of the previous version, as they were committed: every tampering is
    still refused; an untouched whole log still verifies; an untouched patient,
    professional or window export is refused, saying why (it cannot prove that it is
    complete)."""
    import base64

    v = json.loads(path.read_text())
    key = base64.b64decode(v["publicKey"]) if v["publicKey"] else None
    filtered = not path.stem.startswith("log--")
    if v["wantErr"] or filtered:
        with pytest.raises(TrailVerificationError) as info:
            verify_export(v["lines"], key, v["previousCheckpoint"])
        if filtered and not v["wantErr"]:
            assert info.value.check == "format" and "export it again" in str(info.value)
        return
    assert verify_export(v["lines"], key, v["previousCheckpoint"]).entries == len(v["lines"]) - 2

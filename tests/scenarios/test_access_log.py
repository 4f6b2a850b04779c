"""The access log projection: built with tracking, resuming after a restart, on both backends."""

from __future__ import annotations

import pytest

from coffre.bootstrap import Coffre, build
from domain.values import Scope
from projections.runner import wait_for
from tests.scenarios.conftest import Cast, deposit, read
from vault.clock import ManualClock


def all_entries(coffre: Coffre, cast: Cast) -> list[dict[str, object]]:
    space_id = coffre.vault.authorise_log(cast.patient.actor.id, cast.patient.actor)
    page = coffre.access_log.page(space_id, limit=1000)
    return page.entries


def test_the_log_resumes_after_a_restart_without_losing_or_doubling(
    coffre: Coffre, cast: Cast, clock: ManualClock
) -> None:
    patient = cast.patient.actor
    document_id = deposit(coffre, patient.id, b"first", cast.hospital)
    coffre.vault.grant(patient.id, cast.doctor.actor, Scope.whole_space(), None, patient)
    read(coffre, patient.id, document_id, cast.doctor)
    # Project only part of the log, then "crash" (drop every object of this process).
    coffre.runner.batch_size = 2
    coffre.runner.step("access_log")
    partial = coffre.views.position("access_log")
    assert 0 < partial < coffre.runner.source.last_id()
    settings = coffre.settings
    coffre.close()

    # A new process picks up where the last commit left it, and more events arrive.
    restarted = build(settings, clock=clock)
    try:
        deposit(restarted, patient.id, b"second", cast.hospital)
        wait_for(restarted.runner)
        entries = all_entries(restarted, cast)
        ids = [e["entry_id"] for e in entries]
        assert len(ids) == len(set(ids))
        # Identical to a clean rebuild from the first event.
        restarted.runner.rebuild("access_log")
        assert all_entries(restarted, cast) == entries
        assert [e["action"] for e in entries][:4] == ["deposit", "read", "grant", "deposit"]
    finally:
        restarted.close()


def test_paging_and_filters(coffre: Coffre, cast: Cast) -> None:
    patient = cast.patient.actor
    documents = [deposit(coffre, patient.id, bytes([i]), cast.hospital) for i in range(5)]
    for document_id in documents:
        read(coffre, patient.id, document_id, cast.patient)
    wait_for(coffre.runner)
    space_id = coffre.vault.authorise_log(patient.id, patient)
    seen: list[int] = []
    cursor = None
    while True:
        page = coffre.access_log.page(space_id, before=cursor, limit=3)
        seen += [e["entry_id"] for e in page.entries]  # type: ignore[misc]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    # provision, the patient's device (code sent, asked, approved), 5 deposits, 5 reads
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 14
    from projections.access_log import LogFilter

    reads = coffre.access_log.page(
        space_id, where=LogFilter(action="read", document_id=documents[0])
    )
    # the projection keeps no title (they are sealed); the vault opens the page's titles
    assert len(reads.entries) == 1 and reads.entries[0]["document_title"] == ""
    titles = coffre.vault.log_titles(patient.id, [reads.entries[0]["document_id"]])
    assert titles == {documents[0]: "Bilan sanguin"}


def test_a_page_is_served_from_the_index_alone_on_postgres(coffre: Coffre, cast: Cast) -> None:
    # A patient's entries are scattered over the table (appended in global order), so a
    # page that visited the heap would cost one page read per entry at scale (bench row
    # 7). The page index must carry every column of the table for an index-only scan.
    if coffre.settings.database != "postgres":
        pytest.skip("PostgreSQL's page index; the embedded SQLite scale has no such cliff")
    columns = coffre.views.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'access_log'"
    )
    indexed = coffre.views.query(
        "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_attribute a ON a.attrelid = i.indexrelid WHERE c.relname = 'access_log_page'"
    )
    assert {r["attname"] for r in indexed} == {r["column_name"] for r in columns}
    # ... and the planner can answer the page from it without touching the heap.
    patient = cast.patient.actor
    deposit(coffre, patient.id, b"one", cast.hospital)
    wait_for(coffre.runner)
    with coffre.views.transaction() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = cursor.fetch(
            "EXPLAIN SELECT * FROM access_log WHERE space_id = %(s)s "
            "ORDER BY entry_id DESC LIMIT 50",
            {"s": coffre.vault.authorise_log(patient.id, patient)},
        )
    assert "Index Only Scan using access_log_page" in " ".join(str(r) for r in plan)

"""The chain-heads buckets a batch asks for come back whole, however many it asks for,
on both backends (PostgreSQL: one array parameter; SQLite: IN lists of at most
``NODE_BATCH``)."""

from __future__ import annotations

from coffre.bootstrap import Coffre
from projections.trail_store import NODE_BATCH, fetch_buckets, save_heads
from wire.merkle.heads import BUCKETS, bucket_of


def test_more_buckets_than_one_statement_holds_with_repeats_and_absent_ones(
    coffre: Coffre,
) -> None:
    chains = {f"professional:8100000{n:05d}": n for n in range(300)}
    with coffre.views.transaction() as cursor:
        save_heads(cursor, chains, [])
    expected: dict[int, dict[str, int]] = {}
    for chain, head in chains.items():
        expected.setdefault(bucket_of(chain), {})[chain] = head
    # every bucket of the stored chains, twice, among 2.5 times NODE_BATCH others
    asked = [*expected, *range(0, BUCKETS, 13)][: int(2.5 * NODE_BATCH)] + list(expected)
    assert len(set(asked)) > NODE_BATCH
    with coffre.views.transaction() as cursor:
        assert fetch_buckets(cursor, asked) == expected
        assert fetch_buckets(cursor, []) == {}

"""Advisory-lock keys never change: during an upgrade, processes of the old and the new
release take the same locks (the schema's, each projection's)."""

from __future__ import annotations

from vault.pg_locks import advisory_key


def test_the_keys_are_those_of_the_releases_before() -> None:
    # computed by the code each lock had before it moved here (projections.store's
    # per-view key, vault.migrations' schema key)
    assert advisory_key("coffre.schema") == -5914632041801211132
    assert advisory_key("coffre.view:trail") == 4148575122261608333


def test_every_key_is_a_signed_64_bit_integer_even_for_odd_names() -> None:
    for name in ("", "coffre.view:\u00e9", "coffre.view:\ud7ff", "x" * 100_000):
        assert -(2**63) <= advisory_key(name) < 2**63

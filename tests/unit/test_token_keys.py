"""The embedded token issuer's keys have ids: the first signs, every one listed verifies."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.values import Actor, patient_id_from_number
from vault.tokens import TokenAuthority
from wire.errors import Unauthenticated
from wire.values import Role

ALICE = Actor(Role.PATIENT, patient_id_from_number("2870675000501"), "Alice")
OLD, NEW = ("tk-old", b"\x01" * 32), ("tk-new", b"\x02" * 32)


def test_the_current_key_signs_and_names_itself() -> None:
    issuer = TokenAuthority.from_seeds("coffre", [NEW, OLD])
    token = issuer.mint(ALICE)
    assert jwt.get_unverified_header(token)["kid"] == "tk-new"
    assert issuer.verify(token) == ALICE


def test_tokens_of_an_older_key_still_verify_until_it_is_removed() -> None:
    before = TokenAuthority.from_seeds("coffre", [OLD]).mint(ALICE)
    assert TokenAuthority.from_seeds("coffre", [NEW, OLD]).verify(before) == ALICE
    with pytest.raises(Unauthenticated):
        TokenAuthority.from_seeds("coffre", [NEW]).verify(before)


def test_a_token_naming_another_key_is_refused_even_if_signed_by_a_listed_one() -> None:
    # the kid only selects among the issuer's keys: a token signed by the old key but
    # claiming the new one's id fails the new key's signature check
    claims = jwt.decode(
        TokenAuthority.from_seeds("coffre", [OLD]).mint(ALICE),
        options={"verify_signature": False},
    )
    old_key = Ed25519PrivateKey.from_private_bytes(OLD[1])
    issuer = TokenAuthority.from_seeds("coffre", [NEW, OLD])
    for kid in ("tk-new", "tk-nobody"):
        token = jwt.encode(claims, old_key, algorithm="EdDSA", headers={"kid": kid})
        with pytest.raises(Unauthenticated):
            issuer.verify(token)


def test_tokens_without_a_key_id_are_checked_with_the_current_key() -> None:
    # minted before keys had ids (the issuer then had one key, now current as tk-legacy)
    legacy = TokenAuthority.from_seed("coffre", OLD[1]).mint(ALICE)
    assert "kid" not in jwt.get_unverified_header(legacy)
    assert TokenAuthority.from_seeds("coffre", [("tk-legacy", OLD[1])]).verify(legacy) == ALICE
    with pytest.raises(Unauthenticated):
        TokenAuthority.from_seeds("coffre", [NEW, OLD]).verify(legacy)

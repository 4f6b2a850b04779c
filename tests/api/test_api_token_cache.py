"""Verified bearer tokens are remembered, but never past their expiry nor for another token."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from api_helpers import ALICE, BRUNO, DOCTOR
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from test_api_problems import assert_problem

from api import deps
from api.app import create_app
from coffre.bootstrap import Coffre
from coffre.keysources import issuer_keys
from vault.issuers import Issuers
from vault.tokens import TokenAuthority
from wire.errors import Unauthenticated

SEED = bytes(range(32))


def authority(**options: int) -> TokenAuthority:
    """A minting authority with no clock-skew leeway, so expiry is exact."""
    return TokenAuthority.from_seed("coffre", SEED, **{"leeway": 0, **options})


def wait_past_expiry(token: str) -> None:
    """Sleep until the wall clock is past the token's ``exp``."""
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    while time.time() <= exp:
        time.sleep(0.05)


def test_a_verified_token_is_remembered_and_answers_the_same_actor() -> None:
    tokens = authority()
    token = tokens.mint(DOCTOR)
    assert tokens.verify(token) == DOCTOR
    assert len(tokens.verified) == 1
    assert tokens.verify(token) == DOCTOR


def test_an_expired_token_is_refused_even_after_being_remembered() -> None:
    tokens = authority()
    token = tokens.mint(ALICE, ttl=timedelta(seconds=1))
    assert tokens.verify(token) == ALICE  # verified, and remembered
    wait_past_expiry(token)
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(token)
    assert len(tokens.verified) == 0


def test_a_token_is_remembered_only_until_its_exp_not_its_leeway() -> None:
    # With the default leeway a just-expired token is still accepted, but by a full
    # verification each time: the memory never extends a token's life.
    tokens = TokenAuthority.from_seed("coffre", SEED)
    token = tokens.mint(ALICE, ttl=timedelta(seconds=1))
    tokens.verify(token)
    wait_past_expiry(token)
    assert tokens.verify(token) == ALICE
    assert len(tokens.verified) == 0


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_forged_or_altered_token_is_never_answered_from_memory() -> None:
    tokens = authority()
    token = tokens.mint(ALICE)
    tokens.verify(token)
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = {
        # Alice's signature on claims saying "regulator"
        "altered claims": f"{header}.{_b64({**claims, 'role': 'regulator'})}.{signature}",
        # one character of the signature changed (in the middle: the last one carries
        # padding bits that may not change the decoded bytes)
        "altered signature": f"{header}.{payload}.{_flip(signature, 10)}",
        # the same claims, signed by someone else
        "another key": jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA"),
    }
    for name, bad in forged.items():
        with pytest.raises(Unauthenticated):
            tokens.verify(bad)
        assert tokens.verified.get(bad) is None, name
    # A different valid token asserts its own actor, never the remembered one.
    assert tokens.verify(tokens.mint(BRUNO)) == BRUNO


def test_the_memory_is_bounded() -> None:
    tokens = authority(cache_size=2)
    minted = [tokens.mint(actor) for actor in (ALICE, BRUNO, DOCTOR)]
    for token in minted:
        tokens.verify(token)
    assert len(tokens.verified) == 2
    assert tokens.verified.get(minted[0]) is None  # the least recently used went first
    assert tokens.verify(minted[0]) == ALICE  # and is simply verified again


def test_through_the_api_a_remembered_token_stops_working_at_expiry(
    coffre: Coffre,
) -> None:
    # The API's authority, with no leeway so that the test need not wait 30 seconds.
    seed = issuer_keys(coffre.settings, coffre.keyring.master)[0].secret
    coffre.tokens = TokenAuthority.from_seed("coffre", seed, leeway=0)
    coffre.issuers = Issuers(embedded=coffre.tokens)
    with TestClient(create_app(coffre)) as client:
        token = coffre.tokens.mint(ALICE, ttl=timedelta(seconds=2))
        headers = {"Authorization": f"Bearer {token}"}
        url = f"/v1/spaces/{ALICE.id}/documents"
        first = client.get(url, headers=headers)
        assert first.status_code != 401  # authenticated (the space may not exist: 404)
        assert len(coffre.tokens.verified) == 1
        wait_past_expiry(token)
        assert_problem(client.get(url, headers=headers), 401, "unauthenticated")


def test_a_remembered_token_is_answered_without_a_thread_a_new_one_in_the_pool(
    coffre: Coffre, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new token may need its issuer's keys fetched: verified in the thread pool. A
    # remembered one is answered on the event loop, saving a thread hop per request.
    hops: list[str] = []
    pooled = deps.run_in_threadpool

    async def counted(func: Callable[..., Any], *args: Any) -> Any:
        hops.append(func.__name__)
        return await pooled(func, *args)

    monkeypatch.setattr(deps, "run_in_threadpool", counted)
    with TestClient(create_app(coffre)) as client:
        headers = {"Authorization": f"Bearer {coffre.tokens.mint(ALICE)}"}
        url = f"/v1/spaces/{ALICE.id}/documents"
        for _ in range(3):
            assert client.get(url, headers=headers).status_code != 401
        assert hops == ["authenticate"]
        forged = {"Authorization": f"Bearer {coffre.tokens.mint(ALICE)}x"}
        assert_problem(client.get(url, headers=forged), 401, "unauthenticated")
        assert hops == ["authenticate", "authenticate"]

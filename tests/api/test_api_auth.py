"""Bearer tokens: anything but a valid EdDSA token of our issuer is a 401 problem."""

from __future__ import annotations

import base64
import json
import os
import time

import jwt
import pytest
from api_helpers import ALICE, AUDITOR, DOCTOR, Caller
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from test_api_problems import assert_problem

from coffre.bootstrap import Coffre
from coffre.keysources import issuer_keys
from vault.tokens import AUDIENCE, TokenAuthority


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**overrides: object) -> dict:
    """Claims of a valid token for Alice, with ``overrides``."""
    now = int(time.time())
    return {
        "iss": "coffre",
        "aud": AUDIENCE,
        "sub": ALICE.id,
        "role": "patient",
        "name": ALICE.name,
        "iat": now,
        "exp": now + 600,
        **overrides,
    }


def our_signing_key(coffre: Coffre) -> Ed25519PrivateKey:
    """The embedded issuer's current key, from its source as bootstrap reads it."""
    current = issuer_keys(coffre.settings, coffre.keyring.master)[0]
    return Ed25519PrivateKey.from_private_bytes(current.secret)


def bad_tokens(coffre: Coffre) -> dict[str, str]:
    """Tokens that must all be refused, by name."""
    ours = our_signing_key(coffre)
    now = int(time.time())
    return {
        "garbage": "not-a-token",
        "expired": jwt.encode(claims(iat=now - 7200, exp=now - 3600), ours, algorithm="EdDSA"),
        "unsigned (alg none)": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims())}.",
        "hmac with the public key": _b64({"alg": "HS256", "typ": "JWT"})
        + "."
        + _b64(claims())
        + ".AAAA",
        "another issuer's key": TokenAuthority.from_seed("coffre", os.urandom(32)).mint(ALICE),
        "wrong audience": jwt.encode(claims(aud="elsewhere"), ours, algorithm="EdDSA"),
        "missing role": jwt.encode(
            {k: v for k, v in claims().items() if k != "role"}, ours, algorithm="EdDSA"
        ),
        "oversized": "a" * 10_000,
    }


CASES = [
    "garbage",
    "expired",
    "unsigned (alg none)",
    "hmac with the public key",
    "another issuer's key",
    "wrong audience",
    "missing role",
    "oversized",
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_token_is_unauthenticated(
    alice: Caller, client: TestClient, coffre: Coffre, case: str
) -> None:
    token = bad_tokens(coffre)[case]
    answer = client.get(
        f"/v1/spaces/{ALICE.id}/documents", headers={"Authorization": f"Bearer {token}"}
    )
    body = assert_problem(answer, 401, "unauthenticated")
    assert answer.headers["www-authenticate"] == "Bearer"
    assert token not in answer.text
    assert token[:20] not in body["detail"]


def test_a_valid_handmade_token_is_accepted(alice: Caller, client: TestClient, coffre: Coffre):
    # Control for the cases above: the same claims, properly signed, do work.
    token = jwt.encode(claims(), our_signing_key(coffre), algorithm="EdDSA")
    answer = client.get(
        f"/v1/spaces/{ALICE.id}/documents", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("header", [None, "", "Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer "])
def test_missing_or_non_bearer_credentials(client: TestClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    answer = client.get(f"/v1/spaces/{ALICE.id}/documents", headers=headers)
    assert_problem(answer, 401, "unauthenticated")
    assert answer.headers["www-authenticate"] == "Bearer"


def test_authentication_comes_before_any_lookup(client: TestClient) -> None:
    # Without a token, an unknown or malformed patient id is not even looked at.
    assert_problem(client.get("/v1/spaces/123/documents"), 401, "unauthenticated")
    assert_problem(client.post("/v1/spaces/123/uploads", content=b"x"), 401, "unauthenticated")


def test_a_regulator_may_not_deposit(alice: Caller, caller) -> None:
    auditor = caller(AUDITOR)
    answer = auditor.post(
        f"/v1/spaces/{ALICE.id}/uploads",
        content=b"COFFRE\x01",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert_problem(answer, 403, "forbidden")


def test_a_professional_may_not_delete_or_grant(alice: Caller, doctor: Caller) -> None:
    deposit = doctor.deposit(ALICE.id)
    answer = doctor.delete(f"/v1/spaces/{ALICE.id}/documents/{deposit['document_id']}")
    assert_problem(answer, 403, "forbidden")
    answer = doctor.post(
        f"/v1/spaces/{ALICE.id}/grants",
        json={
            "grantee": {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"},
            "scope": {"kind": "space"},
        },
    )
    assert_problem(answer, 403, "forbidden")

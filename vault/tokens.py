"""Bearer tokens: signed JWTs (EdDSA) whose claims say who the caller is.

In production an identity provider (Pro Santé Connect, FranceConnect, a service
registry) signs them and Coffre only holds its public key; in embedded mode Coffre
derives its own signing key from the master key so ``coffre token`` can mint tokens
for development. Token validity is a real-time property: it uses the wall clock, never
the vault's (possibly simulated) clock.
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.errors import InvalidInput, Unauthenticated
from domain.values import Actor, Profession, Role

AUDIENCE = "coffre-api"
ALGORITHM = "EdDSA"
MAX_TOKEN_LENGTH = 8192
LEEWAY_SECONDS = 30


class TokenAuthority:
    """Verifies bearer tokens, and mints them when it holds the signing key."""

    def __init__(
        self,
        issuer: str,
        public_key: Ed25519PublicKey,
        signing_key: Ed25519PrivateKey | None = None,
    ) -> None:
        self.issuer = issuer
        self._public_key = public_key
        self._signing_key = signing_key

    @classmethod
    def from_seed(cls, issuer: str, seed: bytes) -> TokenAuthority:
        """An authority that can mint, from a 32-byte secret seed."""
        private = Ed25519PrivateKey.from_private_bytes(seed)
        return cls(issuer, private.public_key(), private)

    @classmethod
    def from_public_key(cls, issuer: str, public_key_b64: str) -> TokenAuthority:
        """An authority that only verifies tokens of an external issuer."""
        raw = base64.b64decode(public_key_b64)
        return cls(issuer, Ed25519PublicKey.from_public_bytes(raw))

    @property
    def public_key_b64(self) -> str:
        """The verification key, base64 (raw 32 bytes)."""
        raw = self._public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def mint(self, actor: Actor, ttl: timedelta = timedelta(hours=1)) -> str:
        """A token asserting ``actor`` for ``ttl``. Only for issuers holding the key."""
        if self._signing_key is None:
            raise InvalidInput("this deployment verifies tokens but does not issue them")
        if ttl <= timedelta(0) or ttl > timedelta(days=30):
            raise InvalidInput("token lifetime must be between 0 and 30 days", field="ttl")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": actor.id,
            "role": actor.role.value,
            "name": actor.name,
            "iat": now,
            "exp": now + int(ttl.total_seconds()),
            "jti": uuid.uuid4().hex,
        }
        if actor.profession:
            claims["profession"] = actor.profession.value
        if actor.organisation:
            claims["org"] = actor.organisation
        return jwt.encode(claims, self._signing_key, algorithm=ALGORITHM)

    def verify(self, token: str) -> Actor:
        """The actor a valid token asserts; ``Unauthenticated`` for anything else.

        Only EdDSA is accepted, so an unsigned (``alg: none``) or HMAC-confused token
        fails; the message never echoes the token.
        """
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("missing or oversized bearer token")
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the bearer token has expired") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the bearer token is not valid") from None
        try:
            return Actor(
                role=Role(claims["role"]),
                id=claims["sub"],
                name=claims["name"],
                profession=Profession(claims["profession"]) if claims.get("profession") else None,
                organisation=claims.get("org"),
            )
        except (KeyError, ValueError, InvalidInput):
            raise Unauthenticated("the bearer token's claims are incomplete") from None

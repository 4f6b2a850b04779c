"""Bearer tokens: signed JWTs (EdDSA) whose claims say who the caller is.

In production an identity provider (Pro Santé Connect, FranceConnect, a service
registry) signs them and Coffre only holds its public key; otherwise Coffre's embedded
issuer signs them, with keys of their own (``COFFRE_TOKEN_KEYS`` or the file
``token.keys``, see ``coffre.keysources``) so ``coffre token`` can mint tokens for
development. Each key has an id, carried in the token's ``kid`` header: the first key
signs, and every key listed still verifies, so the issuer key can be replaced while
tokens signed by the previous one run out. Token validity is a real-time property: it
uses the wall clock, never the vault's (possibly simulated) clock.

Verifying an EdDSA signature and the claims took about a quarter of the API's time per
request, so a verified token is remembered (``VerifiedTokens``) until its own ``exp``,
never longer: a cached answer is one the full verification would give at that instant.

The embedded issuer is one issuer among others (``vault.issuers.Issuers``). Its tokens
carry the role's full SMART scopes (``vault.scopes.full_scopes``): it is a development
issuer whose tokens have always been good for everything the role may do, and the rules
of the space, not the scope, are what limit them; a token of it minted before scopes
existed (no ``scope`` claim) is read the same way.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.values import Actor
from vault import scopes
from wire.errors import InvalidInput, Unauthenticated
from wire.values import Profession, Role

AUDIENCE = "coffre-api"
ALGORITHM = "EdDSA"
MAX_TOKEN_LENGTH = 8192
LEEWAY_SECONDS = 30
#: verified tokens remembered at most (a few hundred bytes each)
TOKEN_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Principal:
    """Who a verified token names, what it lets them ask for, and who vouched for it."""

    actor: Actor
    scopes: frozenset[scopes.ScopeGrant]
    #: the ``iss`` of the token
    issuer: str


class VerifiedTokens:
    """A bounded, thread-safe memory of verified tokens and the actors they assert.

    Keyed by the SHA-256 of the *whole* token (header, claims and signature): a token
    differing in any byte, forged or re-signed, is a different key and gets the full
    verification; and no bearer token is kept in memory, only its digest. An entry is
    served only before the token's ``exp`` (real time); the least recently used entries
    are dropped beyond ``size``.
    """

    def __init__(self, size: int = TOKEN_CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        """The principal ``token`` was verified to assert, if remembered and not expired."""
        key = _digest(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            principal, expires_at = entry
            if time.time() >= expires_at:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return principal

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        """Remember that ``token`` asserts ``principal`` until ``expires_at`` (epoch s)."""
        if self.size <= 0 or time.time() >= expires_at:
            return
        key = _digest(token)
        with self._lock:
            self._entries[key] = (principal, expires_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenAuthority:
    """Verifies bearer tokens, and mints them when it holds the signing key."""

    def __init__(
        self,
        issuer: str,
        public_key: Ed25519PublicKey,
        signing_key: Ed25519PrivateKey | None = None,
        *,
        key_id: str | None = None,
        older: Mapping[str, Ed25519PublicKey] | None = None,
        leeway: int = LEEWAY_SECONDS,
        cache_size: int = TOKEN_CACHE_SIZE,
    ) -> None:
        """``public_key`` (id ``key_id``) verifies, and ``signing_key`` (its private
        half, if held) mints; ``older`` keys, by id, still verify tokens naming them."""
        self.issuer = issuer
        self.key_id = key_id
        self._public_key = public_key
        self._signing_key = signing_key
        self._older = dict(older or {})
        self._leeway = leeway
        self.verified = VerifiedTokens(cache_size)

    @classmethod
    def from_seed(cls, issuer: str, seed: bytes, **options: int) -> TokenAuthority:
        """An authority that can mint, from a 32-byte secret seed (no key id).

        ``options``: ``leeway`` (seconds of clock skew tolerated) and ``cache_size``.
        """
        private = Ed25519PrivateKey.from_private_bytes(seed)
        return cls(issuer, private.public_key(), private, **options)

    @classmethod
    def from_seeds(
        cls, issuer: str, seeds: Sequence[tuple[str, bytes]], **options: int
    ) -> TokenAuthority:
        """An authority that mints with the first ``(key id, seed)`` and verifies with
        every one (``options`` as for :meth:`from_seed`)."""
        if not seeds:
            raise InvalidInput("the token issuer needs at least one key")
        (key_id, seed), rest = seeds[0], seeds[1:]
        private = Ed25519PrivateKey.from_private_bytes(seed)
        older = {kid: Ed25519PrivateKey.from_private_bytes(s).public_key() for kid, s in rest}
        return cls(issuer, private.public_key(), private, key_id=key_id, older=older, **options)

    @classmethod
    def from_public_key(cls, issuer: str, public_key_b64: str, **options: int) -> TokenAuthority:
        """An authority that only verifies tokens of an external issuer (``options`` as
        for :meth:`from_seed`)."""
        raw = base64.b64decode(public_key_b64)
        return cls(issuer, Ed25519PublicKey.from_public_bytes(raw), **options)

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
            raise InvalidInput(
                "token lifetime must be longer than 0 and at most 30 days", field="ttl"
            )
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
            "scope": scopes.full_scopes(actor.role),
        }
        if actor.profession:
            claims["profession"] = actor.profession.value
        if actor.organisation:
            claims["org"] = actor.organisation
        headers = {"kid": self.key_id} if self.key_id else None
        return jwt.encode(claims, self._signing_key, algorithm=ALGORITHM, headers=headers)

    def verify(self, token: str) -> Actor:
        """The actor a valid token asserts (see :meth:`authenticate`)."""
        return self.authenticate(token).actor

    def authenticate(self, token: str) -> Principal:
        """The principal a valid token asserts; ``Unauthenticated`` for anything else.

        Only EdDSA is accepted, so an unsigned (``alg: none``) or HMAC-confused token
        fails; the message never echoes the token. A token verified before is answered
        from memory until its ``exp``; past it (within the leeway) it is verified again.
        """
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("missing or oversized bearer token")
        remembered = self.verified.get(token)
        if remembered is not None:
            return remembered
        key = self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the bearer token has expired") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the bearer token is not valid") from None
        try:
            actor = Actor(
                role=Role(claims["role"]),
                id=claims["sub"],
                name=claims["name"],
                profession=Profession(claims["profession"]) if claims.get("profession") else None,
                organisation=claims.get("org"),
            )
        except (KeyError, ValueError, InvalidInput):
            raise Unauthenticated("the bearer token's claims are incomplete") from None
        granted = claims.get("scope", scopes.full_scopes(actor.role))
        principal = Principal(actor, scopes.parse(granted), self.issuer)
        self.verified.put(token, principal, float(claims["exp"]))
        return principal

    def _key_for(self, token: str) -> Ed25519PublicKey:
        """The key a token names in its ``kid``: the current one, or an older one still
        listed. Without a ``kid`` (minted before keys had ids), or when this authority's
        key has no id (an external issuer's configured key), the current one. A ``kid``
        naming no key of this issuer is refused as an invalid token."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise Unauthenticated("the bearer token is not valid") from None
        if kid is None or self.key_id is None or kid == self.key_id:
            return self._public_key
        older = self._older.get(kid) if isinstance(kid, str) else None
        if older is None:
            raise Unauthenticated("the bearer token is not valid")
        return older

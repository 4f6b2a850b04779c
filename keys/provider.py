"""The embedded development OpenID provider's signing keys, derived from the embedded
token issuer's keys (``token.keys`` / ``COFFRE_TOKEN_KEYS``).

The provider signs with ES256 (P-256): authlib's JOSE library does not sign EdDSA
unless told to, and ES256 is what every relying party accepts. Each token key gives one
provider key, derived by HKDF-SHA256 with a context of its own (so the provider's key
reveals nothing of the issuer's Ed25519 key, and the reverse), with the token key's id
and ``-es256``: putting a new token key first (``coffre keys new token``) rotates the
provider's, and a key still listed keeps verifying, as for the embedded issuer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwt.algorithms import ECAlgorithm

from keys.sources import KeyEntry

ALGORITHM = "ES256"
#: the HKDF context of the provider's keys: never the same bytes as another key's
CONTEXT = b"coffre idp es256 signing key v1"
#: the order of P-256's base point: a private scalar is in [1, n - 1]
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class ProviderKey:
    """One ES256 signing key of the provider: its id and private key (never printed)."""

    key_id: str
    private: ec.EllipticCurvePrivateKey = field(repr=False)

    @classmethod
    def derive(cls, entry: KeyEntry) -> ProviderKey:
        """The provider key derived from the token key ``entry``."""
        material = HKDF(hashes.SHA256(), 48, salt=None, info=CONTEXT).derive(entry.secret)
        # 48 bytes reduced modulo n: a bias below 2**-128, and never zero
        scalar = int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1
        return cls(f"{entry.key_id}-es256", ec.derive_private_key(scalar, ec.SECP256R1()))

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, as the provider publishes it."""
        jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.key_id, "alg": ALGORITHM, "use": "sig"}

    def private_jwk(self) -> dict[str, Any]:
        """The private key as a JWK, for the library that signs (never logged)."""
        jwk = ECAlgorithm.to_jwk(self.private, as_dict=True)
        return {**jwk, "kid": self.key_id, "alg": ALGORITHM, "use": "sig"}


def provider_keys(entries: Sequence[KeyEntry]) -> list[ProviderKey]:
    """The provider's keys from the token keys, current first."""
    return [ProviderKey.derive(entry) for entry in entries]

"""Reader devices on the wire: the keys a device holds and the two things it signs.

A device is an Ed25519 signing key. Its X25519 form (libsodium's
``crypto_sign_ed25519_pk_to_curve25519``) is the reader key that data keys are sealed
to, so one secret both proves who holds it and opens what is released to it. A device
signs:

* a **proof of possession** when it asks to be added: the server's challenge (single
  use, short-lived, issued to this actor), the actor, its signing key and its name;
* an **approval** of another device of the same actor: the actor, the new device's
  key id and its keys. Only an approved device's approval counts.

Both messages are a context line and the canonical JSON of their fields (sorted keys,
no spaces), so the client and the server build the same bytes. Pure: PyNaCl and the
standard library, shared by the SDK (which signs) and the domain (which verifies).
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey, VerifyKey

from wire.checkpoint import canonical_json
from wire.envelope import reader_key_id
from wire.errors import InvalidKey

SIGNING_KEY_SIZE = 32
SIGNATURE_SIZE = 64
PROOF_CONTEXT = "coffre-device-proof-v1"
APPROVAL_CONTEXT = "coffre-device-approval-v1"


def encryption_key(signing_key: bytes) -> bytes:
    """The X25519 public key a device's Ed25519 public key converts to.

    Raises ``InvalidKey`` for bytes that are not a usable Ed25519 public key (wrong
    size, or a point libsodium refuses to convert: small order, not on the curve).
    """
    if not isinstance(signing_key, bytes) or len(signing_key) != SIGNING_KEY_SIZE:
        raise InvalidKey(
            f"a device signing key is exactly {SIGNING_KEY_SIZE} bytes", field="signing_key"
        )
    try:
        return bytes(VerifyKey(signing_key).to_curve25519_public_key())
    except (CryptoError, ValueError):
        raise InvalidKey("not a usable Ed25519 public key", field="signing_key") from None


def device_key_id(signing_key: bytes) -> str:
    """A device's key id: the reader key id of its X25519 form (what reads name)."""
    return reader_key_id(encryption_key(signing_key))


def proof_message(challenge: str, role: str, actor_id: str, signing_key: str, name: str) -> bytes:
    """What a device signs to prove it holds its key (``signing_key`` in base64)."""
    fields = {
        "challenge": challenge,
        "role": role,
        "id": actor_id,
        "signing_key": signing_key,
        "name": name,
    }
    return f"{PROOF_CONTEXT}\n{canonical_json(fields)}".encode()


def device_request(
    signing_key: str,
    sign: Callable[[bytes], bytes],
    challenge: str,
    role: str,
    actor_id: str,
    name: str,
) -> dict[str, str]:
    """The body of a device's request to be added (``POST /v1/devices``): its signing
    key (base64), its name, the challenge, and ``sign``'s signature of the proof."""
    signature = sign(proof_message(challenge, role, actor_id, signing_key, name))
    return {
        "signing_key": signing_key,
        "name": name,
        "challenge": challenge,
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def approval_message(
    role: str, actor_id: str, key_id: str, public_key: str, signing_key: str | None
) -> bytes:
    """What an approved device signs to approve another device of the same actor."""
    fields = {
        "role": role,
        "id": actor_id,
        "key_id": key_id,
        "public_key": public_key,
        "signing_key": signing_key,
    }
    return f"{APPROVAL_CONTEXT}\n{canonical_json(fields)}".encode()


def verify(signing_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``signing_key``'s Ed25519 signature of ``message``."""
    if len(signature) != SIGNATURE_SIZE or len(signing_key) != SIGNING_KEY_SIZE:
        return False
    try:
        VerifyKey(signing_key).verify(message, signature)
    except (BadSignatureError, CryptoError, ValueError):
        return False
    return True


def sign(seed: bytes, message: bytes) -> bytes:
    """The detached Ed25519 signature of ``message`` by the key of ``seed``."""
    return SigningKey(seed).sign(message).signature

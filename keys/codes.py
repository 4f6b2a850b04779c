"""One-time codes: the code a letter carries to oppose or activate a space.

Only a salted scrypt digest is kept (in the space's events); the code itself exists
once, in the provisioning answer that prints the letter. Codes are 10 characters of
Crockford base32 (50 bits), shown as ``XXXXX-XXXXX``; the slow hash makes each guess
against a stolen digest cost milliseconds and megabytes, and the space locks a code
after a few wrong online attempts. The cost parameters are stored with each digest,
so they can be raised later without invalidating codes already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Crockford base32: no I, L, O, U, so a code read from paper is unambiguous
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
SCHEME = "scrypt"
#: scrypt cost: n=2**12, r=8 is 4 MiB and ~10 ms here, which keeps bulk provisioning
#: of thousands of spaces per call practical while every offline guess stays costly
DEFAULT_N = 2**12
DEFAULT_R = 8
DEFAULT_P = 1
_SALT_SIZE = 16
_DIGEST_SIZE = 32
_TRANSLATE = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def new_code() -> str:
    """A fresh random code, formatted for a letter (``XXXXX-XXXXX``)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(code: str) -> str:
    """What a person typed, as the code it means (case, dashes, spaces, I/L/O forgiven)."""
    return code.upper().translate(_TRANSLATE)


@dataclass(frozen=True)
class CodeHasher:
    """Hashes codes with scrypt at a given cost (tests may lower it)."""

    n: int = DEFAULT_N
    r: int = DEFAULT_R
    p: int = DEFAULT_P

    def digest(self, code: str) -> dict[str, Any]:
        """The record stored in place of ``code``: scheme, cost, salt and digest."""
        salt = secrets.token_bytes(_SALT_SIZE)
        return {
            "scheme": SCHEME,
            "n": self.n,
            "r": self.r,
            "p": self.p,
            "salt": base64.b64encode(salt).decode("ascii"),
            "digest": base64.b64encode(
                _scrypt(normalise(code), salt, self.n, self.r, self.p)
            ).decode("ascii"),
        }


def verify_code(code: str, record: Mapping[str, Any]) -> bool:
    """True when ``code`` is the one ``record`` was made from (constant-time compare)."""
    if record.get("scheme") != SCHEME or not isinstance(code, str) or len(code) > 64:
        return False
    try:
        salt = base64.b64decode(record["salt"], validate=True)
        expected = base64.b64decode(record["digest"], validate=True)
        n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
    except (KeyError, TypeError, ValueError):
        return False
    return hmac.compare_digest(_scrypt(normalise(code), salt, n, r, p), expected)


def _scrypt(code: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        code.encode("ascii", "replace"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * 1024 * 1024,
        dklen=_DIGEST_SIZE,
    )

"""The secrets of the web page's sessions: their ids, CSRF tokens and sealed tokens.

A browser holds only an opaque session id (a cookie); the OAuth tokens of that session
stay on the server, sealed (XSalsa20-Poly1305, libsodium's secretbox) under a key
derived from the current master key, so that a copy of the database alone opens none
of them. The database row is found by a keyed hash of the id, never the id itself:
whoever reads the table cannot replay a cookie. The CSRF token is derived from the id,
so it needs no storage and dies with the session.

The keys follow the *current* master key (``MasterKeys.derive``): rotating it ends
every web session (people log in again), which is the intended effect of a rotation.
"""

from __future__ import annotations

import base64
import hmac
import secrets

from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b
from nacl.secret import SecretBox

from keys.master import MasterKeys

#: bytes of randomness in a session id (256 bits)
SESSION_ID_BYTES = 32
#: a cookie value longer than this is not one of ours
MAX_SESSION_ID_LENGTH = 64


class SessionKeys:
    """Derives what a web session needs from the master keys."""

    def __init__(self, master: MasterKeys) -> None:
        self._box = SecretBox(master.derive("web-session-tokens"))
        self._handle_key = master.derive("web-session-handles")
        self._csrf_key = master.derive("web-session-csrf")

    @staticmethod
    def new_id() -> str:
        """A fresh opaque session id, for the browser's cookie."""
        return secrets.token_urlsafe(SESSION_ID_BYTES)

    def handle(self, session_id: str) -> str:
        """The database key of a session: a keyed hash of its id (hex)."""
        return _keyed(session_id, self._handle_key).hex()

    def csrf(self, session_id: str) -> str:
        """The session's CSRF token: page scripts echo it in ``X-CSRF-Token``."""
        digest = _keyed(session_id, self._csrf_key)
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def csrf_matches(self, session_id: str, presented: str | None) -> bool:
        """Whether ``presented`` is this session's CSRF token (constant time)."""
        if not presented:
            return False
        return hmac.compare_digest(self.csrf(session_id).encode(), presented.encode())

    def seal(self, plaintext: bytes) -> bytes:
        """``plaintext`` encrypted and authenticated (a random nonce in front)."""
        return bytes(self._box.encrypt(plaintext))

    def open(self, sealed: bytes) -> bytes | None:
        """What :meth:`seal` sealed; ``None`` when it was altered or sealed under
        another master key (the session is then over)."""
        try:
            return bytes(self._box.decrypt(sealed))
        except (CryptoError, ValueError, TypeError):
            return None


def _keyed(session_id: str, key: bytes) -> bytes:
    return blake2b(session_id.encode("utf-8"), digest_size=32, key=key, encoder=RawEncoder)

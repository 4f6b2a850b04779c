"""The web page's sessions (backend-for-frontend): the browser holds an opaque id in a
cookie; the tokens stay here.

Sessions live in the database (table ``web_sessions``, migration 0017), so every API
worker shares them. A row holds a keyed hash of the session id, the person it is for,
its times and the OAuth tokens sealed (``keys.web_sessions``). A session ends when it
has been idle for ``idle`` seconds, at ``lifetime`` seconds whatever its use, on logout,
or when the same person opens more than ``per_person`` sessions (the oldest goes).
The access token is the credential, checked on every request like a bearer token; it
is refreshed here when it expires.

Authenticating an access token and what the person may do are not decided here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from keys.web_sessions import MAX_SESSION_ID_LENGTH, SessionKeys
from vault.tokens import Principal
from vault.web_login import Tokens, WebLogin
from wire.errors import Unauthenticated

#: seconds before its expiry an access token is refreshed (clocks drift, requests take time)
REFRESH_MARGIN = 30.0
#: a session's last use is written at most this often (not on every request)
TOUCH_EVERY = 60.0


class SessionCursor(Protocol):
    """A transaction's cursor (``projections.store.ViewCursor`` is one)."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement (``%(name)s`` parameters)."""
        ...

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a query; its rows as dicts."""
        ...


class SessionDatabase(Protocol):
    """The database the sessions live in (``projections.store.ViewStore`` is one)."""

    def transaction(self) -> AbstractContextManager[SessionCursor]:
        """A transaction committed on success, rolled back on error."""
        ...


@dataclass(frozen=True)
class WebSession:
    """A live session, its tokens opened."""

    session_id: str
    person: str
    tokens: Tokens
    created_at: float
    seen_at: float


def person_of(principal: Principal) -> str:
    """The key sessions are counted by: ``role:id``."""
    return f"{principal.actor.role.value}:{principal.actor.id}"


class WebSessions:
    """Creates, finds, refreshes and ends web sessions."""

    def __init__(
        self,
        database: SessionDatabase,
        keys: SessionKeys,
        login: WebLogin | None,
        *,
        idle: float,
        lifetime: float,
        per_person: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = database
        self.keys = keys
        #: the relying party of the web page; ``None`` when no web issuer is configured
        self.login = login
        self._idle = idle
        self._lifetime = lifetime
        self._per_person = per_person
        #: seconds since the epoch, now (tests move it)
        self.clock = clock

    def create(self, principal: Principal, tokens: Tokens) -> str:
        """A new session for ``principal``; its id (for the cookie). The person's oldest
        sessions beyond ``per_person`` end."""
        session_id = self.keys.new_id()
        now = self.clock()
        person = person_of(principal)
        with self._db.transaction() as cursor:
            self._expire(cursor, now)
            cursor.execute(
                "INSERT INTO web_sessions (handle, person, issuer, sealed_tokens, created_at,"
                " seen_at) VALUES (%(handle)s, %(person)s, %(issuer)s, %(sealed)s, %(now)s,"
                " %(now)s)",
                {
                    "handle": self.keys.handle(session_id),
                    "person": person,
                    "issuer": principal.issuer,
                    "sealed": self.keys.seal(tokens.to_json()),
                    "now": now,
                },
            )
            rows = cursor.fetch(
                "SELECT handle FROM web_sessions WHERE person = %(person)s"
                " ORDER BY created_at DESC, handle",
                {"person": person},
            )
            for row in rows[self._per_person :]:
                cursor.execute(
                    "DELETE FROM web_sessions WHERE handle = %(h)s", {"h": row["handle"]}
                )
        return session_id

    def get(self, session_id: str | None) -> WebSession:
        """The live session ``session_id`` names; ``Unauthenticated`` if there is none
        (unknown, expired, ended, or sealed under a retired master key)."""
        if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
            raise Unauthenticated("no session; log in")
        handle = self.keys.handle(session_id)
        now = self.clock()
        with self._db.transaction() as cursor:
            rows = cursor.fetch(
                "SELECT person, sealed_tokens, created_at, seen_at FROM web_sessions"
                " WHERE handle = %(h)s",
                {"h": handle},
            )
            row = rows[0] if rows else None
            opened = self.keys.open(bytes(row["sealed_tokens"])) if row else None
            live = row is not None and opened is not None and not self._over(row, now)
            if not live:
                cursor.execute("DELETE FROM web_sessions WHERE handle = %(h)s", {"h": handle})
            elif now - float(row["seen_at"]) >= TOUCH_EVERY:
                cursor.execute(
                    "UPDATE web_sessions SET seen_at = %(now)s WHERE handle = %(h)s",
                    {"now": now, "h": handle},
                )
        if row is None or opened is None or not live:
            raise Unauthenticated("the session has ended; log in again")
        return WebSession(
            session_id=session_id,
            person=str(row["person"]),
            tokens=Tokens.from_json(opened),
            created_at=float(row["created_at"]),
            seen_at=now,
        )

    def _over(self, row: Mapping[str, Any], now: float) -> bool:
        return (
            now - float(row["seen_at"]) > self._idle
            or now - float(row["created_at"]) > self._lifetime
        )

    def _expire(self, cursor: SessionCursor, now: float) -> None:
        # ended sessions are removed as new ones begin, so the table stays small
        cursor.execute(
            "DELETE FROM web_sessions WHERE seen_at < %(idle)s OR created_at < %(old)s",
            {"idle": now - self._idle, "old": now - self._lifetime},
        )

    def access_token(self, session_id: str | None) -> str:
        """The session's access token, refreshed at the issuer first if it has expired.
        ``Unauthenticated`` (and the session ends) when it cannot be refreshed."""
        session = self.get(session_id)
        tokens = session.tokens
        if tokens.expires_at - REFRESH_MARGIN > self.clock():
            return tokens.access_token
        if self.login is None:
            self.end(session.session_id)
            raise Unauthenticated("the session has expired; log in again")
        try:
            fresh = self.login.refresh(tokens)
        except Unauthenticated:
            # another worker may have refreshed (and rotated the refresh token) meanwhile
            again = self.get(session_id).tokens
            if again.expires_at - REFRESH_MARGIN > self.clock():
                return again.access_token
            self.end(session.session_id)
            raise
        with self._db.transaction() as cursor:
            cursor.execute(
                "UPDATE web_sessions SET sealed_tokens = %(sealed)s WHERE handle = %(h)s",
                {
                    "sealed": self.keys.seal(fresh.to_json()),
                    "h": self.keys.handle(session.session_id),
                },
            )
        return fresh.access_token

    def end(self, session_id: str | None) -> WebSession | None:
        """End a session (logout); the session it was, if it was live."""
        try:
            session = self.get(session_id)
        except Unauthenticated:
            return None
        with self._db.transaction() as cursor:
            cursor.execute(
                "DELETE FROM web_sessions WHERE handle = %(h)s",
                {"h": self.keys.handle(session.session_id)},
            )
        return session

    def logout(self, session_id: str | None) -> None:
        """End the session and revoke its refresh token at the issuer, if it can."""
        session = self.end(session_id)
        if session is not None and self.login is not None:
            self.login.revoke(session.tokens)

    def count(self, person: str) -> int:
        """How many sessions ``person`` has (for tests and metrics)."""
        with self._db.transaction() as cursor:
            rows = cursor.fetch(
                "SELECT COUNT(*) AS n FROM web_sessions WHERE person = %(p)s", {"p": person}
            )
        return int(rows[0]["n"])

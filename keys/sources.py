"""Where keys come from: the small :class:`KeySource` interface, a file and the environment.

Every key Coffre holds — master keys, trail signing keys, the embedded token issuer's
keys — is a list of named 32-byte secrets, the first one *current*, read from its own
source. A source is where the secrets are, not what they are for: the same two
implementations serve every kind of key, and a KMS or an HSM fits behind the same
interface (``load`` from a secret manager; ``add_current``/``remove`` through its API).

Format (the same for a file and a variable)::

    keyid:base64key[,keyid:base64key...]     environment: comma-separated, first is current
    keyid:base64key                          file: one per line, first is current;
    keyid:base64key                          blank lines and ``#`` comments are ignored

A key file must be a regular file that grants nothing to group or others (like ssh's
private keys); it is created with mode 0600 and rewritten atomically (a new file
renamed over the old one), so a crash leaves the old list or the new one, never half.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import os
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from wire.errors import InsecureKeyFile, InvalidKey, KeySourceError

__all__ = ["EnvKeySource", "FileKeySource", "KeyEntry", "KeySource", "parse_keys"]

KEY_SIZE = 32
# ids end up in config lines ("id:key", comma-separated) and database rows
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class KeyEntry:
    """One named secret of a source: an id and 32 bytes (never printed)."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not KEY_ID.fullmatch(self.key_id):
            raise InvalidKey("a key id is 1-64 characters of [A-Za-z0-9._-]")
        if not isinstance(self.secret, bytes) or len(self.secret) != KEY_SIZE:
            raise InvalidKey(f"a key is exactly {KEY_SIZE} bytes")

    @classmethod
    def generate(cls, key_id: str) -> KeyEntry:
        """A fresh random key with this id."""
        return cls(key_id, secrets.token_bytes(KEY_SIZE))

    def to_line(self) -> str:
        """The ``keyid:base64key`` configuration form. Contains the secret."""
        return f"{self.key_id}:{base64.b64encode(self.secret).decode('ascii')}"


class KeySource(Protocol):
    """Where one kind of key is kept; the first entry is current."""

    @property
    def description(self) -> str:
        """Where the keys are, for messages (never a secret): ``file /x/master.keys``."""
        ...

    @property
    def writable(self) -> bool:
        """Whether ``add_current`` and ``remove`` can change the source."""
        ...

    def load(self) -> list[KeyEntry]:
        """Every entry, current first; ``[]`` when the source holds none yet."""
        ...

    def add_current(self, entry: KeyEntry) -> None:
        """Put ``entry`` first (it becomes current), keeping the others after it."""
        ...

    def remove(self, key_id: str) -> None:
        """Drop the entry ``key_id`` (no-op if absent); the current one may not be."""
        ...


def parse_keys(items: list[str], what: str) -> list[KeyEntry]:
    """Entries from ``keyid:base64key`` items; refuses duplicates and bad lines.

    Messages name ``what`` (e.g. ``master key``) and the id, never the secret.
    """
    entries: list[KeyEntry] = []
    for item in items:
        key_id, sep, encoded = item.strip().partition(":")
        if not sep:
            raise KeySourceError(f"a {what} entry is 'keyid:base64key'")
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeySourceError(f"{what} {key_id!r} is not valid base64") from None
        try:
            entries.append(KeyEntry(key_id, secret))
        except InvalidKey as exc:
            raise KeySourceError(f"{what} {key_id!r}: {exc.detail}") from None
    ids = [entry.key_id for entry in entries]
    for key_id in ids:
        if ids.count(key_id) > 1:
            raise KeySourceError(f"{what} id {key_id!r} appears twice")
    return entries


class EnvKeySource:
    """Keys given in one environment variable (comma-separated); never written."""

    writable = False

    def __init__(self, variable: str, value: str, what: str = "key") -> None:
        self.variable, self._value, self._what = variable, value, what

    @property
    def description(self) -> str:
        """``environment COFFRE_...``."""
        return f"environment {self.variable}"

    def load(self) -> list[KeyEntry]:
        """The variable's entries, first is current."""
        return parse_keys([i for i in self._value.split(",") if i.strip()], self._what)

    def add_current(self, entry: KeyEntry) -> None:
        """Refused: the operator changes the variable (in the secret manager)."""
        raise KeySourceError(f"{self.description} cannot be changed by Coffre; edit it")

    def remove(self, key_id: str) -> None:
        """Refused, as :meth:`add_current`."""
        raise KeySourceError(f"{self.description} cannot be changed by Coffre; edit it")


class FileKeySource:
    """Keys in a file, one per line; created 0600, rewritten atomically under a lock."""

    writable = True

    def __init__(self, path: str | os.PathLike[str], what: str = "key") -> None:
        self.path, self._what = Path(path), what

    @property
    def description(self) -> str:
        """``file /path/to/the.keys``."""
        return f"file {self.path}"

    def exists(self) -> bool:
        """Whether the file is there (it may still be unreadable or unsafe)."""
        return self.path.exists()

    def load(self) -> list[KeyEntry]:
        """The file's entries, first is current; ``[]`` if there is no file.

        Refuses (:class:`InsecureKeyFile`) a file open to group or others, and
        (:class:`KeySourceError`) anything but a regular UTF-8 file.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KeySourceError(f"{self._what} file unreadable: {exc.strerror}") from None
        try:
            # fstat the descriptor we read, not the path, so a swap cannot fool the check
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise KeySourceError(f"{self._what} path is not a regular file")
            if info.st_mode & 0o077:
                raise InsecureKeyFile(
                    f"{self._what} file has mode {stat.S_IMODE(info.st_mode):04o}; "
                    "it must not be accessible to group or others (chmod 600)"
                )
            raw = b"".join(iter(lambda: os.read(fd, 4096), b""))
        finally:
            os.close(fd)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise KeySourceError(f"{self._what} file is not UTF-8 text") from None
        lines = (line.strip() for line in text.splitlines())
        return parse_keys([ln for ln in lines if ln and not ln.startswith("#")], self._what)

    def create(self, entries: list[KeyEntry]) -> bool:
        """Write a new file holding ``entries``; False (nothing written) if one exists.

        ``O_EXCL`` and mode 0600 from the first instant: never overwrites keys, never
        a window where the file exists with looser permissions.
        """
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        try:
            _write_all(fd, entries)
        finally:
            os.close(fd)
        _sync_directory(self.path)
        return True

    def add_current(self, entry: KeyEntry) -> None:
        """Put ``entry`` first; refuses an id already present."""
        with self._locked():
            entries = self.load()
            if any(old.key_id == entry.key_id for old in entries):
                raise KeySourceError(f"{self._what} id {entry.key_id!r} is already in the file")
            self._replace([entry, *entries])

    def remove(self, key_id: str) -> None:
        """Drop ``key_id``; refuses the current key (the file's first)."""
        with self._locked():
            entries = self.load()
            if entries and entries[0].key_id == key_id:
                raise KeySourceError(f"{self._what} {key_id!r} is current; it cannot be removed")
            kept = [entry for entry in entries if entry.key_id != key_id]
            if len(kept) != len(entries):
                self._replace(kept)

    def replace(self, entries: list[KeyEntry]) -> None:
        """Write exactly ``entries`` (current first) in place of the file's list."""
        with self._locked():
            self._replace(entries)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # a lock file beside the keys: two commands editing the list at once would each
        # rename their own version over the other's otherwise
        lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    def _replace(self, entries: list[KeyEntry]) -> None:
        if not entries:
            raise KeySourceError(f"a {self._what} file keeps at least its current key")
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _write_all(fd, entries)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        _sync_directory(self.path)


def _write_all(fd: int, entries: list[KeyEntry]) -> None:
    data = "".join(entry.to_line() + "\n" for entry in entries).encode("ascii")
    while data:
        data = data[os.write(fd, data) :]
    os.fsync(fd)


def _sync_directory(path: Path) -> None:
    # make the new directory entry (creation or rename) durable too
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)

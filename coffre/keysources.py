"""Which source each key comes from, and how a data directory of an older version
keeps its keys.

Three kinds of keys, each with ids and a source of its own (``keys.sources``):

===============  ============================  =====================  ====================
kind             environment (wins)            else the file          used for
===============  ============================  =====================  ====================
master keys      ``COFFRE_MASTER_KEYS``        ``<data>/master.keys`` wrapping secrets
trail keys       ``COFFRE_TRAIL_KEYS``         ``<data>/trail.keys``  signing the trail
token keys       ``COFFRE_TOKEN_KEYS``         ``<data>/token.keys``  the embedded issuer
===============  ============================  =====================  ====================

**First start of an embedded data directory** (no ``master.keys``): three independent
random keys are written, the trail's and the issuer's *before* the master key, so that
a data directory with a master key file and without ``trail.keys`` can only be one
made by an older version.

**An older data directory** (a master key, no ``trail.keys`` / ``token.keys``): the
trail and token keys were derived from the current master key then
(``MasterKeys.derive``). Their files are written once, holding exactly those derived
values: the trail keeps its key (its checkpoints still verify, nothing to publish),
dev tokens keep verifying, and from then on neither follows the master key (rotating
it changes neither). ``coffre keys rotate-trail`` replaces the inherited trail key by
an independent one.

**No source at all** (PostgreSQL without ``COFFRE_TRAIL_KEYS`` / ``COFFRE_TOKEN_KEYS``,
no file): the legacy derivation from the current master key stays in force, so such a
deployment keeps working as it did; ``coffre keys status`` and a warning at start say
so. Its trail key then changes with the current master key, and the trail's key set
records each change (``projections.trail_keys``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from keys.checkpoint import CheckpointSigner
from keys.master import MasterKey, MasterKeys
from keys.sources import EnvKeySource, FileKeySource, KeyEntry, KeySource
from vault.settings import Settings
from vault.tokens import TokenAuthority
from wire.errors import KeySourceError, MasterKeyError

__all__ = [
    "LEGACY_TOKEN_KEY",
    "Signing",
    "issuer_keys",
    "legacy_warnings",
    "log_legacy_warnings",
    "master_source",
    "prepare_key_files",
    "token_authority",
    "token_source",
    "trail_signer",
    "trail_source",
]

log = structlog.get_logger(__name__)

MASTER_FILE, TRAIL_FILE, TOKEN_FILE = "master.keys", "trail.keys", "token.keys"
#: the id under which the issuer key an older version derived is kept
LEGACY_TOKEN_KEY = "tk-legacy"  # noqa: S105 - a key id, not a secret
#: what the older versions derived each key from (``MasterKeys.derive``)
TOKEN_DERIVATION = "token-signing"  # noqa: S105 - a derivation context


def master_source(settings: Settings) -> KeySource:
    """``COFFRE_MASTER_KEYS``, else ``master.keys`` in the data directory."""
    if settings.master_keys is not None:
        return EnvKeySource(
            "COFFRE_MASTER_KEYS", settings.master_keys.get_secret_value(), "master key"
        )
    return FileKeySource(settings.data_dir / MASTER_FILE, "master key")


def trail_source(settings: Settings) -> KeySource | None:
    """``COFFRE_TRAIL_KEYS``, else ``trail.keys`` (embedded, or if present), else None."""
    if settings.trail_keys is not None:
        return EnvKeySource(
            "COFFRE_TRAIL_KEYS", settings.trail_keys.get_secret_value(), "trail key"
        )
    return _file(settings, TRAIL_FILE, "trail key")


def token_source(settings: Settings) -> KeySource | None:
    """``COFFRE_TOKEN_KEYS``, else ``token.keys`` (embedded, or if present), else None."""
    if settings.token_keys is not None:
        return EnvKeySource(
            "COFFRE_TOKEN_KEYS", settings.token_keys.get_secret_value(), "token key"
        )
    return _file(settings, TOKEN_FILE, "token key")


def _file(settings: Settings, name: str, what: str) -> FileKeySource | None:
    source = FileKeySource(settings.data_dir / name, what)
    return source if settings.embedded or source.exists() else None


def new_token_key() -> KeyEntry:
    """A fresh issuer key, ``tk-YYYYMMDD-<random hex>``."""
    return KeyEntry.generate(f"tk-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}")


def prepare_key_files(settings: Settings) -> None:
    """Embedded mode: write the key files a first start needs, or those an older data
    directory lacks (module docstring). Idempotent, safe against a concurrent start
    (files are created with ``O_EXCL``); the data directory must exist."""
    if not settings.embedded:
        return
    trail, token = trail_source(settings), token_source(settings)
    master = master_source(settings)
    if isinstance(master, FileKeySource) and not master.exists():
        if isinstance(trail, FileKeySource):
            trail.create([CheckpointSigner.generate()])
        if isinstance(token, FileKeySource) and not settings.token_public_key:
            token.create([new_token_key()])
        master.create([MasterKey.generate().to_entry()])
        return
    keys = MasterKeys.from_source(master)
    if isinstance(trail, FileKeySource) and trail.create([CheckpointSigner.legacy(keys)]):
        log.info(
            "trail_key_kept", file=str(trail.path), key_id=CheckpointSigner.legacy(keys).key_id
        )
    if isinstance(token, FileKeySource) and not settings.token_public_key:
        token.create([KeyEntry(LEGACY_TOKEN_KEY, keys.derive(TOKEN_DERIVATION))])


@dataclass(frozen=True)
class Signing:
    """The trail's signer, and where its key came from (for the key set and status)."""

    signer: CheckpointSigner
    origin: str


def trail_signer(settings: Settings, master: MasterKeys) -> Signing:
    """The trail's current signing key: its source's first entry, or, with no source at
    all, the legacy key derived from the current master key (a warning says so)."""
    source = trail_source(settings)
    if source is not None:
        entries = source.load()
        if not entries:
            raise KeySourceError(f"no trail key in {source.description}")
        return Signing(CheckpointSigner.from_entry(entries[0]), source.description)
    origin = f"derived from master key {master.current.key_id}"
    return Signing(CheckpointSigner.from_entry(CheckpointSigner.legacy(master)), origin)


def legacy_warnings(settings: Settings) -> list[str]:
    """What still derives from the master key in this configuration (the legacy
    fallback), for the log at start and ``coffre keys status``."""
    warnings = []
    if trail_source(settings) is None:
        warnings.append(
            "the trail key is derived from the current master key (as before keys were "
            "kept apart): set COFFRE_TRAIL_KEYS"
        )
    if not settings.token_public_key and token_source(settings) is None:
        warnings.append(
            "the embedded token issuer's key is derived from the current master key: "
            "set COFFRE_TOKEN_KEYS, or COFFRE_TOKEN_PUBLIC_KEY for an external issuer"
        )
    return warnings


def log_legacy_warnings(settings: Settings) -> None:
    """Log :func:`legacy_warnings` (once logging is configured: stdout stays clean)."""
    for warning in legacy_warnings(settings):
        log.warning("key_derived_from_master_key", detail=warning)


def issuer_keys(settings: Settings, master: MasterKeys) -> list[KeyEntry]:
    """The embedded issuer's keys, current first: its source's, else (no source at all)
    the legacy key derived from the current master key."""
    source = token_source(settings)
    if source is None:
        return [KeyEntry(LEGACY_TOKEN_KEY, master.derive(TOKEN_DERIVATION))]
    entries = source.load()
    if not entries:
        raise KeySourceError(f"no token key in {source.description}")
    return entries


def token_authority(settings: Settings, master: MasterKeys | None = None) -> TokenAuthority:
    """The bearer-token authority: an external issuer's public key, else the embedded
    issuer with :func:`issuer_keys` (the first signs, all verify)."""
    if settings.token_public_key:
        return TokenAuthority.from_public_key(settings.token_issuer, settings.token_public_key)
    if master is None:
        raise MasterKeyError("the embedded token issuer needs the master keys")
    entries = issuer_keys(settings, master)
    return TokenAuthority.from_seeds(
        settings.token_issuer, [(entry.key_id, entry.secret) for entry in entries]
    )

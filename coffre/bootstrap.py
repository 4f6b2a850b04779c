"""The composition root: builds the vault, its stores and projections from settings.

The API, the CLI, the projection workers and the tests all build through ``build``;
tests pass in fakes (a manual clock, an in-memory blob store) where they need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from keys.checkpoint import CheckpointSigner
from keys.keyring import Keyring
from keys.keystore import KeyStore
from keys.keystore_postgres import PostgresKeyStore
from keys.keystore_sqlite import SQLiteKeyStore
from keys.master import MasterKeys
from projections.access_log import AccessLog, AccessLogProjection
from projections.access_views import AccessViewsProjection
from projections.notifications import NotificationsProjection
from projections.runner import ApplicationSource, ProjectionRunner
from projections.store import PostgresViewStore, SQLiteViewStore, ViewStore
from projections.trail import TrailProjection
from projections.trail_query import Trail
from vault.blobstore import BlobStore
from vault.blobstore_fs import FilesystemBlobStore
from vault.clock import Clock
from vault.migrations import migrate
from vault.scheduler import Scheduler
from vault.service import Vault
from vault.settings import Settings
from vault.tokens import TokenAuthority

#: how often the trail signs a checkpoint while it grows
CHECKPOINT_EVERY = timedelta(minutes=10)


@dataclass
class Coffre:
    """Everything one process needs, built once."""

    settings: Settings
    vault: Vault
    keyring: Keyring
    blobs: BlobStore
    tokens: TokenAuthority
    views: ViewStore
    runner: ProjectionRunner
    access_log: AccessLog
    trail: Trail
    scheduler: Scheduler
    _closers: list[object] = field(default_factory=list)

    def close(self) -> None:
        """Release connections and pools."""
        self.vault.close()
        for closable in self._closers:
            close = getattr(closable, "close", None)
            if close is not None:
                close()


def master_keys(settings: Settings) -> MasterKeys:
    """The master keys: from the environment, else a file made on first embedded run."""
    if settings.master_keys is not None:
        return MasterKeys.from_env(settings.master_keys.get_secret_value())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return MasterKeys.from_file(settings.data_dir / "master.keys", create=settings.embedded)


def token_authority(settings: Settings, keys: MasterKeys | None = None) -> TokenAuthority:
    """The bearer-token authority: an external issuer's public key, else the dev issuer
    derived from the master key (which can also mint, for `coffre token` and the demo)."""
    if settings.token_public_key:
        return TokenAuthority.from_public_key(settings.token_issuer, settings.token_public_key)
    master = keys or master_keys(settings)
    return TokenAuthority.from_seed(settings.token_issuer, master.derive("token-signing"))


def blob_store(settings: Settings) -> BlobStore:
    """The configured blob store."""
    if settings.blob_store == "fs":
        return FilesystemBlobStore(Path(settings.data_dir) / "blobs")
    from vault.blobstore_s3 import S3BlobStore  # only S3 deployments import minio

    assert settings.s3_access_key is not None and settings.s3_secret_key is not None
    store = S3BlobStore(
        settings.s3_endpoint,
        settings.s3_access_key.get_secret_value(),
        settings.s3_secret_key.get_secret_value(),
        settings.s3_bucket,
        secure=settings.s3_secure,
        region=settings.s3_region,
        public_endpoint=settings.s3_public_endpoint,
    )
    store.ensure_bucket()
    return store


def key_store(settings: Settings) -> KeyStore:
    """The key store, in the same database as the events."""
    if settings.database == "sqlite":
        return SQLiteKeyStore(str(settings.sqlite_path))
    return PostgresKeyStore(settings.pg_conninfo())


def view_store(settings: Settings) -> ViewStore:
    """The database holding the projections' views."""
    if settings.database == "sqlite":
        return SQLiteViewStore(str(settings.sqlite_path))
    params = {
        "host": settings.pg_host,
        "port": str(settings.pg_port),
        "user": settings.pg_user,
        "dbname": settings.pg_dbname,
        "password": settings.pg_password.get_secret_value() if settings.pg_password else "",
    }
    return PostgresViewStore(params)


def _housekeeping(trail: Trail, scheduler: Scheduler) -> None:
    # Run by the projection workers after each pass: signed tree heads are made
    # periodically while the trail grows, and what fell due (openings, reveals, end of
    # representation, deletions) is recorded.
    trail.checkpoint_if_due(CHECKPOINT_EVERY)
    scheduler.run_once()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    blobs: BlobStore | None = None,
) -> Coffre:
    """Build a ready-to-use Coffre (migrations applied) from ``settings``."""
    keys = master_keys(settings)
    keystore = key_store(settings)
    vault_blobs = blobs or blob_store(settings)
    vault = Vault(
        env=settings.event_store_env(),
        keyring=Keyring(keys, keystore),
        blobs=vault_blobs,
        ticket_key=keys.derive("tickets"),
        clock=clock,
        # Readers fetch ciphertext straight from S3 by presigned URL (no relay through
        # the API); the filesystem store has none, so its readers use content tickets.
        presign=settings.s3_presign and settings.blob_store == "s3",
        periods=settings.periods(),
    )
    migrate(settings)
    views = view_store(settings)
    trail = Trail(views, CheckpointSigner.from_master_keys(keys), vault.clock)
    scheduler = Scheduler(vault)
    runner = ProjectionRunner(
        ApplicationSource(vault),
        views,
        [
            AccessLogProjection(),
            TrailProjection(),
            NotificationsProjection(),
            AccessViewsProjection(),
        ],
        after_catch_up=lambda: _housekeeping(trail, scheduler),
    )
    tokens = token_authority(settings, keys)
    return Coffre(
        settings=settings,
        vault=vault,
        keyring=vault.keyring,
        blobs=vault_blobs,
        tokens=tokens,
        views=views,
        runner=runner,
        access_log=AccessLog(views),
        trail=trail,
        scheduler=scheduler,
        _closers=[keystore, views],
    )

"""The composition root: builds the vault, its stores and projections from settings.

The API, the CLI, the projection workers and the tests all build through ``build``;
tests pass in fakes (a manual clock, an in-memory blob store) where they need them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from coffre import keysources
from coffre.exportjobs import export_jobs
from coffre.trust import development_provider, issuers
from domain.devices import Enrolment
from domain.representatives import Registry
from keys.keyring import Keyring
from keys.keystore import KeyStore
from keys.keystore_postgres import PostgresKeyStore
from keys.keystore_sqlite import SQLiteKeyStore
from keys.master import MasterKeys
from keys.sources import FileKeySource
from keys.web_sessions import SessionKeys
from projections.access_log import AccessLog, AccessLogProjection
from projections.access_views import AccessViews, AccessViewsProjection
from projections.notifications import Notifications, NotificationsProjection
from projections.representations import RepresentationsProjection
from projections.runner import ProjectionRunner
from projections.source import ApplicationSource
from projections.store import PostgresViewStore, SQLiteViewStore, ViewStore
from projections.trail import TrailProjection
from projections.trail_query import Trail
from vault.blobstore import BlobStore
from vault.blobstore_fs import FilesystemBlobStore
from vault.clock import Clock
from vault.export_jobs import ExportJobs
from vault.issuers import Issuers
from vault.migrations import migrate, schema_lock
from vault.scheduler import BlobCollector, Scheduler
from vault.service import Vault
from vault.settings import Settings
from vault.tokens import TokenAuthority
from vault.web_login import WebClient, WebLogin
from vault.web_sessions import SessionDatabase, WebSessions
from wire.errors import MasterKeyError

if TYPE_CHECKING:
    from idp.provider import Provider

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
    issuers: Issuers
    views: ViewStore
    runner: ProjectionRunner
    access_log: AccessLog
    access_views: AccessViews
    notifications: Notifications
    trail: Trail
    scheduler: Scheduler
    collector: BlobCollector
    #: the embedded development OpenID provider (``/idp``), if it runs here
    provider: Provider | None = None
    #: the web page's cookie sessions (backend-for-frontend)
    web_sessions: WebSessions | None = None
    #: patients' export jobs, built by worker threads of this process
    exports: ExportJobs | None = None
    #: the migrations this build applied (none when the schema was up to date)
    migrated: list[str] = field(default_factory=list)
    _closers: list[object] = field(default_factory=list)

    def close(self) -> None:
        """Release connections and pools."""
        if self.exports is not None:
            self.exports.close()
        self.vault.close()
        for closable in self._closers:
            close = getattr(closable, "close", None)
            if close is not None:
                close()


#: the files Coffre keeps in its data directory besides blobs: SQLite's and the keys
_DATA_FILES = (
    "coffre.db",
    "coffre.db-wal",
    "coffre.db-shm",
    "coffre.db-journal",
    "master.keys",
    "trail.keys",
    "token.keys",
    "idp.secrets",
)

#: held (``flock``) by the one ``coffre serve`` using an embedded data directory
LOCK_FILE = "serve.lock"


class DataDirLocked(Exception):
    """Another live process serves this data directory."""


def uses_data_dir(settings: Settings) -> bool:
    """Whether anything of this configuration lives in ``COFFRE_DATA_DIR``."""
    return (
        settings.database == "sqlite" or settings.blob_store == "fs" or settings.master_keys is None
    )


def private_data_dir(settings: Settings) -> None:
    """Make the data directory 0700 and Coffre's files in it 0600, whatever the umask.

    They hold titles, names and keys. SQLite creates its database with 0644 and its
    WAL and shared-memory files with the database's mode, so the database is created
    here first, empty and 0600; files made by an older version are tightened too.
    Blob files are made 0600 and their directories 0700 by the file store itself.
    """
    directory = settings.data_dir
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    if settings.database == "sqlite":
        os.close(os.open(settings.sqlite_path, os.O_WRONLY | os.O_CREAT, 0o600))
    for name in _DATA_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(directory / name, 0o600)


def lock_data_dir(settings: Settings) -> int:
    """Take the data directory's serve lock; return its descriptor (keep it open).

    The lock is an ``flock`` on ``serve.lock``: the kernel drops it when the holder
    exits, however it dies (SIGKILL included), so a stale file never blocks a restart.
    The file records the holder's pid for the message another server gets. The
    descriptor is inheritable so that the lock survives ``coffre serve``'s ``exec``.
    Raises :class:`DataDirLocked` naming the directory (and the holder, if known).
    """
    private_data_dir(settings)
    path = settings.data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        by = f"process {holder}" if holder.isdigit() else "another process"
        raise DataDirLocked(
            f"the data directory {settings.data_dir.resolve()} is in use by {by} "
            "(another coffre serve); stop it first or choose another COFFRE_DATA_DIR"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    os.set_inheritable(fd, True)
    return fd


def master_keys(settings: Settings) -> MasterKeys:
    """The master keys: from the environment, else the data directory's key file.

    In embedded mode the data directory's key files are made first if they are
    missing (a first start, or a directory of an older version: ``coffre.keysources``).
    """
    if uses_data_dir(settings):
        private_data_dir(settings)
    keysources.prepare_key_files(settings)
    source = keysources.master_source(settings)
    if isinstance(source, FileKeySource) and not source.exists():
        raise MasterKeyError("master key file not found")
    return MasterKeys.from_source(source)


def token_authority(settings: Settings, keys: MasterKeys | None = None) -> TokenAuthority:
    """The bearer-token authority: an external issuer's public key, else the embedded
    issuer with its own keys (which can also mint, for `coffre token` and the demo)."""
    if settings.token_public_key:
        return keysources.token_authority(settings)
    return keysources.token_authority(settings, keys or master_keys(settings))


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
        timeout=settings.s3_timeout,
        retries=settings.s3_retries,
    )
    store.ensure_bucket()
    if settings.s3_browser_origin is not None:
        # the page's presigned transfers (its CSP names the S3 origin already)
        store.allow_browsers([settings.base_url.rstrip("/").lower()])
    if settings.s3_direct_uploads:
        from vault.blobstore_s3_direct import S3DirectUploads

        # Depositors then PUT their ciphertext straight to S3 (vault.uploads).
        store.direct = S3DirectUploads(store)
    return store


def key_store(settings: Settings) -> KeyStore:
    """The key store, in the same database as the events."""
    if settings.database == "sqlite":
        return SQLiteKeyStore(str(settings.sqlite_path))
    return PostgresKeyStore(settings.pg_conninfo())


def libpq_environment(settings: Settings) -> None:
    """Tell libpq, for every connection of this process, which of the configured hosts
    to keep (the primary) and how long to try each: the event store's and the views'
    pools (eventsourcing's) take no such parameter themselves."""
    if settings.database == "postgres":
        os.environ.update(settings.libpq_env())


def view_store(settings: Settings) -> ViewStore:
    """The database holding the projections' views."""
    if settings.database == "sqlite":
        return SQLiteViewStore(str(settings.sqlite_path))
    libpq_environment(settings)
    params = {
        "host": settings.pg_host,
        "port": settings.pg_port,
        "user": settings.pg_user,
        "dbname": settings.pg_dbname,
        "password": settings.pg_password.get_secret_value() if settings.pg_password else "",
    }
    return PostgresViewStore(params, lock_timeout=settings.pg_lock_timeout)


def web_sessions(
    settings: Settings,
    database: SessionDatabase,
    trusted: Issuers,
    keys: MasterKeys,
    provider: Provider | None = None,
) -> WebSessions:
    """The web page's sessions, and its login at ``web_issuer`` when a client secret is
    configured, or when it is the embedded development provider (its own secret for
    ``coffre-web``); otherwise ``/auth/login`` answers that the web login is off."""
    session_keys = SessionKeys(keys)
    login = None
    secret = settings.web_client_secret.get_secret_value() if settings.web_client_secret else None
    if secret is None and provider is not None and settings.web_login_issuer == provider.issuer:
        from idp.models import WEB_CLIENT

        secret = provider.clients[WEB_CLIENT].secret
    if secret is not None:
        client = WebClient(
            issuer=settings.web_login_issuer,
            client_id=settings.web_client_id,
            client_secret=secret,
            redirect_uri=f"{settings.base_url}/auth/callback",
            scope=settings.web_scopes,
            resource=settings.web_resource,
        )
        login = WebLogin(client, trusted, session_keys)
    return WebSessions(
        database,
        session_keys,
        login,
        idle=settings.web_session_idle.total_seconds(),
        lifetime=settings.web_session_lifetime.total_seconds(),
        per_person=settings.web_sessions_per_person,
    )


def _housekeeping(
    trail: Trail, scheduler: Scheduler, collector: BlobCollector, exports: list[ExportJobs]
) -> None:
    # Run by the projection workers after each pass: signed tree heads are made
    # periodically while the trail grows, what fell due (openings, reveals, end of
    # representation, deletions) is recorded, every so often what interrupted
    # uploads left in the blob store is removed, and expired export archives too.
    trail.checkpoint_if_due(CHECKPOINT_EVERY)
    scheduler.run_once()
    collector.run_if_due()
    for jobs in exports:
        jobs.sweep_if_due()


def blob_collector(settings: Settings, vault: Vault) -> BlobCollector:
    """The blob collector, on the configured interval and grace periods."""
    return BlobCollector(
        vault,
        interval=settings.blob_collect_interval,
        orphan_grace=settings.blob_orphan_grace,
        temporary_grace=settings.blob_temporary_grace,
    )


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    blobs: BlobStore | None = None,
) -> Coffre:
    """Build a ready-to-use Coffre (migrations applied) from ``settings``."""
    if uses_data_dir(settings):
        private_data_dir(settings)
    keys = master_keys(settings)
    libpq_environment(settings)
    vault_blobs = blobs or blob_store(settings)
    # what may not exist yet is created by one process at a time (a fleet starting at once)
    with schema_lock(settings):
        keystore = key_store(settings)
        vault = Vault(
            env=settings.event_store_env(),
            keyring=Keyring(keys, keystore, opened_texts=settings.cache_titles),
            blobs=vault_blobs,
            ticket_key=keys.derive("tickets"),
            clock=clock,
            # Readers fetch ciphertext straight from S3 by presigned URL (no relay through
            # the API); the filesystem store has none, so its readers use content tickets.
            presign=settings.s3_presign and settings.blob_store == "s3",
            periods=settings.periods(),
            max_document_size=settings.max_document_size,
            cache_events=settings.cache_events,
            registry=Registry(settings.registry()),
            enrolment=Enrolment(settings.enrolment()),
        )
        migrated = migrate(settings)
        views = view_store(settings)
    signing = keysources.trail_signer(settings, keys)
    trail = Trail(views, signing.signer, vault.clock)
    # a key this deployment signs with for the first time starts its published period
    trail.keys.adopt(signing.signer, vault.clock.now(), signing.origin)
    scheduler = Scheduler(vault)
    collector = blob_collector(settings, vault)
    exports: list[ExportJobs] = []  # made once the Coffre it reads through exists
    runner = ProjectionRunner(
        ApplicationSource(vault),
        views,
        [
            AccessLogProjection(),
            TrailProjection(),
            NotificationsProjection(),
            AccessViewsProjection(),
            RepresentationsProjection(),
        ],
        after_catch_up=lambda: _housekeeping(trail, scheduler, collector, exports),
    )
    tokens = token_authority(settings, keys)
    provider = development_provider(settings, keys, file=uses_data_dir(settings))
    trusted = issuers(settings, tokens, provider)
    coffre = Coffre(
        settings=settings,
        vault=vault,
        keyring=vault.keyring,
        blobs=vault_blobs,
        tokens=tokens,
        issuers=trusted,
        views=views,
        runner=runner,
        access_log=AccessLog(views),
        access_views=AccessViews(views),
        notifications=Notifications(views),
        trail=trail,
        scheduler=scheduler,
        collector=collector,
        provider=provider,
        web_sessions=web_sessions(settings, views, trusted, keys, provider),
        migrated=migrated,
        _closers=[keystore, views],
    )
    coffre.exports = export_jobs(settings, coffre)
    exports.append(coffre.exports)
    return coffre

"""Configuration, from ``COFFRE_*`` environment variables (see docs/configuration.md).

The defaults are the embedded mode: SQLite and local files under ``COFFRE_DATA_DIR``,
a master key generated there on first run. Production sets ``COFFRE_DATABASE=postgres``,
``COFFRE_BLOB_STORE=s3`` and provides the master keys from a secret manager.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from domain.periods import Periods
from vault.issuers import IssuerSettings
from vault.settings_pg import PostgresSettings

#: the repository's root: the web page's built files are under it by default
REPOSITORY = Path(__file__).resolve().parent.parent

#: the registry service of ``coffre demo``, authorised by default in the embedded mode only
DEMO_REGISTRY = "etat-civil.demo"
#: the enrolment service of ``coffre demo``, authorised by default in the embedded mode only
DEMO_ENROLMENT = "enrolement.demo"


#: the most worker processes ``coffre serve`` starts: each holds its own PostgreSQL pools
#: (the event store's alone opens up to 15 connections with the defaults) and memory
#: (≈ 110 MiB warm, bench row 11b), so a slip of the finger (``--workers 1000``) would
#: exhaust the database's connections and the host's memory instead of serving
MAX_WORKERS = 64


class Settings(PostgresSettings):
    """Everything that differs between a laptop and a production deployment."""

    model_config = SettingsConfigDict(env_prefix="COFFRE_", extra="ignore")

    data_dir: Path = Field(Path(".coffre"), description="where the embedded mode keeps its files")
    database: Literal["sqlite", "postgres"] = "sqlite"

    blob_store: Literal["fs", "s3"] = "fs"
    s3_endpoint: str = Field(
        "127.0.0.1:7480",
        description="'host:port' or 'http(s)://host[:port]'; several, comma-separated, for "
        "gateways of the same bucket: a request that finds one down (no answer, 5xx) is "
        "sent to the next",
    )
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "coffre-documents"
    s3_secure: bool = False
    s3_region: str | None = Field(None, description="S3 region; unset = asked of the server")
    s3_presign: bool = Field(
        True, description="hand readers presigned S3 GET URLs rather than API content links"
    )
    s3_public_endpoint: str | None = Field(
        None,
        description="where clients reach S3 ('host:port' or 'https://host'), if not at "
        "s3_endpoint: presigned URLs are signed for this address (as many, comma-separated, "
        "as s3_endpoint lists)",
    )

    s3_timeout: float = Field(
        10.0,
        gt=0,
        description="seconds an S3 request may wait to connect (at most 5) or for each "
        "read; with retries, an unreachable or stalled S3 fails a request in about "
        "(s3_retries + 1) x s3_timeout: 503",
    )
    s3_retries: int = Field(
        2, ge=0, description="retries of an S3 request on a connection error, timeout or 5xx"
    )
    s3_direct_uploads: bool = Field(
        True,
        description="let depositors upload straight to S3 by presigned multipart upload "
        "(the API's relay stays as a fallback)",
    )

    master_keys: SecretStr | None = Field(
        None, description="'keyid:base64,...' (first is current); else a file in data_dir"
    )
    trail_keys: SecretStr | None = Field(
        None,
        description="the trail's signing key(s), 'keyid:base64seed' (id = the key's "
        "fingerprint); else data_dir/trail.keys",
    )
    token_keys: SecretStr | None = Field(
        None,
        description="the embedded token issuer's key(s), 'keyid:base64seed,...' (first "
        "signs); else data_dir/token.keys",
    )
    token_issuer: str = "coffre"  # noqa: S105 - an issuer name, not a secret
    token_public_key: str | None = Field(
        None, description="base64 Ed25519 key of an external token issuer; else embedded"
    )
    token_ttl_minutes: int = 60
    embedded_issuer: bool = Field(
        None,  # type: ignore[assignment]  # resolved by _defaults_of_the_deployment
        description="trust the embedded development issuer (token_keys, `coffre token`); "
        "unset: on in development, off in production, where only oidc_issuers are trusted",
    )
    env: Literal["development", "production"] = Field(
        None,  # type: ignore[assignment]  # resolved by _defaults_of_the_deployment
        description="production: the embedded issuer, its OpenID provider and `coffre token` "
        "are refused. Unset: production with postgres, development with sqlite",
    )
    oidc_issuers: list[IssuerSettings] = Field(
        default_factory=list,
        description="the OpenID providers whose access tokens are accepted, as a JSON list "
        "(docs/configuration.md, 'Identity providers')",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        None,
        description="the URL browsers reach Coffre at (scheme, host, port, no path); "
        "unset: http://<host>:<port>. The web login's redirect URI, the same-origin "
        "checks of cookie sessions and the embedded provider's issuer (+ /idp) derive from it",
    )

    # The web page (docs/configuration.md, "The web page").
    web_dir: Path = Field(
        REPOSITORY / "web" / "dist",
        description="the built web page, served at / (scripts/build-web writes it)",
    )
    web_issuer: str | None = Field(
        None,
        description="the OpenID provider the web page logs in with; it must also be one of "
        "oidc_issuers. Unset: the embedded development provider at <public_url>/idp",
    )
    web_client_id: str = "coffre-web"
    web_client_secret: SecretStr | None = Field(
        None,
        description="the web page's client secret at web_issuer (a confidential client); "
        "with the embedded provider, unset: the one it generated (data_dir/idp.secrets)",
    )
    web_scopes: str = Field(
        "openid offline_access patient/*.cruds user/*.cruds",
        description="the scopes the web page asks for (SMART v2; offline_access for refresh)",
    )
    web_resource: str | None = Field(
        None, description="an RFC 8707 resource indicator to send with the web login, if needed"
    )
    web_session_idle: timedelta = Field(
        timedelta(minutes=30), description="a web session unused this long ends"
    )
    web_session_lifetime: timedelta = Field(
        timedelta(hours=12), description="a web session ends this long after its login"
    )
    web_sessions_per_person: int = Field(
        5, gt=0, description="sessions one person may hold; a new one ends the oldest"
    )
    #: uvicorn worker processes of ``coffre serve``, 1 to ``MAX_WORKERS``
    workers: int = 1
    # uvicorn's 5 s equals the SDK's (httpx's) keep-alive expiry: reused connections raced
    # its close (bench.soak); above proxies' 60 s too, so that clients always close first
    keep_alive_timeout: int = Field(
        75, gt=0, description="seconds the server keeps an idle HTTP connection open"
    )
    # uvicorn's 5 s is missed by healthy workers starved on a loaded machine (bench.soak)
    worker_healthcheck_timeout: int = Field(
        30, gt=0, le=3600, description="seconds before a silent worker is killed and replaced"
    )
    # What one worker keeps in memory, whatever the number and size of spaces it serves.
    cache_events: int = Field(
        200_000, gt=0, description="events of loaded spaces and readers a worker keeps"
    )
    cache_titles: int = Field(
        100_000, gt=0, description="opened titles and justifications a worker keeps"
    )
    log_format: Literal["console", "json"] = "console"
    projections_in_process: bool | None = Field(
        None, description="run projections inside the API process (default: with SQLite)"
    )

    # Uploads: a client that stalls or trickles must not hold a slot for ever, and no
    # single caller may take every slot (docs/configuration.md, "Uploads").
    max_document_size: int = Field(4 * 1024**3, gt=0, description="bytes; larger bodies: 413")
    upload_idle_timeout: float = Field(
        30.0, gt=0, description="seconds an upload body may send nothing before a 408"
    )
    upload_min_rate: int = Field(
        1024, ge=0, description="bytes per second an upload must average over each window"
    )
    upload_rate_window: float = Field(
        60.0, gt=0, description="seconds of waiting for the client over which the rate is checked"
    )
    uploads_per_caller: int = Field(4, gt=0, description="concurrent uploads per actor; then 429")
    upload_concurrency: int = Field(
        16, gt=0, description="concurrent uploads for the whole process; then 503"
    )

    export_concurrency: int = Field(
        2,
        gt=0,
        description="patients' exports built at once by one process (one per caller); then "
        "503: each reads every document of a space",
    )
    export_ttl: timedelta = Field(
        timedelta(hours=24),
        description="how long a finished export's archive is kept for its owner to download",
    )
    export_stale_after: timedelta = Field(
        timedelta(minutes=5),
        description="an export job whose process stopped beating for this long (a crash, "
        "a restart) ends failed",
    )

    # Blob collection, run by the scheduler (``coffre scheduler run`` and the embedded
    # server's projection thread) and by ``coffre blobs collect``.
    blob_collect_interval: timedelta = Field(
        timedelta(hours=1), description="how often the scheduler collects blobs (PT0S: never)"
    )
    blob_orphan_grace: timedelta = Field(
        timedelta(hours=24), description="age of a never-deposited blob before it is removed"
    )
    blob_temporary_grace: timedelta = Field(
        timedelta(hours=24),
        description="age of an unfinished upload's temporary file or multipart upload "
        "before it is removed",
    )

    registry_services: str | None = Field(
        None,
        description="comma-separated ids of the services authorised to appoint and end "
        "legal representatives (a civil registry, a court's registry); unset: none, "
        f"except the embedded mode, where the demo's registry ({DEMO_REGISTRY!r}) is",
    )

    enrolment_services: str | None = Field(
        None,
        description="comma-separated ids of the services authorised to approve the reader "
        "devices of professionals and services and to send patients enrolment codes; "
        f"unset: none, except the embedded mode, where the demo's ({DEMO_ENROLMENT!r}) is",
    )

    # The durations of RULES.md, as ISO 8601 durations (``P42D``, ``PT0S``): the law by default.
    opposition_period: timedelta = Field(
        timedelta(weeks=6), description="from provisioning to opening; opposition meanwhile"
    )
    archive_years: int = Field(10, description="how long a closed space is archived")
    express_deletion_delay: timedelta = Field(
        timedelta(0), description="from an express deletion request to the deletion (<= 92 days)"
    )
    emergency_access_duration: timedelta = Field(
        timedelta(hours=24), description="how long a declared emergency access lasts"
    )

    @model_validator(mode="before")
    @classmethod
    def _defaults_of_the_deployment(cls, data: object) -> object:
        # A PostgreSQL deployment is a server for others: one that forgets COFFRE_ENV
        # must not serve the development login page, where anyone picks a person (the
        # demo's regulator included). Development is said explicitly there.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("env") is None:
            data["env"] = "production" if data.get("database") == "postgres" else "development"
        if data.get("embedded_issuer") is None:
            data["embedded_issuer"] = data["env"] != "production"
        return data

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.blob_store == "s3" and not (self.s3_access_key and self.s3_secret_key):
            raise ValueError("COFFRE_S3_ACCESS_KEY and COFFRE_S3_SECRET_KEY are required with s3")
        if self.database == "postgres" and self.master_keys is None:
            # A server deployment must not silently mint a key file next to the code.
            raise ValueError("COFFRE_MASTER_KEYS is required with postgres")
        names = [issuer.issuer for issuer in self.oidc_issuers]
        if len(set(names)) != len(names) or (self.embedded_issuer and self.token_issuer in names):
            raise ValueError("each token issuer is configured once (COFFRE_OIDC_ISSUERS)")
        if self.env == "production" and self.embedded_issuer:
            raise ValueError(
                "COFFRE_ENV=production refuses the embedded development issuer and its "
                "OpenID provider: set COFFRE_EMBEDDED_ISSUER=false and COFFRE_OIDC_ISSUERS"
            )
        if not self.embedded_issuer and not self.oidc_issuers:
            raise ValueError(
                "no token issuer is trusted: configure COFFRE_OIDC_ISSUERS (COFFRE_ENV="
                f"{self.env}, COFFRE_EMBEDDED_ISSUER=false; postgres means production "
                "unless COFFRE_ENV=development says otherwise)"
            )
        return self

    @property
    def web_login_issuer(self) -> str:
        """The issuer the web page logs in with (``web_issuer``, else the embedded one)."""
        return self.web_issuer or f"{self.base_url}/idp"

    @property
    def s3_browser_origin(self) -> str | None:
        """The S3 origin browsers fetch from or upload to (presigned reads, direct
        uploads), for the page's Content-Security-Policy; ``None`` when they never do."""
        if self.blob_store != "s3" or not (self.s3_presign or self.s3_direct_uploads):
            return None
        scheme = "https" if self.s3_secure else "http"
        endpoints = (self.s3_public_endpoint or self.s3_endpoint).split(",")
        # several endpoints: a space-separated CSP source list names them all
        return " ".join(
            endpoint.rstrip("/") if "://" in endpoint else f"{scheme}://{endpoint}"
            for endpoint in (text.strip() for text in endpoints)
            if endpoint
        )

    def periods(self) -> Periods:
        """The durations the vault applies (RULES.md defaults unless configured)."""
        return Periods(
            opposition=self.opposition_period,
            archive_years=self.archive_years,
            express_deletion=self.express_deletion_delay,
            emergency=self.emergency_access_duration,
        )

    def registry(self) -> frozenset[str]:
        """The registry services' ids (``COFFRE_REGISTRY_SERVICES``)."""
        return _services(self.registry_services, DEMO_REGISTRY if self.embedded else None)

    def enrolment(self) -> frozenset[str]:
        """The enrolment services' ids (``COFFRE_ENROLMENT_SERVICES``)."""
        return _services(self.enrolment_services, DEMO_ENROLMENT if self.embedded else None)

    @property
    def embedded(self) -> bool:
        """True for the SQLite + filesystem default."""
        return self.database == "sqlite"

    @property
    def run_projections_in_process(self) -> bool:
        """Whether the API process also runs the projections."""
        if self.projections_in_process is None:
            return self.embedded
        return self.projections_in_process

    def event_store_env(self) -> dict[str, str]:
        """The ``eventsourcing`` environment for the vault application."""
        if self.database == "sqlite":
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.pg_dbname,
            "POSTGRES_HOST": self.pg_host,
            "POSTGRES_PORT": self.pg_port,
            "POSTGRES_USER": self.pg_user,
            "POSTGRES_PASSWORD": self.pg_password.get_secret_value() if self.pg_password else "",
            "POSTGRES_POOL_SIZE": str(self.pg_pool_size),
            "POSTGRES_LOCK_TIMEOUT": str(self.pg_lock_timeout),
            "POSTGRES_CONNECT_TIMEOUT": "10",
            # a pooled connection to a primary that died is found before use, not by the
            # request that draws it (after a failover every pooled connection is dead)
            "POSTGRES_PRE_PING": "y",
        }
        return env

    @property
    def base_url(self) -> str:
        """Where this server is reached (``COFFRE_PUBLIC_URL``, else host and port)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        # listening on every address: this machine's loopback reaches it
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def embedded_provider(self) -> bool:
        """Whether the embedded development OpenID provider runs (``/idp``): not in
        production, and not when the embedded issuer's tokens come from an external
        signer (``token_public_key``: this server holds no signing key to log in with)."""
        return self.embedded_issuer and self.env != "production" and not self.token_public_key

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file holding events, keys and projections in embedded mode."""
        return self.data_dir / "coffre.db"


def _services(listed: str | None, default: str | None) -> frozenset[str]:
    # A comma-separated list of service ids; unset: the default (the demo's, embedded).
    if listed is None:
        return frozenset({default}) if default else frozenset()
    return frozenset(part.strip() for part in listed.split(",") if part.strip())


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()

"""Operator commands: serving, migrations, tokens, projection workers, blob collection.

These run next to the data (they read ``COFFRE_*`` settings and open the stores);
the client commands in ``client.cli`` only speak HTTP.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer

from api.logging import configure_logging
from client.cli.common import err, fail, out
from coffre import bootstrap
from coffre.bootstrap import Coffre, DataDirLocked, build, lock_data_dir
from coffre.keysources import log_legacy_warnings
from domain.values import Actor
from vault.settings import MAX_WORKERS, Settings
from vault.tokens import TokenAuthority
from wire.errors import InvalidInput
from wire.values import Profession, Role

scheduler_app = typer.Typer(help="Apply the time-based rules of every space.", no_args_is_help=True)
blobs_app = typer.Typer(help="Blob store housekeeping.", no_args_is_help=True)

#: RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


def settings() -> Settings:
    """Settings from the ``COFFRE_*`` environment, read fresh for each command."""
    return Settings()


def token_authority(config: Settings) -> TokenAuthority:
    """The token issuer of this deployment (minting works only for the embedded one)."""
    if config.token_public_key:
        raise InvalidInput("tokens come from an external issuer here (COFFRE_TOKEN_PUBLIC_KEY)")
    if config.env == "production" or not config.embedded_issuer:
        # the server would refuse what we mint: its tokens come from its OpenID providers
        raise InvalidInput(
            "the embedded issuer is off here (COFFRE_EMBEDDED_ISSUER=false): tokens come "
            "from the OpenID providers of COFFRE_OIDC_ISSUERS"
        )
    return bootstrap.token_authority(config)


def serve(
    host: Annotated[str | None, typer.Option(help="Default: COFFRE_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: COFFRE_PORT.")] = None,
    workers: Annotated[int | None, typer.Option(help="Default: COFFRE_WORKERS.")] = None,
    embedded: Annotated[
        bool, typer.Option("--embedded", help="SQLite + files under COFFRE_DATA_DIR (default).")
    ] = False,
) -> None:
    """Serve the HTTP API with uvicorn (factory coffre.asgi:create).

    The settings are checked here, then this process becomes uvicorn (``exec``, same
    pid): the server does not carry the command line's own modules (~6 MiB each worker).
    """
    if embedded:
        # the factory reads settings from the environment, in this and any worker process
        os.environ["COFFRE_DATABASE"] = "sqlite"
        os.environ["COFFRE_BLOB_STORE"] = "fs"
    config = settings()
    workers = config.workers if workers is None else workers  # --workers 0 is refused below
    if host is None:
        host = _checked_host(config.host, "COFFRE_HOST")
    else:
        host = _checked_host(host, "--host")
    port = (
        _checked_port(config.port, "COFFRE_PORT") if port is None else _checked_port(port, "--port")
    )
    if not 1 <= workers <= MAX_WORKERS:
        fail(f"--workers / COFFRE_WORKERS must be between 1 and {MAX_WORKERS}, not {workers}")
    if config.embedded and workers > 1:
        # each worker would run its own in-process projection runner on one SQLite file
        fail("embedded mode serves with one worker; use PostgreSQL to scale out")
    if config.embedded_provider and workers > 1:
        # its logins, codes and refresh tokens live in one process's memory
        fail(
            "the development OpenID provider (/idp) serves with one worker; to scale "
            "out, trust an external issuer instead (COFFRE_EMBEDDED_ISSUER=false with "
            "COFFRE_OIDC_ISSUERS, or COFFRE_TOKEN_PUBLIC_KEY)"
        )
    if config.embedded:
        # One server per data directory: a second would run its own projections and
        # scheduler on the same SQLite file. The lock's descriptor is inherited by the
        # exec below, so uvicorn holds it until it exits, however it exits.
        try:
            lock_data_dir(config)
        except DataDirLocked as locked:
            fail(str(locked))
    err().print(f"data in {config.data_dir.resolve()}" if config.embedded else "PostgreSQL mode")
    environment = dict(os.environ)
    # the factory builds the provider's issuer URL from these (unless COFFRE_PUBLIC_URL)
    environment["COFFRE_HOST"], environment["COFFRE_PORT"] = host, str(port)
    if config.embedded_provider:
        base = config.model_copy(update={"host": host, "port": port}).base_url
        err().print(f"development OpenID provider: {base}/idp (`coffre login --url {base}`)")
    # Deposits pass through 5 MiB S3 parts. After the first such buffer is freed, glibc
    # raises its mmap threshold and keeps later ones in per-thread heaps, so the resident
    # size grows with the part count; a fixed threshold gives each back to the OS when
    # freed (bench row 11: -5 MiB at the peak of a deposit, -11 MiB after a read). An
    # operator's own setting wins.
    environment.setdefault("MALLOC_MMAP_THRESHOLD_", str(256 * 1024))
    # A worker that dies of a fatal signal (a crash in a C extension) would leave only
    # uvicorn's "Child process [N] died": Python's fault handler writes each thread's
    # stack to the log first (function names and lines, never a value).
    environment.setdefault("PYTHONFAULTHANDLER", "1")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "coffre.asgi:create",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        # the app logs each request itself, with content tickets redacted; uvicorn's
        # access log would print raw paths, tickets included
        "--no-access-log",
        "--no-server-header",
        "--timeout-keep-alive",
        str(config.keep_alive_timeout),
        "--timeout-worker-healthcheck",
        str(config.worker_healthcheck_timeout),
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, environment)  # noqa: S606  # our own interpreter


def _checked_port(port: int, source: str) -> int:
    """``port`` if it is a TCP port (uvicorn would silently listen on another one)."""
    if not 1 <= port <= 65535:
        fail(f"{source}: {port} is not a TCP port (1 to 65535)")
    return port


def _checked_host(host: str, source: str) -> str:
    """``host`` if it is an IP address or a host name that resolves."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if not _HOST_NAME.fullmatch(host):
        fail(f"{source}: {host!r} is not an IP address or a host name")
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        fail(f"{source}: the host name {host!r} does not resolve to an address")
    return host


def migrate() -> None:
    """Create the event tables, then apply pending SQL migrations (key store, views)."""
    # As every process starting does: the event store's tables first (eventsourcing's,
    # which migration 0004 alters: on a new database the migrations alone failed), under
    # the schema lock beside processes starting on the same database.
    config = settings()
    _logs_to_stderr(config)  # stdout lists the migrations applied, for a script to read
    coffre = build(config)
    coffre.close()
    out().print("\n".join(coffre.migrated) if coffre.migrated else "up to date")


def token(
    role: Annotated[Role, typer.Argument(help="patient, professional, service or regulator.")],
    actor_id: Annotated[str, typer.Argument(metavar="ID", help="INS, RPPS or service name.")],
    name: Annotated[str, typer.Option(help="Display name, shown in access logs.")],
    profession: Annotated[Profession | None, typer.Option(help="Professionals only.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Where the actor works.")] = None,
    ttl: Annotated[
        int | None, typer.Option(help="Minutes (default COFFRE_TOKEN_TTL_MINUTES).")
    ] = None,
) -> None:
    """Mint a bearer token with the embedded issuer key; prints only the token."""
    config = settings()
    actor = Actor(
        role=role, id=actor_id, name=name, profession=profession, organisation=organisation
    )
    minutes = ttl if ttl is not None else config.token_ttl_minutes
    # print, not rich: a token must come out as one unwrapped, unstyled line
    typer.echo(token_authority(config).mint(actor, timedelta(minutes=minutes)))


def _logs_to_stderr(config: Settings) -> None:
    # Operator commands log like the server (scheduler passes, collections, workers),
    # on stderr: stdout is for what a script reads.
    configure_logging(config.log_format, stream=sys.stderr)


@contextmanager
def opened() -> Iterator[Coffre]:
    """The whole application, closed on the way out."""
    config = settings()
    _logs_to_stderr(config)
    coffre = build(config)
    log_legacy_warnings(config)
    try:
        yield coffre
    finally:
        coffre.close()


@scheduler_app.command("run")
def scheduler_run(
    once: Annotated[bool, typer.Option(help="One pass, then exit (for cron).")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 30.0,
) -> None:
    """Record what fell due (openings, reveals, end of representation, deletions), and
    collect the blob store every COFFRE_BLOB_COLLECT_INTERVAL (``--once``: now)."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda signum, frame: stop.set())
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        with opened() as coffre:
            while True:
                report = coffre.scheduler.run_once()
                if report.applied or report.failed:
                    err().print(
                        f"applied {len(report.applied)} space(s), failed {len(report.failed)}"
                    )
                collected = coffre.collector.run_if_due()
                if collected is not None:
                    err().print(
                        f"blobs collected: {collected.orphans} orphan(s), "
                        f"{collected.temporaries} unfinished upload(s)"
                    )
                if once or stop.wait(interval):
                    break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@blobs_app.command("collect")
def blobs_collect(
    older_than: Annotated[
        float | None,
        typer.Option(
            help="Hours before an orphan is removed (must exceed the upload receipt "
            "lifetime). Default: COFFRE_BLOB_ORPHAN_GRACE."
        ),
    ] = None,
    temporaries_older_than: Annotated[
        float | None,
        typer.Option(
            help="Hours before an unfinished upload (temporary file, S3 multipart upload) "
            "is removed. Default: COFFRE_BLOB_TEMPORARY_GRACE."
        ),
    ] = None,
) -> None:
    """Delete stored ciphertexts that no deposit names, and what interrupted uploads left."""
    config = settings()
    if older_than is not None:
        config = config.model_copy(update={"blob_orphan_grace": timedelta(hours=older_than)})
    if temporaries_older_than is not None:
        grace = timedelta(hours=temporaries_older_than)
        config = config.model_copy(update={"blob_temporary_grace": grace})
    _logs_to_stderr(config)
    # (a grace shorter than the receipts' lifetime is refused here, by name)
    coffre = build(config)
    try:
        report = coffre.collector.run()
    finally:
        coffre.close()
    out().print(f"{report.orphans} orphan blob(s) removed")
    out().print(f"{report.temporaries} unfinished upload(s) removed")

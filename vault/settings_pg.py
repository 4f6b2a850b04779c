"""The PostgreSQL part of the configuration (``COFFRE_PG_*``): one server, or the
hosts of a replicated cluster (docs/operations.md, "PostgreSQL").

With several hosts, libpq tries them in order and keeps the first that
``pg_target_session_attrs`` accepts: ``read-write`` is whichever node is the primary,
so a failover needs no change of configuration and no restart, only new connections.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

#: a host name, an IPv4 or IPv6 address, or a Unix socket directory; nothing libpq's
#: conninfo syntax would read as another parameter
_HOST = re.compile(r"[A-Za-z0-9._:/%-]{1,253}")
#: hosts of one cluster: a handful in practice; bounds libpq's attempts per connection
_MAX_HOSTS = 16


def _is_port(text: str) -> bool:
    text = text.strip()
    return len(text) <= 5 and text.isascii() and text.isdigit() and 1 <= int(text) <= 65535


class PostgresSettings(BaseSettings):
    """Where the events, keys and views are, when ``database`` is ``postgres``."""

    pg_host: str = Field(
        "127.0.0.1",
        description="PostgreSQL host, or comma-separated hosts of a replicated cluster "
        "(libpq tries them in order and keeps the one pg_target_session_attrs accepts)",
    )
    pg_port: str = Field(
        "5432", description="PostgreSQL port, or one per host (comma-separated), or one for all"
    )
    pg_target_session_attrs: Literal["any", "read-write", "primary"] = Field(
        "read-write",
        description="which of the hosts to use: read-write (the primary, whichever it is "
        "after a failover) unless the database is a single server",
    )
    pg_connect_timeout: int = Field(
        5, gt=0, description="seconds libpq waits for each host before trying the next"
    )
    pg_user: str = "postgres"
    pg_password: SecretStr | None = None
    pg_dbname: str = "coffre"
    pg_pool_size: int = 5
    pg_lock_timeout: int = Field(
        5,
        ge=0,
        le=3_600,
        description="seconds a writer waits for the events table, and a projection batch "
        "for a view another runner holds (0: without end)",
    )
    pg_schema_lock_timeout: int = Field(
        600,
        gt=0,
        le=86_400,
        description="seconds a starting process waits while another creates tables or "
        "migrates (it says who every 10 s), then gives up",
    )

    @field_validator("pg_host")
    @classmethod
    def _hosts(cls, value: str) -> str:
        # Written into a libpq conninfo string as it is: a space, quote, backslash or
        # "=" would add parameters of its own, an empty item would connect to a default.
        hosts = value.split(",")
        if len(hosts) > _MAX_HOSTS or not all(_HOST.fullmatch(host) for host in hosts):
            raise ValueError(
                f"COFFRE_PG_HOST is a host name or address, or up to {_MAX_HOSTS} of "
                "them comma-separated without spaces"
            )
        return value

    @field_validator("pg_port", mode="before")
    @classmethod
    def _ports(cls, value: object) -> object:
        # an int (one port) is accepted as well as libpq's comma-separated list
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            ports = value.split(",")
            if len(ports) > _MAX_HOSTS or not all(_is_port(port) for port in ports):
                raise ValueError("COFFRE_PG_PORT is a port or comma-separated ports (1-65535)")
        return value

    @model_validator(mode="after")
    def _one_port_per_host(self) -> PostgresSettings:
        # libpq's own rule, checked at start rather than at the first connection
        hosts, ports = self.pg_host.count(",") + 1, self.pg_port.count(",") + 1
        if ports not in (1, hosts):
            raise ValueError(
                f"COFFRE_PG_PORT lists {ports} ports for {hosts} hosts: give one port for "
                "all hosts, or one per host"
            )
        return self

    def libpq_env(self) -> dict[str, str]:
        """What libpq reads from the environment for every connection that does not
        say otherwise: eventsourcing's pools take only host, port, user, password and
        dbname, so the choice of the primary among several hosts travels this way."""
        return {
            "PGTARGETSESSIONATTRS": self.pg_target_session_attrs,
            "PGCONNECT_TIMEOUT": str(self.pg_connect_timeout),
        }

    def pg_conninfo(self) -> str:
        """libpq connection string for the PostgreSQL database."""
        parts = [
            f"host={self.pg_host}",
            f"port={self.pg_port}",
            f"user={self.pg_user}",
            f"dbname={self.pg_dbname}",
            f"target_session_attrs={self.pg_target_session_attrs}",
            f"connect_timeout={self.pg_connect_timeout}",
        ]
        if self.pg_password:
            parts.append(f"password={self.pg_password.get_secret_value()}")
        return " ".join(parts)

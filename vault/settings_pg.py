"""The PostgreSQL part of the configuration (``COFFRE_PG_*``): one server, or the
hosts of a replicated cluster (docs/operations.md, "PostgreSQL").

With several hosts, libpq tries them in order and keeps the first that
``pg_target_session_attrs`` accepts: ``read-write`` is whichever node is the primary,
so a failover needs no change of configuration and no restart, only new connections.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings


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
    pg_lock_timeout: int = Field(5, description="seconds a writer waits for the events table")

    @field_validator("pg_port", mode="before")
    @classmethod
    def _ports(cls, value: object) -> object:
        # an int (one port) is accepted as well as libpq's comma-separated list
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and not all(p.strip().isdigit() for p in value.split(",")):
            raise ValueError("COFFRE_PG_PORT is a port or comma-separated ports")
        return value

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

"""Settings and error mapping for a replicated PostgreSQL (docs/operations.md, "PostgreSQL")."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError
from pydantic import ValidationError

from api.problems import is_transient
from keys.master import MasterKeys
from vault.migrations import backend_uri
from vault.settings import Settings

HOSTS = "10.0.0.1,10.0.0.2,10.0.0.3"
PORTS = "5432,5433,5434"


def cluster(**fields: object) -> Settings:
    """Settings of a deployment on a three-node cluster."""
    values: dict[str, object] = {
        "database": "postgres",
        "env": "development",
        "master_keys": MasterKeys.generate().current.to_line(),
        "pg_host": HOSTS,
        "pg_port": PORTS,
    }
    return Settings(**(values | fields))  # type: ignore[arg-type]


def test_every_connection_keeps_the_primary_of_the_listed_hosts() -> None:
    settings = cluster()
    conninfo = psycopg.conninfo.conninfo_to_dict(settings.pg_conninfo())
    assert conninfo["host"] == HOSTS and conninfo["port"] == PORTS
    assert conninfo["target_session_attrs"] == "read-write"
    env = settings.event_store_env()
    assert env["POSTGRES_HOST"] == HOSTS and env["POSTGRES_PORT"] == PORTS
    assert env["POSTGRES_PRE_PING"] == "y"
    assert settings.libpq_env()["PGTARGETSESSIONATTRS"] == "read-write"
    query = parse_qs(urlsplit(backend_uri(settings)).query)
    assert query["host"] == [HOSTS] and query["port"] == [PORTS]
    assert query["target_session_attrs"] == ["read-write"]


def test_one_port_may_be_an_int_and_a_port_list_must_be_ports() -> None:
    assert cluster(pg_port=5432).pg_port == "5432"
    with pytest.raises(ValidationError):
        cluster(pg_port="5432,primary")


def test_a_failover_is_transient_and_a_conflict_is_not() -> None:
    lost = OperationalError("server closed the connection unexpectedly")
    assert is_transient(lost)
    assert is_transient(psycopg.errors.ReadOnlySqlTransaction())
    assert not is_transient(IntegrityError("duplicate key"))

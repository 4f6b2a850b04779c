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


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"pg_host": "10.0.0.1 password=x"}, id="host-adds-a-parameter"),
        pytest.param({"pg_host": "10.0.0.1,,10.0.0.3"}, id="empty-host"),
        pytest.param({"pg_host": "db'1"}, id="quote"),
        pytest.param({"pg_host": "\uff44\uff42"}, id="fullwidth"),
        pytest.param({"pg_host": ",".join(["h"] * 17), "pg_port": "5432"}, id="too-many-hosts"),
        pytest.param({"pg_port": "5432,5433"}, id="two-ports-for-three-hosts"),
        pytest.param({"pg_port": "0"}, id="port-zero"),
        pytest.param({"pg_port": "65536"}, id="port-too-big"),
        pytest.param({"pg_port": "\uff15\uff14\uff13\uff12"}, id="fullwidth-digits"),
        pytest.param({"pg_port": "9" * 5000}, id="huge"),
    ],
)
def test_a_host_or_port_list_libpq_would_misread_is_refused_at_start(
    fields: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        cluster(**fields)


def test_one_port_serves_every_host_and_ipv6_and_socket_hosts_are_hosts() -> None:
    assert cluster(pg_port="6432").pg_port == "6432"
    assert cluster(pg_host="::1,db-2.internal,/var/run/postgresql", pg_port=5432)


@pytest.mark.parametrize("name", ["cache_events", "cache_titles"])
@pytest.mark.parametrize("value", [0, -1])
def test_a_cache_bound_must_be_positive(name: str, value: int) -> None:
    with pytest.raises(ValidationError):
        cluster(**{name: value})

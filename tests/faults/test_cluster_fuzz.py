"""The schemathesis run of tests/fuzz, against two API workers on the replicated
cluster (scripts/pg-cluster: Patroni, a synchronous standby, multi-host libpq).

The same bounded, seeded runs as tests/fuzz/test_schemathesis.py, two roles at once,
each on its own worker: the workers share the events through the cluster's primary, so
one's writes are the other's reads. No answer may be >= 500, none undocumented, and the
workers and the projection worker must log no unhandled error.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from keys.master import MasterKeys
from tests.devices import ENROLMENT
from tests.faults.cluster import (
    cluster_database,
    coffre_env,
    running_cluster,
    scratch_bucket,
    workers,
)
from tests.fuzz import test_schemathesis
from tests.fuzz.conftest import NEIGHBOUR, REGISTRY, REPRESENTATIVE_ID, ROLES, World, _seed
from tests.fuzz.test_schemathesis import MIN_REQUESTS, _run, _server_errors
from vault.tokens import TokenAuthority

#: the roles fuzzed, one per worker, at the same time (the patient, who may close their
#: own space, is left to tests/fuzz)
PAIRS = ("professional", "service")
#: test cases per operation and phase: tests/fuzz's 12 give ~3,000 requests per role,
#: more than the 2,000 asked for in all, and twice the time of the module's budget
MAX_EXAMPLES = 7


@pytest.fixture(scope="module")
def worlds(
    tmp_path_factory: pytest.TempPathFactory, s3_server: dict[str, str]
) -> Iterator[list[World]]:
    """The seeded fuzzing world on the cluster, as seen through each of two workers."""
    tmp = tmp_path_factory.mktemp("cluster-fuzz")
    with (
        running_cluster(15444, 12381, 18011) as cluster,
        cluster_database(cluster, "coffre_cfuzz") as dbname,
        scratch_bucket(s3_server, "coffre-cfuzz") as bucket,
    ):
        master = MasterKeys.generate()
        env = coffre_env(cluster, dbname, s3_server, bucket, master.current.to_line())
        env["COFFRE_REGISTRY_SERVICES"] = REGISTRY.id
        env["COFFRE_ENROLMENT_SERVICES"] = ENROLMENT.id
        authority = TokenAuthority.from_seed("coffre", master.derive("token-signing"))
        tokens = {role: authority.mint(actor) for role, actor in ROLES.items()}
        tokens["registry"] = authority.mint(REGISTRY)
        tokens["enrolment"] = authority.mint(ENROLMENT)
        with workers(env, tmp, 2) as (urls, _):
            seeded: dict[str, Any] = _seed(urls[0], tokens)
            first = World(
                backend="patroni",
                url=urls[0],
                log=tmp / "worker0.log",
                tokens=tokens,
                patient_id=ROLES["patient"].id,
                neighbour_id=NEIGHBOUR.id,
                professional_id=ROLES["professional"].id,
                representative_id=REPRESENTATIVE_ID,
                document_id=seeded["document_id"],
                grant_id=seeded["grant_id"],
                reader_key_ids=seeded["reader_key_ids"],
            )
            yield [first, dataclasses.replace(first, url=urls[1], log=tmp / "worker1.log")]


def test_two_workers_on_the_cluster_answer_no_5xx(
    worlds: list[World],
    tmp_path: Path,
    record_property: Callable[[str, Any], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(test_schemathesis, "MAX_EXAMPLES", MAX_EXAMPLES)
    began = time.monotonic()
    with ThreadPoolExecutor(len(PAIRS)) as pool:
        runs = [
            pool.submit(_run, world, role, tmp_path / role)
            for world, role in zip(worlds, PAIRS, strict=True)
        ]
        results = [run.result() for run in runs]
    total = sum(r.requests for r in results)
    errors = sum(n for r in results for status, n in r.statuses.items() if status >= 500)
    for r in results:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(r.statuses.items()))
        print(f"[patroni] {r.role}: {r.requests} requests in {r.seconds:.0f} s ({statuses})")
    summary = (
        f"[patroni] {total} requests on 2 workers, {errors} answers >= 500, "
        f"{time.monotonic() - began:.0f} s"
    )
    print(summary)
    record_property("cluster_fuzz", summary)
    findings = [f.line("patroni") for r in results for f in r.findings]
    server = [line for world in worlds for line in _server_errors(world.log)]
    assert total >= MIN_REQUESTS, f"only {total} requests were made"
    assert errors == 0, "\n".join(findings)
    assert not findings, "\n".join(findings)
    assert not server, "the workers logged unhandled errors:\n" + "\n".join(server)

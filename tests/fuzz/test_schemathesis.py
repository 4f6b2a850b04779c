"""Schemathesis against a real ``coffre serve``, with a valid token for every role.

Every operation of ``/openapi.json`` is fuzzed (examples, coverage, fuzzing and
stateful phases; positive and negative data) as a regulator, a professional, a service
and a patient, on both backends. Each run is bounded by ``--max-examples`` per
operation and phase, never by time, and must end with no answer >= 500 and no answer
the document does not describe (status, content type, body schema). Path parameters
take the seeded world's ids half of the time (schemathesis dictionaries), so the fuzzer
reaches real spaces, documents and grants rather than stopping at 404.

The upload route is fuzzed like the others: a random body is not a Coffre envelope and
must be refused as documented, which is exactly what is under test.

The probe's own cases (issue 9) follow as explicit examples checked against the same
document: a 26-digit ``up_to``, a 26-digit ``before`` cursor on the notifications and
the access log, a patient id with a trailing newline; after them, every read route of
the patient still answers.

``COFFRE_FUZZ_FINDINGS=<path>`` appends every distinct finding, one line each, to
``<path>`` (for whoever fixes them); the test prints them in any case.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import World

#: the checks the acceptance line names: no 5xx, and every answer as documented
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
#: least destructive first: a patient may close their own space, a service reopen it
ORDER = ("regulator", "professional", "service", "patient")
#: test cases per operation and phase: about 2,000 requests per role and backend
MAX_EXAMPLES = 12
#: the seed makes a failure reproducible: the same run finds it again
SEED = 20261127
#: requests a backend must have answered in all roles, or the run proved too little
MIN_REQUESTS = 2000
#: the probe's number: 26 digits, beyond any 64-bit column
HUGE = 10**25


@dataclass(frozen=True)
class Finding:
    """One answer that failed a check."""

    role: str
    operation: str
    check: str
    status: int | None
    request: str
    detail: str

    @property
    def key(self) -> tuple[str, str, int | None]:
        """What makes two findings the same defect."""
        return (self.operation, self.check, self.status)

    def line(self, backend: str) -> str:
        """One line for the findings file."""
        return (
            f"- [{backend}] {self.operation} as {self.role}: {self.check} "
            f"(status {self.status}) on {self.request} -> {self.detail}"
        )


@dataclass
class RunResult:
    """What one role's run did."""

    role: str
    returncode: int
    seconds: float
    requests: int
    statuses: Counter[int]
    findings: list[Finding]
    errors: list[str]
    output: str


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=True)
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} chars)"


def _decoded(content: Any) -> str:
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return "" if content is None else str(content)


def _config(world: World, path: Path) -> Path:
    """A schemathesis.toml whose dictionaries point path parameters at the world."""
    dictionaries = {
        "patients": [world.patient_id, world.neighbour_id],
        "documents": [str(world.document_id)],
        "grants": [str(world.grant_id)],
        "professionals": [world.professional_id],
        "representatives": [world.representative_id],
    }
    bindings = {
        "patient_id": "patients",
        "document_id": "documents",
        "grant_id": "grants",
        "professional_id": "professionals",
        "representative_id": "representatives",
    }
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for parameter, dictionary in bindings.items():
        lines.append(f'"path.{parameter}" = {{ dictionary = "{dictionary}", probability = 0.5 }}')
    path.write_text("\n".join(lines) + "\n")
    return path


def _analyse(role: str, ndjson: Path) -> tuple[int, Counter[int], list[Finding], list[str]]:
    """Requests made, statuses, failed checks and engine errors from the event stream."""
    requests_made = 0
    statuses: Counter[int] = Counter()
    findings: list[Finding] = []
    errors: list[str] = []
    if not ndjson.exists():
        return 0, statuses, findings, ["no event stream was written"]
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        if "NonFatalError" in event or "FatalError" in event:
            errors.append(_short(event, 400))
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        interactions = recorder.get("interactions", {})
        for interaction in interactions.values():
            response = interaction.get("response")
            requests_made += 1
            if response:
                statuses[response["status_code"]] += 1
        for case_id, checks in recorder.get("checks", {}).items():
            failed = [c for c in checks if c["status"] != "success"]
            if not failed:
                continue
            case = recorder["cases"][case_id]["value"]
            request = {
                k: case[k] for k in ("path_parameters", "query", "body") if case.get(k) is not None
            }
            response = (interactions.get(case_id) or {}).get("response") or {}
            for check in failed:
                failure = (check.get("failure_info") or {}).get("failure") or {}
                message = failure.get("message") or failure.get("title") or ""
                detail = f"{message} | body: {_decoded(response.get('content'))}"
                findings.append(
                    Finding(
                        role=role,
                        operation=f"{case['method']} {case['path']}",
                        check=check["name"],
                        status=response.get("status_code"),
                        request=_short(request, 400),
                        detail=_short(detail.replace("\n", " "), 300),
                    )
                )
    return requests_made, statuses, findings, errors


def _run(world: World, role: str, workdir: Path) -> RunResult:
    """One bounded schemathesis run as ``role``."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = _config(world, workdir / "schemathesis.toml")
    ndjson = workdir / "events.ndjson"
    command = [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
        "--config-file",
        str(config),
        "run",
        f"{world.url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"Authorization: Bearer {world.tokens[role]}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--mode",
        "all",
        "--workers",
        "1",
        "--continue-on-failure",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(ndjson),
        "--no-color",
    ]
    began = time.monotonic()
    done = subprocess.run(  # our own interpreter and arguments
        command, cwd=workdir, capture_output=True, text=True, timeout=900, check=False
    )
    seconds = time.monotonic() - began
    requests_made, statuses, findings, errors = _analyse(role, ndjson)
    return RunResult(
        role, done.returncode, seconds, requests_made, statuses, findings, errors, done.stdout
    )


def _server_errors(log: Path) -> list[str]:
    """The distinct unhandled exceptions in the server's JSON log, with where they rose."""
    seen: dict[str, int] = {}
    worker = log.with_name("projections.log")  # PostgreSQL: the projection worker's
    lines = [
        line
        for path in (log, worker)
        if path.exists()
        for line in path.read_text(errors="replace").splitlines()
    ]
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for exc in record.get("exception") or []:
            if not isinstance(exc, dict):
                continue
            ours = [f for f in exc.get("frames", []) if "/.venv/" not in f.get("filename", "")]
            where = f"{ours[-1]['filename']}:{ours[-1]['lineno']}" if ours else "?"
            text = f"{exc.get('exc_type')}: {_short(exc.get('exc_value', ''), 200)} at {where}"
            seen[text] = seen.get(text, 0) + 1
    return [f"{count} x {text}" for text, count in seen.items()]


def _record(lines: list[str]) -> None:
    target = os.environ.get("COFFRE_FUZZ_FINDINGS")
    if target and lines:
        with open(target, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def test_every_role_gets_only_documented_answers(world: World, tmp_path: Path) -> None:
    began = time.monotonic()
    results = [_run(world, role, tmp_path / role) for role in ORDER]
    total = sum(r.requests for r in results)
    for r in results:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(r.statuses.items()))
        print(
            f"[{world.backend}] {r.role}: {r.requests} requests in {r.seconds:.0f} s "
            f"(exit {r.returncode}; {statuses})"
        )
    print(f"[{world.backend}] {total} requests in all, {time.monotonic() - began:.0f} s")
    distinct: dict[tuple[str, str, int | None], Finding] = {}
    for r in results:
        for finding in r.findings:
            distinct.setdefault(finding.key, finding)
    lines = [f.line(world.backend) for f in distinct.values()]
    server = _server_errors(world.log)
    lines += [f"- [{world.backend}] server log: {text}" for text in server]
    for line in lines:
        print(line)
    _record(lines)
    errors = [f"{r.role}: {e}" for r in results for e in r.errors]
    assert not errors, "schemathesis could not run every case:\n" + "\n".join(errors)
    assert total >= MIN_REQUESTS, f"only {total} requests were made"
    assert not distinct, f"{len(distinct)} distinct failures:\n" + "\n".join(lines)
    assert not server, "the server logged unhandled errors:\n" + "\n".join(server)
    failed = [r for r in results if r.returncode != 0]
    assert not failed, "\n".join(f"{r.role}:\n{r.output[-3000:]}" for r in failed)


# -- the probe's cases, as explicit examples -------------------------------------------


def _examples(world: World) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(role, method, path template, case fields) for each of the probe's inputs."""
    patient = world.patient_id
    return [
        ("patient", "GET", "/v1/notifications", {"query": {"before": str(HUGE)}}),
        (
            "patient",
            "GET",
            "/v1/spaces/{patient_id}/access-log",
            {"path_parameters": {"patient_id": patient}, "query": {"before": str(HUGE)}},
        ),
        ("service", "POST", "/v1/spaces", {"body": {"patient_id": f"{patient}\n"}}),
        (
            "patient",
            "GET",
            "/v1/spaces/{patient_id}/state",
            {"path_parameters": {"patient_id": f"{patient}\n"}},
        ),
        (
            "service",
            "GET",
            "/v1/spaces/{patient_id}/key",
            {"path_parameters": {"patient_id": f"{patient}\n"}},
        ),
        # last: the probe's poison, which broke every read above once recorded
        ("service", "POST", "/v1/notifications/acknowledgements", {"body": {"up_to": HUGE}}),
        ("patient", "POST", "/v1/notifications/acknowledgements", {"body": {"up_to": HUGE}}),
    ]


#: the read routes the probe saw answer 500 for everyone once the poison was recorded
AFTERWARDS = [
    ("patient", "GET", "/v1/notifications", {}),
    ("professional", "GET", "/v1/me/spaces", {}),
    ("patient", "GET", "/v1/spaces/{patient_id}/access-log", {"path_parameters": "patient"}),
    (
        "patient",
        "GET",
        "/v1/spaces/{patient_id}/documents/{document_id}/readers",
        {"path_parameters": "document"},
    ),
    ("regulator", "GET", "/v1/trail/checkpoints/latest", {}),
    ("regulator", "GET", "/v1/trail/export", {"query": {"patient_id": "patient"}}),
]


def _check(schema: Any, world: World, role: str, method: str, path: str, fields: dict) -> str:
    """Send one explicit case; returns a failure description, or "" when it conforms."""
    case = schema[path][method].Case(**fields)
    response = case.call(base_url=world.url, headers=world.headers(role), timeout=30)
    print(f"[{world.backend}] {method} {path} as {role} {_short(fields)}: {response.status_code}")
    try:
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )
    except (FailureGroup, AssertionError) as failure:  # one failure, or a group of them
        failures = failure.exceptions if isinstance(failure, FailureGroup) else [failure]
        text = "; ".join(str(f).replace("\n", " ") for f in failures)
        return (
            f"- [{world.backend}] {method} {path} as {role}: {_short(fields)} -> "
            f"{response.status_code}: {_short(text, 300)}"
        )
    if method == "POST" and path == "/v1/spaces" and response.status_code < 300:
        return f"- [{world.backend}] POST /v1/spaces as {role}: a trailing newline was accepted"
    return ""


def test_the_probes_inputs_get_documented_answers_and_break_nothing(world: World) -> None:
    schema = schemathesis.openapi.from_url(f"{world.url}/openapi.json")
    failures = [
        failure
        for role, method, path, fields in _examples(world)
        if (failure := _check(schema, world, role, method, path, fields))
    ]
    # Whatever was recorded above, the patient's reads and the trail still answer.
    ids = {
        "patient": {"patient_id": world.patient_id},
        "document": {"patient_id": world.patient_id, "document_id": str(world.document_id)},
    }
    for role, method, path, spec in AFTERWARDS:
        fields: dict[str, Any] = {}
        if "path_parameters" in spec:
            fields["path_parameters"] = ids[spec["path_parameters"]]
        if "query" in spec:
            fields["query"] = {"patient_id": world.patient_id}
        case = schema[path][method].Case(**fields)
        # On PostgreSQL the views are a worker's: give it a moment to catch up.
        deadline = time.monotonic() + 15
        while True:
            response = case.call(base_url=world.url, headers=world.headers(role), timeout=30)
            if response.status_code < 500 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        # The fuzzer may have deleted the document or closed the space: any documented
        # refusal is fine, a 5xx is the breakage the probe saw.
        if response.status_code >= 500:
            failures.append(
                f"- [{world.backend}] after the probe's inputs, {method} {path} as {role} "
                f"answers {response.status_code}: {_short(response.text, 200)}"
            )
    for line in failures:
        print(line)
    _record(failures)
    assert not failures, "\n".join(failures)

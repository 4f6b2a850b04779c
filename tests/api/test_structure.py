"""Issue 10: thin routers over use cases cut by concept.

Routers translate HTTP: every answer has a model, no route computes a domain id or
decides when views catch up (``api.deps.FreshViews`` does), and the vault's core
imports none of the concept modules built on it (no import loop).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from api_helpers import ALICE, DOCTOR
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
CONCEPTS = (
    "life",
    "documents",
    "reads",
    "grants",
    "confidentiality",
    "representatives",
    "blocks",
    "emergency",
    "notifications",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _is_model(schema: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return True
    return schema.get("type") == "array" and "$ref" in schema.get("items", {})


def test_every_json_answer_has_a_response_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    loose = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if set(content) - {"application/json"}:
                    continue  # a stream or a document of its own media type (exports)
                json_body = content.get("application/json")
                schema_of = (json_body or {}).get("schema")
                if status.startswith("2") and json_body is not None and not _is_model(schema_of):
                    loose.append(f"{method.upper()} {path} {status}")
    assert loose == []


def test_no_router_computes_a_domain_id_or_decides_freshness() -> None:
    for router in sorted((ROOT / "api" / "routers").glob("*.py")):
        text = router.read_text(encoding="utf-8")
        for word in ("create_id", "catch_up", "run_projections_in_process", "RunnerDep"):
            assert word not in text, f"{router.name} uses {word}"
        assert "domain.space" not in _imports(router), router.name


def test_the_vault_core_imports_no_use_case_and_no_use_case_imports_the_vault() -> None:
    vault = ROOT / "vault"
    core = _imports(vault / "core.py")
    assert not {f"vault.{name}" for name in CONCEPTS} & core
    for name in CONCEPTS:
        imported = _imports(vault / f"{name}.py")
        assert "vault.service" not in imported, name
        assert "vault.core" in imported, name


def test_a_documents_readers_answer_unknown_while_it_is_invisible_to_the_patient(
    client: TestClient, alice: Any, hospital: Any, doctor: Any
) -> None:
    grantee = {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"}
    grant = alice.post(
        f"/v1/spaces/{ALICE.id}/grants", json={"grantee": grantee, "scope": {"kind": "space"}}
    )
    assert grant.status_code == 201, grant.text
    held = hospital.deposit(ALICE.id, b"annonce", invisible_to_patient=True)["document_id"]
    url = f"/v1/spaces/{ALICE.id}/documents/{held}/readers"
    answer = alice.get(url)
    assert answer.status_code == 404, answer.text
    assert doctor.get(url).status_code == 403
    shown = alice.deposit(ALICE.id, b"bilan")["document_id"]
    answer = alice.get(f"/v1/spaces/{ALICE.id}/documents/{shown}/readers")
    assert answer.status_code == 200, answer.text
    readers = answer.json()["readers"]
    assert [r["professional"]["id"] for r in readers] == [DOCTOR.id]

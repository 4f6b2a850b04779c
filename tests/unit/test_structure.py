"""The shape of the code base, checked rather than remembered (issue 10).

No module outside ``tests/`` is over 400 lines: a module that long holds more than
one concept. ``domain/`` has no ``type: ignore[attr-defined]``: its concept objects
are composed, not mixins reading each other's attributes.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400
#: not the product's modules: the virtualenv, the test services' data, build output
SKIPPED = {"tests", ".venv", ".test-services", "build", "dist", ".git"}


def _modules() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in SKIPPED or any(p.endswith(".egg-info") for p in parts):
            continue
        found.append(path)
    return found


def test_no_module_outside_tests_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): count
        for path in _modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"


def test_the_domain_has_no_type_ignore_for_missing_attributes() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "domain").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "type: ignore[attr-defined" in line
    ]
    assert found == [], f"type: ignore[attr-defined] in domain/: {found}"


def test_no_test_package_shadows_a_product_package() -> None:
    # ``tests/`` is on sys.path while the suite runs: a test package named like a product
    # package (``tests/client``) would stand in for it, and its modules (``client.sdk``)
    # would come from wherever the installed distribution points, not from this tree.
    product = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    tests = {p.name for p in (ROOT / "tests").iterdir() if (p / "__init__.py").is_file()}
    assert product & tests == set()
    import client.sdk

    assert Path(client.sdk.__file__).resolve().parent == ROOT / "client"


#: routers that are no concept of a space: the service's health, the module they share,
#: the access views (the projection ``reads`` serves to professionals), and the web
#: page's login, session and files
NOT_CONCEPTS = {"__init__", "common", "health", "access_views", "sessions", "web"}
#: the concepts, as the server's routers name them (life, documents, reads, grants, ...)
CONCEPTS = sorted(
    p.stem for p in (ROOT / "api" / "routers").glob("*.py") if p.stem not in NOT_CONCEPTS
)


def test_the_client_wing_is_cut_by_the_servers_concepts() -> None:
    assert {"life", "documents", "reads", "confidentiality", "trail"} <= set(CONCEPTS)
    for layer in ("client", "client/cli"):
        missing = [name for name in CONCEPTS if not (ROOT / layer / f"{name}.py").is_file()]
        assert missing == [], f"{layer}: no module for {missing}"
    named_rules = [str(p.relative_to(ROOT)) for p in _modules() if "rules" in p.stem]
    assert named_rules == []


def test_the_sdk_client_is_only_the_composition_of_its_concepts() -> None:
    from client.sdk import CoffreClient

    homes = {f"client.{name}" for name in CONCEPTS} | {"client.transport"}
    public = [name for name in dir(CoffreClient) if not name.startswith("_")]
    elsewhere = {
        name: module
        for name in public
        if callable(getattr(CoffreClient, name))
        and (module := getattr(CoffreClient, name).__module__) not in homes
    }
    assert elsewhere == {}
    assert not [name for name in vars(CoffreClient) if not name.startswith("__")]

"""What browsers get: security headers on every answer, the page at ``/`` and Swagger
UI at ``/docs`` from this server's own files (no CDN), a build hint before the build."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_api_problems import assert_problem

from api.app import create_app
from api.middleware import content_security_policy
from coffre.bootstrap import Coffre, build
from vault.issuers import IssuerSettings
from vault.settings import Settings

PAGES = ["/", "/docs", "/v1/health", "/openapi.json", "/v1/nowhere"]


class Links(HTMLParser):
    """Every URL an HTML page makes the browser load or send to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href", "action", "data", "poster", "srcset"} and value:
                self.urls.append(value)


def links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    answer = client.get(path)
    policy = directives(answer.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]  # files: no S3 endpoint for browsers
    assert policy["form-action"][0] == "'self'"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in answer.headers  # plain http here


def test_hsts_is_sent_over_https(app: object) -> None:
    with TestClient(app, base_url="https://testserver") as browser:  # type: ignore[arg-type]
        answer = browser.get("/v1/health")
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_the_policy_names_the_s3_endpoint_and_the_login_issuer_when_browsers_use_them() -> None:
    settings = Settings(
        blob_store="s3",
        s3_access_key="k",
        s3_secret_key="s",
        s3_public_endpoint="https://s3.example.org",
        web_issuer="https://login.example.org/realms/coffre",
        public_url="https://coffre.example.org",
    )
    assert settings.s3_browser_origin == "https://s3.example.org"
    policy = directives(content_security_policy([settings.s3_browser_origin], []))
    assert policy["connect-src"] == ["'self'", "https://s3.example.org"]
    no_presign = settings.model_copy(update={"s3_presign": False, "s3_direct_uploads": False})
    assert no_presign.s3_browser_origin is None
    # two gateways: the page may fetch from either
    two = settings.model_copy(
        update={"s3_public_endpoint": "https://s3a.example.org, s3b.example.org:8443"}
    )
    policy = directives(content_security_policy([two.s3_browser_origin or ""], []))
    assert policy["connect-src"] == [
        "'self'",
        "https://s3a.example.org",
        "http://s3b.example.org:8443",
    ]
    assert Settings(public_url="https://coffre.example.org").web_login_issuer == (
        "https://coffre.example.org/idp"
    )


def test_the_docs_load_nothing_from_another_host(client: TestClient) -> None:
    answer = client.get("/docs")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    urls = links(answer.text)
    assert urls, "the page names its files"
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert "cdn" not in answer.text.lower()
    assert client.get("/redoc").status_code == 404  # FastAPI's CDN pages are off
    if "swagger-ui" not in answer.text:
        pytest.skip("Swagger UI is not built (scripts/build-web)")
    for url in urls:
        fetched = client.get(url)
        assert fetched.status_code == 200, url
        assert "content-security-policy" in fetched.headers
    # the one script of ours: no inline script anywhere on the page
    assert "<script>" not in answer.text


def test_before_the_build_the_page_says_how_to_build_it(tmp_path: Path, coffre: Coffre) -> None:
    settings = coffre.settings.model_copy(update={"web_dir": tmp_path / "missing"})
    unbuilt = type(coffre)(**{**coffre.__dict__, "settings": settings})
    with TestClient(create_app(unbuilt)) as browser:
        for path in ("/", "/docs"):
            answer = browser.get(path)
            assert answer.status_code == 200
            assert "scripts/build-web" in answer.text
            assert all(url.startswith("/") for url in links(answer.text))
        # no directory: unknown paths stay the API's problems
        assert_problem(browser.get("/nowhere.js"), 404, "not-found")


def test_the_pages_files_are_served_and_the_apis_errors_unchanged(
    tmp_path: Path, coffre: Coffre
) -> None:
    built = tmp_path / "dist"
    (built / "assets").mkdir(parents=True)
    (built / "index.html").write_text("<!doctype html><title>Coffre</title>", encoding="utf-8")
    (built / "assets" / "app.js").write_text("console.log('coffre')", encoding="utf-8")
    settings = coffre.settings.model_copy(update={"web_dir": built})
    with TestClient(create_app(type(coffre)(**{**coffre.__dict__, "settings": settings}))) as b:
        assert b.get("/").text.startswith("<!doctype html>")
        script = b.get("/assets/app.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert_problem(b.get("/v1/nowhere"), 404, "not-found")
        assert b.post("/v1/health").status_code == 405


def test_without_a_client_secret_the_web_login_is_off(tmp_path: Path) -> None:
    # an external web issuer and no secret for it (the embedded development provider,
    # on by default, brings its own: see test_api_idp)
    external = IssuerSettings(issuer="https://login.example", audience="c", roles=["patient"])
    settings = Settings(
        data_dir=tmp_path / "data",
        embedded_issuer=False,
        oidc_issuers=[external],
        web_issuer=external.issuer,
    )
    coffre = build(settings)
    try:
        with TestClient(create_app(coffre)) as client:
            login = client.get("/auth/login", follow_redirects=False)
            assert_problem(login, 503, "unavailable")
            assert_problem(client.get("/auth/session"), 401, "unauthenticated")
            assert client.post("/auth/logout").status_code == 204  # nothing to end
    finally:
        coffre.close()

"""The development provider's HTTP face: a FastAPI application the composition root
mounts under ``/idp`` (``coffre.asgi``), with the routes of its discovery document.

The routes only translate HTTP to authlib (``idp.provider``) and back; forms are read
here (the provider takes ``application/x-www-form-urlencoded`` only, a parameter given
twice is refused as RFC 6749 section 3.1 asks).
"""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qsl, urlencode

from authlib.oauth2 import OAuth2Error
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from idp import pages
from idp.models import Answer, redirect_with_error
from idp.models import Request as ProviderRequest
from idp.provider import Provider

#: a form larger than this is not one of ours
MAX_FORM_BYTES = 64 * 1024
_HTML = {"Content-Language": "fr"}


class BadForm(Exception):
    """A form the provider does not read."""


def create_idp_app(provider: Provider) -> FastAPI:
    """The provider's routes, to be mounted under ``/idp``."""
    app = FastAPI(
        title="Coffre development OpenID provider",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    people = list(provider.people.values())

    @app.get("/.well-known/openid-configuration")
    def discovery() -> JSONResponse:
        return JSONResponse(provider.discovery())

    @app.get("/jwks")
    def jwks() -> JSONResponse:
        return JSONResponse(provider.jwks(), headers={"Cache-Control": "max-age=300"})

    @app.get("/idp.css")
    def style() -> Response:
        return Response(
            pages.STYLE, media_type="text/css", headers={"Cache-Control": "max-age=300"}
        )

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        parameters = dict(request.query_params)
        if len(parameters) != len(request.query_params.multi_items()):
            return _refused("Paramètre répété.", "A parameter is repeated.")
        try:
            provider.get_consent_grant(_request(provider, "GET", "/authorize", parameters, request))
        except OAuth2Error as error:
            return _refused(error.description or error.error, error.error)
        interaction = provider.start_interaction(parameters)
        client_id = parameters.get("client_id", "")
        return _html(pages.login_page(interaction, client_id, people))

    @app.post("/authorize")
    async def log_in(request: Request) -> Response:
        form = await _page_form(request)
        if form is None:
            return _refused(*UNREADABLE)
        parameters = provider.take_interaction(form.get("interaction", ""))
        person = provider.people.get(form.get("person", ""))
        if parameters is None or person is None:
            return _refused(
                "La connexion a expiré ; recommencez.", "The login expired: start again."
            )
        oauth = _request(provider, "GET", "/authorize", parameters, request)
        try:
            grant = provider.get_consent_grant(oauth, end_user=person)
        except OAuth2Error as error:
            return _refused(error.description or error.error, error.error)
        if form.get("consent") != "yes":
            target = redirect_with_error(
                str(parameters["redirect_uri"]), parameters.get("state"), "access_denied"
            )
            return RedirectResponse(target, status_code=303)
        answer = provider.create_authorization_response(
            grant.request, grant_user=person, grant=grant
        )
        return _respond(answer, redirect_status=303)

    @app.post("/token")
    async def token(request: Request) -> Response:
        return await _endpoint(provider, request, "/token", provider.create_token_response)

    @app.post("/device_authorization")
    async def device_authorization(request: Request) -> Response:
        run = partial(provider.create_endpoint_response, "device_authorization")
        return await _endpoint(provider, request, "/device_authorization", run)

    @app.post("/revoke")
    async def revoke(request: Request) -> Response:
        run = partial(provider.create_endpoint_response, "revocation")
        return await _endpoint(provider, request, "/revoke", run)

    @app.get("/device")
    def device(user_code: str = "") -> Response:
        return _html(pages.device_page(user_code, people))

    @app.post("/device")
    async def approve_device(request: Request) -> Response:
        form = await _page_form(request)
        if form is None:
            return _refused(*UNREADABLE)
        person = provider.people.get(form.get("person", ""))
        approved = form.get("consent") == "yes" and person is not None
        code = form.get("user_code", "")
        if not provider.approve_device(code, person if approved else None):
            message = "Code inconnu ou expiré. / Unknown or expired code."
            return _html(pages.device_page(code, people, message), 400)
        return _html(pages.done_page(approved))

    @app.api_route("/userinfo", methods=["GET", "POST"])
    def userinfo(request: Request) -> JSONResponse:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        claims = provider.userinfo(credentials) if scheme.lower() == "bearer" else None
        if claims is None:
            return JSONResponse(
                {"error": "invalid_token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return JSONResponse(claims)

    return app


def _request(
    provider: Provider, method: str, path: str, data: dict[str, str], request: Request
) -> ProviderRequest:
    # authlib checks the URL's transport: the provider's own public URL, not the Host
    # header a client sent
    query = "?" + urlencode(data) if method == "GET" and data else ""
    return ProviderRequest(method, provider.url(path) + query, data, request.headers)


async def _form(request: Request) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise BadForm
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadForm
    try:
        items = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadForm from None
    form = dict(items)
    if len(form) != len(items):
        raise BadForm
    return form


async def _page_form(request: Request) -> dict[str, str] | None:
    try:
        return await _form(request)
    except BadForm:
        return None


#: what a page answers to a form it cannot read
UNREADABLE = ("Formulaire illisible.", "Unreadable form.")


def _refused(message: str, english: str) -> HTMLResponse:
    return _html(pages.error_page(message, english), 400)


async def _endpoint(provider: Provider, request: Request, path: str, run: object) -> Response:
    try:
        form = await _form(request)
    except BadForm:
        return JSONResponse(
            {"error": "invalid_request", "error_description": "a form, each parameter once"},
            status_code=400,
            headers={"Cache-Control": "no-store"},
        )
    answer = run(_request(provider, "POST", path, form, request))  # type: ignore[operator]
    return _respond(answer)


def _respond(answer: Answer, redirect_status: int | None = None) -> Response:
    headers = dict(answer.headers)
    location = headers.pop("Location", None)
    if location is not None:
        return RedirectResponse(location, status_code=redirect_status or answer.status)
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=_HTML)

"""The portal's app factory: routes, sign-in, error pages, the OpenAPI schema behind sign-in.

Nothing answers without a signed-in user or a bearer token except the sign-in page and ``/healthz``.
FastAPI's own ``/docs`` page loads Swagger UI from a CDN, so it is off; ``/docs`` here is a plain page
rendered from the schema, and ``/openapi.json`` needs a signed-in user like everything else.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from clearhouse.acts.users import authenticate
from clearhouse.errors import (
    AuthenticationError,
    CatalogError,
    ClearhouseError,
    ConfigError,
    NotFoundError,
    PermissionDenied,
    ReleaseRefused,
)
from clearhouse.settings import Settings, load_settings
from clearhouse.web import engineer, labeler, officer
from clearhouse.web.deps import app_settings, signed_in
from clearhouse.web.render import SECURITY_HEADERS, page
from clearhouse.web.security import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    Principal,
    act_name,
    check_csrf,
    csrf_matches,
    end_session,
    login_csrf,
    set_cookie,
    start_session,
)

TITLE = "Clearhouse"
SignedIn = Annotated[Principal, Depends(signed_in)]

_STATUS: list[tuple[type[ClearhouseError], int, str]] = [
    (AuthenticationError, 401, "Sign in required"),
    (PermissionDenied, 403, "Not permitted"),
    (ReleaseRefused, 403, "Refused"),
    (NotFoundError, 404, "Not found"),
    (CatalogError, 409, "Not possible in this state"),
    (ConfigError, 503, "Clearhouse is not configured"),
]


def _status_of(exc: ClearhouseError) -> tuple[int, str]:
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            return status, title
    return 500, "Clearhouse could not do this"


def _wants_html(request: Request) -> bool:
    return not request.url.path.removeprefix(str(request.scope.get("root_path") or "")).startswith("/api") and (
        "text/html" in request.headers.get("accept", "")
    )


def _error(request: Request, status: int, title: str, message: str) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if _wants_html(request):
        response = page(request, "error.html", status_code=status, status=status, title=title, message=message)
        response.headers.update(headers)
        return response
    return JSONResponse({"detail": message}, status_code=status, headers={**headers, **SECURITY_HEADERS})


def create_app(settings: Settings | None = None) -> FastAPI:
    """The portal for ``settings`` (default: the process environment, read once)."""
    app = FastAPI(
        title=TITLE,
        version="0.1.0",
        description="Clearhouse portal: labelers download cleared versions, privacy officers review and decide, "
        "engineers follow runs. Every route needs a signed-in user or `Authorization: Bearer <token>`.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings or load_settings()

    @app.exception_handler(ClearhouseError)
    async def _clearhouse_error(request: Request, exc: ClearhouseError) -> Response:
        status, title = _status_of(exc)
        return _error(request, status, title, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, "Error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()})
        return _error(request, 422, "Bad request", "invalid or missing: " + ", ".join(fields))

    @app.get("/healthz", summary="Health check (no sign-in)", tags=["public"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/login", response_class=HTMLResponse, name="login_page", summary="Sign-in page", tags=["public"])
    def login_page(request: Request) -> HTMLResponse:
        csrf, cookie = login_csrf(app_settings(request), request)
        response = page(request, "login.html", csrf=csrf, error=None)
        if cookie:
            set_cookie(response, request, LOGIN_COOKIE, cookie, 3600)
        return response

    @app.post("/login", name="login", summary="Sign in with an API token", tags=["public"], response_model=None)
    def login(
        request: Request,
        token: Annotated[str, Form(max_length=512)],
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        settings = app_settings(request)
        expected, _ = login_csrf(settings, request)
        if not csrf_matches(expected if request.cookies.get(LOGIN_COOKIE) else None, csrf_token):
            raise PermissionDenied("the sign-in form expired; reload the page and try again")
        try:
            authenticate(settings, token, act=act_name(request))
        except AuthenticationError:
            fresh, cookie = login_csrf(settings, request)
            refused = page(request, "login.html", status_code=401, csrf=fresh, error="That token is not valid.")
            if cookie:
                set_cookie(refused, request, LOGIN_COOKIE, cookie, 3600)
            return refused
        response = RedirectResponse(request.url_for("home").path, status_code=303)
        start_session(settings, request, response, token)
        return response

    @app.post("/logout", name="logout", summary="Sign out", tags=["public"], response_model=None)
    def logout(request: Request, p: SignedIn, csrf_token: Annotated[str, Form()] = "") -> Response:
        check_csrf(app_settings(request), request, p, csrf_token)
        response = RedirectResponse(request.url_for("login_page").path, status_code=303)
        end_session(request, response)
        return response

    @app.get("/", response_class=HTMLResponse, name="home", summary="Home page")
    def home(request: Request, p: SignedIn) -> HTMLResponse:
        return page(request, "home.html", p)

    @app.get("/openapi.json", name="openapi", summary="OpenAPI schema (signed-in users)")
    def openapi(p: SignedIn) -> dict[str, Any]:
        return app.openapi()

    @app.get("/docs", response_class=HTMLResponse, name="api_docs", summary="API reference (page)")
    def api_docs(request: Request, p: SignedIn) -> HTMLResponse:
        return page(request, "api_docs.html", p, schema=app.openapi())

    for module in (labeler, officer, engineer):
        app.include_router(module.router)
    return app

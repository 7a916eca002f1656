"""The portal's doors, without a pipeline run: nothing answers anonymously but the sign-in page and the
health check, the session cookie is hardened and cannot be forged, every form is CSRF-protected, the
OpenAPI schema needs a signed-in user, and every refusal is recorded."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from clearhouse.catalog import Catalog
from clearhouse.settings import Settings
from clearhouse.web import create_app
from clearhouse.web.security import COOKIE
from tests.web.conftest import People  # type: ignore[import-not-found]

PUBLIC = {("GET", "/healthz"), ("GET", "/login"), ("POST", "/login")}
SAMPLE = {"dataset": "support_tickets", "version": "20261125T101500Z-a1b2c3", "fmt": "csv", "path": "x.html"}


@pytest.fixture
def people(settings: Settings) -> People:
    p = People(settings)
    p.add("olivia", "officer")
    p.add("lara", "labeler")
    return p


def _routes(settings: Settings) -> list[tuple[str, str]]:
    app = create_app(settings)
    out = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            path = re.sub(r"\{(\w+)(?::path)?\}", lambda m: SAMPLE[m.group(1)], route.path)
            out += [(method, path) for method in sorted(route.methods)]
    return out


def _sign_in(client: TestClient, token: str) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and csrf
    r = client.post("/login", data={"token": token, "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    home = client.get("/")
    found = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert found
    return found.group(1)


def test_nothing_answers_anonymously_but_sign_in_and_health(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    routes = _routes(settings)
    assert len(routes) > 12
    before = len(Catalog(settings.db_url).audit_log())
    refused = 0
    for method, path in routes:
        r = client.request(method, path)
        if (method, path) in PUBLIC:
            assert r.status_code in (200, 403, 422), (method, path, r.status_code)
        else:
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"
            refused += 1
    log = [a for a in Catalog(settings.db_url).audit_log()[before:] if a["action"] == "web_refused"]
    assert len(log) == refused and {a["detail"]["why"] for a in log} == {"no session"}
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 401 and client.get("/openapi.json").status_code == 401
    assert client.get("/redoc").status_code in (401, 404)


def test_sign_in_sets_a_hardened_session_cookie(settings: Settings, people: People) -> None:
    for https in (False, True):
        client = TestClient(create_app(settings), base_url="https://testserver" if https else "http://testserver")
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        r = client.post(
            "/login", data={"token": people.tokens["olivia"], "csrf_token": csrf.group(1)}, follow_redirects=False
        )
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
        flags = {f.strip().lower() for f in cookie.split(";")[1:]}
        assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
        assert ("secure" in flags) is https
        assert people.tokens["olivia"] not in cookie  # encrypted, not merely signed
        assert client.get("/officer").status_code == 200


def test_wrong_token_and_forged_or_tampered_cookies_are_refused(settings: Settings, people: People) -> None:
    client = TestClient(create_app(settings))
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    bad = client.post("/login", data={"token": "ch_000000000000_" + "x" * 43, "csrf_token": csrf.group(1)})
    assert bad.status_code == 401 and "not valid" in bad.text and COOKIE not in client.cookies
    _sign_in(client, people.tokens["olivia"])
    value = client.cookies[COOKIE]
    tampered = TestClient(
        create_app(settings), cookies={COOKIE: value[:-4] + ("AAAA" if value[-4:] != "AAAA" else "BBBB")}
    )
    assert tampered.get("/officer").status_code == 401
    forged = TestClient(create_app(settings), cookies={COOKIE: "gAAAAAB" + "x" * 80})
    assert forged.get("/").status_code == 401
    whys = [a["detail"]["why"] for a in Catalog(settings.db_url).audit_log() if a["action"] == "web_refused"]
    assert whys.count("expired or invalid session") == 2


def test_every_form_needs_the_session_csrf_token(settings: Settings, people: People) -> None:
    client = TestClient(create_app(settings))
    login = client.post("/login", data={"token": people.tokens["olivia"]})
    assert login.status_code == 403  # no login cookie, no token: refused
    csrf = _sign_in(client, people.tokens["olivia"])
    url = "/officer/support_tickets/20261125T101500Z-a1b2c3/decide"
    for given in ("", "wrong"):
        r = client.post(url, data={"decision": "reject", "reason": "x", "csrf_token": given})
        assert r.status_code == 403 and "CSRF" in r.text
        assert client.post("/logout", data={"csrf_token": given}).status_code == 403
    log = [a for a in Catalog(settings.db_url).audit_log() if a["action"] == "web_refused"]
    assert [a["detail"]["why"] for a in log].count("csrf") == 4 and log[-1]["actor"] == "olivia"
    # with the right token the form gets through to the act (this version does not exist: 404)
    assert client.post(url, data={"decision": "reject", "reason": "x", "csrf_token": csrf}).status_code == 404
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and client.get("/").status_code == 401
    # a script with a bearer token needs no CSRF token: no browser sends that header by itself
    bearer = TestClient(create_app(settings), headers={"Authorization": f"Bearer {people.tokens['olivia']}"})
    assert bearer.post(url, data={"decision": "reject", "reason": "x"}).status_code == 404


def test_openapi_schema_and_reference_page_for_signed_in_users(settings: Settings, people: People) -> None:
    client = TestClient(create_app(settings), headers={"Authorization": f"Bearer {people.tokens['lara']}"})
    schema = client.get("/openapi.json").json()
    assert "/labeler/{dataset}/{version}/download/{fmt}" in schema["paths"]
    page = client.get("/docs")
    assert page.status_code == 200 and "/officer/{dataset}/{version}/decide" in page.text
    assert "<script" not in page.text and not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page.text)
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'none'")


def test_pages_follow_the_mount_point(settings: Settings, people: People) -> None:
    """Mounted in Airflow's API server at /clearhouse, links and the cookie path stay under it."""
    from fastapi import FastAPI

    outer = FastAPI()
    outer.mount("/clearhouse", create_app(settings))
    client = TestClient(outer)
    page = client.get("/clearhouse/login")
    assert page.status_code == 200 and 'action="/clearhouse/login"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    r = client.post(
        "/clearhouse/login",
        data={"token": people.tokens["olivia"], "csrf_token": csrf.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/clearhouse/"
    assert "Path=/clearhouse/" in r.headers["set-cookie"]
    assert 'href="/clearhouse/officer"' in client.get("/clearhouse/").text
    assert client.get("/clearhouse/healthz").status_code == 200


def test_refusal_names_the_route_never_the_query(settings: Settings, client_for: Callable[..., TestClient]) -> None:
    client = client_for(settings)
    client.get("/labeler/support_tickets/20261125T101500Z-a1b2c3/download/csv?token=secret-looking")
    last = Catalog(settings.db_url).audit_log()[-1]
    assert last["detail"]["act"] == "web GET /labeler/{dataset}/{version}/download/{fmt}"
    assert "secret" not in str(last)

"""Who is asking: sign-in by API token, the session cookie, CSRF tokens and recorded refusals.

A request is made either with ``Authorization: Bearer <token>`` (scripts) or with the session cookie a
sign-in sets (browsers). The cookie holds the user's token, a session id and the session's CSRF token,
encrypted and authenticated (Fernet) with a key kept in ``CLEARHOUSE_HOME/web/session.key``, so it can
be neither read nor forged, and it expires after :data:`SESSION_SECONDS`. Every request checks the
token again through :mod:`clearhouse.acts.users`, so a revoked token, a withdrawn role or an expired
labeler certification takes effect at once, not at the next sign-in.

Every POST made with the session cookie carries the session's CSRF token in a form field (or the
``X-CSRF-Token`` header); a POST with a bearer token needs none (no browser sends it by itself).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request, Response

from clearhouse.acts.users import User, authenticate, require
from clearhouse.catalog import Catalog
from clearhouse.errors import AuthenticationError, ClearhouseError, PermissionDenied
from clearhouse.settings import Settings

COOKIE = "clearhouse_session"
#: a pre-sign-in cookie carrying only the login form's CSRF token
LOGIN_COOKIE = "clearhouse_login"
SESSION_SECONDS = 8 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _key_path(settings: Settings) -> Path:
    return settings.home / "web" / "session.key"


def session_key(settings: Settings) -> bytes:
    """The cookie key of this state directory, created on first use (mode 0600, never logged).

    Every process serving the portal from the same home (``clearhouse serve``, Airflow's API server
    workers) shares it, so a session works whichever one answers."""
    path = _key_path(settings)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    return path.read_bytes().strip()


@dataclass(frozen=True)
class Session:
    """What the session cookie carries (encrypted)."""

    token: str
    sid: str
    csrf: str


@dataclass(frozen=True)
class Principal:
    """The user behind a request and how they came: ``session`` (cookie) or ``token`` (bearer)."""

    user: User
    token: str
    via: str
    csrf: str | None = None


def seal(settings: Settings, payload: dict[str, Any]) -> str:
    return Fernet(session_key(settings)).encrypt(json.dumps(payload).encode("utf-8")).decode("ascii")


def unseal(settings: Settings, value: str | None, *, max_age: int = SESSION_SECONDS) -> dict[str, Any] | None:
    """The cookie's payload, or ``None`` when it is missing, forged, tampered with or expired."""
    if not value:
        return None
    try:
        data = json.loads(Fernet(session_key(settings)).decrypt(value.encode("ascii"), ttl=max_age))
    except (InvalidToken, ValueError, UnicodeError):
        return None
    return data if isinstance(data, dict) else None


def new_session(token: str) -> Session:
    return Session(token=token, sid=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32))


def read_session(settings: Settings, request: Request) -> Session | None:
    data = unseal(settings, request.cookies.get(COOKIE))
    if not data or not all(isinstance(data.get(k), str) for k in ("t", "s", "c")):
        return None
    return Session(token=data["t"], sid=data["s"], csrf=data["c"])


def cookie_path(request: Request) -> str:
    return str(request.scope.get("root_path") or "") + "/"


def _secure(request: Request) -> bool:
    # Secure when the request came over TLS (directly, or through a proxy uvicorn trusts)
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=cookie_path(request),
        httponly=True,
        samesite="strict" if name == COOKIE else "lax",
        secure=_secure(request),
    )


def start_session(settings: Settings, request: Request, response: Response, token: str) -> Session:
    session = new_session(token)
    set_cookie(
        response, request, COOKIE, seal(settings, {"t": token, "s": session.sid, "c": session.csrf}), SESSION_SECONDS
    )
    response.delete_cookie(LOGIN_COOKIE, path=cookie_path(request))
    return session


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path=cookie_path(request), httponly=True, samesite="strict", secure=_secure(request))


def login_csrf(settings: Settings, request: Request) -> tuple[str, str | None]:
    """The login form's CSRF token and, when a new one was made, the cookie value that carries it."""
    data = unseal(settings, request.cookies.get(LOGIN_COOKIE), max_age=3600)
    if data and isinstance(data.get("c"), str):
        return data["c"], None
    token = secrets.token_urlsafe(32)
    return token, seal(settings, {"c": token})


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def act_name(request: Request) -> str:
    """How a refusal is recorded: the method and the route's path template (never a query string)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return f"web {request.method} {path}"[:120]


def record_anonymous_refusal(settings: Settings, request: Request, why: str) -> None:
    """A request without any credentials, recorded in the audit log (not the signed ledger, which
    anonymous callers must not be able to grow)."""
    with contextlib.suppress(ClearhouseError):
        Catalog(settings.db_url).audit(
            "web_refused",
            actor="anonymous",
            detail={"act": act_name(request), "status": 401, "why": why},
        )


def principal(settings: Settings, request: Request, role: str | None = None) -> Principal:
    """The signed-in user (holding ``role`` when given); raises ``AuthenticationError`` (401) or
    ``PermissionDenied`` (403). The acts layer records refusals of presented credentials; a request
    with none at all is recorded here."""
    token = bearer_token(request)
    session: Session | None = None
    via = "token"
    if token is None:
        session = read_session(settings, request)
        if session is None:
            why = "expired or invalid session" if request.cookies.get(COOKIE) else "no session"
            record_anonymous_refusal(settings, request, why)
            raise AuthenticationError(f"sign in first ({why})")
        token, via = session.token, "session"
    name = act_name(request)
    user = require(settings, token, role, act=name) if role else authenticate(settings, token, act=name)
    return Principal(user=user, token=token, via=via, csrf=session.csrf if session else None)


def check_csrf(settings: Settings, request: Request, p: Principal, given: str | None) -> None:
    """A cookie-authenticated POST must carry the session's CSRF token (a refusal is recorded)."""
    if p.via == "session" and not csrf_matches(p.csrf, given or request.headers.get(CSRF_HEADER)):
        with contextlib.suppress(ClearhouseError):
            Catalog(settings.db_url).audit(
                "web_refused", actor=p.user.name, detail={"act": act_name(request), "status": 403, "why": "csrf"}
            )
        raise PermissionDenied("the form's CSRF token is missing or does not match this session; reload the page")

"""Pages: Jinja2 templates shipped with the package (autoescaped), rendered with the request's user,
its CSRF token and a ``url()`` helper that yields paths (never absolute URLs, so the same page works
under ``clearhouse serve`` and mounted in Airflow's API server at ``/clearhouse``)."""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from clearhouse.web.security import Principal

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("clearhouse.web", "templates"),
    autoescape=jinja2.select_autoescape(("html",), default_for_string=True, default=True),
    undefined=jinja2.StrictUndefined,
)

#: what every page may and may not do: no script at all, nothing from another origin
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _plain(value: Any) -> str:
    """A policy value as one line of text: lists joined, mappings as ``key: value`` without empty ones."""
    if value is None or value in ("", [], {}):
        return "none"
    if isinstance(value, dict):
        parts = [f"{str(k).replace('_', ' ')}: {_plain(v)}" for k, v in value.items() if v not in (None, "", [], {})]
        return "; ".join(parts) or "none"
    if isinstance(value, list | tuple):
        return "; ".join(_plain(v) for v in value)
    return str(value).replace("_", " ") if isinstance(value, str) and " " not in value else str(value)


_ENV.filters["plain"] = _plain


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def page(
    request: Request, template: str, p: Principal | None = None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``template`` for ``request`` (signed in as ``p``, when known)."""

    def url(name: str, **params: Any) -> str:
        return str(request.url_for(name, **{k: str(v) for k, v in params.items()}).path)

    csrf = context.pop("csrf", None)
    html = _ENV.get_template(template).render(
        url=url,
        pct=_pct,
        user=p.user if p else None,
        roles=[p.user.role] if p else [],
        csrf=(p.csrf if p else None) or csrf,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

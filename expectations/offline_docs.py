"""Data Docs that work offline and never call out: GX's pages load jQuery, Bootstrap, Vega and fonts from
public CDNs and a logo from a cloud bucket, so an officer without internet access sees a broken page
and one with access tells those hosts what they are reading.

:func:`localise` rewrites one Data Docs page: every script is removed (the page's own scripts only
drive the CDN libraries), every reference to another host (stylesheets, images, ``url(...)`` in styles,
links) is dropped, GX's cloud logo becomes the copy GX writes into the site's ``static/`` folder, and
one local stylesheet (:data:`STYLESHEET`, shipped with the package) lays out what GX renders as plain
HTML: headings, tables, cards and badges. The content (expectations, results, counts) is untouched.
:func:`localise_site` applies it to every page of a site, in place.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from clearhouse.files import write_text_atomically

#: where the stylesheet goes inside a Data Docs site, relative to its root
STYLESHEET = "static/styles/clearhouse-offline.css"
_MARK = "<!-- clearhouse: offline -->"

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_EXTERNAL_LINK_TAG = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.IGNORECASE)
_GX_LOGO = re.compile(
    r"(?:https?:)?//great-expectations-web-assets\.[^\"'\s)]*?/(logo-long|full_logo_dark)\.png[^\"'\s)]*"
)
_EXTERNAL_ATTR = re.compile(r"\s(href|src|action|srcset)\s*=\s*([\"'])(?:https?:)?//[^\"']*\2", re.IGNORECASE)
_EXTERNAL_URL_CSS = re.compile(r"url\(\s*([\"']?)(?:https?:)?//[^)]*\)", re.IGNORECASE)
_FORM = re.compile(r"<form\b.*?</form\s*>", re.IGNORECASE | re.DOTALL)
# GX writes some links into the site's static/ folder one level short on deep pages (the favicon)
_STATIC_REF = re.compile(r"""(["'(])(?:\./|(?:\.\./)+)static/""")
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)


def stylesheet_text() -> str:
    """The offline stylesheet shipped with the package."""
    return files("clearhouse.validation").joinpath("static/data_docs_offline.css").read_text(encoding="utf-8")


def localise(html: str, *, depth: int) -> str:
    """``html`` of a Data Docs page ``depth`` folders below the site root, with no outside reference.

    Idempotent: a page already rewritten is returned as it is."""
    if _MARK in html:
        return html
    root = "../" * depth or "./"
    html = _SCRIPT.sub("", html)
    html = _FORM.sub("", html)  # GX's newsletter sign-up form posts to its website
    html = _EXTERNAL_LINK_TAG.sub("", html)
    html = _GX_LOGO.sub(f"{root}static/images/logo-long.png", html)
    html = _EXTERNAL_URL_CSS.sub("none", html)
    html = _EXTERNAL_ATTR.sub("", html)
    html = _STATIC_REF.sub(lambda m: f"{m.group(1)}{root}static/", html)
    link = f'{_MARK}\n<link rel="stylesheet" href="{root}{STYLESHEET}">\n'
    if _HEAD_END.search(html):
        return _HEAD_END.sub(lambda m: link + m.group(0), html, count=1)
    return link + html


def localise_site(site: Path) -> int:
    """Rewrite every page of the Data Docs site at ``site`` in place and write its stylesheet.

    Returns the number of pages rewritten (pages already offline are left alone)."""
    css = site / STYLESHEET
    css.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(css, stylesheet_text(), mode=0o600)
    changed = 0
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        depth = len(page.relative_to(site).parts) - 1
        new = localise(text, depth=depth)
        if new != text:
            write_text_atomically(page, new, mode=0o600)
            changed += 1
    return changed

"""Data Docs rewritten for offline reading: no script, no reference to another host, GX's logo and
static links pointing into the site, one local stylesheet; idempotent."""

from __future__ import annotations

import re
from pathlib import Path

from clearhouse.validation.offline_docs import STYLESHEET, localise, localise_site

PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" type="text/css" href="//unpkg.com/bootstrap-table@1.19.0/x.css">
<link rel="shortcut icon" href="../../static/images/favicon.ico" type="image/x-icon"/>
<style>.logo {
  background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') 0 0; }
.other { background: url(https://example.org/x.png); }</style>
</head><body>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=20261130T1" alt="GX">
<a href="https://greatexpectations.io">Great Expectations</a> <a href="../index.html">Home</a>
<form action="https://greatexpectations.io/newsletter"><input name="email"></form>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<SCRIPT>document.write('<img src="https://tracker.example/x.gif">')</SCRIPT>
<table><tr><td>expect_column_values_to_not_be_null(label)</td></tr></table>
</body></html>"""
OUTSIDE = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//""", re.I)


def test_every_outside_reference_and_script_goes_content_stays() -> None:
    html = localise(PAGE, depth=3)
    assert not OUTSIDE.search(html)
    assert "<script" not in html.lower() and "<form" not in html.lower()
    assert 'src="../../../static/images/logo-long.png"' in html
    assert 'href="../../../static/images/favicon.ico"' in html  # GX writes it one level short
    assert f'<link rel="stylesheet" href="../../../{STYLESHEET}">' in html
    assert "expect_column_values_to_not_be_null(label)" in html and 'href="../index.html"' in html
    assert localise(html, depth=3) == html


def test_a_site_is_rewritten_in_place_with_its_stylesheet(tmp_path: Path) -> None:
    (tmp_path / "validations" / "a").mkdir(parents=True)
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "validations" / "a" / "run.html").write_text(PAGE)
    assert localise_site(tmp_path) == 2
    assert (tmp_path / STYLESHEET).read_text().startswith("/* Clearhouse")
    assert 'href="./static/styles' in (tmp_path / "index.html").read_text()
    assert 'href="../../static/styles' in (tmp_path / "validations" / "a" / "run.html").read_text()
    assert localise_site(tmp_path) == 0

"""The portal as people use it, over HTTP (FastAPI's test client), on versions a real run produced:
an officer reviews and decides, a labeler downloads every format, and every refusal is a 401/403
that the audit log records."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from clearhouse.acts.labeler import pull
from clearhouse.catalog import Catalog
from clearhouse.errors import ReleaseRefused
from clearhouse.governance.verify import verify
from clearhouse.zones import VersionPaths

pytestmark = pytest.mark.slow
DS = "support_tickets"
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//)|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\s+["']?(?:https?:)?//)""",
    re.IGNORECASE,
)
LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"'#]+)["']""", re.IGNORECASE)


def _as(client: TestClient, token: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _audit(state, action: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [a for a in Catalog(state.settings.db_url).audit_log() if a["action"] == action]


def test_officer_page_shows_report_docs_balance_lineage_reasons_and_decisions(portal_state, client_for) -> None:  # type: ignore[no-untyped-def]
    c = _as(client_for(portal_state.settings), portal_state.people.tokens["olivia"])
    r = c.get(f"/officer/{DS}/{portal_state.awaiting}")
    assert r.status_code == 200
    html = r.text
    for section in ("decision", "facts", "reasons", "balance", "checks", "lineage", "audit", "report"):
        assert f'id="{section}"' in html, section
    assert "<svg" in html and "Label balance: label" in html  # the balance charts
    assert "expect_k_anonymity" in html and "pseudonymise" in html and "ledger verifies" in html
    assert 'value="approve"' in html and 'value="reject"' in html and 'value="revoke"' not in html
    assert "files/privacy_report.html" in html and "files/data_docs/" in html
    assert r.headers["content-security-policy"].startswith("default-src 'self'; script-src 'none'")
    # the privacy report and every Data Docs page it links to are served, with no outside reference
    report = c.get(f"/officer/{DS}/{portal_state.awaiting}/files/privacy_report.html")
    assert report.status_code == 200 and "Privacy report" in report.text
    docs = re.findall(r'files/(data_docs/[^"]+\.html)', html)
    assert docs
    for page in docs:
        r = c.get(f"/officer/{DS}/{portal_state.awaiting}/files/{page}")
        assert r.status_code == 200, page
        assert not EXTERNAL.search(r.text), (page, EXTERNAL.search(r.text))
        assert "<script" not in r.text.lower()
    assert c.get(f"/officer/{DS}/{portal_state.awaiting}/files/../../../catalog.db").status_code == 404


def test_no_page_references_another_host(portal_state, client_for) -> None:  # type: ignore[no-untyped-def]
    """Crawl everything each role can reach from its home page: no asset or link to another host."""
    seen: set[str] = set()
    for person in ("olivia", "lara", "erin"):
        c = _as(client_for(portal_state.settings), portal_state.people.tokens[person])
        todo = ["/"]
        while todo:
            path = todo.pop()
            if path in seen or "/download/" in path:
                continue
            seen.add(path)
            r = c.get(path)
            assert r.status_code == 200, (person, path, r.status_code)
            if "html" not in r.headers.get("content-type", ""):
                continue
            assert not EXTERNAL.search(r.text), (path, EXTERNAL.search(r.text))
            base = path.rsplit("/", 1)[0] + "/"
            for link in LINK.findall(r.text):
                if link.startswith("/"):
                    todo.append(link.split("?")[0])
                elif not re.match(r"^[a-z]+:", link):
                    todo.append(_join(base, link))
    assert len(seen) > 10


def _join(base: str, rel: str) -> str:
    parts = base.rstrip("/").split("/")
    for piece in rel.split("?", maxsplit=1)[0].split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def test_labeler_downloads_every_format_streamed_and_recorded(portal_state, client_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = portal_state.settings
    c = _as(client_for(s), portal_state.people.tokens["lara"])
    listing = c.get("/labeler")
    assert listing.status_code == 200 and portal_state.cleared in listing.text
    assert portal_state.awaiting not in listing.text
    release = VersionPaths(s, DS, portal_state.cleared).cleared
    manifest = json.loads((release / "manifest.json").read_text())
    got = {}
    for fmt in ("parquet", "csv", "jsonl", "labelstudio"):
        with c.stream("GET", f"/labeler/{DS}/{portal_state.cleared}/download/{fmt}") as r:
            assert r.status_code == 200, fmt
            assert "attachment" in r.headers["content-disposition"]
            assert (
                r.headers["x-clearhouse-release-manifest-sha256"]
                == hashlib.sha256((release / "manifest.json").read_bytes()).hexdigest()
            )
            got[fmt] = b"".join(r.iter_bytes())
    rows = manifest["rows"]
    # the columns the policy releases to labelers, as `clearhouse pull` gives them (phone is encrypted:
    # withheld from labelers by default)
    released = pull(s, DS, portal_state.cleared, tmp_path, actor=portal_state.people.user("lara"))
    table = pq.read_table(released / "data.parquet")
    assert "phone" not in table.column_names and "message" in table.column_names
    assert pq.read_table(io.BytesIO(got["parquet"])).equals(table)
    assert list(csv.reader(io.StringIO(got["csv"].decode()))) == list(
        csv.reader(io.StringIO((released / "data.csv").read_text()))
    )
    lines = [json.loads(line) for line in got["jsonl"].decode().splitlines()]
    assert len(lines) == rows and lines == table.to_pylist()
    tasks = json.loads(got["labelstudio"])
    assert len(tasks) == rows
    first = tasks[0]["data"]
    assert {k: v for k, v in first.items() if k != "clearhouse"} == table.slice(0, 1).to_pylist()[0]
    meta = first["clearhouse"]
    assert meta["dataset"] == DS and meta["version"] == portal_state.cleared and meta["row"] == 0
    assert meta["row_id"] == table.column("ticket_id")[0].as_py()
    assert meta["files"] == manifest["files"] and meta["raw_sha256"] == manifest["raw_sha256"]
    manifest_sha = hashlib.sha256((release / "manifest.json").read_bytes()).hexdigest()
    assert meta["release_manifest_sha256"] == manifest_sha and "phone" in meta["withheld_columns"]
    everything = b"".join(got.values()).decode("utf-8", "replace")
    assert not [e for e in portal_state.emails if e in everything]  # no collected e-mail address leaves
    downloads = [a for a in _audit(portal_state, "download") if a["actor"] == "lara"]
    assert sorted(a["detail"]["format"] for a in downloads) == ["csv", "jsonl", "labelstudio", "parquet"]
    assert verify(s, DS, portal_state.cleared).ok


def test_refusals_are_401_or_403_and_recorded(portal_state, client_for) -> None:  # type: ignore[no-untyped-def]
    s = portal_state.settings
    anonymous = client_for(s)
    before = len(_audit(portal_state, "web_refused"))
    assert anonymous.get(f"/labeler/{DS}/{portal_state.cleared}/download/csv").status_code == 401
    assert anonymous.get(f"/officer/{DS}/{portal_state.awaiting}").status_code == 401
    refused = _audit(portal_state, "web_refused")[before:]
    assert [a["detail"]["why"] for a in refused] == ["no session", "no session"]
    assert refused[0]["detail"]["act"] == "web GET /labeler/{dataset}/{version}/download/{fmt}"
    # wrong role, both ways
    lara = _as(client_for(s), portal_state.people.tokens["lara"])
    olivia = _as(client_for(s), portal_state.people.tokens["olivia"])
    assert lara.get(f"/officer/{DS}/{portal_state.awaiting}").status_code == 403
    assert lara.post(f"/officer/{DS}/{portal_state.awaiting}/decide", data={"decision": "approve"}).status_code == 403
    assert olivia.get(f"/labeler/{DS}/{portal_state.cleared}/download/csv").status_code == 403
    assert _as(client_for(s), "not-a-token").get("/labeler").status_code == 401
    whys = [(a["actor"], a["detail"]["why"]) for a in _audit(portal_state, "access_refused")]
    assert ("lara", "role labeler, needs officer") in whys and ("olivia", "role officer, needs labeler") in whys
    assert ("unknown", "malformed token") in whys
    # a version that is not cleared: refused and recorded as a refused pull
    r = lara.get(f"/labeler/{DS}/{portal_state.awaiting}/download/jsonl")
    assert r.status_code == 403 and "awaiting_approval" in r.json()["detail"]
    assert any(
        a["version"] == portal_state.awaiting and a["actor"] == "lara" for a in _audit(portal_state, "pull_refused")
    )


def test_expired_certification_is_refused_at_once(portal_state, client_for) -> None:  # type: ignore[no-untyped-def]
    s = portal_state.settings
    token = portal_state.people.add("lee", "labeler")
    lee = _as(client_for(s), token)
    assert lee.get(f"/labeler/{DS}/{portal_state.cleared}/download/jsonl").status_code == 200
    # the certification runs out (its last day was yesterday): the same token is refused from now on
    Catalog(s.db_url).update_user("lee", certified_until=date.today() - timedelta(days=1))
    r = lee.get(f"/labeler/{DS}/{portal_state.cleared}/download/jsonl")
    assert r.status_code == 403 and "certification expired" in r.json()["detail"]
    assert lee.get("/labeler").status_code == 403
    refused = [a for a in _audit(portal_state, "access_refused") if a["actor"] == "lee"]
    assert refused and refused[-1]["detail"]["why"].startswith("labeler certification expired")


def test_officer_signs_reviews_and_approves_then_the_labeler_gets_it(portal_state, client_for) -> None:  # type: ignore[no-untyped-def]
    s = portal_state.settings
    v = portal_state.awaiting
    olivia = _as(client_for(s), portal_state.people.tokens["olivia"])
    url = f"/officer/{DS}/{v}/decide"
    page = olivia.get(f"/officer/{DS}/{v}").text
    assert 'id="gates"' in page and "Privacy impact assessment sign-off" in page and "Residual-PII review" in page
    assert "legitimate interests" in page  # the assessment is shown
    no_reason = olivia.post(url, data={"decision": "approve", "reviewed": "yes", "reason": " "})
    assert no_reason.status_code == 400 and "give a reason" in no_reason.text
    not_reviewed = olivia.post(url, data={"decision": "approve", "reason": "balanced, no residual PII"})
    assert not_reviewed.status_code == 400
    # approval is the last gate: refused while the sign-off and the review are outstanding
    early = olivia.post(url, data={"decision": "approve", "reviewed": "yes", "reason": "too early"})
    assert early.status_code == 409 and "assessment sign-off" in early.text
    assert Catalog(s.db_url).get(DS, v).state == "awaiting_approval"
    # the sign-off names the digest the officer read: a changed assessment is refused
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page)
    assert digest
    stale = olivia.post(f"/officer/{DS}/{v}/assessment/sign", data={"digest": "0" * 64})
    assert stale.status_code == 403 and "changed since you read it" in stale.text
    signed = olivia.post(
        f"/officer/{DS}/{v}/assessment/sign",
        data={"digest": digest.group(1), "note": "LIA on file"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    # the review: draw the sample once, read it, mark nothing
    assert olivia.post(f"/officer/{DS}/{v}/review/sample", follow_redirects=False).status_code == 303
    page = olivia.get(f"/officer/{DS}/{v}").text
    refs = re.findall(r'name="leak" value="([^"]+)"', page)
    assert len(refs) == 59  # the sample size the 5% limit at 95% confidence needs
    unknown = olivia.post(f"/officer/{DS}/{v}/review/submit", data={"leak": ["not-in-the-sample"]})
    assert unknown.status_code == 409 and "not in the review sample" in unknown.text
    done = olivia.post(f"/officer/{DS}/{v}/review/submit", data={"note": "read all 59"}, follow_redirects=False)
    assert done.status_code == 303
    assert Catalog(s.db_url).get(DS, v).state == "awaiting_approval"  # approval is still outstanding
    ok = olivia.post(
        url,
        data={"decision": "approve", "reviewed": "yes", "reason": "balanced, no residual PII"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"].endswith("?done=approve")
    assert Catalog(s.db_url).get(DS, v).state == "cleared"
    approval = [a for a in _audit(portal_state, "approve") if a["version"] == v]
    assert approval and approval[-1]["actor"] == "olivia"
    assert approval[-1]["detail"]["note"] == "balanced, no residual PII"
    actions = [a["action"] for a in Catalog(s.db_url).audit_log(DS) if a["version"] in (v, None)]
    assert {"assessment_sign", "review_sample", "review", "approve"} <= set(actions)
    page = olivia.get(f"/officer/{DS}/{v}?done=approve").text
    assert "Approved" in page and "balanced, no residual PII" in page and "approved by olivia" in page
    again = olivia.post(url, data={"decision": "approve", "reviewed": "yes", "reason": "twice"})
    assert again.status_code == 409
    lara = _as(client_for(s), portal_state.people.tokens["lara"])
    assert lara.get(f"/labeler/{DS}/{v}/download/parquet").status_code == 200
    assert verify(s, DS, v).ok


def test_revoked_version_is_refused_everywhere(portal_state, client_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = portal_state.settings
    olivia = _as(client_for(s), portal_state.people.tokens["olivia"])
    r = olivia.post(
        f"/officer/{DS}/{portal_state.cleared}/decide",
        data={"decision": "revoke", "reason": "consent withdrawn by the data owner"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert Catalog(s.db_url).get(DS, portal_state.cleared).state == "revoked"
    lara = _as(client_for(s), portal_state.people.tokens["lara"])
    for fmt in ("parquet", "labelstudio"):
        assert lara.get(f"/labeler/{DS}/{portal_state.cleared}/download/{fmt}").status_code == 403
    with pytest.raises(ReleaseRefused, match="revoked"):
        pull(s, DS, portal_state.cleared, tmp_path, actor=portal_state.people.user("lara"))
    assert portal_state.cleared not in lara.get("/labeler").text
    refusals = [a for a in _audit(portal_state, "pull_refused") if a["version"] == portal_state.cleared]
    assert len(refusals) >= 3 and all(a["detail"]["why"] == "state revoked" for a in refusals)
    revoke = [a for a in _audit(portal_state, "revoke") if a["version"] == portal_state.cleared]
    assert revoke[-1]["actor"] == "olivia" and revoke[-1]["detail"]["previous_state"] == "cleared"
    assert verify(s, DS, portal_state.cleared).ok  # the ledger agrees: revoked is its last state

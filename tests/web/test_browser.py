"""The portal in a real browser: Debian's chromium, headless, driven by Playwright (no browser is
downloaded), against ``clearhouse serve`` on a free port over a state directory where a real run
produced versions. An officer signs in, reviews and approves; a labeler signs in and downloads; a
labeler who opens the officer's page is refused. Screenshots of the officer's page go to ``docs/``
(the README shows them) when ``CLEARHOUSE_SCREENSHOTS=1``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearhouse.catalog import Catalog
from clearhouse.settings import REPO_ROOT
from tests.web.conftest import PortalState, env_for  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DS = "support_tickets"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(portal_state: PortalState) -> Iterator[str]:
    port = _free_port()
    cli = shutil.which("clearhouse", path=str(Path(sys.executable).parent)) or "clearhouse"
    proc = subprocess.Popen(
        [cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env_for(portal_state.settings.home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                    if json.load(r) == {"status": "ok"}:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stdout.read().decode() if proc.stdout else "serve exited") from None
                time.sleep(0.25)
        else:
            raise AssertionError("clearhouse serve did not answer /healthz")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _context(browser, server: str):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    outside: list[str] = []
    # every request the page makes: anything not to the portal itself is recorded (and blocked)
    ctx.route(
        "**/*",
        lambda route: (
            (outside.append(route.request.url), route.abort())
            if not route.request.url.startswith(server)
            else route.continue_()
        ),
    )
    return ctx, outside


def _sign_in(page, server: str, token: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/")
    assert "Sign in" in page.content()  # not signed in: the 401 page offers the sign-in page
    page.goto(server + "/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")


def test_officer_signs_in_reviews_and_approves(portal_state: PortalState, server: str, browser) -> None:  # type: ignore[no-untyped-def]
    ctx, outside = _context(browser, server)
    page = ctx.new_page()
    _sign_in(page, server, portal_state.people.tokens["olivia"])
    page.click("text=Review")
    page.click(f"text={portal_state.awaiting}")
    assert page.locator("#balance svg").count() >= 1
    assert page.locator("#checks tbody tr").count() > 10
    assert page.locator("#lineage").inner_text().count("pseudonymise") >= 1
    report = page.frame_locator("iframe.report")
    page.locator("iframe.report").scroll_into_view_if_needed()
    assert "Privacy report" in report.locator("h1").inner_text()
    if os.environ.get("CLEARHOUSE_SCREENSHOTS") == "1":
        docs = REPO_ROOT / "docs"
        docs.mkdir(exist_ok=True)
        page.screenshot(path=str(docs / "portal-officer-review.png"), full_page=False)
        page.locator("#balance").screenshot(path=str(docs / "portal-officer-balance.png"))
    assert "Approval opens once" in page.locator("#decision").inner_text()
    # the gates before approval: sign the assessment, draw the review sample, read it, submit
    page.click("text=Sign this assessment as olivia")
    page.wait_for_url("**?done=signed#gates")
    page.click("text=Draw the review sample")
    page.wait_for_url("**?done=sampled#review")
    assert page.locator("input[name=leak]").count() == 59
    if os.environ.get("CLEARHOUSE_SCREENSHOTS") == "1":
        page.locator("#gates").screenshot(path=str(REPO_ROOT / "docs" / "portal-officer-review-sample.png"))
    page.click("text=Submit the review as olivia")
    page.wait_for_url("**?done=reviewed#gates")
    # approving needs a reason and the review confirmation; the browser refuses an empty reason itself
    page.fill("#reason", "Balanced labels, no residual PII in the sample, lineage complete")
    page.click("button.approve")
    assert "confirm that you reviewed" in page.locator(".notice.bad").inner_text()
    page.fill("#reason", "Balanced labels, no residual PII in the sample, lineage complete")
    page.check("input[name=reviewed]")
    page.click("button.approve")
    page.wait_for_url(f"**/officer/{DS}/{portal_state.awaiting}?done=approve")
    assert "Approved" in page.locator(".notice.ok").first.inner_text()
    assert "olivia" in page.locator("#decision table").inner_text()
    if os.environ.get("CLEARHOUSE_SCREENSHOTS") == "1":
        page.screenshot(path=str(REPO_ROOT / "docs" / "portal-officer-approved.png"), full_page=False)
    assert Catalog(portal_state.settings.db_url).get(DS, portal_state.awaiting).state == "cleared"
    # the Data Docs open offline, styled by the local stylesheet
    page.goto(page.url.split("?")[0])
    page.click("text=Data Docs: expectations")
    assert "Expectation Suite" in page.content()
    assert outside == []  # not one request left the portal's own host
    ctx.close()


def test_labeler_signs_in_and_downloads(portal_state: PortalState, server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx, outside = _context(browser, server)
    page = ctx.new_page()
    _sign_in(page, server, portal_state.people.tokens["lara"])
    page.click("text=Cleared versions")
    row = page.locator("tr", has_text=portal_state.cleared)
    with page.expect_download() as info:
        row.locator("a", has_text="labelstudio").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    tasks = json.loads(target.read_text())
    assert tasks and tasks[0]["data"]["clearhouse"]["version"] == portal_state.cleared
    with page.expect_download() as info:
        row.locator("a", has_text="csv").click()
    assert info.value.suggested_filename.endswith(".csv")
    # the officer's page is not for labelers: refused, and the refusal is recorded
    response = page.goto(f"{server}/officer/{DS}/{portal_state.cleared}")
    assert response is not None and response.status == 403
    assert "recorded in the audit log" in page.content()
    log = Catalog(portal_state.settings.db_url).audit_log()
    assert any(
        a["action"] == "download" and a["actor"] == "lara" and a["detail"]["format"] == "labelstudio" for a in log
    )
    assert any(a["action"] == "access_refused" and a["actor"] == "lara" for a in log)
    # signing out ends the session: the next page asks to sign in again (401)
    page.goto(server + "/")
    page.click("text=Sign out")
    response = page.goto(server + "/labeler")
    assert response is not None and response.status == 401
    assert outside == []
    ctx.close()

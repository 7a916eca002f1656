"""The officer's gates on real runs (the same stage functions the DAG tasks call, real detector, keyring,
GX and ledger): the assessment's sign-off and the residual-PII review by sampling, through the acts and
the CLI."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from clearhouse.acts import assessment, review
from clearhouse.acts.labeler import pull
from clearhouse.acts.officer import decide
from clearhouse.catalog import Catalog
from clearhouse.cli import main
from clearhouse.errors import CatalogError, ReleaseRefused
from clearhouse.governance.gates import version_gates
from clearhouse.governance.record import ledger_for
from clearhouse.governance.verify import verify
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings
from clearhouse.stages.context import prepare
from clearhouse.stages.runner import run_all
from clearhouse.zones import VersionPaths
from tests.conftest import add_user  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
SAMPLE_POLICY = (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text()
DS = "support_tickets"
#: small samples cannot carry k = 5 and l = 2: relaxed so that only the officer's gates decide
SMALL = {"k_anonymity: 5": "k_anonymity: 1", "l: 2": "l: 1"}
E3 = {"ethics_risk: E2": "ethics_risk: E3", "k_anonymity: 5": "k_anonymity: 1\nreview: {max_residual_rate: 0.05}"}


def _policy(tmp_path: Path, name: str = "policy.yaml", **replace: str) -> Path:
    text = SAMPLE_POLICY
    for old, new in {**SMALL, **replace}.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def _run(settings: Settings, policy: Path, rows: int, seed: int = 3) -> tuple[str, str]:
    src = settings.home / f"in-{rows}-{seed}.csv"
    write_table(generate_support_tickets(rows, seed=seed), src)
    ctx = prepare(policy, source=src, settings=settings)
    return ctx.version, run_all(ctx)


def _info(settings: Settings, version: str):  # type: ignore[no-untyped-def]
    return Catalog(settings.db_url).get(DS, version)


def _report(settings: Settings, version: str) -> str:
    return (VersionPaths(settings, DS, version).reports / "privacy_report.html").read_text()


def test_e3_waits_for_sign_off_review_and_approval(settings: Settings, tmp_path: Path) -> None:
    olivia, _ = add_user(settings, "olivia", "officer")
    lena, _ = add_user(settings, "lena", "labeler")
    policy = _policy(tmp_path, **E3)
    version, state = _run(settings, policy, 200)
    assert state == "awaiting_approval"
    gates = version_gates(settings, _info(settings, version))
    assert gates.outstanding == ["assessment", "review", "approval"]
    assert gates.review.plan is not None and gates.review.plan["sample_size"] == 59  # shown before any review
    report = _report(settings, version)
    assert "assessment not signed" in report and "59 records with no leak" in report

    # approval is the last gate
    with pytest.raises(ReleaseRefused, match="cannot be approved yet: waiting for assessment sign-off"):
        decide(settings, DS, version, approve=True, actor=olivia)

    drawn = review.sample(settings, DS, version, actor=olivia)
    assert drawn.n == 59 and drawn.population == 200 and drawn.columns == ["message"]
    sample_file = VersionPaths(settings, DS, version).review_sample
    assert stat.S_IMODE(sample_file.stat().st_mode) == 0o600
    again = review.sample(settings, DS, version, actor=olivia)
    assert again.seed == drawn.seed and again.records == drawn.records  # drawn once, then the same
    # the same seed over the same release draws the same records (anyone can repeat the draw)
    from clearhouse.validation.review import draw

    assert [r["row"] for r in drawn.records] == draw(200, 59, drawn.seed)
    # the ledger has the draw, not the text
    entry = [e for e in ledger_for(settings).entries(dataset=DS, version=version) if e.kind == "review_sample"][-1]
    assert entry.payload["seed"] == drawn.seed and "records" not in entry.payload

    with pytest.raises(CatalogError, match="not in the review sample"):
        review.submit(settings, DS, version, ["NOT-A-REF"], actor=olivia)
    assert version_gates(settings, _info(settings, version)).review.result is None  # nothing recorded

    outcome = review.submit(settings, DS, version, [], actor=olivia, note="read all 59")
    assert outcome.figures.passed and outcome.state == "awaiting_approval"
    assert outcome.outstanding == ["assessment", "approval"]
    assert outcome.figures.upper_bound == pytest.approx(0.0495076, abs=1e-6)
    with pytest.raises(CatalogError, match="already reviewed by olivia"):
        review.submit(settings, DS, version, [], actor=olivia)
    with pytest.raises(ReleaseRefused, match="waiting for assessment sign-off"):
        decide(settings, DS, version, approve=True, actor=olivia)

    signoff = assessment.sign(settings, DS, actor=olivia, note="read with the DPO")
    assert signoff.by == "olivia"
    assert version_gates(settings, _info(settings, version)).outstanding == ["approval"]
    with pytest.raises(ReleaseRefused):
        pull(settings, DS, version, tmp_path / "early", actor=lena)

    assert decide(settings, DS, version, approve=True, actor=olivia) == "cleared"
    assert pull(settings, DS, version, tmp_path / "out", actor=lena).exists()
    assert verify(settings, DS, version).ok, verify(settings, DS, version).all_problems()
    report = _report(settings, version)
    assert "signed by olivia" in report
    assert "n = 59, leaks = 0, upper bound 4.95%" in report and "vs limit 5.00%" in report
    assert "Approved by olivia" in report


def test_e2_clears_and_shows_assessment_not_signed_until_signed(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = add_user(settings, "olivia", "officer")
    policy = _policy(tmp_path)
    version, state = _run(settings, policy, 200)
    assert state == "cleared"  # E1-E2: the sign-off does not hold the release back
    assert "assessment not signed" in _report(settings, version)
    monkeypatch.setenv("CLEARHOUSE_TOKEN", token)
    assert main(["status", DS]) == 0
    out = capsys.readouterr().out
    assert f"assessment {DS}: assessment not signed" in out and "assessment not signed" in out.splitlines()[-1]

    # the officer reads it, then signs what they read
    assert main(["assessment", "show", DS]) == 0
    shown = capsys.readouterr().out
    digest = next(line.split()[1] for line in shown.splitlines() if line.startswith("digest"))
    assert "legitimate_interests" in shown and "1y" in shown and "sign with" in shown
    assert main(["assessment", "sign", DS, "--digest", "0" * 16]) == 1  # not what they read
    assert "changed since you read it" in capsys.readouterr().err
    assert main(["assessment", "sign", DS, "--digest", digest[:16], "--note", "ok"]) == 0
    assert "signed the assessment of support_tickets" in capsys.readouterr().out
    assert main(["assessment", "sign", DS]) == 0
    assert "already signed by olivia" in capsys.readouterr().out

    assert main(["status", DS, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc[0]["gates"]["assessment"]["signed"] is True and doc[0]["gates"]["assessment"]["digest"] == digest
    assert "signed by olivia" in _report(settings, version)  # the report was written again ...
    assert verify(settings, DS, version).ok  # ... and its new digest recorded
    snapshot = settings.home / "assessments" / DS / f"{digest}.json"
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600

    # a changed assessment needs a new sign-off: the next version ran with another one
    changed = _policy(tmp_path, "changed.yaml", **{"retention_period: 1y": "retention_period: 2y"})
    v2, state2 = _run(settings, changed, 200, seed=4)
    assert state2 == "cleared"
    status2 = version_gates(settings, _info(settings, v2)).assessment
    assert not status2.signed and status2.earlier is not None and status2.earlier.by == "olivia"
    assert "changed since the sign-off by olivia" in _report(settings, v2)
    assert version_gates(settings, _info(settings, version)).assessment.signed  # the first stays signed


def test_a_changed_assessment_holds_an_e3_version_until_signed_again(settings: Settings, tmp_path: Path) -> None:
    olivia, _ = add_user(settings, "olivia", "officer")
    v1, _ = _run(settings, _policy(tmp_path, **E3), 200)
    assessment.sign(settings, DS, actor=olivia)
    assert version_gates(settings, _info(settings, v1)).assessment.signed
    changed = _policy(tmp_path, "changed.yaml", **E3, **{"recipients: [": "recipients: [an outside vendor, "})
    v2, state = _run(settings, changed, 200, seed=4)
    assert state == "awaiting_approval"
    assert version_gates(settings, _info(settings, v2)).outstanding[0] == "assessment"
    review.sample(settings, DS, v2, actor=olivia)
    review.submit(settings, DS, v2, [], actor=olivia)
    with pytest.raises(ReleaseRefused, match="assessment sign-off"):
        decide(settings, DS, v2, approve=True, actor=olivia)


def test_a_failed_review_quarantines_the_version(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # an E2 policy that asks for a review: it waits for the review only (no approval)
    _, token = add_user(settings, "olivia", "officer")
    lena, _ = add_user(settings, "lena", "labeler")
    policy = _policy(tmp_path, **{"k_anonymity: 5": "k_anonymity: 1\nreview: {max_residual_rate: 0.05}"})
    version, state = _run(settings, policy, 200)
    assert state == "awaiting_approval"
    assert version_gates(settings, _info(settings, version)).outstanding == ["review"]
    monkeypatch.setenv("CLEARHOUSE_TOKEN", token)
    assert main(["review", "sample", DS, version, "--json"]) == 0
    drawn = json.loads(capsys.readouterr().out)
    assert drawn["sample_size"] == 59 and len(drawn["records"]) == 59
    assert main(["review", "sample", DS, version]) == 0
    text = capsys.readouterr().out
    assert "sample size needed  59" in text and f"[{drawn['records'][0]['ref']}]" in text
    refs = ",".join(r["ref"] for r in drawn["records"][:2])
    assert main(["review", "submit", DS, version, "--leaks", refs, "--note", "two names left"]) == 1
    out = capsys.readouterr().out
    assert "2 of 59 sampled records still showed personal data" in out and "FAILED" in out
    info = _info(settings, version)
    assert info.state == "quarantined"
    assert any(r["stage"] == "review" and "upper 95% bound" in r["message"] for r in info.reasons)
    with pytest.raises(ReleaseRefused, match="quarantined"):
        pull(settings, DS, version, tmp_path / "out", actor=lena)
    assert verify(settings, DS, version).ok
    assert "leaks = 2" in _report(settings, version)
    entry = [e for e in ledger_for(settings).entries(dataset=DS, version=version) if e.kind == "review"][-1]
    assert entry.payload["state"] == "quarantined" and entry.payload["leaks"] == 2 and entry.actor == "olivia"


def test_a_whole_population_review_withholds_the_marked_records(settings: Settings, tmp_path: Path) -> None:
    # 40 records with text, fewer than the 59 needed: every one is read and the rate is observed
    olivia, _ = add_user(settings, "olivia", "officer")
    lena, _ = add_user(settings, "lena", "labeler")
    policy = _policy(tmp_path, **{"k_anonymity: 5": "k_anonymity: 1\nreview: {max_residual_rate: 0.05}"})
    version, state = _run(settings, policy, 40, seed=2)
    assert state == "awaiting_approval", _info(settings, version).reasons
    drawn = review.sample(settings, DS, version, actor=olivia)
    assert drawn.n == drawn.population == 40
    marked = drawn.records[7]
    outcome = review.submit(settings, DS, version, [marked["ref"]], actor=olivia)
    assert outcome.figures.census and outcome.figures.upper_bound == pytest.approx(1 / 40)
    assert outcome.state == "cleared" and outcome.withheld == 1
    out = pull(settings, DS, version, tmp_path / "out", actor=lena)
    ids = pq.read_table(out / "data.parquet").column("ticket_id").to_pylist()
    assert len(ids) == 39 and marked["ref"] not in ids
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"] == 39 and manifest["withheld"]["rows"] == 1
    assert _info(settings, version).rows_out == 39
    assert verify(settings, DS, version).ok


def test_review_acts_refuse_versions_that_need_none(settings: Settings, tmp_path: Path) -> None:
    olivia, _ = add_user(settings, "olivia", "officer")
    version, state = _run(settings, _policy(tmp_path), 100)
    assert state == "cleared"
    with pytest.raises(CatalogError, match="only a version waiting for an officer"):
        review.sample(settings, DS, version, actor=olivia)

"""Nothing readable that should not be, nothing left after disposal: real runs (the runner the DAG tasks
call, real Presidio, keyring and GX), then `keys shred`, `clearhouse retention` and the retention DAG
through a real `airflow dags test`. Every file under the state directory is searched for the raw
values afterwards — Parquet files by their decoded values, everything else byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from clearhouse.acts import officer
from clearhouse.acts.labeler import pull
from clearhouse.acts.retention import SCHEDULED, apply_retention
from clearhouse.catalog import Catalog
from clearhouse.cli import main
from clearhouse.errors import ReleaseRefused
from clearhouse.governance.verify import verify, write_public_key
from clearhouse.privacy.crypto.configured import provider_for
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings
from clearhouse.stages.context import prepare
from clearhouse.stages.runner import run_all
from tests.conftest import add_user, first_officer  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
RELAXED = {"k_anonymity: 5": "k_anonymity: 1", "l: 2": "l: 1"}


def _policy(tmp_path: Path, retention: str | None = "30d") -> Path:
    text = (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text()
    for old, new in RELAXED.items():
        text = text.replace(old, new)
    assert "retention: 180d\n" in text
    text = text.replace("retention: 180d\n", f"retention: {retention}\n" if retention else "")
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def _run(settings: Settings, policy: Path, inputs: Path, seed: int) -> tuple[str, list[str]]:
    """Clear a version from a collected file outside the state directory; return it and its raw
    identifiers (phones and emails)."""
    src = inputs / f"tickets-{seed}.csv"
    write_table(generate_support_tickets(150, seed=seed), src)
    ctx = prepare(policy, source=src, settings=settings)
    assert run_all(ctx) == "cleared"
    raw = pacsv.read_csv(src)
    return ctx.version, [*raw.column("phone").to_pylist(), *raw.column("email").to_pylist()]


def _age(settings: Settings, version: str, days: int) -> None:
    """Time passes: the version was created ``days`` ago."""
    Catalog(settings.db_url).update(
        "support_tickets", version, created_at=datetime.now(UTC) - timedelta(days=days)
    )


def _files_holding(home: Path, needles: set[str]) -> dict[str, list[str]]:
    """Files under ``home`` that contain any of ``needles`` (Parquet: decoded values; else raw bytes)."""
    found: dict[str, list[str]] = {}
    for path in sorted(home.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            text = "\n".join(str(v) for col in table.columns for v in col.to_pylist())
        else:
            text = path.read_bytes().decode("latin-1")
        hits = [n for n in needles if n in text]
        if hits:
            found[str(path.relative_to(home))] = hits[:3]
    return found


def _exposed(home: Path) -> list[str]:
    """Anything under the state directory that group or others can read, write or enter."""
    return [
        f"{p.relative_to(home)} {p.stat().st_mode & 0o777:o}"
        for p in [home, *home.rglob("*")]
        if not p.is_symlink() and p.stat().st_mode & 0o077 and "suites" not in p.relative_to(home).parts[:1]
    ]


def test_shred_leaves_no_plaintext_copy_of_the_version(settings: Settings, tmp_path: Path) -> None:
    inputs = tmp_path / "collected"
    inputs.mkdir()
    policy = _policy(tmp_path, retention=None)
    v1, raw1 = _run(settings, policy, inputs, seed=3)
    v2, raw2 = _run(settings, policy, inputs, seed=4)
    needles = set(raw1) - set(raw2)
    assert len(needles) > 250
    # before: the landing copy and the work zone hold them in clear (this is what shredding must remove)
    before = _files_holding(settings.home, needles)
    assert any(k.startswith("zones/landing/") for k in before) and any(k.startswith("zones/work/") for k in before)
    assert _exposed(settings.home) == []  # private from the start

    boss, _ = first_officer(settings)
    collected = {p.name: p.read_bytes() for p in inputs.iterdir()}
    assert officer.shred(settings, "support_tickets", v1, actor=boss) == [v1]
    assert _files_holding(settings.home, needles) == {}
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == collected  # raw inputs never touched
    paths = settings.zone("cleared") / "support_tickets"
    assert (paths / v1 / "data.parquet").exists()  # ciphertext, pseudonyms and redacted text stay
    # the other version still has its working copies and still verifies; the ledger holds
    assert (settings.zone("landing") / "support_tickets" / v2).exists()
    assert verify(settings).ok, verify(settings).all_problems()
    [entry] = [e for e in Catalog(settings.db_url).audit_log("support_tickets") if e["action"] == "shred"]
    assert sorted(entry["detail"]["removed"]) == [
        f"zones/landing/support_tickets/{v1}",
        f"zones/work/support_tickets/{v1}",
    ]


def test_retention_disposes_of_old_versions_by_hand_and_on_schedule(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tmp_path / "collected"
    inputs.mkdir()
    policy = _policy(tmp_path, retention="30d")
    old, raw_old = _run(settings, policy, inputs, seed=2)
    older, raw_older = _run(settings, policy, inputs, seed=4)
    fresh, raw_fresh = _run(settings, policy, inputs, seed=7)
    _age(settings, old, 31)
    _age(settings, fresh, 29)
    lena, lena_token = add_user(settings, "lena", "labeler")
    _, officer_token = first_officer(settings)

    # dry run: lists, changes nothing, needs no token
    monkeypatch.delenv("CLEARHOUSE_TOKEN", raising=False)
    assert main(["retention", "--dry-run", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["version"] for d in listed["due"]] == [old] and listed["disposed"] == []
    assert listed["due"][0]["retention"] == "30d"
    # the act itself needs an officer
    assert main(["retention"]) == 1
    monkeypatch.setenv("CLEARHOUSE_TOKEN", lena_token)
    assert main(["retention"]) == 1
    assert "retention needs the officer role" in capsys.readouterr().err
    assert Catalog(settings.db_url).get("support_tickets", old).state == "cleared"

    monkeypatch.setenv("CLEARHOUSE_TOKEN", officer_token)
    assert main(["retention", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert [d["version"] for d in done["disposed"]] == [old]
    info = Catalog(settings.db_url).get("support_tickets", old)
    assert info.state == "disposed" and info.reasons[-1]["stage"] == "retention"
    assert "retention 30d elapsed on" in info.reasons[-1]["message"]
    keys = [k for k in provider_for(settings).status().data_keys if k.version == old]
    assert keys and all(k.shredded for k in keys)
    leftovers = [str(p) for p in settings.home.rglob(f"*{old}*")]
    assert leftovers == []
    assert _files_holding(settings.home, set(raw_old) - set(raw_older) - set(raw_fresh)) == {}
    with pytest.raises(ReleaseRefused, match="disposed, not cleared"):
        pull(settings, "support_tickets", old, tmp_path / "labeling", actor=lena)
    assert pull(settings, "support_tickets", fresh, tmp_path / "labeling", actor=lena).exists()
    assert verify(settings).ok, verify(settings).all_problems()
    # nothing more is due; a second run disposes of nothing
    assert apply_retention(settings, actor=None, dry_run=True).due == []

    # the daily DAG, through a real `airflow dags test`, calls the same act
    from clearhouse.runs.embedded import run_dag_test

    _age(settings, older, 45)
    write_public_key(settings)
    outcome = run_dag_test(settings, "clearhouse_retention", {}, log_path=settings.home / "runs" / "retention.log")
    log = outcome.log_path.read_text()
    assert outcome.returncode == 0, log[-3000:]
    assert "[DAG TEST] end task task_id=dispose" in log
    info = Catalog(settings.db_url).get("support_tickets", older)
    assert info.state == "disposed" and info.info["disposed_by"] == SCHEDULED
    assert Catalog(settings.db_url).get("support_tickets", fresh).state == "cleared"
    assert not any(settings.home.rglob(f"*{older}*"))
    assert _files_holding(settings.home, set(raw_older) - set(raw_fresh)) == {}
    disposals = [(e["version"], e["actor"]) for e in Catalog(settings.db_url).audit_log() if e["action"] == "dispose"]
    assert disposals == [(old, "officer"), (older, SCHEDULED)]
    # after real runs and a real Airflow run: nothing under the state directory is readable by others
    # (data zones, catalog.db, airflow.db, Airflow's task logs, run logs, reports, keys, token file)
    assert (settings.home / "airflow" / "airflow.db").exists()
    assert _exposed(settings.home) == []


def test_retention_fails_loudly_when_a_policy_cannot_be_read(settings: Settings, tmp_path: Path) -> None:
    inputs = tmp_path / "collected"
    inputs.mkdir()
    policy = _policy(tmp_path, retention="30d")
    version, _ = _run(settings, policy, inputs, seed=9)
    _age(settings, version, 400)
    policy.unlink()  # the registered policy is gone: its retention is unknown, nothing is removed on a guess
    result = apply_retention(settings, actor=None)
    assert result.disposed == [] and "its policy cannot be read" in result.problems[0]
    assert Catalog(settings.db_url).get("support_tickets", version).state == "cleared"
    assert (settings.zone("cleared") / "support_tickets" / version / "data.parquet").exists()


def test_shred_of_a_version_stopped_before_protect_still_removes_its_raw_copy(
    settings: Settings, tmp_path: Path
) -> None:
    # a malformed file is landed (read-only copy), then ingest fails: no data key was ever made
    good = tmp_path / "good.csv"
    write_table(generate_support_tickets(60, seed=1), good)
    lines = good.read_text().splitlines()
    bad = tmp_path / "truncated.csv"
    bad.write_text("\n".join(lines[:40]) + "\n" + lines[40][: len(lines[40]) // 2] + '"\n')
    ctx = prepare(_policy(tmp_path, retention=None), source=bad, settings=settings)
    assert run_all(ctx) == "quarantined"
    landing = settings.zone("landing") / "support_tickets" / ctx.version
    assert landing.exists()
    needles = set(pacsv.read_csv(good).column("email").to_pylist()[:39])
    assert _files_holding(settings.home, needles)
    boss, _ = first_officer(settings)
    assert officer.shred(settings, "support_tickets", ctx.version, actor=boss) == [ctx.version]
    assert not landing.exists()
    assert _files_holding(settings.home, needles) == {}
    [entry] = [e for e in Catalog(settings.db_url).audit_log("support_tickets") if e["action"] == "shred"]
    assert entry["detail"]["keys_destroyed"] == 0 and entry["detail"]["removed"]
    assert Catalog(settings.db_url).get("support_tickets", ctx.version).state == "shredded"

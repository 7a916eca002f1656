"""End to end through real Airflow (``airflow dags test`` on a migrated SQLite DB), real Presidio + spaCy,
real AES-GCM, a real GX checkpoint and real OpenLineage events — the path ``make demo`` takes.

The run happens in a fresh network namespace when the machine allows it (``unshare -n``), so any attempt
to reach the network at run time fails the run instead of silently succeeding."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from clearhouse.settings import REPO_ROOT
from tests.conftest import TEST_MASTER_KEY  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
POLICY = REPO_ROOT / "datasets" / "support_tickets.yaml"
CLI = [sys.executable, "-m", "clearhouse"]
ROWS, SEED = 2000, 11


def _isolated_network_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-n"]
    return []


@dataclass
class Run:
    home: Path
    env: dict[str, str]
    source: Path
    source_sha: str
    result: subprocess.CompletedProcess[str]
    emails: list[str]
    names: list[str]
    phones: list[str]
    officer_token: str = ""
    labeler_token: str = ""

    def cli(self, *args: str, isolated: bool = False, token: str | None = None) -> subprocess.CompletedProcess[str]:
        prefix = _isolated_network_prefix() if isolated else []
        env = {**self.env, "CLEARHOUSE_TOKEN": token} if token else self.env
        return subprocess.run([*prefix, *CLI, *args], env=env, capture_output=True, text=True, check=False, timeout=900)

    def labeler(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli(*args, token=self.labeler_token)

    def version(self) -> str:
        status = json.loads(self.cli("status", "--json").stdout)
        return str(status[0]["version"])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    home = tmp_path_factory.mktemp("e2e") / "state"
    env = dict(os.environ)
    env.update(
        {
            "CLEARHOUSE_HOME": str(home),
            "CLEARHOUSE_SUITES": str(home / "suites"),
            "CLEARHOUSE_MASTER_KEY": TEST_MASTER_KEY,
            # three chunks: detect, minimise and protect run as three mapped task instances each
            "CLEARHOUSE_CHUNK_ROWS": "700",
        }
    )
    env.pop("CLEARHOUSE_DB_URL", None)
    env.pop("CLEARHOUSE_TOKEN", None)  # the engineer runs without a token
    source = home.parent / "tickets.csv"
    r = Run(home, env, source, "", subprocess.CompletedProcess([], 0), [], [], [])
    assert r.cli("init").returncode == 0
    r.officer_token = (home / "first-officer.token").read_text().strip()
    added = r.cli("users", "add", "lena", "--role", "labeler", "--certified-until", "2099-12-31", "--json",
                  token=r.officer_token)
    assert added.returncode == 0, added.stderr
    r.labeler_token = json.loads(added.stdout)["token"]
    assert (
        r.cli("sample", "support-tickets", "--rows", str(ROWS), "--seed", str(SEED), "--out", str(source)).returncode
        == 0
    )
    r.source_sha = hashlib.sha256(source.read_bytes()).hexdigest()
    raw = pacsv.read_csv(source)
    r.emails = raw.column("email").to_pylist()
    r.names = raw.column("customer_name").to_pylist()
    r.phones = raw.column("phone").to_pylist()
    r.result = r.cli("run", str(POLICY), "--source", str(source), isolated=True)
    yield r


def test_run_clears_the_version(run: Run) -> None:
    assert run.result.returncode == 0, run.result.stdout + run.result.stderr
    assert "state        CLEARED" in run.result.stdout
    assert f"rows         in {ROWS} / out {ROWS}" in run.result.stdout
    assert "pull with    clearhouse pull support_tickets --version" in run.result.stdout
    status = json.loads(run.cli("status", "--json").stdout)
    assert [s["state"] for s in status] == ["cleared"]
    log = next((run.home / "runs").glob("*.log")).read_text()
    assert "Failed to import plugin" not in log and "[error" not in log
    version = status[0]["version"]
    manifest = json.loads((run.home / "zones" / "cleared" / "support_tickets" / version / "manifest.json").read_text())
    assert [c["rows"] for c in manifest["chunks"]["chunks"]] == [700, 700, 600]
    for stage in ("detect", "minimise", "protect"):
        assert len(list((run.home / "zones" / "work" / "support_tickets" / version / "chunks").glob(
            f"*/{stage}.json"))) == 3


def test_everything_under_the_state_directory_is_private(run: Run) -> None:
    # data zones, catalog and ledger, keys, Airflow's DB and logs, reports: nobody but the owner reads them
    # (the suites folder sits here only because this test points CLEARHOUSE_SUITES at it: suites are
    # reviewable configuration generated from the policy, no data)
    exposed = [
        str(p.relative_to(run.home))
        for p in run.home.rglob("*")
        if not p.is_symlink() and p.stat().st_mode & 0o077 and p.relative_to(run.home).parts[0] != "suites"
    ]
    assert exposed == []


def test_raw_input_untouched_and_landed_read_only(run: Run) -> None:
    assert hashlib.sha256(run.source.read_bytes()).hexdigest() == run.source_sha
    landing = next((run.home / "zones" / "landing" / "support_tickets").glob("*/raw.csv"))
    assert hashlib.sha256(landing.read_bytes()).hexdigest() == run.source_sha
    assert not landing.stat().st_mode & stat.S_IWUSR


def test_pull_writes_verified_release_without_identifiers(run: Run, tmp_path: Path) -> None:
    out = run.labeler("pull", "support_tickets", "--to", str(tmp_path))
    assert out.returncode == 0, out.stderr
    target = tmp_path / "support_tickets" / run.version()
    manifest = json.loads((target / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
    table = pq.read_table(target / "data.parquet")
    assert table.num_rows == ROWS
    assert "customer_name" not in table.column_names and "street_address" not in table.column_names
    csv_text = (target / "data.csv").read_text()
    assert not [e for e in run.emails if e in csv_text]
    # a labeler's copy carries no key material: no master key, no wrapped keys from the keyring
    keyring = json.loads((run.home / "keys" / "keyring.json").read_text())
    secrets = [TEST_MASTER_KEY, *(w for w in json.dumps(keyring).split('"') if len(w) >= 40)]
    pulled = "".join((target / n).read_text(errors="replace") for n in ("data.csv", "manifest.json"))
    assert not [s for s in secrets if s in pulled]
    assert all(v.startswith("psd_") for v in table.column("email").to_pylist())
    # the encrypted phone is for officer-approved call-backs: labelers do not receive even its ciphertext
    assert "phone" not in table.column_names and "phone" not in [c["name"] for c in manifest["columns"]]
    assert manifest["labeler_copy"]["withheld_columns"] == ["phone"]
    # pulling into a non-empty target is refused rather than overwriting
    again = run.labeler("pull", "support_tickets", "--to", str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr


def _texts(run: Run) -> dict[str, str]:
    """Everything a run leaves that a person or a monitoring system reads: logs, XCom, lineage, reports."""
    texts: dict[str, str] = {}
    for pattern in (
        "airflow/logs/**/*",
        "runs/*.log",
        "lineage/*.jsonl",
        "reports/**/*.html",
        "reports/**/*.json",
        "zones/work/**/*.json",
    ):
        for p in run.home.glob(pattern):
            if p.is_file():
                texts[str(p)] = p.read_text(errors="replace")
    texts["stdout"] = run.result.stdout + run.result.stderr
    with sqlite3.connect(run.home / "airflow" / "airflow.db") as db:
        texts["airflow xcom"] = "\n".join(str(row) for row in db.execute("SELECT * FROM xcom"))
    with sqlite3.connect(run.home / "catalog.db") as db:
        for table in ("lineage_events", "ch_versions", "ch_audit"):
            texts[f"catalog {table}"] = "\n".join(str(row) for row in db.execute(f"SELECT * FROM {table}"))
    return texts


def test_no_raw_pii_or_key_material_in_logs_xcom_lineage_or_reports(run: Run) -> None:
    texts = _texts(run)
    # `airflow dags test` writes the task logs to its output, which the runner keeps under runs/
    task_logs = "\n".join(v for k, v in texts.items() if "/runs/" in k)
    assert "[DAG TEST] end task task_id=protect" in task_logs, "expected Airflow task logs"
    assert texts["airflow xcom"], "expected XCom rows"
    assert texts["catalog lineage_events"], "expected lineage events"
    needles = [*run.emails, *run.names, *[p for p in run.phones if len(p) >= 10], TEST_MASTER_KEY]
    keyring = json.loads((run.home / "keys" / "keyring.json").read_text())
    needles += [w for w in json.dumps(keyring).split('"') if len(w) >= 40]  # wrapped key blobs
    leaks = {where: n for where, text in texts.items() for n in needles if n in text}
    assert not leaks, f"raw PII or key material found in: {sorted(leaks)}"


def test_lineage_has_start_and_complete_per_stage_with_schemas(run: Run) -> None:
    out = run.cli("lineage", "support_tickets", "--json")
    events = json.loads(out.stdout)
    by_job = {(e["job"]["name"].split(".")[-1], e["eventType"]) for e in events}
    for stage in ("ingest", "detect", "minimise", "protect", "validate", "release"):
        assert (stage, "START") in by_job and (stage, "COMPLETE") in by_job
    protect = next(e for e in events if e["job"]["name"].endswith(".protect") and e["eventType"] == "COMPLETE")
    fields = [f["name"] for f in protect["outputs"][0]["facets"]["schema"]["fields"]]
    assert "phone" in fields and "customer_name" not in fields


def test_second_run_on_existing_state_fails_closed_on_malformed_input(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "truncated.csv"
    lines = run.source.read_text().splitlines()
    bad.write_text("\n".join(lines[:50]) + "\n" + lines[50][: len(lines[50]) // 2] + '"\n')
    before = bad.read_bytes()
    result = run.cli("run", str(POLICY), "--source", str(bad), isolated=True)
    assert result.returncode == 1
    assert "QUARANTINED" in result.stdout and "[ingest] truncated.csv: malformed CSV" in result.stdout
    assert bad.read_bytes() == before
    status = json.loads(run.cli("status", "--json").stdout)
    assert [s["state"] for s in status] == ["cleared", "quarantined"]
    quarantined = status[1]["version"]
    assert not (run.home / "zones" / "cleared" / "support_tickets" / quarantined).exists()
    refused = run.labeler("pull", "support_tickets", "--version", quarantined, "--to", str(tmp_path / "x"))
    assert refused.returncode == 1 and "quarantined, not cleared" in refused.stderr
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_skewed_sample_through_airflow_is_quarantined_naming_the_balance_check(run: Run, tmp_path: Path) -> None:
    skewed = tmp_path / "skewed.csv"
    made = run.cli(
        "sample",
        "support-tickets",
        "--rows",
        str(ROWS),
        "--seed",
        str(SEED),
        "--skew",
        "label:refund",
        "--out",
        str(skewed),
    )
    assert made.returncode == 0
    result = run.cli("run", str(POLICY), "--source", str(skewed), isolated=True)
    assert result.returncode == 1
    assert "state        QUARANTINED" in result.stdout
    assert "[validate] critical expectations failed: expect_column_label_balance(label)" in result.stdout
    assert "expected label 'refund' is missing" in result.stdout
    version = json.loads(run.cli("status", "--json").stdout)[-1]["version"]
    report = run.home / "reports" / "support_tickets" / version / "privacy_report.html"
    assert "expect_column_label_balance" in report.read_text()


def test_rerunning_tasks_of_the_cleared_run_through_airflow_changes_nothing(run: Run) -> None:
    """The task-clearing path: Airflow runs `validate` and `release` again on the finished DAG run (as
    after clearing them in the UI); the version stays cleared, its files unchanged, the re-runs recorded."""
    from clearhouse.runs.embedded import airflow_env
    from clearhouse.settings import load_settings

    version = run.version()
    [entry] = [v for v in json.loads(run.cli("status", "--json").stdout) if v["version"] == version]
    release = run.home / "zones" / "cleared" / "support_tickets" / version / "data.parquet"
    before = hashlib.sha256(release.read_bytes()).hexdigest()
    env = {**run.env, **airflow_env(load_settings(run.env))}  # the run's master key, Airflow's settings
    airflow = str(Path(sys.executable).with_name("airflow"))
    for task in ("validate", "release"):
        out = subprocess.run(
            [airflow, "tasks", "test", "clearhouse__support_tickets", task, entry["run_id"]],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        assert "'rerun': True, 'state': 'cleared'" in out.stdout, out.stdout[-3000:]
    [after] = [v for v in json.loads(run.cli("status", "--json").stdout) if v["version"] == version]
    assert after["state"] == "cleared"
    assert hashlib.sha256(release.read_bytes()).hexdigest() == before
    traced = json.loads(run.cli("trace", "support_tickets", "--version", version, "--json").stdout)
    assert [e["kind"] for e in traced["entries"]].count("rerun") == 2
    assert run.cli("verify", "support_tickets", "--version", version).returncode == 0

"""Verifiable governance through the real pipeline: every tamper with a cleared version is caught by
`verify` (naming what differs) and refuses the pull (recorded); `trace` follows a row back; re-running
a finished version's tasks changes nothing but the ledger."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from clearhouse.acts.labeler import pull
from clearhouse.acts.users import User
from clearhouse.cli import main
from clearhouse.errors import ReleaseRefused
from clearhouse.files import sha256_file
from clearhouse.governance.record import ledger_for, signer_for
from clearhouse.governance.trace import trace
from clearhouse.governance.verify import verify, write_public_key
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings, load_settings
from clearhouse.stages.context import RunContext, prepare
from clearhouse.stages.runner import finish, run_all, run_stage
from tests.conftest import TEST_MASTER_KEY, add_user  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
POLICY = REPO_ROOT / "datasets" / "support_tickets.yaml"


@dataclass
class Cleared:
    home: Path
    version: str
    quarantined: str
    source: Path
    policy: Path


def _settings(home: Path) -> Settings:
    return load_settings(
        {
            "CLEARHOUSE_HOME": str(home),
            "CLEARHOUSE_SUITES": str(home / "suites"),
            "CLEARHOUSE_MASTER_KEY": TEST_MASTER_KEY,
        }
    )


@pytest.fixture(scope="module")
def cleared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cleared]:
    home = tmp_path_factory.mktemp("gov") / "state"
    s = _settings(home)
    s.ensure_dirs()
    write_public_key(s)
    policy = home.parent / "policy.yaml"
    policy.write_text(POLICY.read_text().replace("k_anonymity: 5", "k_anonymity: 1").replace("l: 2", "l: 1"))
    src = home.parent / "tickets.csv"
    write_table(generate_support_tickets(200, seed=3), src)
    ok = prepare(policy, source=src, settings=s)
    assert run_all(ok) == "cleared"
    skewed = home.parent / "skewed.csv"
    write_table(generate_support_tickets(200, seed=3, skew="label:refund"), skewed)
    bad = prepare(policy, source=skewed, settings=s)
    assert run_all(bad) == "quarantined"
    add_user(s, "lena", "labeler")
    yield Cleared(home, ok.version, bad.version, src, policy)


@pytest.fixture
def copy(cleared: Cleared, tmp_path: Path) -> tuple[Settings, Cleared]:
    """A private copy of the cleared state directory for one tamper."""
    home = tmp_path / "state"
    shutil.copytree(cleared.home, home, symlinks=True)
    return _settings(home), Cleared(home, cleared.version, cleared.quarantined, cleared.source, cleared.policy)


def _lena(s: Settings) -> User:
    return User("lena", "labeler", None, None, False)  # the acts re-read her certification from the catalog


def _pull_refused(s: Settings, c: Cleared, version: str, tmp_path: Path) -> str:
    with pytest.raises(ReleaseRefused) as refused:
        pull(s, "support_tickets", version, tmp_path / "labeling", actor=_lena(s))
    assert not (tmp_path / "labeling" / "support_tickets" / version / "data.parquet").exists()
    last = ledger_for(s).entries(dataset="support_tickets", version=version)[-1]
    assert last.kind == "pull_refused"  # the refusal is itself recorded
    return str(refused.value)


def test_an_untouched_release_verifies_and_pulls(copy: tuple[Settings, Cleared], tmp_path: Path) -> None:
    s, c = copy
    report = verify(s)
    assert report.ok, report.all_problems()
    assert report.artifacts_checked >= 10 and report.versions_checked == 2
    target = pull(s, "support_tickets", c.version, tmp_path / "labeling", actor=_lena(s))
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["ledger"]["key_id"] == signer_for(s).key_id
    assert manifest["ledger"]["public_key"] == signer_for(s).public_key_b64()
    assert 0 < manifest["ledger"]["chain_head"]["seq"] < report.chain.entries
    assert ledger_for(s).entries(dataset="support_tickets", version=c.version)[-1].kind == "pull"
    html = (s.reports_dir / "support_tickets" / c.version / "privacy_report.html").read_text()
    assert 'id="ledger"' in html and "chain intact" in html and signer_for(s).key_id in html


def test_verify_command_exit_codes(
    copy: tuple[Settings, Cleared], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s, c = copy
    monkeypatch.setenv("CLEARHOUSE_HOME", str(s.home))
    monkeypatch.setenv("CLEARHOUSE_MASTER_KEY", TEST_MASTER_KEY)
    assert main(["verify", "support_tickets", "--version", c.version, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    with sqlite3.connect(s.home / "catalog.db") as db:
        db.execute("DELETE FROM ch_ledger WHERE seq = 2")
    assert main(["verify"]) == 1
    assert "BROKEN       entry 3 (" in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "ledger: BROKEN" in capsys.readouterr().out


def test_state_flipped_in_the_database(copy: tuple[Settings, Cleared], tmp_path: Path) -> None:
    s, c = copy
    with sqlite3.connect(s.home / "catalog.db") as db:
        db.execute("UPDATE ch_versions SET state = 'cleared' WHERE version = ?", (c.quarantined,))
    report = verify(s, "support_tickets", c.quarantined)
    assert report.all_problems() == [
        f"support_tickets {c.quarantined}: the catalog says 'cleared', the ledger's last state is 'quarantined' "
        f"(entry {report_entry(s, c.quarantined)} (release support_tickets {c.quarantined}))"
    ]
    assert "failed verification" in _pull_refused(s, c, c.quarantined, tmp_path)


def report_entry(s: Settings, version: str) -> int:
    return next(e.seq for e in ledger_for(s).entries(version=version) if e.kind == "release")


def test_changed_byte_in_a_cleared_file(copy: tuple[Settings, Cleared], tmp_path: Path) -> None:
    s, c = copy
    data = s.zone("cleared") / "support_tickets" / c.version / "data.csv"
    data.chmod(0o644)
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    data.write_bytes(bytes(raw))
    [problem] = verify(s, "support_tickets", c.version).all_problems()
    assert problem.startswith(f"zones/cleared/support_tickets/{c.version}/data.csv: differs from the SHA-256")
    assert "data.csv" in _pull_refused(s, c, c.version, tmp_path)


def test_cleared_file_replaced_by_the_raw_input_with_a_matching_manifest(
    copy: tuple[Settings, Cleared], tmp_path: Path
) -> None:
    s, c = copy
    release = s.zone("cleared") / "support_tickets" / c.version
    for f in release.iterdir():
        f.chmod(0o644)
    raw = pacsv.read_csv(c.source)
    pq.write_table(raw, release / "data.parquet")
    shutil.copyfile(c.source, release / "data.csv")
    manifest = json.loads((release / "manifest.json").read_text())
    manifest["files"] = {n: sha256_file(release / n) for n in ("data.parquet", "data.csv")}
    (release / "manifest.json").write_text(json.dumps(manifest))
    problems = verify(s, "support_tickets", c.version).all_problems()
    assert {p.split(":")[0].rsplit("/", 1)[-1] for p in problems} == {"data.parquet", "data.csv", "manifest.json"}
    _pull_refused(s, c, c.version, tmp_path)  # today's manifest check alone would hand out raw names


def test_deleted_entry(copy: tuple[Settings, Cleared], tmp_path: Path) -> None:
    s, c = copy
    with sqlite3.connect(s.home / "catalog.db") as db:
        db.execute("DELETE FROM ch_ledger WHERE seq = 3")
    [problem] = verify(s).all_problems()
    assert problem.startswith("entry 4 (") and "expected entry 3 here" in problem
    _pull_refused(s, c, c.version, tmp_path)


def test_swapped_entries(copy: tuple[Settings, Cleared], tmp_path: Path) -> None:
    s, c = copy
    with sqlite3.connect(s.home / "catalog.db") as db:
        db.execute("UPDATE ch_ledger SET seq = -1 WHERE seq = 3")
        db.execute("UPDATE ch_ledger SET seq = 3 WHERE seq = 4")
        db.execute("UPDATE ch_ledger SET seq = 4 WHERE seq = -1")
    [problem] = verify(s).all_problems()
    assert problem.startswith("entry 3 (") and "prev_hash does not match the hash of entry 2" in problem
    _pull_refused(s, c, c.version, tmp_path)


def test_entry_re_signed_with_another_key(copy: tuple[Settings, Cleared], tmp_path: Path) -> None:
    import base64
    import hashlib

    from clearhouse.lineage.ledger import canonical
    from clearhouse.privacy.crypto.signing import LedgerSigner

    s, c = copy
    attacker = LedgerSigner(b"\x07" * 32)
    [entry] = [e for e in ledger_for(s).entries(version=c.quarantined) if e.kind == "release"]
    body = {**entry.body(), "payload": {**entry.payload, "state": "cleared"}}
    new_hash = hashlib.sha256(canonical(body).encode()).hexdigest()
    signature = base64.b64encode(attacker.sign(new_hash.encode())).decode()
    with sqlite3.connect(s.home / "catalog.db") as db:
        db.execute(
            "UPDATE ch_ledger SET payload = ?, entry_hash = ?, signature = ?, key_id = ? WHERE seq = ?",
            (canonical(body["payload"]), new_hash, signature, entry.key_id, entry.seq),
        )
    problems = verify(s).all_problems()
    where = f"entry {entry.seq} (release support_tickets {c.quarantined})"
    assert problems[0] == f"{where}: signature does not verify under the ledger key"  # the first broken link


def test_trace_follows_a_row_back(cleared: Cleared) -> None:
    s = _settings(cleared.home)
    first_id = str(pacsv.read_csv(cleared.source).column("ticket_id")[7].as_py())
    t = trace(s, "support_tickets", cleared.version, first_id)
    assert t["raw_sha256"] == sha256_file(cleared.source)
    assert t["row"]["position"] == 7 and t["row"]["csv_line"] == 9
    assert t["policy_sha256"] and t["software"]["packages"]["clearhouse"]
    assert t["columns"]["phone"]["treatment"] == "encrypt" and t["columns"]["phone"]["key_id"]
    assert t["columns"]["email"]["key_id"] and "key_id" not in t["columns"]["message"]
    kinds = [e["kind"] for e in t["entries"]]
    assert kinds[0] == "run_start" and kinds.count("stage") == 5 and "release" in kinds


def test_rerunning_tasks_of_a_finished_version_changes_nothing(copy: tuple[Settings, Cleared]) -> None:
    s, c = copy
    for version, state in ((c.version, "cleared"), (c.quarantined, "quarantined")):
        ctx = RunContext.from_ref(
            {
                "dataset": "support_tickets",
                "version": version,
                "policy_path": str(c.policy),
                "source": str(c.source),
                "run_id": None,
            },
            settings=s,
        )
        before = sha256_file(s.zone("cleared") / "support_tickets" / c.version / "data.parquet")
        for stage in ("ingest", "validate"):
            assert run_stage(ctx, stage).to_xcom() == {"rerun": True, "state": state}
        assert finish(ctx).to_xcom()["state"] == state
        assert ctx.catalog.get("support_tickets", version).state == state
        assert sha256_file(s.zone("cleared") / "support_tickets" / c.version / "data.parquet") == before
    kinds = [e.kind for e in ledger_for(s).entries(version=c.version)]
    assert kinds[-3:] == ["rerun", "rerun", "rerun"]
    assert verify(s).ok


def test_pull_to_an_existing_file_is_a_clear_error(copy: tuple[Settings, Cleared], tmp_path: Path) -> None:
    from clearhouse.errors import ConfigError

    s, c = copy
    a_file = tmp_path / "labeling.txt"
    a_file.write_text("not a folder")
    with pytest.raises(ConfigError, match="exists and is not a folder; nothing was written"):
        pull(s, "support_tickets", c.version, a_file, actor=_lena(s))
    assert a_file.read_text() == "not a folder"

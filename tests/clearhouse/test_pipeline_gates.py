"""The pipeline's gates through the core (the same stage functions the DAG tasks call), with the real
detector, real keyring and a real GX checkpoint, on small purpose-built samples."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from clearhouse.acts import officer, review
from clearhouse.acts.assessment import sign
from clearhouse.acts.labeler import pull
from clearhouse.acts.officer import decide
from clearhouse.catalog import Catalog
from clearhouse.errors import DecryptionError, ReleaseRefused
from clearhouse.privacy.crypto.configured import provider_for
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings
from clearhouse.stages.context import prepare
from clearhouse.stages.runner import run_all
from tests.conftest import add_user, first_officer  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
SAMPLE_POLICY = (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text()


def _policy(tmp_path: Path, **replace: str) -> Path:
    text = SAMPLE_POLICY
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def _run(settings: Settings, policy: Path, rows: int, *, seed: int = 3, skew: str | None = None) -> str:
    src = settings.home / f"in-{rows}-{seed}-{skew}.csv"
    write_table(generate_support_tickets(rows, seed=seed, skew=skew), src)
    ctx = prepare(policy, source=src, settings=settings)
    state = run_all(ctx)
    return f"{ctx.version}:{state}"


def _reasons(settings: Settings, version: str) -> str:
    info = Catalog(settings.db_url).get("support_tickets", version)
    return " | ".join(r["message"] for r in info.reasons)


def test_skewed_sample_is_quarantined_naming_the_balance_check(settings: Settings, tmp_path: Path) -> None:
    # a relaxed k so that only the balance gate can fail on this small sample
    policy = _policy(tmp_path, **{"k_anonymity: 5": "k_anonymity: 1"})
    version, state = _run(settings, policy, 400, skew="label:refund").split(":")
    assert state == "quarantined"
    reasons = _reasons(settings, version)
    assert "expect_column_label_balance(label)" in reasons
    assert "expect_k_anonymity" not in reasons
    assert not (settings.zone("cleared") / "support_tickets" / version).exists()
    lena, _ = add_user(settings, "lena", "labeler")
    with pytest.raises(ReleaseRefused, match="quarantined, not cleared"):
        pull(settings, "support_tickets", version, tmp_path / "out", actor=lena)


def test_missing_group_is_quarantined(settings: Settings, tmp_path: Path) -> None:
    policy = _policy(tmp_path, **{"k_anonymity: 5": "k_anonymity: 1"})
    version, state = _run(settings, policy, 400, skew="gender:nonbinary").split(":")
    assert state == "quarantined"
    assert "expect_column_group_representation(gender)" in _reasons(settings, version)


def test_k_anonymity_fails_without_generalisation_and_passes_with_it(settings: Settings, tmp_path: Path) -> None:
    generalised_age = "age:            {role: quasi_identifier, treatment: generalise, params: {edges: [30, 50, 65]}}"
    keep_age = {generalised_age: "age:            {role: quasi_identifier, treatment: keep}"}
    keep_age["k_anonymity: 5"] = "k_anonymity: 2"
    version, state = _run(settings, _policy(tmp_path, **keep_age), 1500).split(":")
    assert state == "quarantined"
    assert "expect_k_anonymity(gender, age, country): k = 1 < 2" in _reasons(settings, version)

    # the policy's generalisation (age bands, regions; k set to what 1,500 rows can carry) fixes it
    generalised = {"k_anonymity: 5": "k_anonymity: 2"}
    version, state = _run(settings, _policy(tmp_path, **generalised), 1500).split(":")
    assert state == "cleared", _reasons(settings, version)


def test_shred_rotate_decrypt_lifecycle(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = _policy(tmp_path, **{"k_anonymity: 5": "k_anonymity: 1"}, **{"l: 2": "l: 1"})
    v1, state = _run(settings, policy, 300).split(":")
    assert state == "cleared", _reasons(settings, v1)
    v2, state = _run(settings, policy, 300, seed=4).split(":")
    assert state == "cleared"
    provider = provider_for(settings)
    rotation = provider.rotate_kek()
    assert rotation.current_kek == 2 and rotation.rewrapped_data_keys >= 2

    olivia, _ = first_officer(settings)
    lena, _ = add_user(settings, "lena", "labeler")
    out = officer.decrypt(settings, "support_tickets", v1, ["phone"], tmp_path / "dec", actor=olivia)
    phones = pq.read_table(out).column("phone").to_pylist()
    raw = generate_support_tickets(300, seed=3).column("phone").to_pylist()
    assert phones == raw  # decrypts after rotation, data never re-encrypted

    assert officer.shred(settings, "support_tickets", v1, actor=olivia) == [v1]
    with pytest.raises(ReleaseRefused, match="crypto-shredded"):
        officer.decrypt(settings, "support_tickets", v1, ["phone"], tmp_path / "dec2", actor=olivia)
    with pytest.raises(ReleaseRefused, match="shredded, not cleared"):
        pull(settings, "support_tickets", v1, tmp_path / "pull", actor=lena)
    # the provider itself refuses too, not only the catalog
    from clearhouse.policy import load_policy
    from clearhouse.privacy.crypto.protect import decrypt_column

    table = pq.read_table(settings.zone("cleared") / "support_tickets" / v1 / "data.parquet")
    with pytest.raises((DecryptionError, Exception), match="shred"):
        decrypt_column(table, load_policy(policy), provider, dataset="support_tickets", version=v1, column="phone")
    # the other version is untouched
    assert pull(settings, "support_tickets", v2, tmp_path / "pull", actor=lena).exists()
    log = Catalog(settings.db_url).audit_log("support_tickets")
    actions = [(e["action"], e["actor"]) for e in log]
    assert ("decrypt", "officer") in actions and ("shred", "officer") in actions and ("pull", "lena") in actions
    assert ("pull_refused", "lena") in actions


def test_e3_waits_for_an_officer(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = _policy(
        tmp_path,
        **{
            "ethics_risk: E2": "ethics_risk: E3",
            "k_anonymity: 5": "k_anonymity: 1\nreview: {max_residual_rate: 0.05}",
            "l: 2": "l: 1",
        },
    )
    version, state = _run(settings, policy, 200).split(":")
    assert state == "awaiting_approval"
    assert not (settings.zone("cleared") / "support_tickets" / version).exists()
    lena, lena_token = add_user(settings, "lena", "labeler")
    with pytest.raises(ReleaseRefused):
        pull(settings, "support_tickets", version, tmp_path / "out", actor=lena)
    from clearhouse.acts.users import require
    from clearhouse.errors import PermissionDenied

    # a labeler cannot approve, not even by passing her own user object to the act
    with pytest.raises(PermissionDenied, match="officer role"):
        require(settings, lena_token, "officer", act="approve")
    with pytest.raises(PermissionDenied, match="officer role"):
        decide(settings, "support_tickets", version, approve=True, actor=lena)
    olivia, _ = first_officer(settings)
    # the officer's gates before approval (tests/clearhouse/test_assessment_review.py has the details)
    with pytest.raises(ReleaseRefused, match="cannot be approved yet"):
        decide(settings, "support_tickets", version, approve=True, actor=olivia)
    sign(settings, "support_tickets", actor=olivia)
    review.sample(settings, "support_tickets", version, actor=olivia)
    review.submit(settings, "support_tickets", version, [], actor=olivia)
    assert decide(settings, "support_tickets", version, approve=True, actor=olivia) == "cleared"
    assert pull(settings, "support_tickets", version, tmp_path / "out", actor=lena).exists()
    assert Catalog(settings.db_url).get("support_tickets", version).info["decided_by"] == "officer"


def _assert_failed_closed(settings: Settings, version: str, stage: str, message: str, src_sha: str) -> None:
    import hashlib

    info = Catalog(settings.db_url).get("support_tickets", version)
    assert info.state == "quarantined"
    assert any(r["stage"] == stage and message in r["message"] for r in info.reasons), info.reasons
    assert not (settings.zone("cleared") / "support_tickets" / version).exists()
    src = next(settings.home.glob("in-*.csv"))
    assert hashlib.sha256(src.read_bytes()).hexdigest() == src_sha


def _prepared(settings: Settings, tmp_path: Path) -> tuple[object, str]:
    import hashlib

    src = settings.home / "in-100.csv"
    write_table(generate_support_tickets(100, seed=1), src)
    ctx = prepare(_policy(tmp_path), source=src, settings=settings)
    return ctx, hashlib.sha256(src.read_bytes()).hexdigest()


def test_detection_error_fails_closed(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, sha = _prepared(settings, tmp_path)
    ctx.settings = settings.model_copy(update={"spacy_model": "no_such_model_installed"})
    assert run_all(ctx) == "quarantined"  # type: ignore[arg-type]
    _assert_failed_closed(settings, ctx.version, "detect", "will not be downloaded at run time", sha)  # type: ignore[attr-defined]


def test_encryption_error_fails_closed(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    provider_for(settings).purpose_key("ticket_routing")  # keyring created under the test master key
    ctx, sha = _prepared(settings, tmp_path)
    wrong_key = base64.urlsafe_b64encode(b"\x01" * 32).decode()
    monkeypatch.setenv("CLEARHOUSE_MASTER_KEY", wrong_key)
    ctx.settings = settings.model_copy(update={"master_key": SecretStr(wrong_key)})  # as a task would read it
    assert run_all(ctx) == "quarantined"  # type: ignore[arg-type]
    _assert_failed_closed(settings, ctx.version, "protect", "master key does not match", sha)  # type: ignore[attr-defined]
    assert not (settings.zone("work") / "support_tickets" / ctx.version / "protected.parquet").exists()  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_pipeline_with_catalog_and_lineage_on_postgres(settings: Settings, tmp_path: Path, pg_url: str) -> None:
    from clearhouse.lineage.store import LineageStore

    pg_settings = settings.model_copy(update={"db_url": pg_url})
    policy = _policy(tmp_path, **{"k_anonymity: 5": "k_anonymity: 1", "l: 2": "l: 1"})
    version, state = _run(pg_settings, policy, 200).split(":")
    assert state == "cleared", _reasons(pg_settings, version)
    assert Catalog(pg_url).get("support_tickets", version).rows_out == 200
    events = LineageStore(pg_url).events(job_name="clearhouse__support_tickets.protect")
    assert {e["eventType"] for e in events} == {"START", "COMPLETE"}
    lena, _ = add_user(pg_settings, "lena", "labeler")  # users live in the PostgreSQL catalog too
    assert pull(pg_settings, "support_tickets", version, tmp_path / "out", actor=lena).exists()
    assert [u.name for u in Catalog(pg_url).users()] == ["lena", "officer"]

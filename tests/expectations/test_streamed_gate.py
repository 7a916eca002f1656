"""The streamed gate (``validate_files``) gives the in-memory gate's verdicts (``validate_version``).

Both run over the same released and ingested tables: the in-memory gate loads them whole, the streamed
one reads them in small batches and lets GX see only a few rows, answering every verdict-bearing
metric from streamed aggregates. Checks (names, verdicts, observed aggregates, reasons) and the
before/after metrics must be equal — on passing and on failing versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from clearhouse.errors import ValidationGateError
from clearhouse.policy import Policy, load_policy
from clearhouse.privacy.minimise import minimise_table
from clearhouse.privacy.risk import DuplicateCounter
from clearhouse.sample import generate_support_tickets
from clearhouse.settings import REPO_ROOT
from clearhouse.validation.gate import validate_files, validate_version

POLICY = REPO_ROOT / "datasets" / "support_tickets.yaml"
VERSION = "20261125T101500Z-a1b2c3"


def _tables(tmp_path: Path, policy: Policy, raw: pa.Table) -> tuple[Path, Path]:
    ingested = tmp_path / "ingested.parquet"
    pq.write_table(raw, ingested, row_group_size=97)  # row groups that do not line up with the batches
    cleared = tmp_path / "cleared.parquet"
    minimise_table(ingested, policy, spans_path=None, out_path=cleared)  # no spans: text keeps PII
    return ingested, cleared


def _both(tmp_path: Path, policy: Policy, raw: pa.Table, detector: Any, *, residual_sample: int | None = None,
          sample_rows: int = 25) -> tuple[Any, Any]:
    ingested, cleared = _tables(tmp_path, policy, raw)
    suites = tmp_path / "suites"
    if residual_sample is not None:  # a re-scan sample smaller than the table: the same rows both ways
        from clearhouse.validation.suites import load_or_create_suite

        path = load_or_create_suite(policy, suites)
        doc = json.loads(path.read_text(encoding="utf-8"))
        for exp in doc["expectations"]:
            if exp["type"] == "expect_no_residual_pii":
                exp["kwargs"]["sample"] = residual_sample
        path.write_text(json.dumps(doc), encoding="utf-8")
    common = {"dataset": policy.id, "version": VERSION, "suites_dir": suites, "detector": detector}
    whole = validate_version(pq.read_table(cleared), policy, reports_dir=tmp_path / "r1",
                             raw=pq.read_table(ingested), **common)
    streamed = validate_files(cleared, policy, reports_dir=tmp_path / "r2", raw=ingested,
                              work_dir=tmp_path, sample_rows=sample_rows, batch_rows=64, **common)
    return whole, streamed


def _same(whole: Any, streamed: Any) -> None:
    assert streamed.passed == whole.passed
    assert streamed.checks == whole.checks
    assert streamed.failed_critical == whole.failed_critical
    assert streamed.warnings == whole.warnings
    assert streamed.metrics_after == whole.metrics_after
    assert streamed.metrics_before == whole.metrics_before
    assert streamed.data_docs_index is not None and streamed.data_docs_index.is_file()


def _structured(policy: Policy) -> Policy:
    data = policy.model_dump(mode="json", exclude_none=True)
    del data["columns"]["message"]
    data["expectations"] = [
        e for e in data["expectations"] if "message" not in (e.get("column"), *(e.get("column_list") or []))
    ]
    return Policy.model_validate(data)


@pytest.mark.parametrize("rows", [240, 700])
def test_streamed_gate_matches_the_in_memory_gate(tmp_path: Path, regex_detector: Any, rows: int) -> None:
    policy = load_policy(POLICY)
    whole, streamed = _both(tmp_path, policy, generate_support_tickets(rows), regex_detector, residual_sample=60)
    _same(whole, streamed)
    assert not whole.passed  # small tables are not k-anonymous: failing verdicts are compared too
    (rescan,) = [c for c in whole.checks if c["type"] == "expect_no_residual_pii"]
    assert rescan["observed"]["rows_scanned"] == 60 and rescan["observed"]["rows_in_table"] == rows


def test_streamed_gate_matches_on_a_passing_structured_version(tmp_path: Path, regex_detector: Any) -> None:
    policy = _structured(load_policy(POLICY))
    raw = generate_support_tickets(3_000).drop_columns(["message"])
    whole, streamed = _both(tmp_path, policy, raw, regex_detector)
    _same(whole, streamed)
    assert whole.passed, whole.failed_critical


def test_streamed_gate_matches_on_duplicates_nulls_and_skew(tmp_path: Path, regex_detector: Any) -> None:
    policy = _structured(load_policy(POLICY))
    raw = generate_support_tickets(500, skew="label:refund").drop_columns(["message"])
    ids = raw.column("ticket_id").to_pylist()
    ids[10] = ids[400]  # a repeated row id
    labels = raw.column("label").to_pylist()
    labels[3] = None
    raw = raw.set_column(0, "ticket_id", pa.array(ids)).set_column(raw.schema.get_field_index("label"), "label",
                                                                   pa.array(labels, pa.string()))
    whole, streamed = _both(tmp_path, policy, raw, regex_detector)
    _same(whole, streamed)
    failed = " ".join(whole.failed_critical)
    assert "expect_column_values_to_be_unique" in failed and "expect_column_label_balance" in failed


def test_an_expectation_the_pass_cannot_answer_fails_closed_on_a_large_table(tmp_path: Path,
                                                                              regex_detector: Any) -> None:
    policy = _structured(load_policy(POLICY))
    data = policy.model_dump(mode="json", exclude_none=True)
    data["expectations"].append({"type": "expect_column_values_to_match_regex", "column": "ticket_id",
                                 "regex": "^T", "severity": "critical"})
    policy = Policy.model_validate(data)
    ingested, cleared = _tables(tmp_path, policy, generate_support_tickets(300).drop_columns(["message"]))
    common = {"dataset": policy.id, "version": VERSION, "suites_dir": tmp_path / "s", "reports_dir": tmp_path / "r",
              "raw": ingested, "detector": regex_detector}
    with pytest.raises(ValidationGateError, match="expect_column_values_to_match_regex"):
        validate_files(cleared, policy, sample_rows=50, **common)
    # a table no larger than GX's sample is validated by GX itself, row by row
    outcome = validate_files(cleared, policy, sample_rows=1_000, **common)
    (regex,) = [c for c in outcome.checks if c["type"] == "expect_column_values_to_match_regex"]
    assert regex["success"] and regex["observed"]["element_count"] == 300


@pytest.mark.parametrize("bucket_rows", [1_000_000, 100])
def test_duplicate_counter_is_exact_in_memory_and_spilled(tmp_path: Path, bucket_rows: int) -> None:
    values = pa.array([f"v{i % 700}" if i % 3 else f"u{i}" for i in range(2_000)] + [None, None])
    counter = DuplicateCounter(len(values), work_dir=tmp_path, bucket_rows=bucket_rows)
    for start in range(0, len(values), 300):
        counter.add(values.slice(start, 300))
    distinct, repeated = counter.finish()
    vc = pc.value_counts(pc.drop_null(values))
    counts = vc.field("counts").to_pylist()
    assert distinct == len(counts)
    assert repeated == sum(c for c in counts if c > 1)
    assert counter.nulls == 2
    assert list(tmp_path.iterdir()) == []  # spill files removed

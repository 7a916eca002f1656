"""``validate_version`` end to end on small tables: verdicts, warnings, Data Docs without raw PII."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from clearhouse.errors import ValidationGateError
from clearhouse.policy import Policy, parse_policy
from clearhouse.validation.gate import validate_version
from tests.conftest import ASSESSMENT_YAML  # type: ignore[import-not-found]

# Cell values that must never leave the data: not in Data Docs, outcome, or report.
PLANTED_EMAIL = "quentin.planted@example.net"
PLANTED_NAME = "Zebedee Quux"
PLANTED_PHONE = "+44 20 7946 0321"
PLANTED = (PLANTED_EMAIL, PLANTED_NAME, PLANTED_PHONE, "7946")

POLICY = (
    """
id: gate_demo
owner: privacy-office
purpose: route support tickets to the right team
ethics_risk: E2
source: {path: tickets.csv}
row_id: ticket_id
columns:
  ticket_id: {role: feature, treatment: keep}
  name:      {role: direct_identifier, treatment: drop}
  email:     {role: direct_identifier, treatment: pseudonymise}
  gender:    {role: quasi_identifier, treatment: keep}
  country:   {role: quasi_identifier, treatment: keep}
  message:   {role: free_text, treatment: redact}
  label:     {role: label, treatment: keep}
k_anonymity: 2
""" + ASSESSMENT_YAML + """expectations:
  - {type: expect_column_label_balance, column: label, max_ratio: 3, severity: warning}
  - {type: expect_column_values_to_be_in_set, column: label, value_set: [billing, shipping, refund]}
  - {type: expect_column_group_representation, column: gender, min_share: 0.1, severity: warning}
"""
)
LEAKY = [  # GX expectations that, left to themselves, would echo values into Data Docs
    {
        "type": "expect_column_values_to_match_regex",
        "column": "message",
        "regex": "^REDACTED$",
        "severity": "warning",
    },
    {
        "type": "expect_column_distinct_values_to_be_in_set",
        "column": "message",
        "value_set": ["x"],
        "severity": "warning",
    },
    {
        "type": "expect_column_most_common_value_to_be_in_set",
        "column": "message",
        "value_set": ["x"],
        "severity": "warning",
    },
    {"type": "expect_column_values_to_be_unique", "column": "message", "severity": "warning"},
]


def _policy(extra: list[dict[str, Any]] | None = None) -> Policy:
    text = POLICY + "".join(f"  - {json.dumps(e)}\n" for e in extra or [])
    return parse_policy(text)


def _cleared(
    n: int = 12, *, message: str = "my order is late", labels: list[str] | None = None
) -> pd.DataFrame:
    labels = labels or ["billing", "shipping", "refund"] * (n // 3)
    return pd.DataFrame(
        {
            "ticket_id": [f"T{i:03d}" for i in range(n)],
            "email": [f"tok_{i % 4}" for i in range(n)],
            "gender": ["female", "male"] * (n // 2),
            "country": ["DE"] * n,
            "message": [message] * n,
            "label": labels,
        }
    )


def _raw(cleared: pd.DataFrame) -> pd.DataFrame:
    return cleared.assign(name=PLANTED_NAME, email=PLANTED_EMAIL, message=f"call me {PLANTED_PHONE}")


def _run(tmp_path: Path, cleared: Any, policy: Policy, **kwargs: Any) -> Any:
    # the collected input the pipeline always passes: its identifier values feed expect_no_own_identifiers
    kwargs.setdefault("raw", _raw(cleared if isinstance(cleared, pd.DataFrame) else cleared.to_pandas()))
    return validate_version(
        cleared,
        policy,
        dataset="gate_demo",
        version="v1",
        suites_dir=tmp_path / "suites",
        reports_dir=tmp_path / "reports",
        **kwargs,
    )


def _tree_text(root: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in root.rglob("*")
        if p.is_file() and p.suffix in {".html", ".json", ".css", ".js"}
    )


def test_clean_version_passes(tmp_path: Path, regex_detector: Any, no_network: None) -> None:
    cleared = _cleared()
    outcome = _run(tmp_path, cleared, _policy(), raw=_raw(cleared), detector=regex_detector)
    assert outcome.passed, outcome.failed_critical
    assert outcome.failed_critical == [] and outcome.warnings == []
    assert outcome.data_docs_index == tmp_path / "reports" / "gate_demo" / "v1" / "data_docs" / "index.html"
    assert outcome.data_docs_index.is_file()
    assert outcome.suite_path == tmp_path / "suites" / "gate_demo.json"
    names = [c["name"] for c in outcome.checks]
    assert names[0] == "expect_table_row_count_to_be_between"  # suite order
    assert "expect_k_anonymity(gender, country)" in names
    assert outcome.metrics_after["balance"]["label"]["counts"] == {"billing": 4, "refund": 4, "shipping": 4}
    assert outcome.metrics_after["representation"]["gender"]["shares"] == {"female": 0.5, "male": 0.5}
    assert outcome.metrics_before is not None and outcome.metrics_before["rows"] == 12
    json.dumps(outcome.to_dict())


def test_critical_failure_fails_the_gate_and_names_the_check(tmp_path: Path, regex_detector: Any) -> None:
    cleared = _cleared(message=f"reach me at {PLANTED_EMAIL}")
    # someone else's address in the text: the detector's finding, not the row's own identifier
    raw = cleared.assign(name="Other Person", email="other@example.net")
    outcome = _run(tmp_path, cleared, _policy(), detector=regex_detector, raw=raw)
    assert not outcome.passed
    [line] = outcome.failed_critical
    assert line.startswith("expect_no_residual_pii(message): 12 of 12 scanned value(s) hold residual PII")
    assert "EMAIL_ADDRESS 12" in line
    assert PLANTED_EMAIL not in json.dumps(outcome.to_dict())


def test_warning_only_failure_passes_with_the_warning_listed(tmp_path: Path, regex_detector: Any) -> None:
    labels = ["billing"] * 8 + ["shipping"] * 2 + ["refund"] * 2
    outcome = _run(tmp_path, _cleared(labels=labels), _policy(), detector=regex_detector)
    assert outcome.passed
    assert outcome.failed_critical == []
    assert outcome.warnings == ["expect_column_label_balance(label): max/min share ratio 4 > 3"]
    [check] = outcome.check("expect_column_label_balance")
    assert check["severity"] == "warning" and not check["success"]
    assert check["observed"]["max_min_ratio"] == 4.0


def test_missing_detector_fails_closed(tmp_path: Path) -> None:
    outcome = _run(tmp_path, _cleared(), _policy())
    assert not outcome.passed
    assert any("no residual-PII detector configured" in line for line in outcome.failed_critical)


def test_pyarrow_input_and_dropped_column_present(tmp_path: Path, regex_detector: Any) -> None:
    cleared = pa.Table.from_pandas(_cleared().assign(name="x"), preserve_index=False)
    outcome = _run(tmp_path, cleared, _policy(), detector=regex_detector)
    assert not outcome.passed
    assert outcome.failed_critical == ["expect_columns_to_be_absent(name): column 'name' is present"]


def test_data_docs_and_outcome_hold_no_planted_values(tmp_path: Path, regex_detector: Any) -> None:
    # Leaky values everywhere: in the released text (failing several value-echoing GX expectations),
    # in the raw input (metrics before), and in the detector's path.
    message = f"{PLANTED_NAME} <{PLANTED_EMAIL}> {PLANTED_PHONE}"
    cleared = _cleared(message=message)
    cleared.loc[0, "message"] = "short"  # so most-common/unique checks have something to report
    outcome = _run(tmp_path, cleared, _policy(LEAKY), raw=_raw(cleared), detector=regex_detector)
    assert not outcome.passed
    docs = outcome.data_docs_index.parent
    html = _tree_text(docs)
    assert "expect_no_residual_pii" in html and "^REDACTED$" in html  # the docs are real and complete
    for value in PLANTED:
        assert value not in html, value
        assert value not in json.dumps(outcome.to_dict()), value
    [distinct] = outcome.check("expect_column_distinct_values_to_be_in_set")
    assert distinct["observed"].get("observed_value") in (None, "[withheld]")


def test_metric_exception_messages_are_scrubbed(tmp_path: Path, exploding_detector: Any) -> None:
    cleared = _cleared(message=f"hello {PLANTED_EMAIL}")
    outcome = _run(tmp_path, cleared, _policy(), detector=exploding_detector)
    assert not outcome.passed
    [line] = [x for x in outcome.failed_critical if x.startswith("expect_no_residual_pii")]
    assert "raised cannot tokenize" in line
    html = _tree_text(outcome.data_docs_index.parent)
    assert PLANTED_EMAIL not in html and PLANTED_EMAIL not in line
    assert "Traceback" not in html


def test_gx_writes_nothing_but_docs_and_suite(
    tmp_path: Path, regex_detector: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    _run(tmp_path, _cleared(), _policy(), detector=regex_detector)
    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "reports", "suites"]
    assert [p.name for p in (tmp_path / "suites").iterdir()] == ["gate_demo.json"]
    assert [p.name for p in (tmp_path / "reports" / "gate_demo" / "v1").iterdir()] == ["data_docs"]


def test_rerun_replaces_the_docs(tmp_path: Path, regex_detector: Any) -> None:
    first = _run(tmp_path, _cleared(), _policy(), detector=regex_detector)
    stale = first.data_docs_index.parent / "stale.html"
    stale.write_text("old", encoding="utf-8")
    second = _run(tmp_path, _cleared(), _policy(), detector=regex_detector)
    assert second.data_docs_index == first.data_docs_index and not stale.exists()


def test_gx_crash_is_a_gate_error_with_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_context(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"store exploded near '{PLANTED_EMAIL}'")

    monkeypatch.setattr("clearhouse.validation.gate.make_context", broken_context)
    with pytest.raises(ValidationGateError, match="Great Expectations failed") as info:
        _run(tmp_path, _cleared(), _policy())
    assert isinstance(info.value.__cause__, RuntimeError)
    assert PLANTED_EMAIL not in str(info.value)


@pytest.mark.parametrize("version", ["", "..", "a/b", ".hidden"])
def test_unsafe_version_names_are_refused(tmp_path: Path, version: str) -> None:
    with pytest.raises(ValidationGateError, match="cannot be used as a directory name"):
        validate_version(
            _cleared(),
            _policy(),
            dataset="gate_demo",
            version=version,
            suites_dir=tmp_path,
            reports_dir=tmp_path,
        )
    assert not list(tmp_path.iterdir())


def test_a_rows_own_identifier_in_its_text_fails_without_any_detector(tmp_path: Path, regex_detector: Any) -> None:
    # the detector sees nothing (the leaked value is a name), the own-identifier check does
    cleared = _cleared(message="my order is late")
    cleared.loc[3, "message"] = f"order late, regards {PLANTED_NAME.split(maxsplit=1)[0]}"
    outcome = _run(tmp_path, cleared, _policy(), detector=regex_detector)
    assert not outcome.passed
    [line] = outcome.failed_critical
    assert line.startswith("expect_no_own_identifiers(message): 1 of 12 row(s) still show their own identifiers")
    assert PLANTED_NAME.split(maxsplit=1)[0] not in json.dumps(outcome.to_dict())


def test_own_identifier_check_fails_closed_without_the_input(tmp_path: Path, regex_detector: Any) -> None:
    outcome = _run(tmp_path, _cleared(), _policy(), detector=regex_detector, raw=None)
    assert not outcome.passed
    assert any("own-identifier check could not run (fail closed)" in line for line in outcome.failed_critical)

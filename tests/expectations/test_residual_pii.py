"""``expect_no_residual_pii`` through real GX: injected detector, fail closed, sampling, counts only."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from clearhouse.validation.residual import get_residual_detector, residual_detector, set_residual_detector

PLANTED = "zora.planted@example.net"
TEXTS = pd.DataFrame(
    {
        "message": ["my order is late", f"write to {PLANTED} or +44 20 7946 0000", None, "thanks"],
        "note": ["ok", "ok", "ok", "ok"],
        "age": [31, 42, 53, 64],
    }
)


def _entry(**kwargs: Any) -> dict[str, Any]:
    return {"type": "expect_no_residual_pii", "kwargs": {"column_list": ["message"], **kwargs}}


def test_clean_text_passes(run_gx: Any, regex_detector: Any) -> None:
    [check] = run_gx(TEXTS, [_entry(column_list=["note"])], detector=regex_detector)
    assert check["success"]
    assert check["observed"]["values_scanned"] == 4


def test_residual_pii_fails_with_counts_per_entity_only(run_gx: Any, regex_detector: Any) -> None:
    [check] = run_gx(TEXTS, [_entry()], detector=regex_detector)
    assert not check["success"]
    assert check["observed"]["entities"] == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert check["observed"]["values_with_pii"] == 1
    assert check["observed"]["values_scanned"] == 3  # the null is not a value
    assert "1 of 3 scanned value(s) hold residual PII" in check["reasons"][0]
    assert PLANTED not in json.dumps(check)


def test_max_share_tolerates_some(run_gx: Any, regex_detector: Any) -> None:
    [check] = run_gx(TEXTS, [_entry(max_share=0.5)], detector=regex_detector)
    assert check["success"]


def test_threshold_ignores_low_scores(run_gx: Any, regex_detector: Any) -> None:
    regex_detector.score = 0.4
    [check] = run_gx(TEXTS, [_entry(threshold=0.5)], detector=regex_detector)
    assert check["success"]
    [check] = run_gx(TEXTS, [_entry(threshold=0.3)], detector=regex_detector)
    assert not check["success"]


def test_no_detector_fails_closed(run_gx: Any) -> None:
    assert get_residual_detector() is None
    [check] = run_gx(TEXTS, [_entry(column_list=["note"])])
    assert not check["success"]
    assert "no residual-PII detector configured" in check["reasons"][0]


def test_registered_detector_is_used(run_gx: Any, regex_detector: Any) -> None:
    set_residual_detector(regex_detector)
    [check] = run_gx(TEXTS, [_entry()])
    assert regex_detector.calls == 1
    assert not check["success"]


def test_context_manager_restores_previous(regex_detector: Any) -> None:
    with residual_detector(regex_detector):
        assert get_residual_detector() is regex_detector
    assert get_residual_detector() is None


@pytest.mark.parametrize(("sample", "scanned_rows"), [(0, 4), (2, 2), (10, 4)])
def test_sample_caps_rows_deterministically(
    run_gx: Any, regex_detector: Any, sample: int, scanned_rows: int
) -> None:
    first = run_gx(TEXTS, [_entry(column_list=["note"], sample=sample)], detector=regex_detector)[0]
    again = run_gx(TEXTS, [_entry(column_list=["note"], sample=sample)], detector=regex_detector)[0]
    assert first["observed"]["rows_scanned"] == scanned_rows
    assert first["observed"] == again["observed"]


def test_non_text_columns_are_skipped(run_gx: Any, regex_detector: Any) -> None:
    [check] = run_gx(TEXTS, [_entry(column_list=["age", "note"])], detector=regex_detector)
    assert check["success"]
    assert check["observed"]["skipped_non_text_columns"] == ["age"]


def test_detector_error_fails_without_leaking_the_text(run_gx: Any, exploding_detector: Any) -> None:
    df = pd.DataFrame({"message": [f"hello {PLANTED}"]})
    [check] = run_gx(df, [_entry()], detector=exploding_detector)
    assert not check["success"]
    assert check["reasons"][0].startswith("raised cannot tokenize")
    assert PLANTED not in json.dumps(check)

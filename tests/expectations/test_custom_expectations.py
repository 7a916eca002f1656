"""Each custom expectation, pass and fail, through a real GX checkpoint on small purpose-built tables."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

LABELS = pd.DataFrame({"label": ["billing"] * 6 + ["tech"] * 3 + ["refund"] * 1})
GROUPS = pd.DataFrame({"gender": ["female"] * 5 + ["male"] * 4 + ["other"] * 1})
PARITY = pd.DataFrame(
    {
        "gender": ["f"] * 10 + ["m"] * 10,
        # f: 8/10 approved, m: 4/10 approved → DI 0.5, SPD 0.4
        "decision": ["approve"] * 8 + ["deny"] * 2 + ["approve"] * 4 + ["deny"] * 6,
    }
)
FAIR = pd.DataFrame({"gender": ["f"] * 10 + ["m"] * 10, "decision": (["approve"] * 5 + ["deny"] * 5) * 2})
PEOPLE = pd.DataFrame(
    {
        "age_band": ["30-39"] * 3 + ["40-49"] * 3 + ["50-59"],
        "country": ["DE"] * 3 + ["FR"] * 3 + ["DE"],
        "diagnosis": ["flu", "cold", "flu", "flu", "flu", "flu", "asthma"],
    }
)

CASES: list[tuple[str, pd.DataFrame, dict[str, Any], bool, str]] = [
    # label balance
    (
        "balance ok",
        LABELS,
        {"type": "expect_column_label_balance", "kwargs": {"column": "label", "max_ratio": 6}},
        True,
        "",
    ),
    (
        "balance ratio",
        LABELS,
        {"type": "expect_column_label_balance", "kwargs": {"column": "label", "max_ratio": 3}},
        False,
        "max/min share ratio 6 > 3",
    ),
    (
        "balance min share",
        LABELS,
        {"type": "expect_column_label_balance", "kwargs": {"column": "label", "min_share": 0.2}},
        False,
        "label 'refund' share 0.1 < min_share 0.2",
    ),
    (
        "balance max share",
        LABELS,
        {"type": "expect_column_label_balance", "kwargs": {"column": "label", "max_share": 0.5}},
        False,
        "label 'billing' share 0.6 > max_share 0.5",
    ),
    (
        "balance expected labels present",
        LABELS,
        {"type": "expect_column_label_balance",
         "kwargs": {"column": "label", "expected_labels": ["billing", "refund"]}},
        True,
        "",
    ),
    (
        "balance expected label missing",
        LABELS,
        {"type": "expect_column_label_balance",
         "kwargs": {"column": "label", "max_ratio": 10, "expected_labels": ["billing", "fraud"]}},
        False,
        "expected label 'fraud' is missing (share 0)",
    ),
    # representation
    (
        "representation ok",
        GROUPS,
        {
            "type": "expect_column_group_representation",
            "kwargs": {"column": "gender", "min_share": 0.1, "expected_groups": ["female", "male"]},
        },
        True,
        "",
    ),
    (
        "representation small group",
        GROUPS,
        {"type": "expect_column_group_representation", "kwargs": {"column": "gender", "min_share": 0.2}},
        False,
        "group 'other' share 0.1 < min_share 0.2",
    ),
    (
        "representation vanished group",
        GROUPS,
        {
            "type": "expect_column_group_representation",
            "kwargs": {"column": "gender", "expected_groups": ["female", "male", "nonbinary"]},
        },
        False,
        "expected group 'nonbinary' is absent",
    ),
    # parity
    (
        "parity ok",
        FAIR,
        {
            "type": "expect_label_parity_across_groups",
            "kwargs": {
                "group_column": "gender",
                "label_column": "decision",
                "favourable_label": "approve",
                "max_spd": 0.1,
            },
        },
        True,
        "",
    ),
    (
        "parity disparate impact",
        PARITY,
        {
            "type": "expect_label_parity_across_groups",
            "kwargs": {"group_column": "gender", "label_column": "decision", "favourable_label": "approve"},
        },
        False,
        "disparate-impact ratio 0.5 < 0.8",
    ),
    (
        "parity spd",
        PARITY,
        {
            "type": "expect_label_parity_across_groups",
            "kwargs": {
                "group_column": "gender",
                "label_column": "decision",
                "favourable_label": "approve",
                "min_ratio": 0.4,
                "max_spd": 0.2,
            },
        },
        False,
        "statistical parity difference 0.4 > 0.2",
    ),
    # k-anonymity
    (
        "k ok",
        PEOPLE,
        {"type": "expect_k_anonymity", "kwargs": {"quasi_identifiers": ["age_band"], "k": 1}},
        True,
        "",
    ),
    (
        "k fail",
        PEOPLE,
        {"type": "expect_k_anonymity", "kwargs": {"quasi_identifiers": ["age_band", "country"], "k": 3}},
        False,
        "k = 1 < 3: 1 row(s) in 1 class(es) smaller than 3",
    ),
    # l-diversity
    (
        "l ok",
        PEOPLE,
        {
            "type": "expect_l_diversity",
            "kwargs": {"quasi_identifiers": ["country"], "sensitive_column": "diagnosis", "l": 1},
        },
        True,
        "",
    ),
    (
        "l fail",
        PEOPLE,
        {
            "type": "expect_l_diversity",
            "kwargs": {"quasi_identifiers": ["age_band"], "sensitive_column": "diagnosis", "l": 2},
        },
        False,
        "l = 1 < 2: 2 class(es) below 2",
    ),
    # dropped columns
    (
        "absent ok",
        PEOPLE,
        {"type": "expect_columns_to_be_absent", "kwargs": {"column_list": ["name", "email"]}},
        True,
        "",
    ),
    (
        "absent fail",
        PEOPLE,
        {"type": "expect_columns_to_be_absent", "kwargs": {"column_list": ["name", "country"]}},
        False,
        "column 'country' is present",
    ),
]


@pytest.mark.parametrize(("case", "df", "entry", "success", "reason"), CASES, ids=[c[0] for c in CASES])
def test_custom_expectation(
    run_gx: Any, case: str, df: pd.DataFrame, entry: dict[str, Any], success: bool, reason: str
) -> None:
    [check] = run_gx(df, [entry])
    assert check["type"] == entry["type"]
    assert check["success"] is success, check
    if success:
        assert check["reasons"] == []
    else:
        assert any(reason in r for r in check["reasons"]), check["reasons"]
    json.dumps(check)  # JSON-safe


def test_observed_aggregates_are_reported(run_gx: Any) -> None:
    [balance, kanon] = run_gx(
        pd.concat([LABELS, PEOPLE.iloc[:0]], axis=1).fillna({"age_band": "30-39"}),
        [
            {"type": "expect_column_label_balance", "kwargs": {"column": "label"}},
            {"type": "expect_k_anonymity", "kwargs": {"quasi_identifiers": ["age_band"], "k": 2}},
        ],
    )
    assert balance["observed"]["shares"] == {"billing": 0.6, "refund": 0.1, "tech": 0.3}
    assert balance["observed"]["max_min_ratio"] == 6.0
    assert kanon["observed"]["k"] == 10
    assert kanon["observed"]["rows_in_classes_below_k"] == 0


def test_k_anonymity_reports_no_values(run_gx: Any) -> None:
    df = pd.DataFrame(
        {"zip": ["10115", "10115", "99999"], "name": ["Ann Example", "Bo Example", "Cy Example"]}
    )
    [check] = run_gx(
        df, [{"type": "expect_k_anonymity", "kwargs": {"quasi_identifiers": ["zip", "name"], "k": 2}}]
    )
    text = json.dumps(check)
    assert not check["success"]
    for value in ("10115", "99999", "Example"):
        assert value not in text


def test_missing_column_fails_and_names_it(run_gx: Any) -> None:
    [check] = run_gx(
        PEOPLE, [{"type": "expect_k_anonymity", "kwargs": {"quasi_identifiers": ["zip"], "k": 2}}]
    )
    assert not check["success"]
    assert "'zip'" in check["reasons"][0]


def test_custom_types_resolve_by_name_from_suite_json() -> None:
    from great_expectations.expectations.registry import get_expectation_impl

    from clearhouse.validation.custom import CUSTOM_EXPECTATIONS

    assert set(CUSTOM_EXPECTATIONS) == {
        "expect_column_label_balance",
        "expect_column_group_representation",
        "expect_label_parity_across_groups",
        "expect_k_anonymity",
        "expect_l_diversity",
        "expect_no_residual_pii",
        "expect_no_own_identifiers",
        "expect_columns_to_be_absent",
    }
    for name, cls in CUSTOM_EXPECTATIONS.items():
        assert get_expectation_impl(name) is cls

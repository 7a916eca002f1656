"""The second wall: validation results reduced to aggregates before Data Docs and outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from clearhouse.validation.sanitize import WITHHELD, sanitize_exception_info, sanitize_result, scrub_message

MAP_RESULT = {
    "element_count": 10,
    "unexpected_count": 2,
    "unexpected_percent": 20.0,
    "partial_unexpected_list": ["ann@example.org", "bob@example.org"],
    "partial_unexpected_counts": [{"value": "ann@example.org", "count": 1}],
    "partial_unexpected_index_list": [3, 7],
    "unexpected_list": ["ann@example.org"],
    "unexpected_index_query": "df.filter(...)",
    "details": {"value_counts": [{"value": "ann@example.org", "count": 1}]},
}


def test_map_results_keep_counts_only() -> None:
    safe = sanitize_result("expect_column_values_to_match_regex", {"column": "email"}, MAP_RESULT)
    assert safe == {"element_count": 10, "unexpected_count": 2, "unexpected_percent": 20.0}


@pytest.mark.parametrize(
    ("kwargs", "observed", "safe_columns", "expected"),
    [
        ({"column": "email"}, "ann@example.org", (), WITHHELD),  # a value of a column
        ({"column": "email"}, ["ann@example.org"], (), WITHHELD),
        ({"column": "age"}, 42.5, (), 42.5),  # numbers are aggregates (mean, count, ...)
        ({"column": "label"}, ["billing", "refund"], ("label",), ["billing", "refund"]),  # category names
        ({}, 120, (), 120),  # table row count
        ({}, ["a", "b"], (), ["a", "b"]),  # table column names (known names)
        ({}, ["ann@example.org"], (), WITHHELD),
    ],
)
def test_observed_value(
    kwargs: dict[str, Any], observed: Any, safe_columns: tuple[str, ...], expected: Any
) -> None:
    safe = sanitize_result(
        "expect_x",
        kwargs,
        {"observed_value": observed},
        value_safe_columns=safe_columns,
        known_names={"a", "b"},
    )
    assert safe["observed_value"] == expected


def test_custom_results_pass_through() -> None:
    result = {"observed_value": "k = 3", "details": {"k": 3, "reasons": []}}
    assert sanitize_result("expect_k_anonymity", {}, result) == result


def test_unexpected_count_without_companions_is_dropped() -> None:
    # GX's Data Docs renderer crashes on an unexpected_count without unexpected_percent
    assert sanitize_result("expect_x", {}, {"unexpected_count": 3}) == {}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("could not convert 'ann@example.org' to float", "could not convert '…' to float"),
        (
            'Error: The column "zip" in BatchData does not exist.',
            'Error: The column "zip" in BatchData does not exist.',
        ),
        ("first line 'x'\nTraceback: secret", "first line '…'"),
        ("", ""),
    ],
)
def test_scrub_message(message: str, expected: str) -> None:
    assert scrub_message(message, {"zip"}) == expected


def test_exception_info_loses_traceback_and_values() -> None:
    nested = {
        "metric-id": {
            "raised_exception": True,
            "exception_message": "bad value 'ann@example.org'",
            "exception_traceback": "Traceback ... ann@example.org",
        }
    }
    info = sanitize_exception_info(nested, known_names=())
    assert info["raised_exception"] is True
    assert "ann@example.org" not in str(info)
    assert sanitize_exception_info({}, ())["raised_exception"] is False

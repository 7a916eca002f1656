"""Re-identification risk metrics on small purpose-built tables (pass and fail cases)."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

from clearhouse.privacy import risk
from clearhouse.privacy.risk import balance, k_anonymity, l_diversity, l_diversity_profile, parity, representation

PEOPLE = pd.DataFrame(
    {
        "age_band": ["30-39", "30-39", "30-39", "40-49", "40-49", None],
        "country": ["DE", "DE", "DE", "FR", "FR", None],
        "diagnosis": ["flu", "cold", "flu", "flu", "flu", None],
    }
)


@pytest.mark.parametrize("as_arrow", [False, True])
def test_k_anonymity_counts_classes_and_rows_below_target(as_arrow: bool) -> None:
    table = pa.Table.from_pandas(PEOPLE, preserve_index=False) if as_arrow else PEOPLE
    result = k_anonymity(table, ["age_band", "country"])
    # classes: (30-39, DE) x3, (40-49, FR) x2, (null, null) x1 — nulls form their own class
    assert (result.k, result.smallest_class_size, result.n_classes, result.n_rows) == (1, 1, 3, 6)
    assert result.rows_in_classes_below(2) == 1
    assert result.rows_in_classes_below(3) == 3
    assert result.classes_below(3) == 2
    assert result.rows_in_classes_below(1) == 0
    json.dumps(result.to_dict(k_target=3))  # JSON-safe


@pytest.mark.parametrize(
    ("rows", "qis", "expected_k"),
    [
        ([("a", 1), ("a", 1), ("b", 2), ("b", 2)], ["x", "y"], 2),  # pass at k=2
        ([("a", 1), ("a", 2), ("b", 2), ("b", 2)], ["x", "y"], 1),  # a unique row → fail at k=2
        ([("a", 1), ("a", 2), ("b", 2), ("b", 2)], ["x"], 2),  # coarser QIs → larger classes
        ([("a", None), ("a", None), ("a", 1)], ["x", "y"], 1),  # null is a class, not a wildcard
        ([], ["x"], 0),  # empty table
    ],
)
def test_k_anonymity_table(rows: list[tuple[object, object]], qis: list[str], expected_k: int) -> None:
    df = pd.DataFrame(rows, columns=["x", "y"])
    assert k_anonymity(df, qis).k == expected_k


def test_k_anonymity_without_quasi_identifiers_is_row_count() -> None:
    assert k_anonymity(PEOPLE, []).k == len(PEOPLE)


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="'zip'"):
        k_anonymity(PEOPLE, ["zip"])


@pytest.mark.parametrize(
    ("qis", "expected_l"),
    [
        (["age_band"], 0),  # the null class has no known diagnosis → l = 0
        (["country"], 0),
    ],
)
def test_l_diversity_null_sensitive_does_not_count(qis: list[str], expected_l: int) -> None:
    assert l_diversity(PEOPLE, qis, "diagnosis") == expected_l


def test_l_diversity_pass_and_fail() -> None:
    known = PEOPLE.dropna()
    profile = l_diversity_profile(known, ["age_band"], "diagnosis")
    # 30-39 has {flu, cold} (l=2); 40-49 has only {flu} (l=1, homogeneity attack)
    assert profile.l == 1
    assert profile.classes_below(2) == 1
    diverse = pd.DataFrame({"q": ["a", "a", "b", "b"], "s": ["x", "y", "x", "y"]})
    assert l_diversity(diverse, ["q"], "s") == 2


def test_balance_shares_and_ratio() -> None:
    df = pd.DataFrame({"label": ["billing"] * 6 + ["tech"] * 3 + ["other"] * 1 + [None]})
    result = balance(df, "label")
    assert result.counts == {"billing": 6, "other": 1, "tech": 3}
    assert result.shares == {"billing": 0.6, "other": 0.1, "tech": 0.3}
    assert result.null_count == 1
    assert result.max_min_ratio == pytest.approx(6.0)
    json.dumps(result.to_dict())


def test_balance_degenerate_cases() -> None:
    assert balance(pd.DataFrame({"label": ["a", "a"]}), "label").max_min_ratio == 1.0
    assert balance(pd.DataFrame({"label": [None, None]}), "label").max_min_ratio is None


def test_representation_uses_string_keys() -> None:
    df = pd.DataFrame({"group": [1, 1, 2, 2]})
    assert representation(df, "group").shares == {"1": 0.5, "2": 0.5}


@pytest.mark.parametrize(
    ("labels_a", "labels_b", "di", "spd"),
    [
        (["yes", "yes", "no", "no"], ["yes", "yes", "no", "no"], 1.0, 0.0),  # parity
        (["yes", "yes", "yes", "no"], ["yes", "no", "no", "no"], 1 / 3, 0.5),  # disparate
        (["no", "no"], ["no", "no"], 1.0, 0.0),  # nobody favoured: equal rates
    ],
)
def test_parity(labels_a: list[str], labels_b: list[str], di: float, spd: float) -> None:
    df = pd.DataFrame({"group": ["a"] * len(labels_a) + ["b"] * len(labels_b), "label": labels_a + labels_b})
    result = parity(df, "group", "label", "yes")
    assert result.disparate_impact == pytest.approx(di, abs=1e-6)
    assert result.statistical_parity_difference == pytest.approx(spd, abs=1e-6)


def test_parity_excludes_nulls_and_small_groups() -> None:
    df = pd.DataFrame(
        {
            "group": ["a", "a", "a", "a", "b", None],
            "label": [1, 1, 0, 0, 0, 1],
        }
    )
    result = parity(df, "group", "label", "1", min_group_size=2)
    assert result.excluded_rows == 1
    assert result.rates == {"a": 0.5, "b": 0.0}
    # b has one row: below min_group_size, left out of the ratio
    assert result.disparate_impact == 1.0
    assert parity(df, "group", "label", 1).disparate_impact == 0.0


# ------------------------------------------------------------------- streamed aggregates (same results)

_ROWS = pd.DataFrame(
    {
        "gender": ["f", "m", None, "f", "m", "f", None, "x", "f", "m"] * 7,
        "age": ["<30", "30-49", "30-49", None, "<30", "65+", "<30", "<30", "30-49", "65+"] * 7,
        "label": ["a", "b", "a", None, "c", "a", "b", "b", "a", "c"] * 7,
        "score": [1.0, float("nan"), 2.0, 1.0, 2.0, 3.0, 1.0, float("nan"), 2.0, 1.0] * 7,
    }
)


def _streamed(columns: list[str], batch: int) -> risk.JointCounts:
    counts = risk.JointCounts(columns)
    for start in range(0, len(_ROWS), batch):
        counts.add(pa.Table.from_pandas(_ROWS.iloc[start : start + batch], preserve_index=False))
    return counts


@pytest.mark.parametrize("batch", [1, 7, 70])
def test_streamed_aggregates_equal_the_whole_table_metrics(batch: int) -> None:
    for qis in (["gender"], ["gender", "age"], ["age", "score"]):
        assert risk.k_anonymity_of(_streamed(qis, batch)) == risk.k_anonymity(_ROWS, qis)
        for sensitive in ("label", "score", qis[0]):
            cols = qis if sensitive in qis else [*qis, sensitive]
            assert risk.l_diversity_of(_streamed(cols, batch), qis, sensitive) == risk.l_diversity_profile(
                _ROWS, qis, sensitive
            )
    for column in ("gender", "label", "score"):
        assert risk.distribution_of(_streamed([column], batch)) == risk.balance(_ROWS, column)
    for fav, size in (("a", 1), ("b", 10)):
        assert risk.parity_of(_streamed(["gender", "label"], batch), fav, min_group_size=size) == risk.parity(
            _ROWS, "gender", "label", fav, min_group_size=size
        )


def test_joint_counts_stop_past_their_cap() -> None:
    counts = risk.JointCounts(["age"], cap=3)
    counts.add(_ROWS)
    assert counts.overflowed and counts.distinct is None and counts.rows == len(_ROWS)

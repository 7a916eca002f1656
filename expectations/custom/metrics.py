"""Metric providers behind Clearhouse's custom expectations (pandas engine).

Each metric delegates to :mod:`privacy.risk` (or the injected detector) and returns an aggregate
result object — class sizes, counts, shares, rates — never a cell value. Errors raised here carry
column names only, because GX copies exception messages into validation results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import pandas as pd
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine
from great_expectations.expectations.metrics.column_aggregate_metric_provider import (
    ColumnAggregateMetricProvider,
    column_aggregate_value,
)
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from clearhouse.privacy import risk
from clearhouse.privacy.leaks import own_identifier_leaks
from clearhouse.validation.residual import get_own_identifiers, get_residual_detector

#: metric names, referenced by the expectations
DISTRIBUTION = "clearhouse.column.distribution"
K_ANONYMITY = "clearhouse.table.k_anonymity"
L_DIVERSITY = "clearhouse.table.l_diversity"
PARITY = "clearhouse.table.label_parity"
RESIDUAL_PII = "clearhouse.table.residual_pii"
OWN_IDENTIFIERS = "clearhouse.table.own_identifiers"


def _table(execution_engine: PandasExecutionEngine, metric_domain_kwargs: dict[str, Any]) -> pd.DataFrame:
    df, _, _ = execution_engine.get_compute_domain(
        domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
    )
    return df


class ColumnDistribution(ColumnAggregateMetricProvider):
    """Counts and shares of a column's values, nulls apart (:class:`~privacy.risk.Distribution`)."""

    metric_name = DISTRIBUTION

    @column_aggregate_value(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> risk.Distribution:  # noqa: N805
        return risk.balance(column.to_frame(), str(column.name))


class KAnonymity(TableMetricProvider):
    """Equivalence classes over the quasi-identifiers: :class:`privacy.risk.KAnonymityResult`."""

    metric_name = K_ANONYMITY
    value_keys = ("quasi_identifiers",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,  # noqa: N805 - GX metric functions take the provider class first
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any],
    ) -> risk.KAnonymityResult:
        df = _table(execution_engine, metric_domain_kwargs)
        return risk.k_anonymity(df, list(metric_value_kwargs["quasi_identifiers"]))


class LDiversity(TableMetricProvider):
    """Distinct sensitive values per equivalence class: :class:`privacy.risk.LDiversityResult`."""

    metric_name = L_DIVERSITY
    value_keys = ("quasi_identifiers", "sensitive_column")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,  # noqa: N805 - GX metric functions take the provider class first
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any],
    ) -> risk.LDiversityResult:
        df = _table(execution_engine, metric_domain_kwargs)
        return risk.l_diversity_profile(
            df, list(metric_value_kwargs["quasi_identifiers"]), metric_value_kwargs["sensitive_column"]
        )


class LabelParity(TableMetricProvider):
    """Favourable-label rate per group: :class:`privacy.risk.ParityResult`."""

    metric_name = PARITY
    value_keys = ("group_column", "label_column", "favourable_label", "min_group_size")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,  # noqa: N805 - GX metric functions take the provider class first
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any],
    ) -> risk.ParityResult:
        df = _table(execution_engine, metric_domain_kwargs)
        return risk.parity(
            df,
            metric_value_kwargs["group_column"],
            metric_value_kwargs["label_column"],
            metric_value_kwargs["favourable_label"],
            min_group_size=int(metric_value_kwargs.get("min_group_size") or 1),
        )


# ---------------------------------------------------------------------------------- residual PII


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    if pd.api.types.is_object_dtype(dtype):
        return True
    return isinstance(dtype, pd.StringDtype | pd.CategoricalDtype)


def _texts(series: pd.Series) -> list[str | None]:
    """A column's values as text, missing values as ``None`` (what the text checks read)."""
    return [None if pd.isna(v) else str(v) for v in series.tolist()]


#: rows ``expect_no_residual_pii`` re-scans when its ``sample`` is not given: bounded, since detection
#: already ran over every row and ``expect_no_own_identifiers`` checks every row without a detector
DEFAULT_RESIDUAL_SAMPLE: Final = 2_000


def _sample(df: pd.DataFrame, sample: int) -> pd.DataFrame:
    """At most ``sample`` rows, chosen deterministically (fixed seed), in table order; 0 means all."""
    if sample <= 0 or len(df) <= sample:
        return df
    return df.sample(n=sample, random_state=0).sort_index()


def residual_sample(value: object) -> int:
    """The rows a residual re-scan reads: ``None`` (not given) is the bounded default, 0 is every row."""
    return DEFAULT_RESIDUAL_SAMPLE if value is None else int(value)  # type: ignore[call-overload]


def scan_residual_pii(
    df: pd.DataFrame, columns: Sequence[str], *, threshold: float, sample: int
) -> dict[str, Any]:
    """Re-scan text columns with the injected detector; counts per column and entity type only.

    Returns ``{"detector": False}`` when no detector is set (the expectation fails closed on it).
    """
    detector = get_residual_detector()
    if detector is None:
        return {"detector": False}
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in the table: {', '.join(missing)}")
    subset = _sample(df.loc[:, list(columns)], sample)
    per_column: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    totals: dict[str, int] = {}
    for name in columns:
        series = subset[name]
        if not _is_text(series):
            skipped.append(name)
            continue
        texts = _texts(series)
        spans_per_text = detector.detect_many(texts)
        entities: dict[str, int] = {}
        with_pii = 0
        for spans in spans_per_text:
            hits = [s for s in spans if s.score >= threshold]
            if hits:
                with_pii += 1
            for span in hits:
                entities[span.entity_type] = entities.get(span.entity_type, 0) + 1
                totals[span.entity_type] = totals.get(span.entity_type, 0) + 1
        scanned = sum(1 for t in texts if t)
        per_column[name] = {
            "values_scanned": scanned,
            "values_with_pii": with_pii,
            "entities": dict(sorted(entities.items())),
        }
    return {
        "detector": True,
        "rows_in_table": len(df),
        "rows_scanned": len(subset),
        "values_scanned": sum(c["values_scanned"] for c in per_column.values()),
        "values_with_pii": sum(c["values_with_pii"] for c in per_column.values()),
        "entities": dict(sorted(totals.items())),
        "per_column": per_column,
        "skipped_non_text_columns": skipped,
    }


class ResidualPii(TableMetricProvider):
    """Residual personal data found by the injected :class:`~privacy.detection.types.TextDetector`."""

    metric_name = RESIDUAL_PII
    value_keys = ("column_list", "threshold", "sample")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,  # noqa: N805 - GX metric functions take the provider class first
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any],
    ) -> dict[str, Any]:
        df = _table(execution_engine, metric_domain_kwargs)
        return scan_residual_pii(
            df,
            list(metric_value_kwargs["column_list"]),
            threshold=float(metric_value_kwargs["threshold"]),
            sample=residual_sample(metric_value_kwargs.get("sample")),
        )


# ------------------------------------------------------------------------- the rows' own identifiers


def scan_own_identifiers(df: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """Each row's own identifier values (injected, from the collected input) looked for in the row's
    released text; counts only. ``{"reference": False}`` when none were injected or rows do not align."""
    reference = get_own_identifiers()
    if reference is None:
        return {"reference": False, "why": "no identifier values were provided"}
    if len(reference) != len(df):
        return {"reference": False, "why": f"{len(reference)} input rows for {len(df)} released rows"}
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in the table: {', '.join(missing)}")
    texts = {c: _texts(df[c]) for c in columns}
    return {"reference": True, **own_identifier_leaks(reference, texts).to_dict()}


class OwnIdentifiers(TableMetricProvider):
    """Rows whose released text still holds one of their own identifier values."""

    metric_name = OWN_IDENTIFIERS
    value_keys = ("column_list",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,  # noqa: N805 - GX metric functions take the provider class first
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any],
    ) -> dict[str, Any]:
        df = _table(execution_engine, metric_domain_kwargs)
        return scan_own_identifiers(df, list(metric_value_kwargs["column_list"]))

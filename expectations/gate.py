"""The validation gate: run the dataset's suite over a cleared version through a real GX checkpoint.

``validate_version`` loads (or first generates) the suite, runs it with a fresh in-memory GX context
per run (so runs never interfere and nothing is written except Data Docs), builds a PII-free Data
Docs site under ``reports_dir/<dataset>/<version>/data_docs/`` and returns a
:class:`~expectations.outcome.ValidationOutcome`. Failing *critical* checks make ``passed`` false; the
caller quarantines. If GX itself breaks, the gate raises :class:`ValidationGateError` (fail closed).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from great_expectations.checkpoint.actions import ValidationAction
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.core.expectation_validation_result import ExpectationValidationResult
from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

from clearhouse.errors import ValidationGateError
from clearhouse.policy import Policy, Role, Treatment
from clearhouse.privacy.detection.types import TextDetector
from clearhouse.privacy.risk import Distribution, balance, distribution_of, representation
from clearhouse.validation._gx import SAFE_RESULT_FORMAT, SITE_NAME, make_context
from clearhouse.validation.custom import CUSTOM_EXPECTATIONS
from clearhouse.validation.offline_docs import localise_site
from clearhouse.validation.outcome import Check, Severity, ValidationOutcome, json_safe
from clearhouse.validation.residual import own_identifiers, residual_detector
from clearhouse.validation.sanitize import PrivacySafeDataDocsAction, sanitize_evr, scrub_message
from clearhouse.validation.streamed import BATCH_ROWS, MISSING, SAMPLE_ROWS, StreamedTable, plan_for, profile_files
from clearhouse.validation.suites import build_suite, columns_of, load_or_create_suite, read_suite

__all__ = ["ValidationOutcome", "distribution_metrics", "run_suite", "validate_files", "validate_version"]

#: GX keeps process-wide state (the current project); one run at a time per process
_RUN_LOCK = threading.Lock()
#: a kept column with at most this many distinct values is summarised as groups in the metrics
MAX_GROUPS = 12
_GROUP_ROLES = (Role.QUASI_IDENTIFIER, Role.SENSITIVE, Role.FEATURE)


def _to_pandas(table: pd.DataFrame | pa.Table) -> pd.DataFrame:
    if isinstance(table, pa.Table):
        return table.to_pandas()
    if isinstance(table, pd.DataFrame):
        return table
    raise TypeError(f"expected a pandas DataFrame or a pyarrow Table, got {type(table).__name__}")


def _path_part(value: str, what: str) -> str:
    if not value or value in {".", ".."} or any(c in value for c in "/\\\0") or value.startswith("."):
        raise ValidationGateError(f"{what} {value!r} cannot be used as a directory name")
    return value


# ------------------------------------------------------------------------------------------ running


def _suite_names(suite: ExpectationSuite) -> set[str]:
    """Names a scrubbed message may keep: expectation types and the suite's string arguments."""
    names: set[str] = set()
    for exp in suite.expectations:
        config = exp.configuration
        names.add(config.type)
        for value in config.kwargs.values():
            items = value if isinstance(value, list) else [value]
            names |= {v for v in items if isinstance(v, str)}
    return names


@contextmanager
def _whole_table_metrics(streamed: StreamedTable | None) -> Iterator[None]:
    """While GX runs over a sample of a streamed table, answer its metric requests from the table's
    aggregates (:meth:`StreamedTable.metric`); a metric that feeds a verdict and that the aggregates
    cannot answer fails the run (fail closed). Called under :data:`_RUN_LOCK`: the engine is patched
    for this process while the block runs."""
    if streamed is None:
        yield
        return
    original = PandasExecutionEngine.resolve_metrics

    def resolve_metrics(self: PandasExecutionEngine, metrics_to_resolve: Any, metrics: Any = None,
                        runtime_configuration: Any = None) -> Any:
        given: dict[Any, Any] = {}
        rest = []
        for config in metrics_to_resolve:
            value = streamed.metric(config.metric_name, dict(config.metric_domain_kwargs or {}),
                                    dict(config.metric_value_kwargs or {}))
            if value is not MISSING:
                given[config.id] = value
            elif streamed.answers(config.metric_name):
                rest.append(config)
            else:
                raise ValidationGateError(
                    f"metric {config.metric_name} cannot be computed over the streamed table of {streamed.rows} "
                    "rows (fail closed)"
                )
        resolved = dict(original(self, rest, metrics, runtime_configuration)) if rest else {}
        resolved.update(given)
        return resolved

    PandasExecutionEngine.resolve_metrics = resolve_metrics  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        PandasExecutionEngine.resolve_metrics = original  # type: ignore[method-assign]


def run_suite(
    df: pd.DataFrame,
    suite: ExpectationSuite,
    *,
    docs_dir: Path | None = None,
    value_safe_columns: Collection[str] = (),
    known_names: Collection[str] = (),
    detector: TextDetector | None = None,
    identifiers: list[dict[str, object]] | None = None,
    streamed: StreamedTable | None = None,
) -> tuple[list[ExpectationValidationResult], Path | None]:
    """Run ``suite`` over ``df`` with a GX checkpoint; sanitized results and the Data Docs index.

    With ``docs_dir`` the checkpoint's :class:`PrivacySafeDataDocsAction` builds a local Data Docs
    site there. With ``streamed``, ``df`` is a sample of that table and the metrics verdicts depend on
    come from its aggregates. Any GX failure raises :class:`ValidationGateError` with the cause chained.
    """
    safe_cols = sorted(value_safe_columns)
    names = sorted(set(known_names) | {str(c) for c in df.columns} | _suite_names(suite))
    try:
        with _RUN_LOCK, residual_detector(detector), own_identifiers(identifiers), _whole_table_metrics(streamed):
            context = make_context(docs_dir)
            batch_definition = (
                context.data_sources.add_pandas("clearhouse")
                .add_dataframe_asset("cleared")
                .add_batch_definition_whole_dataframe("whole")
            )
            suite = context.suites.add(suite)
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name="gate", data=batch_definition, suite=suite)
            )
            actions: list[ValidationAction] = (
                [PrivacySafeDataDocsAction(name="data_docs", site_names=[SITE_NAME],
                                           value_safe_columns=safe_cols, known_names=names)]
                if docs_dir is not None
                else []
            )
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(name="gate", validation_definitions=[definition], actions=actions,
                              result_format=SAFE_RESULT_FORMAT)
            )
            result = checkpoint.run(batch_parameters={"dataframe": df})
    except ValidationGateError:
        raise
    except Exception as exc:
        detail = f"{type(exc).__name__}: {scrub_message(str(exc), names)}"
        raise ValidationGateError(f"Great Expectations failed (fail closed): {detail}") from exc
    evrs = [evr for suite_result in result.run_results.values() for evr in suite_result.results]
    if len(evrs) != len(suite.expectations):
        raise ValidationGateError(
            f"Great Expectations returned {len(evrs)} results for {len(suite.expectations)} expectations"
        )
    order = {exp.id: i for i, exp in enumerate(suite.expectations)}
    evrs.sort(key=lambda r: order.get(r.expectation_config.id if r.expectation_config else None, len(order)))
    for evr in evrs:  # idempotent; also covers runs without Data Docs
        sanitize_evr(evr, value_safe_columns=safe_cols, known_names=names)
    index = docs_dir / "index.html" if docs_dir is not None else None
    if docs_dir is not None and index is not None and index.exists():
        # GX's pages load scripts and styles from public CDNs and a logo from a cloud bucket: rewrite
        # them to local assets, so the docs read offline and opening them tells no outside host anything
        localise_site(docs_dir)
        return evrs, index
    return evrs, None


# ------------------------------------------------------------------------------------------- checks

_FIXED_REASONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "expect_column_to_exist": lambda kw: f"column {kw.get('column')!r} is missing",
    "expect_table_row_count_to_be_between": lambda kw: "row count out of range",
}


def _core_reasons(etype: str, kwargs: dict[str, Any], result: dict[str, Any]) -> list[str]:
    if result.get("unexpected_count") is not None and result.get("element_count") is not None:
        pct = result.get("unexpected_percent")
        share = f" ({pct:.2f}%)" if isinstance(pct, int | float) else ""
        return [f"{result['unexpected_count']} of {result['element_count']} value(s) unexpected{share}"]
    reason = _FIXED_REASONS.get(etype)
    text = reason(kwargs) if reason else "expectation not met"
    if "observed_value" in result:
        text += f" (observed {result['observed_value']})"
    return [text]


def _severity(evr: ExpectationValidationResult) -> Severity:
    config = evr.expectation_config
    meta = (config.meta if config is not None else None) or {}
    value = meta.get("severity") or getattr(getattr(config, "severity", None), "value", "critical")
    return "warning" if value in ("warning", "info") else "critical"


def to_check(evr: ExpectationValidationResult) -> Check:
    """A sanitized validation result as a JSON-safe :class:`Check`."""
    config = evr.expectation_config
    etype = config.type if config is not None else "unknown"
    kwargs = {k: v for k, v in (config.kwargs if config is not None else {}).items() if k != "batch_id"}
    columns = columns_of(kwargs)
    result = dict(evr.result or {})
    success = bool(evr.success)
    if etype in CUSTOM_EXPECTATIONS:
        details = dict(result.get("details") or {})
        reasons = [str(r) for r in details.pop("reasons", [])]
        observed = {"summary": result.get("observed_value"), **details}
    else:
        observed, reasons = result, ([] if success else _core_reasons(etype, kwargs, result))
    info = evr.exception_info or {}
    if info.get("raised_exception"):
        success = False
        reasons = [f"raised {info.get('exception_message') or 'an exception'}"]
    if not success and not reasons:
        reasons = ["expectation not met"]
    return Check(
        name=f"{etype}({', '.join(columns)})" if columns else etype,
        type=etype,
        columns=columns,
        severity=_severity(evr),
        success=success,
        observed=json_safe(observed),
        reasons=reasons if not success else [],
    )


def _line(check: Check) -> str:
    return f"{check['name']}: {'; '.join(check['reasons'])}"


# ------------------------------------------------------------------------------------------ metrics


def _group_columns(policy: Policy, document: dict[str, Any], df: pd.DataFrame) -> list[str]:
    declared: list[str] = _declared_groups(document)
    shown = [n for n in policy.columns if _shown(policy, n) and n in df]
    declared += [n for n in shown if df[n].nunique(dropna=True) <= MAX_GROUPS]
    return list(dict.fromkeys(c for c in declared if c in df))


def distribution_metrics(
    table: pd.DataFrame | pa.Table,
    labels: Iterable[str],
    groups: Iterable[str],
    *,
    max_groups: int | None = None,
) -> dict[str, Any]:
    """Row count, label balance and group representation of ``table`` — aggregates only.

    A group column with more than ``max_groups`` distinct values is skipped (it would list values,
    not groups); columns missing from the table are skipped.
    """
    df = _to_pandas(table)
    out: dict[str, Any] = {"rows": len(df), "balance": {}, "representation": {}}
    for label in labels:
        if label in df:
            out["balance"][label] = balance(df, label).to_dict()
    for group in groups:
        if group in df and (max_groups is None or df[group].nunique(dropna=True) <= max_groups):
            out["representation"][group] = representation(df, group).to_dict()
    return json_safe(out)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------- gate


def _identifiers(raw: pd.DataFrame | pa.Table | None, policy: Policy) -> list[dict[str, object]] | None:
    """Each input row's direct-identifier values (row-aligned with the released table)."""
    columns = [c for c in policy.columns_with(role=Role.DIRECT_IDENTIFIER) if c != policy.row_id]
    if raw is None or not columns:
        return None
    if isinstance(raw, pa.Table):
        present = [c for c in columns if c in raw.column_names]
        return raw.select(present).to_pylist() if present else None
    present = [c for c in columns if c in raw.columns]
    return raw[present].to_dict("records") if present else None


def validate_version(
    cleared: pd.DataFrame | pa.Table,
    policy: Policy,
    *,
    dataset: str,
    version: str,
    suites_dir: Path,
    reports_dir: Path,
    raw: pd.DataFrame | pa.Table | None = None,
    detector: TextDetector | None = None,
) -> ValidationOutcome:
    """Validate one cleared version against its dataset's suite and build its Data Docs.

    Args:
        cleared: the released table (after minimisation and protection).
        policy: the dataset policy (its suite is generated from it on first use).
        dataset, version: name the Data Docs directory ``reports_dir/<dataset>/<version>/data_docs``.
        suites_dir: where ``<policy.id>.json`` lives.
        reports_dir: root of the per-version reports.
        raw: the ingested input, for balance/representation *before* (aggregates only) and for each
            row's own direct-identifier values, which ``expect_no_own_identifiers`` looks for in the
            row's released text (values stay in this process; results hold counts).
        detector: the text detector for ``expect_no_residual_pii`` (else the one set with
            :func:`expectations.residual.set_residual_detector`; with neither, those checks fail).

    Raises:
        ValidationGateError: the suite is invalid, or GX could not run (cause chained).
    """
    df = _to_pandas(cleared)
    path, document, suite, docs_dir = _prepare(policy, dataset, version, suites_dir, reports_dir)
    labels = policy.columns_with(role=Role.LABEL)
    groups = _group_columns(policy, document, df)
    evrs, index = run_suite(
        df, suite, docs_dir=docs_dir, value_safe_columns=[*labels, *groups],
        known_names=policy.columns, detector=detector, identifiers=_identifiers(raw, policy),
    )
    # Before-vs-after only where the values are comparable: a generalised column's raw values are the
    # very details minimisation removed, so they are not summarised.
    kept_as_is = [g for g in groups if g in policy.columns and policy.columns[g].treatment is Treatment.KEEP]
    before = distribution_metrics(raw, labels, kept_as_is, max_groups=MAX_GROUPS) if raw is not None else None
    after = distribution_metrics(df, labels, groups)
    return _outcome(dataset, version, evrs, index=index, suite_file=path, before=before, after=after)


def _prepare(
    policy: Policy, dataset: str, version: str, suites_dir: Path, reports_dir: Path
) -> tuple[Path, dict[str, Any], ExpectationSuite, Path]:
    """The suite (file, document, GX suite) and a fresh Data Docs folder of one version."""
    version_dir = Path(reports_dir) / _path_part(dataset, "dataset") / _path_part(version, "version")
    docs_dir = version_dir / "data_docs"
    path = load_or_create_suite(policy, Path(suites_dir))
    document = read_suite(path)
    suite = build_suite(document, policy.id, str(path))
    if docs_dir.exists():
        shutil.rmtree(docs_dir)  # a re-run of the same version replaces its docs
    docs_dir.mkdir(parents=True)
    return path, document, suite, docs_dir


def _outcome(
    dataset: str,
    version: str,
    evrs: list[ExpectationValidationResult],
    *,
    index: Path | None,
    suite_file: Path,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> ValidationOutcome:
    checks = [to_check(evr) for evr in evrs]
    failed = [c for c in checks if not c["success"]]
    return ValidationOutcome(
        dataset=dataset,
        version=version,
        passed=not any(c["severity"] == "critical" for c in failed),
        checks=checks,
        failed_critical=[_line(c) for c in failed if c["severity"] == "critical"],
        warnings=[_line(c) for c in failed if c["severity"] == "warning"],
        data_docs_index=index,
        suite_path=suite_file,
        metrics_before=before,
        metrics_after=after,
    )


def _shown(policy: Policy, name: str) -> bool:
    col = policy.columns[name]
    return col.role in _GROUP_ROLES and col.treatment in (Treatment.KEEP, Treatment.GENERALISE)


def _declared_groups(document: dict[str, Any]) -> list[str]:
    declared: list[Any] = []
    for exp in document["expectations"]:
        kwargs = exp.get("kwargs") or {}
        if exp.get("type") == "expect_column_group_representation":
            declared.append(kwargs.get("column"))
        elif exp.get("type") == "expect_label_parity_across_groups":
            declared.append(kwargs.get("group_column"))
    return [c for c in declared if isinstance(c, str)]


def _summary(rows: int, balances: dict[str, Distribution], groups: dict[str, Distribution]) -> dict[str, Any]:
    out = {
        "rows": rows,
        "balance": {k: v.to_dict() for k, v in balances.items()},
        "representation": {k: v.to_dict() for k, v in groups.items()},
    }
    return json_safe(out)  # type: ignore[no-any-return]


def validate_files(
    cleared: Path,
    policy: Policy,
    *,
    dataset: str,
    version: str,
    suites_dir: Path,
    reports_dir: Path,
    raw: Path | None = None,
    detector: TextDetector | None = None,
    work_dir: Path | None = None,
    sample_rows: int = SAMPLE_ROWS,
    batch_rows: int = BATCH_ROWS,
) -> ValidationOutcome:
    """:func:`validate_version` over Parquet files in bounded memory (the validate stage's gate).

    One streamed pass over ``cleared`` (and ``raw`` in step) keeps the aggregates the suite needs
    (:mod:`expectations.streamed`); GX runs the suite over the first ``sample_rows`` rows with every
    verdict-bearing metric answered from those aggregates, and builds the Data Docs. The verdicts are
    those of :func:`validate_version` over the whole tables; on a table of at most ``sample_rows`` rows
    GX sees every row. Spill files of exact duplicate counts go to ``work_dir``.
    """
    path, document, suite, docs_dir = _prepare(policy, dataset, version, suites_dir, reports_dir)
    labels = policy.columns_with(role=Role.LABEL)
    declared = _declared_groups(document)
    candidates = [n for n in policy.columns if _shown(policy, n)]
    rows = pq.ParquetFile(cleared).metadata.num_rows
    plan = plan_for(
        document, rows, group_candidates=candidates, labels=labels, max_groups=MAX_GROUPS,
        raw_groups=[g for g in dict.fromkeys([*declared, *candidates])
                    if g in policy.columns and policy.columns[g].treatment is Treatment.KEEP],
        identifiers=[c for c in policy.columns_with(role=Role.DIRECT_IDENTIFIER) if c != policy.row_id],
        sample_rows=sample_rows,
    )
    table = profile_files(cleared, plan, raw=raw, work_dir=work_dir, sample_rows=sample_rows, batch_rows=batch_rows)
    distinct = {c: table.group_distinct(c) for c in candidates if c in table.columns}
    shown = [c for c, d in distinct.items() if d is not None and d <= MAX_GROUPS]
    groups = list(dict.fromkeys(c for c in [*declared, *shown] if c in table.columns))
    evrs, index = run_suite(
        table.sample, suite, docs_dir=docs_dir, value_safe_columns=[*labels, *groups],
        known_names=policy.columns, detector=detector, streamed=table,
    )
    after = _summary(
        table.rows,
        {lab: table.distribution(lab) for lab in labels if lab in table.columns},
        {g: table.distribution(g) for g in groups},
    )
    before = None
    if raw is not None:
        kept_as_is = [g for g in groups if g in policy.columns and policy.columns[g].treatment is Treatment.KEEP]
        raw_counts = table.raw_counts
        before = _summary(
            table.raw_rows or 0,
            {lab: distribution_of(raw_counts[lab]) for lab in labels if lab in raw_counts},
            {g: distribution_of(raw_counts[g]) for g in kept_as_is
             if g in raw_counts and not raw_counts[g].overflowed
             and sum(1 for (v,) in raw_counts[g].counts if v is not None) <= MAX_GROUPS},
        )
    return _outcome(dataset, version, evrs, index=index, suite_file=path, before=before, after=after)

"""Keep cell values out of validation results, and so out of Data Docs, outcomes and logs.

The checkpoint already asks for :data:`~expectations._gx.SAFE_RESULT_FORMAT` (no unexpected values,
rows or indexes). This module is the second wall, applied to every result before Data Docs are built:

* results of Clearhouse's custom expectations are aggregate by construction and kept as they are;
* results of GX's own expectations keep only counts and percentages, plus ``observed_value`` when it
  is a number, names only columns, or belongs to a column whose values are category names (labels,
  groups); anything else becomes ``"[withheld]"``;
* exception messages keep quoted text only when it is a known name (column, expectation type or
  suite argument) and tracebacks are dropped — a pandas error can quote the cell it choked on.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, Final, Literal

from great_expectations.checkpoint.actions import UpdateDataDocsAction
from great_expectations.checkpoint.checkpoint import CheckpointResult
from great_expectations.compatibility import pydantic
from great_expectations.core.expectation_validation_result import ExpectationValidationResult

from clearhouse.validation.custom import CUSTOM_EXPECTATIONS

WITHHELD: Final = "[withheld]"

#: result keys of GX expectations that are aggregates
_AGGREGATE_KEYS: Final = frozenset(
    {
        "element_count",
        "unexpected_count",
        "unexpected_percent",
        "unexpected_percent_total",
        "unexpected_percent_nonmissing",
        "missing_count",
        "missing_percent",
        "observed_value",
    }
)
_QUOTED = re.compile(r"(['\"`])(.*?)\1")
_MAX_MESSAGE = 300


def scrub_message(message: str, known_names: Collection[str]) -> str:
    """First line of ``message``, quoted text replaced by ``…`` unless it is a known name."""
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else ""

    def _keep(match: re.Match[str]) -> str:
        quote, inner = match.group(1), match.group(2)
        return match.group(0) if inner in known_names else f"{quote}…{quote}"

    scrubbed = _QUOTED.sub(_keep, first)
    return scrubbed[:_MAX_MESSAGE] + ("…" if len(scrubbed) > _MAX_MESSAGE else "")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _safe_observed(
    observed: Any, column: str | None, value_safe_columns: Collection[str], known_names: Collection[str]
) -> Any:
    if observed is None or _is_number(observed) or isinstance(observed, bool):
        return observed
    if column is not None and column in value_safe_columns:
        return observed
    if column is None and isinstance(observed, list) and all(str(v) in known_names for v in observed):
        return observed  # e.g. the table's column names
    return WITHHELD


def sanitize_result(
    expectation_type: str,
    kwargs: Mapping[str, Any],
    result: Mapping[str, Any] | None,
    *,
    value_safe_columns: Collection[str] = (),
    known_names: Collection[str] = (),
) -> dict[str, Any]:
    """The aggregate-only part of one expectation's ``result`` dict."""
    result = dict(result or {})
    if expectation_type in CUSTOM_EXPECTATIONS:
        return result
    column = kwargs.get("column")
    safe = {k: v for k, v in result.items() if k in _AGGREGATE_KEYS}
    if "observed_value" in safe:
        column_name = column if isinstance(column, str) else None
        safe["observed_value"] = _safe_observed(
            safe["observed_value"], column_name, value_safe_columns, known_names
        )
    # GX's Data Docs renderer needs both companions of unexpected_count; drop it rather than crash.
    if "unexpected_count" in safe and ("unexpected_percent" not in safe or "element_count" not in safe):
        safe.pop("unexpected_count")
    return safe


def sanitize_exception_info(info: Mapping[str, Any] | None, known_names: Collection[str]) -> dict[str, Any]:
    """``exception_info`` without tracebacks and with scrubbed messages (GX nests it per metric)."""
    info = dict(info or {})
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, Mapping)]
    for entry in entries:
        if entry.get("raised_exception"):
            return {
                "raised_exception": True,
                "exception_message": scrub_message(str(entry.get("exception_message") or ""), known_names),
                "exception_traceback": "(traceback withheld: it may quote data values)",
            }
    return {"raised_exception": False, "exception_message": None, "exception_traceback": None}


def sanitize_evr(
    evr: ExpectationValidationResult,
    *,
    value_safe_columns: Collection[str] = (),
    known_names: Collection[str] = (),
) -> ExpectationValidationResult:
    """Sanitize one validation result in place (and return it)."""
    config = evr.expectation_config
    etype = config.type if config is not None else ""
    kwargs = dict(config.kwargs) if config is not None else {}
    evr.result = sanitize_result(
        etype, kwargs, evr.result, value_safe_columns=value_safe_columns, known_names=known_names
    )
    evr.exception_info = sanitize_exception_info(evr.exception_info, known_names)
    return evr


def sanitize_checkpoint_result(
    checkpoint_result: CheckpointResult,
    *,
    value_safe_columns: Collection[str] = (),
    known_names: Collection[str] = (),
) -> None:
    """Sanitize every validation result of a checkpoint run in place."""
    for suite_result in checkpoint_result.run_results.values():
        for evr in suite_result.results:
            sanitize_evr(evr, value_safe_columns=value_safe_columns, known_names=known_names)


class PrivacySafeDataDocsAction(UpdateDataDocsAction):
    """``UpdateDataDocsAction`` that sanitizes the results — and re-stores them — before building docs.

    GX stores each validation result before the checkpoint's actions run and Data Docs render from
    that store, so sanitizing the in-memory result alone would not reach the HTML.
    """

    type: Literal["clearhouse_privacy_safe_data_docs"] = "clearhouse_privacy_safe_data_docs"  # type: ignore[assignment]
    value_safe_columns: list[str] = pydantic.Field(default_factory=list)
    known_names: list[str] = pydantic.Field(default_factory=list)

    def run(self, checkpoint_result: CheckpointResult, action_context: Any = None) -> dict[Any, Any]:
        """Sanitize, overwrite the stored results, then build the Data Docs site(s)."""
        sanitize_checkpoint_result(
            checkpoint_result, value_safe_columns=self.value_safe_columns, known_names=self.known_names
        )
        store = self._resolve_context().context.validation_results_store
        for key, suite_result in checkpoint_result.run_results.items():
            store.set(key, suite_result)
        result: dict[Any, Any] = super().run(checkpoint_result, action_context)
        return result

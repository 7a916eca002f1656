"""The per-version privacy report: one self-contained HTML page (inline CSS and SVG, no scripts).

It shows the ethics-risk level and purpose, personal data found per column (entity types, counts,
mean scores), treatments applied, k-anonymity / l-diversity, label balance and group representation
before vs after as bar charts, every check with its severity and result, and links to Data Docs and
lineage. Everything is rendered through Jinja2 with autoescaping, from aggregates only: the inputs
(findings, outcome, metrics) never carry cell values.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jinja2

from clearhouse.files import write_text_atomically
from clearhouse.policy import EthicsRisk, Policy, Treatment
from clearhouse.validation._report_template import TEMPLATE
from clearhouse.validation.charts import BarChart, share_chart
from clearhouse.validation.outcome import Check, ValidationOutcome

RISK_TEXT = {
    EthicsRisk.E0: "no AI/ML use",
    EthicsRisk.E1: "low risk",
    EthicsRisk.E2: "limited risk: cleared automatically when every critical check passes",
    EthicsRisk.E3: "high risk: a privacy officer must approve the release, after signing the assessment",
    EthicsRisk.E4: "prohibited",
}
RISK_TYPES = ("expect_k_anonymity", "expect_l_diversity")
FAIRNESS_TYPES = (
    "expect_column_label_balance",
    "expect_column_group_representation",
    "expect_label_parity_across_groups",
)
_SAFE_SCHEMES = {"", "http", "https", "file"}
GATE_LABELS = {"assessment": "assessment sign-off", "review": "residual-PII review", "approval": "approval"}

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _pct2(value: float | None) -> str:
    """Two decimals: a bound of 4.95% must not read as the limit 5.0%."""
    return "—" if value is None else f"{100 * value:.2f}%"


def _safe_href(href: str | None) -> str | None:
    """Only relative, http(s) and file links (no ``javascript:`` and friends)."""
    if not href:
        return None
    return href if urlparse(href).scheme.lower() in _SAFE_SCHEMES else None


def _entity_stats(stats: Mapping[str, Any]) -> dict[str, float]:
    return {"count": int(stats.get("count") or 0), "mean_score": float(stats.get("mean_score") or 0.0)}


def _findings_rows(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for f in findings:
        entities = f.get("entities") or {}
        rows.append(
            {
                "column": str(f.get("column", "")),
                "kind": str(f.get("kind", "")),
                "rows_scanned": int(f.get("rows_scanned") or 0),
                "rows_with_pii": int(f.get("rows_with_pii") or 0),
                "entities": [
                    (str(name), _entity_stats(s))
                    for name, s in sorted(entities.items())
                ],
                "inferred_entity": f.get("inferred_entity"),
                "confidence": float(f.get("confidence") or 0.0),
            }
        )
    return rows


def _treatment_rows(policy: Policy, treatments: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "column": name,
            "role": col.role.value,
            "treatment": str(treatments.get(name, col.treatment.value)),
            "released": col.treatment is not Treatment.DROP,
        }
        for name, col in policy.columns.items()
    ]


def balance_charts(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[BarChart]:
    """Before/after share charts of label balance and group representation, from the gate's metrics
    (``ValidationOutcome.metrics_before`` / ``metrics_after``: shares per category, no values)."""
    before = before or {}
    after = after or {}
    charts = []
    for kind, title in (("balance", "Label balance"), ("representation", "Representation")):
        for column, dist in (after.get(kind) or {}).items():
            prior = (before.get(kind) or {}).get(column)
            charts.append(
                share_chart(
                    f"{title}: {column}",
                    prior["shares"] if prior else None,
                    dist.get("shares") or {},
                )
            )
    return charts


def _charts(outcome: ValidationOutcome) -> list[BarChart]:
    return balance_charts(outcome.metrics_before, outcome.metrics_after)


def _docs_href(index: Path | None, report_dir: Path) -> str | None:
    if index is None:
        return None
    try:
        return Path(os.path.relpath(index, report_dir)).as_posix()
    except ValueError:  # another drive on Windows
        return index.resolve().as_uri()


def _of_types(checks: list[Check], types: tuple[str, ...]) -> list[Check]:
    return [c for c in checks if c["type"] in types]


def render_privacy_report(
    *,
    policy: Policy,
    dataset: str,
    version: str,
    findings: list[dict[str, Any]],
    treatments: Mapping[str, str],
    outcome: ValidationOutcome,
    lineage_href: str | None,
    report_dir: Path,
    ledger: Mapping[str, Any] | None = None,
    gates: Mapping[str, Any] | None = None,
) -> str:
    """The report's HTML (see :func:`write_privacy_report`)."""
    template = _ENV.from_string(TEMPLATE)
    before = outcome.metrics_before
    return template.render(
        dataset=dataset,
        version=version,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        outcome=outcome,
        n_failed_critical=len(outcome.failed_critical),
        n_warnings=len(outcome.warnings),
        policy=policy,
        risk_level=policy.ethics_risk.value,
        risk_text=RISK_TEXT[policy.ethics_risk],
        rows_before=before.get("rows") if before else None,
        rows_after=(outcome.metrics_after or {}).get("rows"),
        findings=_findings_rows(findings),
        treatments=_treatment_rows(policy, treatments),
        risk_checks=_of_types(outcome.checks, RISK_TYPES),
        fairness_checks=_of_types(outcome.checks, FAIRNESS_TYPES),
        charts=_charts(outcome),
        any_before=before is not None,
        pct=_pct,
        pct2=_pct2,
        data_docs_href=_docs_href(outcome.data_docs_index, report_dir),
        lineage_href=_safe_href(lineage_href),
        suite_path=str(outcome.suite_path),
        ledger=ledger,
        assessment=policy.assessment,
        gates=gates,
        gate_labels=GATE_LABELS,
    )


def write_privacy_report(
    path: Path,
    *,
    policy: Policy,
    dataset: str,
    version: str,
    findings: list[dict[str, Any]],
    treatments: Mapping[str, str],
    outcome: ValidationOutcome,
    lineage_href: str | None = None,
    ledger: Mapping[str, Any] | None = None,
    gates: Mapping[str, Any] | None = None,
) -> Path:
    """Write the version's privacy report to ``path`` (atomically) and return it.

    Args:
        findings: ``ColumnFindings.to_dict()`` of each scanned column (counts and scores only).
        treatments: column → treatment description, e.g. ``{"age": "generalise(bin=20, top=80)"}``.
        outcome: the gate's :class:`ValidationOutcome` (checks, metrics before/after, Data Docs).
        lineage_href: link to the version's lineage view (relative or http/https/file only).
        ledger: the ledger check at writing time: ``ok``, ``entries``, ``head_seq``, ``head_hash``,
            ``key_id``, ``artifacts_checked``, ``problems`` (names and digests only).
        gates: the officer's gates (``Gates.to_dict()`` of :mod:`clearhouse.governance.gates`): what the
            version requires and what is outstanding, the assessment's sign-off, the review's figures.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_privacy_report(
        policy=policy,
        dataset=dataset,
        version=version,
        findings=findings,
        treatments=treatments,
        outcome=outcome,
        lineage_href=lineage_href,
        report_dir=path.parent,
        ledger=ledger,
        gates=gates,
    )
    return write_text_atomically(path, html, mode=0o600)

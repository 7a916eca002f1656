"""Everything recorded about one version, gathered for the person who must sign it off: its state and
reasons, the gates it waits for (assessment sign-off, residual-PII review, approval), the checks the
validation gate ran, balance charts before vs after, lineage back to the collected file, the acts of
people on it (approvals, rejections, revocations, pulls, refusals) and whether the ledger verifies it
now. Aggregates, names and digests only — never a data value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import ClearhouseError
from clearhouse.files import read_json
from clearhouse.governance.gates import Gates, version_gates, version_policy
from clearhouse.governance.trace import trace
from clearhouse.governance.verify import verify
from clearhouse.settings import Settings
from clearhouse.validation.charts import BarChart
from clearhouse.validation.report import balance_charts
from clearhouse.zones import VersionPaths, check_ids

#: acts shown as the version's decisions (the rest of its audit trail is listed beside them)
DECISIONS = ("approve", "reject", "revoke", "shred")


@dataclass
class Dossier:
    """One version as an officer reviews it."""

    info: VersionInfo
    checks: list[dict[str, Any]] = field(default_factory=list)
    failed_critical: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    charts: list[BarChart] = field(default_factory=list)
    lineage: dict[str, Any] = field(default_factory=dict)
    lineage_problem: str | None = None
    acts: list[dict[str, Any]] = field(default_factory=list)
    ledger_ok: bool = False
    ledger_problems: list[str] = field(default_factory=list)
    report: Path | None = None
    data_docs: list[str] = field(default_factory=list)
    #: what the version waits for (assessment sign-off, residual-PII review, approval) and their states
    gates: Gates | None = None
    #: the privacy impact assessment of the policy the version ran with (what an officer signs)
    assessment: dict[str, Any] | None = None

    @property
    def decisions(self) -> list[dict[str, Any]]:
        return [a for a in self.acts if a["action"] in DECISIONS]


def reports_dir(settings: Settings, dataset: str, version: str) -> Path:
    """The folder of a version's privacy report, lineage export and Data Docs."""
    return VersionPaths(settings, dataset, version).reports


def data_docs_pages(settings: Settings, dataset: str, version: str) -> list[str]:
    """Pages of the version's Data Docs site that read without scripts (suite and validation results),
    relative to the reports folder; GX's index page needs its scripts to list anything."""
    site = reports_dir(settings, dataset, version) / "data_docs"
    if not site.is_dir():
        return []
    pages = [p for p in sorted(site.rglob("*.html")) if p.name != "index.html"]
    return [p.relative_to(site.parent).as_posix() for p in pages]


def dossier(settings: Settings, dataset: str, version: str) -> Dossier:
    """Gather the version's record (see the module docstring). Unknown versions raise ``NotFoundError``."""
    check_ids(dataset, version)
    catalog = Catalog(settings.db_url)
    info = catalog.get(dataset, version)
    d = Dossier(info=info)
    stage = VersionPaths(settings, dataset, version).stage_json("validate")
    if stage.is_file():
        validate = read_json(stage)
        d.checks = list(validate.get("checks") or [])
        d.failed_critical = list(validate.get("failed_critical") or [])
        d.warnings = list(validate.get("warnings") or [])
        d.charts = balance_charts(validate.get("metrics_before"), validate.get("metrics_after"))
    try:
        d.lineage = trace(settings, dataset, version)
    except ClearhouseError as exc:  # e.g. the policy file moved: show the rest, say what is missing
        d.lineage_problem = str(exc)
    d.acts = [a for a in catalog.audit_log(dataset) if a["version"] == version]
    report = verify(settings, dataset, version)
    d.ledger_ok = report.ok
    d.ledger_problems = report.all_problems()[:20]
    privacy_report = reports_dir(settings, dataset, version) / "privacy_report.html"
    d.report = privacy_report if privacy_report.is_file() else None
    d.data_docs = data_docs_pages(settings, dataset, version)
    try:
        policy = version_policy(settings, info)
        d.gates = version_gates(settings, info, policy)
        if policy is not None and policy.assessment is not None:
            d.assessment = policy.assessment.model_dump(mode="json")
    except ClearhouseError as exc:  # the policy copy is unreadable: say so, show the rest
        d.lineage_problem = d.lineage_problem or str(exc)
    return d

"""Writing a version's privacy report with its governance facts: the ledger check, the assessment's
sign-off and the residual-PII review.

The validate stage writes the report first; an officer's act that changes what it shows (a sign-off,
a review) writes it again from the stage results kept in the work zone, and records the new file's
digest in the ledger (:func:`refresh_reports`), so ``verify`` still holds.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import ClearhouseError
from clearhouse.files import read_json
from clearhouse.governance.gates import version_gates, version_policy
from clearhouse.governance.record import artifact_digests, record, signer_for
from clearhouse.governance.verify import verify
from clearhouse.policy import Policy
from clearhouse.privacy.minimise import describe
from clearhouse.settings import Settings
from clearhouse.validation.outcome import ValidationOutcome
from clearhouse.validation.report import write_privacy_report
from clearhouse.zones import VersionPaths

log = logging.getLogger(__name__)

REPORT_NAME = "privacy_report.html"


def write_report(
    settings: Settings, info: VersionInfo, policy: Policy, outcome: ValidationOutcome, findings: list[dict[str, Any]]
) -> Path:
    """Write the version's privacy report (validation, findings, treatments, ledger, assessment, review)."""
    paths = VersionPaths(settings, info.dataset, info.version)
    gates = version_gates(settings, info, policy)
    return write_privacy_report(
        paths.reports / REPORT_NAME,
        policy=policy,
        dataset=info.dataset,
        version=info.version,
        findings=findings,
        treatments={c: describe(col) for c, col in policy.columns.items()},
        outcome=outcome,
        lineage_href="lineage.json",
        ledger=ledger_summary(settings, info.dataset, info.version),
        gates=gates.to_dict(),
    )


def ledger_summary(settings: Settings, dataset: str, version: str) -> dict[str, Any]:
    """The ledger check the report shows (names and digests only)."""
    report = verify(settings, dataset, version)
    head = report.chain.head
    return {
        "ok": report.ok,
        "entries": report.chain.entries,
        "head_seq": head.seq if head else 0,
        "head_hash": head.entry_hash if head else "",
        "key_id": signer_for(settings).key_id,
        "artifacts_checked": report.artifacts_checked,
        "problems": report.all_problems()[:10],
    }


def _outcome(dataset: str, version: str, payload: dict[str, Any]) -> ValidationOutcome:
    docs = payload.get("data_docs_index")
    return ValidationOutcome(
        dataset=dataset,
        version=version,
        passed=bool(payload.get("passed")),
        checks=list(payload.get("checks") or []),
        failed_critical=list(payload.get("failed_critical") or []),
        warnings=list(payload.get("warnings") or []),
        data_docs_index=Path(docs) if docs else None,
        suite_path=Path(str(payload.get("suite_path") or "")),
        metrics_before=payload.get("metrics_before"),
        metrics_after=payload.get("metrics_after") or {},
    )


def rewrite_report(settings: Settings, info: VersionInfo, why: str) -> bool:
    """Write the report of one version again from its kept stage results and record the new file.

    Returns False (and changes nothing) when the version has no report to rewrite (it never reached
    validation, or its work zone is gone)."""
    paths = VersionPaths(settings, info.dataset, info.version)
    validate_json, detect_json = paths.stage_json("validate"), paths.stage_json("detect")
    policy = version_policy(settings, info)
    if policy is None or not validate_json.is_file() or not detect_json.is_file():
        return False
    outcome = _outcome(info.dataset, info.version, read_json(validate_json))
    report = write_report(settings, info, policy, outcome, read_json(detect_json).get("findings") or [])
    record(
        settings,
        "report",
        dataset=info.dataset,
        version=info.version,
        payload={"why": why, "artifacts": artifact_digests(settings, [report])},
    )
    return True


def refresh_reports(
    settings: Settings, dataset: str, why: str, *, version: str | None = None, assessment_digest: str | None = None
) -> int:
    """Rewrite the reports of a dataset's versions (one version, or those that ran with one assessment)
    after an act; returns how many were written.

    A report that cannot be rewritten is logged and skipped: the act it follows is already recorded, and
    the report says when it was written."""
    catalog = Catalog(settings.db_url)
    written = 0
    for info in catalog.versions(dataset):
        if (version is not None and info.version != version) or info.state in {"processing", "shredded"}:
            continue
        if assessment_digest is not None and info.info.get("assessment_digest") != assessment_digest:
            continue
        try:
            written += rewrite_report(settings, info, why)
        except (ClearhouseError, OSError) as exc:
            log.warning("report of %s %s not rewritten (%s)", dataset, info.version, type(exc).__name__)
    return written

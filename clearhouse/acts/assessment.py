"""Signing a dataset's privacy impact assessment: a privacy officer's act, with their name.

The sign-off is for one assessment, by its digest (SHA-256 of its canonical JSON): the ledger entry
records the digest, and a copy of what was signed is kept under ``CLEARHOUSE_HOME/assessments/`` (its
digest in the same entry, so ``verify`` notices a changed copy). A changed assessment has another digest
and is not signed until an officer signs it again. An E3 version is not released before its
assessment is signed; E1-E2 versions are released, and ``status`` and the report say "assessment not
signed" until it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearhouse.acts.users import User, ensure
from clearhouse.catalog import Catalog
from clearhouse.errors import PolicyError, ReleaseRefused
from clearhouse.files import write_text_atomically
from clearhouse.governance.gates import AssessmentStatus, SignOff, assessment_status
from clearhouse.governance.record import act, artifact_digests, policy_digest
from clearhouse.governance.report import refresh_reports
from clearhouse.policy import Assessment, Policy, load_policy
from clearhouse.settings import Settings
from clearhouse.zones import check_ids


@dataclass(frozen=True)
class DatasetAssessment:
    """A dataset's current assessment (from its registered policy file) and its sign-off."""

    dataset: str
    policy_path: Path
    policy: Policy
    status: AssessmentStatus

    @property
    def assessment(self) -> Assessment | None:
        return self.policy.assessment

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "policy": str(self.policy_path),
            "ethics_risk": self.policy.ethics_risk.value,
            "assessment": self.assessment.model_dump(mode="json") if self.assessment else None,
            **self.status.to_dict(),
        }


def current(settings: Settings, dataset: str) -> DatasetAssessment:
    """The assessment in the dataset's registered policy file, with its sign-off status."""
    check_ids(dataset)
    path = Path(Catalog(settings.db_url).policy_path(dataset))
    policy = load_policy(path)
    return DatasetAssessment(dataset, path, policy, assessment_status(settings, dataset, policy.assessment_digest()))


def snapshot_path(settings: Settings, dataset: str, digest: str) -> Path:
    return settings.home / "assessments" / dataset / f"{digest}.json"


def sign(settings: Settings, dataset: str, *, actor: User, note: str = "", expect_digest: str | None = None) -> SignOff:
    """An officer signs the dataset's current assessment. Signing what is already signed records nothing
    and returns the existing sign-off. ``expect_digest`` (a prefix is enough) refuses if the assessment
    changed since the officer read it."""
    ensure(settings, actor, "officer", act="assessment sign")
    now = current(settings, dataset)
    if now.assessment is None:
        raise PolicyError(f"{now.policy_path}: the policy of {dataset} has no assessment to sign")
    digest = now.assessment.digest()
    if expect_digest and not digest.startswith(expect_digest.lower()):
        raise ReleaseRefused(
            f"the assessment of {dataset} is {digest[:16]}…, not {expect_digest}: it changed since you read it; "
            "read it again (clearhouse assessment show) before signing"
        )
    if now.status.signoff is not None:
        return now.status.signoff
    snapshot = snapshot_path(settings, dataset, digest)
    write_text_atomically(snapshot, now.assessment.canonical_json() + "\n", mode=0o600)
    entry = act(
        settings,
        "assessment_sign",
        actor=actor.name,
        dataset=dataset,
        detail={
            "digest": digest,
            "ethics_risk": now.policy.ethics_risk.value,
            "policy_path": str(now.policy_path),
            "policy_sha256": policy_digest(now.policy_path),
            "legal_basis": now.assessment.legal_basis.value,
            "retention_period": now.assessment.retention_period,
            "note": note[:500],
            "artifacts": artifact_digests(settings, [snapshot]),
        },
    )
    refresh_reports(settings, dataset, "assessment signed", assessment_digest=digest)
    return SignOff(digest, actor.name, entry.at, entry.seq, note[:500])

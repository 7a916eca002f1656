"""The officer's gates of a version, read from the signed ledger: assessment sign-off, residual-PII
review, approval.

What a version must wait for is decided when it is released (:func:`requirements`, from the policy it
ran with) and kept in the catalog; what has been done is read from the ledger's entries (``assessment_sign``,
``review_sample``, ``review``, ``approve``), so the answer is the same for the CLI, the report and the
portal, and an auditor finds each fact signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearhouse.catalog import VersionInfo
from clearhouse.governance.record import ledger_for
from clearhouse.lineage.ledger import Entry
from clearhouse.policy import EthicsRisk, Policy, load_policy
from clearhouse.settings import Settings
from clearhouse.validation.review import sample_size
from clearhouse.zones import VersionPaths

ASSESSMENT = "assessment"
REVIEW = "review"
APPROVAL = "approval"
#: the order in which outstanding gates are named (approval last: it is the officer's final word)
ORDER = (ASSESSMENT, REVIEW, APPROVAL)
LABELS = {
    ASSESSMENT: "assessment sign-off",
    REVIEW: "residual-PII review",
    APPROVAL: "approval",
}


def requirements(policy: Policy) -> list[str]:
    """What a version of ``policy`` waits for before release: E3 waits for the assessment's sign-off and
    an officer's approval; a policy with ``review`` (every E3 policy that releases text) for the review."""
    needs = []
    if policy.ethics_risk is EthicsRisk.E3:
        needs.append(ASSESSMENT)
    if policy.review is not None:
        needs.append(REVIEW)
    if policy.ethics_risk.requires_approval:
        needs.append(APPROVAL)
    return needs


def review_plan(policy: Policy) -> dict[str, Any] | None:
    """The review a version of ``policy`` needs, with the sample size, known before anyone reads a record."""
    if policy.review is None:
        return None
    spec = policy.review
    return {
        "max_residual_rate": spec.max_residual_rate,
        "confidence": spec.confidence,
        "columns": policy.review_columns(),
        "sample_size": sample_size(spec.max_residual_rate, spec.confidence),
    }


@dataclass(frozen=True)
class SignOff:
    """An officer's sign-off of one assessment (by its digest), as the ledger recorded it."""

    digest: str
    by: str
    at: str
    seq: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "by": self.by, "at": self.at, "ledger_entry": self.seq, "note": self.note}


def signoffs(settings: Settings, dataset: str) -> list[SignOff]:
    """Every sign-off of the dataset's assessments, oldest first."""
    return [_signoff(e) for e in ledger_for(settings).entries(dataset=dataset) if e.kind == "assessment_sign"]


def _signoff(e: Entry) -> SignOff:
    return SignOff(str(e.payload.get("digest")), e.actor or "unknown", e.at, e.seq, str(e.payload.get("note") or ""))


@dataclass(frozen=True)
class AssessmentStatus:
    """Whether this assessment (by digest) is signed; ``earlier`` is the last sign-off of another one."""

    digest: str | None
    signoff: SignOff | None
    earlier: SignOff | None = None

    @property
    def signed(self) -> bool:
        return self.signoff is not None

    def label(self) -> str:
        if self.digest is None:
            return "no assessment (E0)"
        if self.signoff is not None:
            return f"signed by {self.signoff.by} at {self.signoff.at[:19].replace('T', ' ')} UTC"
        if self.earlier is not None:
            return (
                f"assessment not signed (changed since the sign-off by {self.earlier.by} at "
                f"{self.earlier.at[:19].replace('T', ' ')} UTC; a changed assessment needs a new sign-off)"
            )
        return "assessment not signed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "signed": self.signed,
            "signoff": self.signoff.to_dict() if self.signoff else None,
            "earlier_signoff": self.earlier.to_dict() if self.earlier else None,
            "label": self.label(),
        }


def assessment_status(settings: Settings, dataset: str, digest: str | None) -> AssessmentStatus:
    """The sign-off of the assessment with ``digest`` (the latest, if it was signed more than once)."""
    if digest is None:
        return AssessmentStatus(None, None)
    every = signoffs(settings, dataset)
    mine = [s for s in every if s.digest == digest]
    others = [s for s in every if s.digest != digest]
    return AssessmentStatus(digest, mine[-1] if mine else None, None if mine else (others[-1] if others else None))


@dataclass(frozen=True)
class ReviewStatus:
    """The residual-PII review of one version: its plan, the drawn sample and the result, if any."""

    plan: dict[str, Any] | None
    sample: dict[str, Any] | None = None
    result: dict[str, Any] | None = None

    @property
    def required(self) -> bool:
        return self.plan is not None

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def passed(self) -> bool:
        return bool(self.result and self.result.get("passed"))

    def label(self) -> str:
        if self.plan is None:
            return "not required"
        limit = f"{self.plan['max_residual_rate']:.2%}"
        if self.result is not None:
            r = self.result
            verdict = "passed" if r["passed"] else "FAILED"
            return (
                f"{verdict}: {r['leaks']} leak(s) in {r['n']} records, upper {r['confidence']:.0%} bound "
                f"{r['upper_bound']:.2%} vs limit {limit} (by {r['by']})"
            )
        if self.sample is not None:
            return f"sample of {self.sample['n']} drawn by {self.sample['by']}; waiting for the officer's marks"
        return f"needs a sample of {self.plan['sample_size']} records with no leak (limit {limit})"

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "sample": self.sample, "result": self.result, "label": self.label()}


@dataclass(frozen=True)
class Gates:
    """A version's gates: what it requires, their states, and what is still outstanding."""

    requires: list[str]
    assessment: AssessmentStatus
    review: ReviewStatus
    approved_by: str | None

    @property
    def outstanding(self) -> list[str]:
        done = {
            ASSESSMENT: self.assessment.signed,
            REVIEW: self.review.passed,
            APPROVAL: self.approved_by is not None,
        }
        return [g for g in ORDER if g in self.requires and not done[g]]

    def waiting_for(self) -> str:
        return ", ".join(LABELS[g] for g in self.outstanding)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requires": self.requires,
            "outstanding": self.outstanding,
            "assessment": self.assessment.to_dict(),
            "review": self.review.to_dict(),
            "approved_by": self.approved_by,
        }


def version_policy(settings: Settings, info: VersionInfo) -> Policy | None:
    """The policy the version ran with (copied into its work zone at prepare), if it is still there."""
    path = VersionPaths(settings, info.dataset, info.version).policy_copy
    return load_policy(path) if path.is_file() else None


def version_gates(settings: Settings, info: VersionInfo, policy: Policy | None = None) -> Gates:
    """The gates of one version. ``policy`` (the one it ran with) fills in what a version that has not
    reached the release stage yet does not have in the catalog."""
    policy = policy or version_policy(settings, info)
    requires = info.info.get("requires")
    if requires is None:
        requires = requirements(policy) if policy else []
    plan = info.info.get("review_plan")
    if plan is None and policy is not None and REVIEW in requires:
        plan = review_plan(policy)
    digest = info.info.get("assessment_digest")
    if digest is None and policy is not None:
        digest = policy.assessment_digest()
    entries = ledger_for(settings).entries(dataset=info.dataset, version=info.version)
    sample = result = None
    approved_by = None
    for e in entries:
        if e.kind == "review_sample":
            sample = {**_public(e.payload, ("n", "population", "seed", "sample_size")), "by": e.actor, "at": e.at}
        elif e.kind == "review":
            keys = ("n", "leaks", "upper_bound", "max_residual_rate", "confidence", "census", "passed", "withheld")
            result = {**_public(e.payload, keys), "by": e.actor, "at": e.at}
        elif e.kind == "approve":
            approved_by = e.actor
        elif e.kind == "reject":
            approved_by = None
    return Gates(
        requires=list(requires),
        assessment=assessment_status(settings, info.dataset, digest),
        review=ReviewStatus(plan if REVIEW in requires else None, sample, result),
        approved_by=approved_by,
    )


def _public(payload: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: payload.get(k) for k in keys}

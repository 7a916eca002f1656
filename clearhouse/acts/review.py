"""Residual-PII review by sampling: a privacy officer reads a random sample of a waiting version's
cleared text records and marks those where personal data is still visible.

:func:`sample` draws the sample once (a random seed, recorded with the sample's digest in the ledger;
the same seed over the same release file gives the same records) and keeps it with the version (mode
0600), so the CLI and the portal show the same records. :func:`submit` takes the marks, computes the
exact upper bound of the leak rate (:mod:`clearhouse.validation.review`) and decides: above the
policy's limit the version is quarantined with the figures as its reason; at or below it the marked
records are withheld from the release and the version is released, or keeps waiting for its other
gates (an E3 version still needs the officer's approval).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq

from clearhouse.acts.labeler import verify_release
from clearhouse.acts.users import User, ensure
from clearhouse.acts.waiting import clear_pending, waiting_version, withhold_rows
from clearhouse.catalog import Catalog
from clearhouse.errors import CatalogError, ReleaseRefused
from clearhouse.files import read_json, sha256_file, write_json
from clearhouse.governance.gates import REVIEW, Gates, version_gates, version_policy
from clearhouse.governance.record import act, artifact_digests, ledger_for, relative
from clearhouse.governance.report import refresh_reports
from clearhouse.policy import Treatment
from clearhouse.settings import Settings
from clearhouse.validation.review import DRAW_METHOD, ReviewFigures, draw, evaluate
from clearhouse.zones import VersionPaths

#: what one record of the sample shows: the reference to mark it by, its position, its cleared text
Record = dict[str, Any]


@dataclass(frozen=True)
class ReviewSample:
    """The drawn sample: how it was drawn and the records to read (cleared text: officers only)."""

    dataset: str
    version: str
    seed: int
    population: int
    sample_size: int
    columns: list[str]
    records: list[Record]
    max_residual_rate: float
    confidence: float
    drawn_by: str
    drawn_at: str

    @property
    def n(self) -> int:
        return len(self.records)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.version,
            "seed": self.seed,
            "method": DRAW_METHOD,
            "population": self.population,
            "sample_size": self.sample_size,
            "n": self.n,
            "columns": self.columns,
            "max_residual_rate": self.max_residual_rate,
            "confidence": self.confidence,
            "drawn_by": self.drawn_by,
            "drawn_at": self.drawn_at,
            "records": self.records,
        }


@dataclass(frozen=True)
class ReviewOutcome:
    """What a submitted review decided."""

    figures: ReviewFigures
    state: str
    withheld: int
    outstanding: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.figures.to_dict(),
            "state": self.state,
            "withheld": self.withheld,
            "outstanding": self.outstanding,
        }


def _needs_review(settings: Settings, catalog: Catalog, dataset: str, version: str, *, doing: str) -> Gates:
    info = waiting_version(catalog, dataset, version, doing=doing)
    gates = version_gates(settings, info)
    if REVIEW not in gates.requires or gates.review.plan is None:
        raise CatalogError(f"{dataset} {version} needs no residual-PII review (its policy asks for none)")
    return gates


def _from_file(settings: Settings, paths: VersionPaths) -> ReviewSample:
    """The kept sample, checked against the digest the ledger recorded when it was drawn."""
    entries = ledger_for(settings).entries(dataset=paths.dataset, version=paths.version)
    entries = [e for e in entries if e.kind == "review_sample"]
    rel = relative(settings, paths.review_sample)
    recorded = (entries[-1].payload.get("artifacts") or {}).get(rel) if entries else None
    if recorded is None or sha256_file(paths.review_sample) != recorded:
        raise ReleaseRefused(
            f"the review sample of {paths.dataset} {paths.version} does not match the digest recorded when it "
            "was drawn; it was changed or replaced and cannot be reviewed"
        )
    doc = read_json(paths.review_sample)
    return ReviewSample(**{k: doc[k] for k in ReviewSample.__dataclass_fields__})


def sample(settings: Settings, dataset: str, version: str, *, actor: User) -> ReviewSample:
    """The review sample of a waiting version: drawn (and recorded) on the first call, then the same.
    Only an officer sees it (it is cleared text)."""
    ensure(settings, actor, "officer", act="review sample")
    catalog = Catalog(settings.db_url)
    gates = _needs_review(settings, catalog, dataset, version, doing="reviewed")
    paths = VersionPaths(settings, dataset, version)
    if paths.review_sample.exists():
        return _from_file(settings, paths)
    plan = gates.review.plan
    assert plan is not None  # checked by _needs_review
    info = catalog.get(dataset, version)
    policy = version_policy(settings, info)
    if policy is None:
        raise CatalogError(f"{dataset} {version} has lost the policy it ran with; it cannot be reviewed")
    manifest = verify_release(paths.pending_release)  # the records read are the records to be released
    columns = list(plan["columns"])
    row_id = policy.row_id if policy.row_id and policy.columns[policy.row_id].treatment is Treatment.KEEP else None
    table = pq.read_table(paths.pending_release / "data.parquet", columns=[*columns, *([row_id] if row_id else [])])
    texts = {c: table.column(c).to_pylist() for c in columns}
    ids = table.column(row_id).to_pylist() if row_id else None
    # a record with no text at all can show no personal data: the population is the records with text
    candidates = [i for i in range(table.num_rows) if any(texts[c][i] not in (None, "") for c in columns)]
    seed = secrets.randbits(63)
    picked = [candidates[j] for j in draw(len(candidates), int(plan["sample_size"]), seed)]
    records = [
        {
            "ref": str(ids[i]) if ids is not None else str(i),
            "row": i,
            "text": {c: texts[c][i] for c in columns},
        }
        for i in picked
    ]
    if len({r["ref"] for r in records}) != len(records):  # a duplicate row id cannot be marked unambiguously
        for r in records:
            r["ref"] = str(r["row"])
    drawn = ReviewSample(
        dataset=dataset,
        version=version,
        seed=seed,
        population=len(candidates),
        sample_size=int(plan["sample_size"]),
        columns=columns,
        records=records,
        max_residual_rate=float(plan["max_residual_rate"]),
        confidence=float(plan["confidence"]),
        drawn_by=actor.name,
        drawn_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    write_json(paths.review_sample, drawn.to_dict(), mode=0o600)
    act(
        settings,
        "review_sample",
        actor=actor.name,
        dataset=dataset,
        version=version,
        detail={
            "seed": seed,
            "method": DRAW_METHOD,
            "population": drawn.population,
            "sample_size": drawn.sample_size,
            "n": drawn.n,
            "columns": columns,
            "data_sha256": manifest["files"]["data.parquet"],
            "artifacts": artifact_digests(settings, [paths.review_sample]),
        },
    )
    refresh_reports(settings, dataset, "review sample drawn", version=version)
    return drawn


def submit(
    settings: Settings, dataset: str, version: str, leaks: list[str], *, actor: User, note: str = ""
) -> ReviewOutcome:
    """Record the officer's marks (the ``ref`` of every sampled record that still shows personal data)
    and decide. An unknown reference is bad input: nothing is recorded."""
    ensure(settings, actor, "officer", act="review submit")
    catalog = Catalog(settings.db_url)
    gates = _needs_review(settings, catalog, dataset, version, doing="reviewed")
    if gates.review.result is not None:
        raise CatalogError(f"{dataset} {version} was already reviewed by {gates.review.result['by']}")
    paths = VersionPaths(settings, dataset, version)
    if not paths.review_sample.exists():
        raise CatalogError(f"draw the sample first: clearhouse review sample {dataset} {version}")
    drawn = _from_file(settings, paths)
    by_ref = {r["ref"]: r for r in drawn.records}
    marked = list(dict.fromkeys(x.strip() for x in leaks if x.strip()))
    unknown = [x for x in marked if x not in by_ref]
    if unknown:
        shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
        raise CatalogError(f"not in the review sample of {dataset} {version}: {shown}; nothing was recorded")
    if drawn.n == 0:  # no record has any text: nothing can leak
        figures = ReviewFigures(0, 0, 0.0, drawn.max_residual_rate, drawn.confidence, census=True)
    else:
        figures = evaluate(
            drawn.n, len(marked), drawn.max_residual_rate, drawn.confidence, population=drawn.population
        )
    withheld = 0
    outstanding: list[str] = []
    if not figures.passed:
        state = "quarantined"
        why = f"residual-PII review by {actor.name}: {figures.summary()}"
        catalog.add_reason(dataset, version, "review", why, "review")
        catalog.update(dataset, version, state=state, info={"reviewed_by": actor.name})
        write_json(
            paths.quarantine / "reasons.json",
            {"dataset": dataset, "version": version, "reasons": catalog.get(dataset, version).reasons},
        )
        artifacts = artifact_digests(settings, [paths.quarantine / "reasons.json"])
    else:
        if marked:
            # known leaks never go out: the records the officer marked are withheld from the release
            rows = withhold_rows(
                paths, [by_ref[x]["row"] for x in marked], why=f"marked by {actor.name} in the residual-PII review"
            )
            withheld = len(marked)
            catalog.update(dataset, version, rows_out=rows)
        outstanding = [g for g in gates.outstanding if g != REVIEW]
        if outstanding:
            state = "awaiting_approval"
            target = paths.pending_release
        else:
            clear_pending(paths)
            state = "cleared"
            target = paths.cleared
        catalog.update(dataset, version, state=state, info={"reviewed_by": actor.name})
        artifacts = artifact_digests(settings, sorted(target.iterdir()))
    act(
        settings,
        "review",
        actor=actor.name,
        dataset=dataset,
        version=version,
        detail={
            **figures.to_dict(),
            "withheld": withheld,
            "marked": marked[:500],
            "note": note[:500],
            "sample_seed": drawn.seed,
            "state": state,
            "artifacts": artifacts,
        },
    )
    refresh_reports(settings, dataset, "residual-PII review", version=version)
    return ReviewOutcome(figures, state, withheld, outstanding)

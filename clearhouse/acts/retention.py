"""Retention and disposal: versions past their policy's ``retention`` are disposed of — their data keys
destroyed (crypto-shredding) and every file of the version removed (landing, work, quarantine, cleared,
reports, run log). The catalog keeps the version as ``disposed`` with the reason, and the ledger records
who disposed of what and when; nothing else of the version is left.

The same act runs from ``clearhouse retention`` (an officer's token) and from the daily retention DAG
(:func:`clearhouse.orchestration.dag_factory.build_retention_dag`), recorded as
:data:`SCHEDULED`. A dataset whose policy cannot be read is not touched and reported as a problem: no
file is removed on a guess.

:func:`remove_plaintext` is also what ``keys shred`` calls: once the data key is gone, the landing copy
of the collected file and the work zone's intermediate files (which hold values in clear) go too.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from clearhouse.acts.users import User, ensure
from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import ClearhouseError
from clearhouse.governance.record import act, relative
from clearhouse.policy import load_policy
from clearhouse.privacy.crypto.configured import provider_for
from clearhouse.settings import Settings
from clearhouse.zones import VersionPaths

#: the actor recorded when the retention DAG disposes of versions on its schedule
SCHEDULED = "clearhouse-retention-schedule"
#: states whose files retention removes (a version still processing is left to its run)
_DISPOSABLE = ("cleared", "quarantined", "awaiting_approval", "rejected", "shredded")


@dataclass(frozen=True)
class Due:
    """A version past its retention period."""

    dataset: str
    version: str
    state: str
    created_at: datetime
    retention: str
    expired_on: date

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.version,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "retention": self.retention,
            "expired_on": self.expired_on.isoformat(),
        }


@dataclass
class RetentionResult:
    due: list[Due] = field(default_factory=list)
    disposed: list[Due] = field(default_factory=list)
    #: datasets or versions that could not be checked or disposed of (the DAG run fails on any)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "due": [d.to_dict() for d in self.due],
            "disposed": [d.to_dict() for d in self.disposed],
            "problems": self.problems,
        }


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # SQLite returns naive UTC


def due_versions(settings: Settings, *, now: datetime | None = None) -> RetentionResult:
    """The versions past retention (nothing is changed)."""
    now = now or datetime.now(UTC)
    catalog = Catalog(settings.db_url)
    result = RetentionResult()
    by_dataset: dict[str, list[VersionInfo]] = {}
    for v in catalog.versions():
        by_dataset.setdefault(v.dataset, []).append(v)
    for dataset, versions in sorted(by_dataset.items()):
        try:
            policy = load_policy(catalog.policy_path(dataset))
        except ClearhouseError as exc:
            result.problems.append(f"{dataset}: its policy cannot be read, its versions were not checked ({exc})")
            continue
        days = policy.retention_days
        if days is None or policy.retention is None:
            continue
        for v in versions:
            created = _aware(v.created_at)
            expires = created + timedelta(days=days)
            if v.state in _DISPOSABLE and expires <= now:
                result.due.append(Due(dataset, v.version, v.state, created, policy.retention, expires.date()))
    return result


def apply_retention(
    settings: Settings, *, actor: User | None, dry_run: bool = False, now: datetime | None = None
) -> RetentionResult:
    """Dispose of every version past retention (``dry_run``: only list them). ``actor`` is the officer
    running it by hand, or ``None`` for the schedule; each disposal is recorded."""
    if actor is not None and not dry_run:
        ensure(settings, actor, "officer", act="retention")
    result = due_versions(settings, now=now)
    if dry_run:
        return result
    who = actor.name if actor is not None else SCHEDULED
    for due in result.due:
        try:
            dispose(settings, due, actor=who)
        except (ClearhouseError, OSError) as exc:
            result.problems.append(f"{due.dataset} {due.version}: not disposed of ({type(exc).__name__}: {exc})")
            continue
        result.disposed.append(due)
    return result


def dispose(settings: Settings, due: Due, *, actor: str) -> None:
    """Destroy one version's data key(s), then remove its files; record it. The key goes first: if the
    files cannot all be removed, what is left cannot be decrypted."""
    destroyed, _ = destroy_keys(settings, due.dataset, due.version)
    removed = remove_version_files(settings, due.dataset, due.version)
    catalog = Catalog(settings.db_url)
    message = (
        f"retention {due.retention} elapsed on {due.expired_on.isoformat()}: data key destroyed and files "
        f"removed by {actor}"
    )
    catalog.update(due.dataset, due.version, state="disposed", info={"disposed_by": actor})
    catalog.add_reason(due.dataset, due.version, "retention", message, "disposed")
    act(
        settings,
        "dispose",
        actor=actor,
        dataset=due.dataset,
        version=due.version,
        detail={
            "state": "disposed",
            "retention": due.retention,
            "expired_on": due.expired_on.isoformat(),
            "keys_destroyed": destroyed,
            "removed": removed,
        },
    )


def destroy_keys(settings: Settings, dataset: str, version: str) -> tuple[int, int]:
    """Destroy the version's live data keys: ``(destroyed, already destroyed)``. A version that never
    got one (stopped before protect) has none to destroy, and that is no error: its copies in clear
    still have to go."""
    provider = provider_for(settings)
    keys = [k for k in provider.status().data_keys if k.dataset == dataset and k.version == version]
    already = sum(1 for k in keys if k.shredded)
    if len(keys) == already:
        return 0, already
    return len(provider.shred(dataset, version).shredded), already


def _remove(settings: Settings, paths: list[Path]) -> list[str]:
    removed: list[str] = []
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(relative(settings, path))
    return removed


def remove_plaintext(settings: Settings, dataset: str, version: str) -> list[str]:
    """Remove the copies of a version that hold values in clear: the landing copy of the collected file
    and the work zone (ingested, minimised, detection spans, pending release). The collected file
    itself, outside the state directory, is never touched. Returns what was removed."""
    paths = VersionPaths(settings, dataset, version)
    return _remove(settings, [paths.landing, paths.work])


def remove_version_files(settings: Settings, dataset: str, version: str) -> list[str]:
    """Remove every file of a version under the state directory (zones, reports, run log)."""
    p = VersionPaths(settings, dataset, version)
    return _remove(settings, [p.landing, p.work, p.quarantine, p.cleared, p.reports, p.run_log])

"""What a labeler does: see the cleared versions and pull one (verified against the ledger and its
manifest first). Only certified labelers may; they receive only the columns the policy releases to
labelers (:meth:`clearhouse.policy.Policy.labeler_columns`)."""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clearhouse.acts.users import User, ensure
from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import ClearhouseError, ConfigError, ReleaseRefused
from clearhouse.files import sha256_file, write_json
from clearhouse.governance.record import act
from clearhouse.governance.verify import verify
from clearhouse.policy import load_policy
from clearhouse.settings import Settings
from clearhouse.zones import VersionPaths, check_ids


def resolve_version(catalog: Catalog, dataset: str, version: str | None) -> VersionInfo:
    check_ids(dataset, version)
    if version is None:
        return catalog.latest_cleared(dataset)
    return catalog.get(dataset, version)


def verify_release(directory: Path) -> dict[str, Any]:
    """Check the release files against their manifest digests (tamper or corruption → refused)."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise ReleaseRefused(f"release at {directory} has no manifest")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        if sha256_file(directory / name) != digest:
            raise ReleaseRefused(f"release file {name} does not match its manifest digest; refusing to hand it out")
    return manifest


def visible_versions(settings: Settings, actor: User, dataset: str | None = None) -> list[VersionInfo]:
    """What a labeler may see: cleared versions only (never quarantined, awaiting, rejected, shredded or
    disposed ones, whose reasons may describe personal data)."""
    ensure(settings, actor, "labeler", act="list")
    if dataset is not None:
        check_ids(dataset)
    return [v for v in Catalog(settings.db_url).versions(dataset) if v.state == "cleared"]


@dataclass(frozen=True)
class CheckedRelease:
    """A cleared version whose ledger, state and files were just verified: safe to hand out."""

    info: VersionInfo
    directory: Path
    manifest: dict[str, Any]
    chain_head: dict[str, Any] | None


def checked_release(settings: Settings, dataset: str, version: str | None, *, actor: User) -> CheckedRelease:
    """Everything a pull or a download checks before handing out a single byte.

    Anything but ``cleared`` (quarantined, awaiting approval, rejected, revoked, shredded) is refused, as
    is a version that fails verification against the ledger or whose files do not match their manifest.
    Every refusal is recorded in the audit log (``pull_refused``). The caller checked the labeler
    (:func:`~clearhouse.acts.users.ensure`) first."""
    catalog = Catalog(settings.db_url)
    info = resolve_version(catalog, dataset, version)
    if info.state != "cleared":
        why = "; ".join(r["message"] for r in info.reasons) if info.reasons else info.state
        _refuse(settings, actor.name, dataset, info.version, f"state {info.state}")
        raise ReleaseRefused(f"{dataset} {info.version} is {info.state}, not cleared ({why}); nothing was written")
    # The ledger first: a state flipped in the catalog, a changed or replaced file (even with its
    # manifest rewritten to match) or a broken chain refuses the pull.
    report = verify(settings, dataset, info.version)
    if not report.ok:
        problems = report.all_problems()
        _refuse(settings, actor.name, dataset, info.version, "verification failed", problems=problems)
        raise ReleaseRefused(
            f"{dataset} {info.version} failed verification against the ledger; nothing was written: {problems[0]}"
        )
    source = VersionPaths(settings, dataset, info.version).cleared
    try:
        manifest = verify_release(source)
    except ReleaseRefused:
        _refuse(settings, actor.name, dataset, info.version, "manifest digest mismatch")
        raise
    head = report.chain.head.to_dict() if report.chain.head else None
    return CheckedRelease(info, source, manifest, head)


def released_columns(settings: Settings, dataset: str, manifest: dict[str, Any]) -> list[str]:
    """The columns of a release that labelers receive."""
    # the release records what the policy released to labelers when it was cleared; older releases
    # did not, and the registered policy decides (an unreadable policy refuses the pull)
    released = manifest.get("labeler_columns")
    if not isinstance(released, list):
        released = load_policy(Catalog(settings.db_url).policy_path(dataset)).labeler_columns()
    return [str(c) for c in released]


def pull(settings: Settings, dataset: str, version: str | None, to: Path, *, actor: User) -> Path:
    """Copy a cleared version to ``to/<dataset>/<version>/``: the columns released to labelers, as
    Parquet and CSV, with a manifest of their digests. Anything but ``cleared`` is refused, and so is a
    labeler who is not certified today; refusals are recorded."""
    labeler = ensure(settings, actor, "labeler", act="pull")
    release = checked_release(settings, dataset, version, actor=actor)
    info, source, manifest = release.info, release.directory, release.manifest
    base = to.expanduser().resolve()
    if base.exists() and not base.is_dir():
        raise ConfigError(f"--to {base} exists and is not a folder; nothing was written")
    target = base / dataset / info.version
    if target.exists() and any(target.iterdir()):
        raise ReleaseRefused(f"{target} already exists and is not empty; choose another --to")
    released = released_columns(settings, dataset, manifest)
    table = pq.read_table(source / "data.parquet")  # verified above against the manifest and the ledger
    keep = [c for c in table.column_names if c in released]
    withheld = [c for c in table.column_names if c not in released]
    target.mkdir(parents=True, exist_ok=True)
    try:
        _write_labeler_copy(table.select(keep), manifest, withheld, source, target)
        verify_release(target)  # the copies are what the manifest says
    except (ReleaseRefused, OSError):
        shutil.rmtree(target, ignore_errors=True)
        raise
    act(
        settings,
        "pull",
        actor=actor.name,
        dataset=dataset,
        version=info.version,
        detail={
            "rows": manifest["rows"],
            "columns": keep,
            "withheld": withheld,
            # under which certification the data left: a labeling lead can show it was valid that day
            "certified_until": labeler.certified_until.isoformat() if labeler.certified_until else None,
            "certified_by": labeler.certified_by,
            "to": str(target),
            "chain_head": release.chain_head,
        },
    )
    return target


def _write_labeler_copy(table: Any, manifest: dict[str, Any], withheld: list[str], source: Path, target: Path) -> None:
    pq.write_table(table, target / "data.parquet")
    pacsv.write_csv(table, target / "data.csv")
    copy = dict(manifest)
    copy["columns"] = [c for c in manifest["columns"] if c["name"] in table.column_names]
    copy["files"] = {name: sha256_file(target / name) for name in ("data.parquet", "data.csv")}
    # how this copy relates to the cleared release the ledger records
    copy["labeler_copy"] = {
        "withheld_columns": withheld,
        "release_manifest_sha256": sha256_file(source / "manifest.json"),
    }
    write_json(target / "manifest.json", copy)


def _refuse(
    settings: Settings, actor: str, dataset: str, version: str, why: str, *, problems: list[str] | None = None
) -> None:
    detail: dict[str, Any] = {"why": why}
    if problems:
        detail["problems"] = problems[:20]
    # the refusal stands even when it cannot be recorded (e.g. the keyring is unavailable)
    with contextlib.suppress(ClearhouseError):
        act(settings, "pull_refused", actor=actor, dataset=dataset, version=version, detail=detail)

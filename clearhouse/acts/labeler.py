"""What a labeler does: pull a cleared version (verified against its manifest first)."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import ClearhouseError, ConfigError, ReleaseRefused
from clearhouse.files import sha256_file
from clearhouse.governance.record import act
from clearhouse.governance.verify import verify
from clearhouse.settings import Settings
from clearhouse.zones import RELEASE_FILES, VersionPaths, check_ids


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


def pull(settings: Settings, dataset: str, version: str | None, to: Path, *, actor: str | None = None) -> Path:
    """Copy a cleared version to ``to/<dataset>/<version>/``. Anything but ``cleared`` is refused."""
    actor = actor or settings.current_actor
    catalog = Catalog(settings.db_url)
    info = resolve_version(catalog, dataset, version)
    if info.state != "cleared":
        why = "; ".join(r["message"] for r in info.reasons) if info.reasons else info.state
        _refuse(settings, actor, dataset, info.version, f"state {info.state}")
        raise ReleaseRefused(f"{dataset} {info.version} is {info.state}, not cleared ({why}); nothing was written")
    # The ledger first: a state flipped in the catalog, a changed or replaced file (even with its
    # manifest rewritten to match) or a broken chain refuses the pull.
    report = verify(settings, dataset, info.version)
    if not report.ok:
        problems = report.all_problems()
        _refuse(settings, actor, dataset, info.version, "verification failed", problems=problems)
        raise ReleaseRefused(
            f"{dataset} {info.version} failed verification against the ledger; nothing was written: {problems[0]}"
        )
    source = VersionPaths(settings, dataset, info.version).cleared
    manifest = verify_release(source)
    base = to.expanduser().resolve()
    if base.exists() and not base.is_dir():
        raise ConfigError(f"--to {base} exists and is not a folder; nothing was written")
    target = base / dataset / info.version
    if target.exists() and any(target.iterdir()):
        raise ReleaseRefused(f"{target} already exists and is not empty; choose another --to")
    target.mkdir(parents=True, exist_ok=True)
    for name in RELEASE_FILES:
        shutil.copyfile(source / name, target / name)
    try:
        verify_release(target)  # the copies are what was verified
    except ReleaseRefused:
        shutil.rmtree(target, ignore_errors=True)
        raise
    act(
        settings,
        "pull",
        actor=actor,
        dataset=dataset,
        version=info.version,
        detail={
            "rows": manifest["rows"],
            "to": str(target),
            "chain_head": report.chain.head.to_dict() if report.chain.head else None,
        },
    )
    return target


def _refuse(
    settings: Settings, actor: str, dataset: str, version: str, why: str, *, problems: list[str] | None = None
) -> None:
    detail: dict[str, Any] = {"why": why}
    if problems:
        detail["problems"] = problems[:20]
    # the refusal stands even when it cannot be recorded (e.g. the keyring is unavailable)
    with contextlib.suppress(ClearhouseError):
        act(settings, "pull_refused", actor=actor, dataset=dataset, version=version, detail=detail)

"""Pulling cleared versions (labelers) and approving or rejecting E3 versions (privacy officers)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.config import Settings
from clearhouse.errors import CatalogError, ReleaseRefused
from clearhouse.zones import VersionPaths, check_ids

RELEASE_FILES = ("data.parquet", "data.csv", "manifest.json")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_version(catalog: Catalog, dataset: str, version: str | None) -> VersionInfo:
    check_ids(dataset, version)
    if version is None:
        return catalog.latest_cleared(dataset)
    try:
        return catalog.get(dataset, version)
    except CatalogError as exc:
        raise ReleaseRefused(str(exc)) from exc


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
    catalog = Catalog(settings.db_url)
    info = resolve_version(catalog, dataset, version)
    if info.state != "cleared":
        why = "; ".join(r["message"] for r in info.reasons) if info.reasons else info.state
        raise ReleaseRefused(f"{dataset} {info.version} is {info.state}, not cleared ({why}); nothing was written")
    source = VersionPaths(settings, dataset, info.version).cleared
    manifest = verify_release(source)
    target = to.expanduser().resolve() / dataset / info.version
    if target.exists() and any(target.iterdir()):
        raise ReleaseRefused(f"{target} already exists and is not empty; choose another --to")
    target.mkdir(parents=True, exist_ok=True)
    for name in RELEASE_FILES:
        shutil.copyfile(source / name, target / name)
    catalog.audit(
        "pull", actor=actor, dataset=dataset, version=info.version, detail={"rows": manifest["rows"], "to": str(target)}
    )
    return target


def decide(settings: Settings, dataset: str, version: str, *, approve: bool, actor: str, note: str = "") -> str:
    """A privacy officer approves (→ cleared) or rejects (→ rejected) a version awaiting approval."""
    catalog = Catalog(settings.db_url)
    check_ids(dataset, version)
    info = catalog.get(dataset, version)
    if info.state != "awaiting_approval":
        raise CatalogError(f"{dataset} {version} is {info.state}; only versions awaiting approval can be decided")
    paths = VersionPaths(settings, dataset, version)
    if approve:
        verify_release(paths.pending_release)
        paths.cleared.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(paths.pending_release), str(paths.cleared))
        state = "cleared"
    else:
        state = "rejected"
        catalog.add_reason(dataset, version, "approval", f"rejected by {actor}: {note}".strip(": "), "rejected")
    catalog.update(dataset, version, state=state, info={"decided_by": actor})
    catalog.audit(
        "approve" if approve else "reject", actor=actor, dataset=dataset, version=version, detail={"note": note[:500]}
    )
    return state

"""What a labeler does: pull a cleared version (verified against its manifest first)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import ReleaseRefused
from clearhouse.files import sha256_file
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
        "pull",
        actor=actor or settings.current_actor,
        dataset=dataset,
        version=info.version,
        detail={"rows": manifest["rows"], "to": str(target)},
    )
    return target

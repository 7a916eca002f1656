"""A version waiting for a privacy officer: what the acts that complete its gates (approve, review)
share — checking that it waits, moving its release into the cleared zone, withholding records.

The release files of a waiting version sit in its work zone (``VersionPaths.pending_release``) until the
last of its gates is done (:mod:`clearhouse.governance.gates`); only then are they moved, in one rename.
"""

from __future__ import annotations

import shutil
from collections.abc import Collection

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clearhouse.acts.labeler import verify_release
from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import CatalogError
from clearhouse.files import read_json, sha256_file, write_json
from clearhouse.zones import VersionPaths, check_ids

WAITING = "awaiting_approval"


def waiting_version(catalog: Catalog, dataset: str, version: str, *, doing: str) -> VersionInfo:
    """The version, if it waits for an officer; a clear refusal otherwise."""
    check_ids(dataset, version)
    info = catalog.get(dataset, version)
    if info.state != WAITING:
        raise CatalogError(f"{dataset} {version} is {info.state}; only a version waiting for an officer can be {doing}")
    return info


def clear_pending(paths: VersionPaths) -> None:
    """Move a waiting version's release (checked against its manifest first) into the cleared zone."""
    verify_release(paths.pending_release)
    paths.cleared.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(paths.pending_release), str(paths.cleared))


def withhold_rows(paths: VersionPaths, rows: Collection[int], *, why: str) -> int:
    """Remove records (by position) from a waiting version's release: data files and manifest are written
    again (new digests, the withheld count and why) and swapped in by renames. Returns the rows left."""
    pending = paths.pending_release
    verify_release(pending)
    table = pq.read_table(pending / "data.parquet")
    drop = set(rows)
    if any(r < 0 or r >= table.num_rows for r in drop):
        raise CatalogError("a withheld row is outside the release")
    kept = table.filter(pa.array([i not in drop for i in range(table.num_rows)]))
    tmp = paths.work / "release.withheld"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    pq.write_table(kept, tmp / "data.parquet")
    pacsv.write_csv(kept, tmp / "data.csv")
    manifest = read_json(pending / "manifest.json")
    manifest["rows"] = kept.num_rows
    manifest["files"] = {name: sha256_file(tmp / name) for name in ("data.parquet", "data.csv")}
    manifest["withheld"] = {"rows": len(drop), "why": why}
    write_json(tmp / "manifest.json", manifest)
    for p in tmp.iterdir():
        p.chmod(0o400)
    old = paths.work / "release.before-withholding"
    shutil.rmtree(old, ignore_errors=True)
    pending.rename(old)
    tmp.rename(pending)
    shutil.rmtree(old, ignore_errors=True)
    return int(kept.num_rows)

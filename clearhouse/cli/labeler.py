"""The labeler's commands: list the cleared versions and pull one (a certified labeler's token needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clearhouse.acts.labeler import pull as pull_version
from clearhouse.acts.labeler import visible_versions
from clearhouse.cli._common import JsonOption, TokenFileOption, acting, out, print_json, settings
from clearhouse.zones import RELEASE_FILES

VersionOption = Annotated[str | None, typer.Option(help="version id (default: the latest cleared version)")]


def register(app: typer.Typer) -> None:
    app.command(
        "pull",
        help="copy a cleared version (Parquet, CSV, manifest) for labeling; certified labelers only, "
        "anything but cleared is refused",
    )(pull)
    app.command("available", help="the cleared versions a labeler may pull (certified labelers only)")(available)


def pull(
    dataset: str,
    to: Annotated[Path, typer.Option(help="folder to copy into (DIR/<dataset>/<version>/)")],
    version: VersionOption = None,
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    actor = acting(s, token_file, "labeler", act="pull")
    target = pull_version(s, dataset, version, to, actor=actor)
    if json:
        print_json({"dataset": dataset, "version": target.name, "path": str(target), "files": list(RELEASE_FILES)})
        return
    out(f"pulled to {target}")
    for name in sorted(p.name for p in target.iterdir()):
        out(f"  {name}")


def available(
    dataset: Annotated[str | None, typer.Argument(help="one dataset (default: all)")] = None,
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    versions = visible_versions(s, acting(s, token_file, "labeler", act="list"), dataset)
    if json:
        print_json([{"dataset": v.dataset, "version": v.version, "rows": v.rows_out} for v in versions])
        return
    if not versions:
        out("no cleared versions")
    for v in versions:
        out(f"{v.dataset:<20} {v.version:<26} {v.rows_out if v.rows_out is not None else '-'} rows")

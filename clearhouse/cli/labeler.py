"""The labeler's command: pull a cleared version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clearhouse.acts.labeler import pull as pull_version
from clearhouse.cli._common import JsonOption, out, print_json, settings
from clearhouse.zones import RELEASE_FILES

VersionOption = Annotated[str | None, typer.Option(help="version id (default: the latest cleared version)")]


def register(app: typer.Typer) -> None:
    app.command("pull", help="copy a cleared version (Parquet, CSV, manifest) for labeling; anything else is refused")(
        pull
    )


def pull(
    dataset: str,
    to: Annotated[Path, typer.Option(help="folder to copy into (DIR/<dataset>/<version>/)")],
    version: VersionOption = None,
    json: JsonOption = False,
) -> None:
    target = pull_version(settings(), dataset, version, to)
    if json:
        print_json({"dataset": dataset, "version": target.name, "path": str(target), "files": list(RELEASE_FILES)})
        return
    out(f"pulled to {target}")
    for name in sorted(p.name for p in target.iterdir()):
        out(f"  {name}")

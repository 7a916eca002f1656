"""``clearhouse lineage``: the OpenLineage events of a dataset version."""

from __future__ import annotations

from typing import Annotated

import typer

from clearhouse.acts.labeler import resolve_version
from clearhouse.catalog import Catalog
from clearhouse.cli._common import JsonOption, out, print_json, settings
from clearhouse.lineage.stage_runs import version_events


def register(app: typer.Typer) -> None:
    app.command("lineage", help="show the OpenLineage events of a dataset version")(lineage)


def lineage(
    dataset: str,
    version: Annotated[str | None, typer.Option(help="version id (default: the latest cleared version)")] = None,
    json: JsonOption = False,
) -> None:
    s = settings()
    info = resolve_version(Catalog(s.db_url), dataset, version)
    events = version_events(s.db_url, dataset, info.version, info.info.get("lineage_run_id"))
    if json:
        print_json(events)
        return
    out(f"lineage of {dataset} {info.version} ({len(events)} events)")
    for e in events:
        ins = ", ".join(d["name"] for d in e.get("inputs", []))
        outs = ", ".join(d["name"] for d in e.get("outputs", []))
        out(f"  {e['eventTime'][:19]}  {e['eventType']:<8} {e['job']['name']:<40} in: {ins or '-'}  out: {outs or '-'}")

"""The auditor's commands: verify the ledger and the artifacts, trace a cleared row back to its source."""

from __future__ import annotations

from typing import Annotated

import typer

from clearhouse.catalog import Catalog
from clearhouse.cli._common import EXIT_REFUSED, JsonOption, out, print_json, settings
from clearhouse.governance.trace import trace as trace_version
from clearhouse.governance.verify import verify as verify_ledger
from clearhouse.zones import check_ids


def register(app: typer.Typer) -> None:
    app.command(
        "verify", help="check the signed ledger, the artifacts on disk and the catalog; exit 0 only if all hold"
    )(verify)
    app.command("trace", help="trace a version (or one row) back to the collected file, policy, code and keys")(trace)


def verify(
    dataset: Annotated[str | None, typer.Argument(help="one dataset (default: everything)")] = None,
    version: Annotated[str | None, typer.Option(help="one version of the dataset")] = None,
    json: JsonOption = False,
) -> None:
    s = settings()
    if dataset is not None:
        check_ids(dataset, version)
        Catalog(s.db_url).require_dataset(dataset)
        if version is not None:
            Catalog(s.db_url).get(dataset, version)
    report = verify_ledger(s, dataset, version)
    if json:
        print_json(report.to_dict())
    else:
        head = report.chain.head
        out(f"ledger       {report.chain.entries} entries, key from {report.key_source}")
        if head is not None:
            out(f"chain head   entry {head.seq} {head.entry_hash}")
        out(
            f"checked      {report.versions_checked} versions, {report.artifacts_checked} artifacts on disk"
            f" ({report.artifacts_missing} recorded artifacts no longer on disk)"
        )
        for problem in report.all_problems():
            out(f"BROKEN       {problem}")
        out("result       OK" if report.ok else "result       FAILED")
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)


def trace(
    dataset: str,
    version: Annotated[str, typer.Option(help="the version to trace")],
    row: Annotated[str | None, typer.Option(help="a row id (the policy's row_id column) to locate")] = None,
    json: JsonOption = False,
) -> None:
    result = trace_version(settings(), dataset, version, row)
    if json:
        print_json(result)
        return
    out(f"dataset      {result['dataset']} {result['version']} ({result['state']})")
    out(f"collected    {result['raw']['name']}  sha256 {result['raw_sha256']}")
    if "row" in result:
        r = result["row"]
        line = f", CSV line {r['csv_line']}" if "csv_line" in r else ""
        out(f"row          {r['row_id_column']}={r['row_id']}: data row {r['position']} of the collected file{line}")
    out(f"policy       {result['policy_path']}  sha256 {result['policy_sha256']}")
    software = result.get("software") or {}
    packages = software.get("packages") or {}
    out(f"code         clearhouse {packages.get('clearhouse')} (commit {software.get('git_commit') or 'unknown'})")
    model = software.get("spacy_model")
    out(f"model        {model} {packages.get(model) if model else ''}")
    out(f"airflow run  {result['run_id']}")
    out("columns")
    for name, col in result["columns"].items():
        key = f"  key {col['key_id']}" if "key_id" in col else ""
        out(f"  {name:<18} {col['role']:<18} {col['treatment']}{key}")
    out("ledger entries")
    for e in result["entries"]:
        what = " ".join(str(e[k]) for k in ("stage", "status", "state") if k in e)
        out(f"  {e['seq']:>6} {e['kind']:<12} {what:<28} {e['entry_hash'][:16]}")

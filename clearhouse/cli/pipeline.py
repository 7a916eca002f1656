"""The data engineer's commands: init, sample, check-policy, run, demo, status."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from clearhouse.acts.users import FIRST_OFFICER_FILE, create_first_officer
from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.cli._common import (
    EXIT_OK,
    EXIT_REFUSED,
    JsonOption,
    QuietOption,
    StageProgress,
    out,
    print_json,
    settings,
    show_progress,
)
from clearhouse.errors import ClearhouseError, ConfigError
from clearhouse.governance.gates import Gates, assessment_status, version_gates
from clearhouse.governance.verify import verify as verify_ledger
from clearhouse.governance.verify import write_public_key
from clearhouse.policy import load_policy
from clearhouse.privacy.crypto.configured import init_keyring
from clearhouse.runs import run_log_path, run_policy
from clearhouse.runs.embedded import ensure_airflow_db, task_started
from clearhouse.runs.stale import close_stale_runs
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings
from clearhouse.stages.context import prepare_check
from clearhouse.types import STAGES
from clearhouse.zones import VersionPaths, check_ids

DAG_TASKS = ("prepare", *STAGES)
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="stream Airflow's own output to stderr")]


def register(app: typer.Typer) -> None:
    app.command(
        "init", help="create the state directory, keyring, Airflow metadata DB and the first officer's token"
    )(init)
    app.command("sample", help="write a synthetic collected dataset")(sample)
    app.command("check-policy", help="validate a policy file without running anything")(check_policy)
    app.command("run", help="run a dataset policy's DAG through Airflow; exit 0 only if cleared")(run)
    app.command("demo", help="generate the sample dataset and clear it end to end")(demo)
    app.command("status", help="list datasets, versions, states and reasons")(status)


def init(
    dev_master_key: Annotated[
        bool,
        typer.Option(help="create a local master key file when no CLEARHOUSE_MASTER_KEY is set (embedded demo only)"),
    ] = False,
) -> None:
    s = settings()
    s.ensure_dirs()
    Catalog(s.db_url)
    init_keyring(s, dev_master_key=dev_master_key)
    write_public_key(s)
    ensure_airflow_db(s, s.airflow_home / "migrate.log")
    out(f"state directory ready: {s.home}")
    _first_officer(s, out)


def _first_officer(s: Settings, say: Callable[[str], None]) -> None:
    """Create the first officer when there is none; its token is written once, to a 0600 file."""
    path = create_first_officer(s)
    if path is not None:
        say(f"first officer created; its token is in {path} (mode 0600): keep it safe, then delete the file")
    elif (left := s.home / FIRST_OFFICER_FILE).exists():
        say(f"{left} is still there: once its token is stored safely, delete it")


def sample(
    kind: Annotated[str, typer.Argument(help="support-tickets")],
    out_path: Annotated[Path, typer.Option("--out", help="output path ending in .csv or .parquet")],
    rows: Annotated[int, typer.Option(min=1)] = 5000,
    seed: int = 7,
    skew: Annotated[str | None, typer.Option(help="remove a label or group, e.g. label:refund")] = None,
) -> None:
    if kind != "support-tickets":
        raise ConfigError(f"unknown sample {kind!r}; available: support-tickets")
    try:
        table = generate_support_tickets(rows, seed=seed, skew=skew)
        written = write_table(table, out_path)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    out(f"wrote {table.num_rows} rows to {written}")


def check_policy(policy: Annotated[Path, typer.Argument(help="policy YAML file")], json: JsonOption = False) -> None:
    s = settings()
    parsed, src = prepare_check(policy, None, s, require_source=False)
    if json:
        print_json({"valid": True, "dataset": parsed.id, "ethics_risk": parsed.ethics_risk.value, "source": str(src)})
        return
    out(f"{policy}: valid policy for dataset {parsed.id} ({parsed.ethics_risk.value}); source {src}")


def _run_with_progress(s: Settings, policy: Path, source: Path | None, *, verbose: bool, quiet: bool) -> VersionInfo:
    with StageProgress(DAG_TASKS, enabled=show_progress(quiet) and not verbose) as bar:

        def on_line(line: str) -> None:
            if verbose:
                sys.stderr.write(line)
            elif task := task_started(line):
                bar.task_started(task)

        return run_policy(s, policy, source, on_line=on_line)


def _summary(s: Settings, info: VersionInfo) -> None:
    print_summary(s, info, log=str(run_log_path(s, info.dataset, info.version)))


def print_summary(s: Settings, info: VersionInfo, *, log: str) -> None:
    """What ``run`` (and ``trigger``) print for a finished version: state, counts, reasons, where to look."""
    paths = VersionPaths(s, info.dataset, info.version)
    out(f"dataset      {info.dataset}")
    out(f"version      {info.version}")
    out(f"state        {info.state.upper()}")
    gates = version_gates(s, info)
    if gates.assessment.digest is not None:
        out(f"assessment   {gates.assessment.label()}")
    if gates.review.required:
        out(f"review       {gates.review.label()}")
    if info.state == "awaiting_approval" and gates.outstanding:
        out(f"waiting for  {gates.waiting_for()}")
    out(
        f"rows         in {info.rows_in if info.rows_in is not None else '-'}"
        f" / out {info.rows_out if info.rows_out is not None else '-'}"
    )
    pii = info.info.get("pii_found") or {}
    if pii:
        out("PII found    (entity counts per column; values are never shown)")
        for column, entities in pii.items():
            text = ", ".join(f"{e}={n}" for e, n in sorted(entities.items(), key=lambda kv: -kv[1])) or "none"
            out(f"  {column:<16} {text}")
    for r in info.reasons:
        out(f"reason       [{r['stage']}] {r['message']}")
    for w in info.info.get("warnings") or []:
        out(f"warning      {w}")
    if info.state == "cleared":
        out(f"cleared      {paths.cleared}")
    if info.info.get("data_docs"):
        out(f"data docs    {info.info['data_docs']}")
    if info.info.get("privacy_report"):
        out(f"report       {info.info['privacy_report']}")
    out(f"lineage      clearhouse lineage {info.dataset} --version {info.version}   (store: {s.db_url})")
    out(f"airflow log  {log}")
    if info.state == "cleared":
        out(
            f"pull with    clearhouse pull {info.dataset} --version {info.version} --to ./labeling"
            "   (certified labeler's token)"
        )
    elif info.state == "awaiting_approval":
        _next_steps(info, gates)


def _next_steps(info: VersionInfo, gates: Gates) -> None:
    """The officer's commands that complete a waiting version's gates, in order."""
    ds, v = info.dataset, info.version
    steps = {
        "assessment": f"sign with    clearhouse assessment sign {ds}   (officer; read: assessment show {ds})",
        "review": f"review with  clearhouse review sample {ds} {v}, then clearhouse review submit {ds} {v} --leaks ...",
        "approval": f"approve with clearhouse approve {ds} --version {v}   (privacy officer's token)",
    }
    for gate in gates.outstanding or ["approval"]:
        out(steps[gate])


def _finish(s: Settings, info: VersionInfo, json: bool) -> None:
    if json:
        print_json(
            {
                **info.to_dict(),
                "gates": version_gates(s, info).to_dict(),
                "log": str(run_log_path(s, info.dataset, info.version)),
            }
        )
    else:
        _summary(s, info)
    if info.state != "cleared":
        raise typer.Exit(EXIT_REFUSED)


def run(
    policy: Annotated[Path, typer.Argument(help="policy YAML file")],
    source: Annotated[Path | None, typer.Option(help="input file (default: the policy's source.path)")] = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
    json: JsonOption = False,
) -> None:
    s = settings()
    info = _run_with_progress(s, policy, source, verbose=verbose, quiet=quiet)
    _finish(s, info, json)


def demo(
    rows: Annotated[int, typer.Option(min=1)] = 5000,
    seed: int = 7,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
    json: JsonOption = False,
) -> None:
    s = settings()
    say = (lambda _msg: None) if json else out
    s.ensure_dirs()
    say(f"[1/4] state directory {s.home}")
    init_keyring(s, dev_master_key=True)
    write_public_key(s)
    ensure_airflow_db(s, s.airflow_home / "migrate.log")
    _first_officer(s, say)
    inbox = s.home / "inbox" / "support_tickets.csv"
    write_table(generate_support_tickets(rows, seed=seed), inbox)
    say(f"[2/4] generated {rows} sample support tickets at {inbox}")
    policy = REPO_ROOT / "datasets" / "support_tickets.yaml"
    say(f"[3/4] running DAG clearhouse__support_tickets through Airflow (policy {policy.name}) ...")
    info = _run_with_progress(s, policy, inbox, verbose=verbose, quiet=quiet)
    say("[4/4] summary")
    _finish(s, info, json)


def _ledger_line(s: Settings) -> None:
    """One line on the ledger: a broken chain is the first thing an engineer should see."""
    try:
        chain = verify_ledger(s).chain
    except ClearhouseError as exc:
        out(f"ledger: cannot be checked ({exc})")
        return
    if chain.ok and chain.head is not None:
        out(
            f"ledger: OK ({chain.entries} signed entries, head {chain.head.entry_hash[:16]}); "
            "`clearhouse verify` also re-hashes the files"
        )
    else:
        out(f"ledger: BROKEN — {chain.problems[0]} (run `clearhouse verify`)")


def status(
    dataset: Annotated[str | None, typer.Argument(help="one dataset (default: all)")] = None,
    json: JsonOption = False,
) -> None:
    s = settings()
    catalog = Catalog(s.db_url)
    if dataset is not None:
        check_ids(dataset)
        catalog.require_dataset(dataset)
    close_stale_runs(s, dataset)
    versions = catalog.versions(dataset)
    gates = {(v.dataset, v.version): version_gates(s, v) for v in versions}
    if json:
        print_json([{**v.to_dict(), "gates": gates[(v.dataset, v.version)].to_dict()} for v in versions])
        raise typer.Exit(EXIT_OK)
    if not versions:
        out("no dataset versions yet; try `clearhouse demo`")
        return
    _ledger_line(s)
    _assessment_lines(s, catalog, sorted({v.dataset for v in versions}))
    out(f"{'dataset':<20} {'version':<26} {'state':<18} {'rows in/out':<13} reasons")
    for v in versions:
        g = gates[(v.dataset, v.version)]
        notes = [f"[{r['stage']}] {r['message']}" for r in v.reasons]
        if v.state == "awaiting_approval" and g.outstanding:
            notes.append(f"waiting for {g.waiting_for()}")
        if g.review.done:
            notes.append(f"review {g.review.label()}")
        if g.assessment.digest is not None and not g.assessment.signed and "assessment" not in g.outstanding:
            notes.append("assessment not signed")
        rows = f"{v.rows_in if v.rows_in is not None else '-'}/{v.rows_out if v.rows_out is not None else '-'}"
        out(f"{v.dataset:<20} {v.version:<26} {v.state:<18} {rows:<13} {'; '.join(notes)[:300]}")


def _assessment_lines(s: Settings, catalog: Catalog, datasets: list[str]) -> None:
    """One line per dataset: is the assessment in its current policy signed, by whom, when."""
    for ds in datasets:
        try:
            policy = load_policy(catalog.policy_path(ds))
        except ClearhouseError as exc:
            out(f"assessment {ds}: cannot read the policy ({exc})")
            continue
        out(f"assessment {ds}: {assessment_status(s, ds, policy.assessment_digest()).label()}")

"""``clearhouse`` command line: the same core functions the DAGs call.

Exit codes: 0 success, 1 the pipeline ran but the version was not cleared / a request was refused,
2 bad input or configuration (nothing ran).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.config import REPO_ROOT, Settings, load_settings
from clearhouse.errors import ClearhouseError, ConfigError, ReleaseRefused

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2

Handler = Callable[[argparse.Namespace, Settings], int]
_EXTRA_COMMANDS: list[Callable[[Any], None]] = []


def extra_command(register: Callable[[Any], None]) -> Callable[[Any], None]:
    """Let other modules (keys, scan-text) add subcommands without editing this parser."""
    _EXTRA_COMMANDS.append(register)
    return register


def _print(msg: str = "") -> None:
    sys.stdout.write(msg + "\n")


def _err(msg: str) -> None:
    sys.stderr.write(f"clearhouse: {msg}\n")


# ------------------------------------------------------------------------------------------- commands


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse import keys
    from clearhouse.orchestration.runner import ensure_airflow_db

    settings.ensure_dirs()
    Catalog(settings.db_url)
    keys.init_keyring(settings, dev_master_key=args.dev_master_key)
    ensure_airflow_db(settings, settings.airflow_home / "migrate.log")
    _print(f"state directory ready: {settings.home}")
    return EXIT_OK


def cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse.sample import generate_support_tickets, write_table

    if args.kind != "support-tickets":
        raise ConfigError(f"unknown sample {args.kind!r}; available: support-tickets")
    try:
        table = generate_support_tickets(args.rows, seed=args.seed, skew=args.skew)
        out = write_table(table, Path(args.out))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    _print(f"wrote {table.num_rows} rows to {out}")
    return EXIT_OK


def run_policy(settings: Settings, policy_path: Path, source: Path | None, *, verbose: bool = False) -> VersionInfo:
    """Run one policy's DAG through Airflow and return the resulting catalog entry."""
    from clearhouse import keys
    from clearhouse.orchestration.runner import run_dag_test
    from clearhouse.pipeline import prepare_check
    from clearhouse.zones import new_version_id

    settings.ensure_dirs()
    policy, src = prepare_check(policy_path, source, settings)
    keys.require_keyring(settings)
    version = new_version_id()
    conf = {"version": version, "source": str(src)}
    log_path = settings.home / "runs" / f"{policy.id}-{version}.log"
    outcome = run_dag_test(
        settings,
        f"clearhouse__{policy.id}",
        conf,
        log_path=log_path,
        extra_policies=[policy_path.resolve()],
        stream=verbose,
    )
    catalog = Catalog(settings.db_url)
    try:
        info = catalog.get(policy.id, version)
    except ClearhouseError:
        tail = "\n".join(outcome.log_path.read_text(encoding="utf-8").splitlines()[-20:])
        raise ConfigError(f"the DAG run did not start (exit {outcome.returncode}); log: {log_path}\n{tail}") from None
    return info


def _summary(settings: Settings, info: VersionInfo, log_path: Path | None = None) -> None:
    from clearhouse.zones import VersionPaths

    paths = VersionPaths(settings, info.dataset, info.version)
    _print(f"dataset      {info.dataset}")
    _print(f"version      {info.version}")
    _print(f"state        {info.state.upper()}")
    _print(
        f"rows         in {info.rows_in if info.rows_in is not None else '-'}"
        f" / out {info.rows_out if info.rows_out is not None else '-'}"
    )
    pii = info.info.get("pii_found") or {}
    if pii:
        _print("PII found    (entity counts per column; values are never shown)")
        for column, entities in pii.items():
            text = ", ".join(f"{e}={n}" for e, n in sorted(entities.items(), key=lambda kv: -kv[1])) or "none"
            _print(f"  {column:<16} {text}")
    for r in info.reasons:
        _print(f"reason       [{r['stage']}] {r['message']}")
    for w in info.info.get("warnings") or []:
        _print(f"warning      {w}")
    if info.state == "cleared":
        _print(f"cleared      {paths.cleared}")
    if info.info.get("data_docs"):
        _print(f"data docs    {info.info['data_docs']}")
    if info.info.get("privacy_report"):
        _print(f"report       {info.info['privacy_report']}")
    _print(f"lineage      clearhouse lineage {info.dataset} --version {info.version}   (store: {settings.db_url})")
    if log_path:
        _print(f"airflow log  {log_path}")
    if info.state == "cleared":
        _print(f"pull with    clearhouse pull {info.dataset} --version {info.version} --to ./labeling")
    elif info.state == "awaiting_approval":
        _print(f"approve with clearhouse approve {info.dataset} --version {info.version}   (privacy officer)")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    info = run_policy(settings, Path(args.policy), Path(args.source) if args.source else None, verbose=args.verbose)
    _summary(settings, info, settings.home / "runs" / f"{info.dataset}-{info.version}.log")
    return EXIT_OK if info.state == "cleared" else EXIT_REFUSED


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse import keys
    from clearhouse.orchestration.runner import ensure_airflow_db
    from clearhouse.sample import generate_support_tickets, write_table

    settings.ensure_dirs()
    _print(f"[1/4] state directory {settings.home}")
    keys.init_keyring(settings, dev_master_key=True)
    ensure_airflow_db(settings, settings.airflow_home / "migrate.log")
    inbox = settings.home / "inbox" / "support_tickets.csv"
    write_table(generate_support_tickets(args.rows, seed=args.seed), inbox)
    _print(f"[2/4] generated {args.rows} sample support tickets at {inbox}")
    policy = REPO_ROOT / "datasets" / "support_tickets.yaml"
    _print(f"[3/4] running DAG clearhouse__support_tickets through Airflow (policy {policy.name}) ...")
    info = run_policy(settings, policy, inbox, verbose=args.verbose)
    _print("[4/4] summary")
    _summary(settings, info, settings.home / "runs" / f"{info.dataset}-{info.version}.log")
    return EXIT_OK if info.state == "cleared" else EXIT_REFUSED


def cmd_pull(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse.release import pull

    target = pull(settings, args.dataset, args.version, Path(args.to))
    _print(f"pulled to {target}")
    for name in sorted(p.name for p in target.iterdir()):
        _print(f"  {name}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog(settings.db_url)
    versions = catalog.versions(args.dataset)
    if args.json:
        _print(
            json.dumps(
                [
                    {
                        "dataset": v.dataset,
                        "version": v.version,
                        "state": v.state,
                        "rows_in": v.rows_in,
                        "rows_out": v.rows_out,
                        "reasons": v.reasons,
                        "created_at": v.created_at.isoformat(),
                    }
                    for v in versions
                ],
                indent=2,
            )
        )
        return EXIT_OK
    if not versions:
        _print("no dataset versions yet; try `clearhouse demo`")
        return EXIT_OK
    _print(f"{'dataset':<20} {'version':<26} {'state':<18} {'rows in/out':<13} reasons")
    for v in versions:
        reasons = "; ".join(f"[{r['stage']}] {r['message']}" for r in v.reasons)
        rows = f"{v.rows_in if v.rows_in is not None else '-'}/{v.rows_out if v.rows_out is not None else '-'}"
        _print(f"{v.dataset:<20} {v.version:<26} {v.state:<18} {rows:<13} {reasons[:200]}")
    return EXIT_OK


def cmd_decide(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse.release import decide
    from clearhouse.roles import require_role

    actor = require_role(settings, "officer")
    state = decide(
        settings, args.dataset, args.version, approve=args.command == "approve", actor=actor, note=args.note or ""
    )
    _print(f"{args.dataset} {args.version} is now {state}")
    return EXIT_OK


def cmd_check_policy(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse.pipeline import prepare_check

    policy, src = prepare_check(Path(args.policy), None, settings, require_source=False)
    _print(f"{args.policy}: valid policy for dataset {policy.id} ({policy.ethics_risk.value}); source {src}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clearhouse", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the state directory, keyring and Airflow metadata DB")
    p.add_argument(
        "--dev-master-key",
        action="store_true",
        help="create a local master key file when no CLEARHOUSE_MASTER_KEY is set (embedded demo only)",
    )
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("sample", help="write a synthetic collected dataset")
    p.add_argument("kind", help="support-tickets")
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--skew", default=None, help="remove a label or group, e.g. label:refund or gender:female")
    p.add_argument("--out", required=True, help="output path ending in .csv or .parquet")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("run", help="run a dataset policy's DAG through Airflow; exit 0 only if cleared")
    p.add_argument("policy")
    p.add_argument("--source", help="input file (default: the policy's source.path)")
    p.add_argument("--verbose", "-v", action="store_true", help="stream Airflow's output")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="generate the sample dataset and clear it end to end")
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--verbose", "-v", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("pull", help="copy a cleared version (Parquet, CSV, manifest) for labeling")
    p.add_argument("dataset")
    p.add_argument("--version", default=None, help="default: the latest cleared version")
    p.add_argument("--to", required=True)
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser("status", help="list datasets, versions, states and reasons")
    p.add_argument("dataset", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    for name, text in (("approve", "approve an E3 version awaiting approval"), ("reject", "reject it")):
        p = sub.add_parser(name, help=f"{text} (privacy officer)")
        p.add_argument("dataset")
        p.add_argument("--version", required=True)
        p.add_argument("--note", default="")
        p.set_defaults(func=cmd_decide)

    p = sub.add_parser("check-policy", help="validate a policy file without running anything")
    p.add_argument("policy")
    p.set_defaults(func=cmd_check_policy)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


def _load_extensions() -> None:
    # Modules that contribute subcommands register themselves on import.
    import clearhouse.cli_extra
    import clearhouse.cli_scan  # noqa: F401


def main(argv: Sequence[str] | None = None) -> int:
    _load_extensions()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        code: int = args.func(args, settings)
        return code
    except ReleaseRefused as exc:
        _err(f"refused: {exc}")
        return EXIT_REFUSED
    except ClearhouseError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":
    # Run through the package module so subcommand registrations land on the same parser module.
    from clearhouse.cli import main as _main

    raise SystemExit(_main())

"""Subcommands beyond the core run/pull/status set: roles, keys, decrypt, scan-text, lineage."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from clearhouse.cli import EXIT_OK, extra_command
from clearhouse.config import Settings


def _out(msg: str) -> None:
    sys.stdout.write(msg + "\n")


def cmd_roles(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse.roles import grant, load_roles

    if args.roles_command == "grant":
        grant(settings, args.role, args.user)
        _out(f"granted {args.role} to {args.user}")
    else:
        for role, users in sorted(load_roles(settings).items()):
            _out(f"{role:<10} {', '.join(users)}")
    return EXIT_OK


@extra_command
def _register_roles(sub: Any) -> None:
    p = sub.add_parser("roles", help="grant or list roles (officer, labeler, engineer)")
    rs = p.add_subparsers(dest="roles_command", required=True)
    g = rs.add_parser("grant")
    g.add_argument("role")
    g.add_argument("user")
    rs.add_parser("list")
    p.set_defaults(func=cmd_roles)


def cmd_lineage(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from clearhouse.pipeline import STAGES
    from clearhouse.release import resolve_version
    from clearhouse.catalog import Catalog
    from lineage import run_id_for
    from lineage.store import LineageStore

    info = resolve_version(Catalog(settings.db_url), args.dataset, args.version)
    store = LineageStore(settings.db_url)
    events = []
    for stage in STAGES:
        events += store.events(run_id=run_id_for(args.dataset, info.version, stage))
    events.sort(key=lambda e: e.get("eventTime", ""))
    if args.json:
        _out(json.dumps(events, indent=2))
        return EXIT_OK
    _out(f"lineage of {args.dataset} {info.version} ({len(events)} events)")
    for e in events:
        ins = ", ".join(d["name"] for d in e.get("inputs", []))
        outs = ", ".join(d["name"] for d in e.get("outputs", []))
        _out(f"  {e['eventTime'][:19]}  {e['eventType']:<8} {e['job']['name']:<40} in: {ins or '-'}  out: {outs or '-'}")
    return EXIT_OK


@extra_command
def _register_lineage(sub: Any) -> None:
    p = sub.add_parser("lineage", help="show the OpenLineage events of a dataset version")
    p.add_argument("dataset")
    p.add_argument("--version", default=None, help="default: the latest cleared version")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lineage)

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

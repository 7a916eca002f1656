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

    from clearhouse.catalog import Catalog
    from clearhouse.lineage_hooks import version_events
    from clearhouse.release import resolve_version

    info = resolve_version(Catalog(settings.db_url), args.dataset, args.version)
    events = version_events(settings.db_url, args.dataset, info.version)
    if args.json:
        _out(json.dumps(events, indent=2))
        return EXIT_OK
    _out(f"lineage of {args.dataset} {info.version} ({len(events)} events)")
    for e in events:
        ins = ", ".join(d["name"] for d in e.get("inputs", []))
        outs = ", ".join(d["name"] for d in e.get("outputs", []))
        _out(
            f"  {e['eventTime'][:19]}  {e['eventType']:<8} {e['job']['name']:<40} in: {ins or '-'}  out: {outs or '-'}"
        )
    return EXIT_OK


@extra_command
def _register_lineage(sub: Any) -> None:
    p = sub.add_parser("lineage", help="show the OpenLineage events of a dataset version")
    p.add_argument("dataset")
    p.add_argument("--version", default=None, help="default: the latest cleared version")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lineage)


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse import keys
    from clearhouse.catalog import Catalog
    from clearhouse.roles import require_role

    provider = keys.provider_for(settings)
    if args.keys_command == "status":
        import json

        _out(json.dumps(provider.status().to_dict(), indent=2, default=str))
        return EXIT_OK
    actor = require_role(settings, "officer")
    catalog = Catalog(settings.db_url)
    if args.keys_command == "rotate":
        r = provider.rotate_kek()
        catalog.audit(
            "keys_rotate",
            actor=actor,
            detail={
                "previous": r.previous_kek,
                "current": r.current_kek,
                "rewrapped": r.rewrapped_data_keys + r.rewrapped_purpose_keys,
            },
        )
        _out(
            f"key-encryption key rotated: v{r.previous_kek} -> v{r.current_kek}; re-wrapped "
            f"{r.rewrapped_data_keys} data keys and {r.rewrapped_purpose_keys} purpose keys (no data re-encrypted)"
        )
    elif args.keys_command == "retire":
        provider.retire_kek(args.kek_version)
        catalog.audit("keys_retire", actor=actor, detail={"kek_version": args.kek_version})
        _out(f"key-encryption key v{args.kek_version} retired")
    elif args.keys_command == "shred":
        versions = keys.shred(settings, args.dataset, args.version, actor=actor)
        _out(
            f"shredded the data key(s) of {args.dataset}: {', '.join(versions)}; these versions can no "
            "longer be decrypted or pulled"
        )
    return EXIT_OK


@extra_command
def _register_keys(sub: Any) -> None:
    p = sub.add_parser("keys", help="key management: status, rotate, retire, shred (officer)")
    ks = p.add_subparsers(dest="keys_command", required=True)
    ks.add_parser("status", help="key-encryption key versions and data keys (no key material)")
    ks.add_parser("rotate", help="new key-encryption key version; re-wrap data keys, no re-encryption")
    r = ks.add_parser("retire", help="retire an old key-encryption key version")
    r.add_argument("kek_version", type=int)
    s = ks.add_parser("shred", help="destroy a dataset's data key(s): crypto-shredding")
    s.add_argument("dataset")
    s.add_argument("--version", default=None)
    p.set_defaults(func=cmd_keys)


def cmd_decrypt(args: argparse.Namespace, settings: Settings) -> int:
    from clearhouse import keys
    from clearhouse.roles import require_role

    actor = require_role(settings, "officer")
    cols = [c for c in (args.column or []) if c]
    out = keys.decrypt(settings, args.dataset, args.version, cols, args.to, actor=actor)
    _out(f"decrypted {', '.join(cols) or 'all encrypted columns'} to {out} (recorded in the audit log)")
    return EXIT_OK


@extra_command
def _register_decrypt(sub: Any) -> None:
    p = sub.add_parser("decrypt", help="decrypt columns of a version (privacy officer; audited)")
    p.add_argument("dataset")
    p.add_argument("--version", required=True)
    p.add_argument("--column", action="append", help="column to decrypt (repeatable; default all)")
    p.add_argument("--to", required=True)
    p.set_defaults(func=cmd_decrypt)

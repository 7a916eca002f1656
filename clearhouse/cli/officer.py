"""The privacy officer's commands: approve, reject, revoke, decrypt, keys (status, rotate, retire, shred),
users.

Each needs an officer's token (``CLEARHOUSE_TOKEN`` or ``--token-file``); refusals exit 1 and are recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clearhouse.acts import officer
from clearhouse.acts.retention import apply_retention
from clearhouse.cli._common import EXIT_REFUSED, JsonOption, TokenFileOption, acting, err, out, print_json, settings
from clearhouse.privacy.crypto.configured import provider_for

keys_app = typer.Typer(help="key management: status, rotate, retire, shred (officer)", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("approve", help="approve an E3 version awaiting approval (privacy officer)")(approve)
    app.command("reject", help="reject an E3 version awaiting approval (privacy officer)")(reject)
    app.command("revoke", help="revoke a cleared version: every further pull is refused (privacy officer)")(revoke)
    app.command("decrypt", help="decrypt columns of a version (privacy officer; audited)")(decrypt)
    keys_app.command("status", help="key-encryption key versions and data keys (no key material)")(keys_status)
    keys_app.command("rotate", help="new key-encryption key version; re-wrap data keys, no re-encryption")(rotate)
    keys_app.command("retire", help="retire an old key-encryption key version")(retire)
    keys_app.command("shred", help="destroy a dataset's data key(s): crypto-shredding")(shred)
    app.command("audit", help="the audit log: every act and every refusal (privacy officer)")(audit)
    app.command(
        "retention",
        help="dispose of versions past their policy's retention: destroy data keys, remove files (officer; "
        "--dry-run lists them, no token needed)",
    )(retention)
    app.add_typer(keys_app, name="keys")


def _decide(dataset: str, version: str, note: str, *, approve: bool, json: bool, token_file: Path | None) -> None:
    s = settings()
    actor = acting(s, token_file, "officer", act="approve" if approve else "reject")
    state = officer.decide(s, dataset, version, approve=approve, actor=actor, note=note)
    if json:
        print_json({"dataset": dataset, "version": version, "state": state, "by": actor.name})
    else:
        out(f"{dataset} {version} is now {state}")


def approve(
    dataset: str,
    version: Annotated[str, typer.Option()],
    note: str = "",
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    _decide(dataset, version, note, approve=True, json=json, token_file=token_file)


def reject(
    dataset: str,
    version: Annotated[str, typer.Option()],
    note: str = "",
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    _decide(dataset, version, note, approve=False, json=json, token_file=token_file)


def revoke(
    dataset: str,
    version: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option(help="why (required; recorded with your name)")],
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    actor = acting(s, token_file, "officer", act="revoke")
    state = officer.revoke(s, dataset, version, actor=actor, reason=reason)
    if json:
        print_json({"dataset": dataset, "version": version, "state": state, "by": actor.name})
    else:
        out(f"{dataset} {version} is now {state}: every further pull is refused")


def decrypt(
    dataset: str,
    version: Annotated[str, typer.Option()],
    to: Annotated[Path, typer.Option(help="folder for decrypted.parquet (mode 0600)")],
    column: Annotated[list[str] | None, typer.Option(help="column to decrypt (repeatable; default all)")] = None,
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    actor = acting(s, token_file, "officer", act="decrypt")
    cols = [c for c in (column or []) if c]
    path = officer.decrypt(s, dataset, version, cols, to, actor=actor)
    if json:
        print_json({"dataset": dataset, "version": version, "columns": cols or "all encrypted", "path": str(path)})
    else:
        out(f"decrypted {', '.join(cols) or 'all encrypted columns'} to {path} (recorded in the audit log)")


def keys_status() -> None:
    print_json(provider_for(settings()).status().to_dict())


def rotate(json: JsonOption = False, token_file: TokenFileOption = None) -> None:
    s = settings()
    r = officer.rotate_kek(s, actor=acting(s, token_file, "officer", act="keys rotate"))
    if json:
        print_json(
            {
                "previous": r.previous_kek,
                "current": r.current_kek,
                "rewrapped_data_keys": r.rewrapped_data_keys,
                "rewrapped_purpose_keys": r.rewrapped_purpose_keys,
            }
        )
        return
    out(
        f"key-encryption key rotated: v{r.previous_kek} -> v{r.current_kek}; re-wrapped "
        f"{r.rewrapped_data_keys} data keys and {r.rewrapped_purpose_keys} purpose keys (no data re-encrypted)"
    )


def retire(kek_version: Annotated[int, typer.Argument(min=1)], token_file: TokenFileOption = None) -> None:
    s = settings()
    officer.retire_kek(s, kek_version, actor=acting(s, token_file, "officer", act="keys retire"))
    out(f"key-encryption key v{kek_version} retired")


def shred(
    dataset: str,
    version: Annotated[str | None, typer.Option(help="one version (default: every version)")] = None,
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    versions = officer.shred(s, dataset, version, actor=acting(s, token_file, "officer", act="keys shred"))
    if json:
        print_json({"dataset": dataset, "shredded": versions})
        return
    out(
        f"shredded the data key(s) of {dataset}: {', '.join(versions)}; these versions can no "
        "longer be decrypted or pulled"
    )


def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would be disposed of; change nothing")] = False,
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    actor = None if dry_run else acting(s, token_file, "officer", act="retention")
    result = apply_retention(s, actor=actor, dry_run=dry_run)
    if json:
        print_json({"dry_run": dry_run, **result.to_dict()})
    else:
        listed = result.due if dry_run else result.disposed
        verb = "would dispose of" if dry_run else "disposed of"
        out(f"{verb} {len(listed)} version(s)")
        for d in listed:
            out(f"  {d.dataset:<20} {d.version:<26} {d.state:<18} retention {d.retention}, expired {d.expired_on}")
    for problem in result.problems:
        err(problem)
    if result.problems:
        raise typer.Exit(EXIT_REFUSED)


def audit(
    dataset: Annotated[str | None, typer.Argument(help="one dataset (default: all, user changes included)")] = None,
    action: Annotated[str | None, typer.Option(help="only this action, e.g. access_refused, pull, dispose")] = None,
    actor: Annotated[str | None, typer.Option(help="only this user's acts and refusals")] = None,
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    entries = officer.audit_log(
        s, actor=acting(s, token_file, "officer", act="audit"), dataset=dataset, action=action, who=actor
    )
    if json:
        print_json(entries)
        return
    if not entries:
        out("no entries")
    for e in entries:
        where = f"{e['dataset']} {e['version'] or ''}".strip() if e["dataset"] else "-"
        detail = e["detail"] or {}
        why = detail.get("why") or detail.get("state") or detail.get("user") or ""
        out(f"{e['at'][:19]}  {e['actor']:<20} {e['action']:<15} {where:<45} {why}")

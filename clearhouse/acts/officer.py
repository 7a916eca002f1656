"""What a privacy officer does, in one place: approve or reject a version awaiting approval, revoke a
cleared one, decrypt columns of a released version, crypto-shred data keys, rotate and retire
key-encryption keys. (Signing an assessment and reviewing a sample are in
:mod:`~clearhouse.acts.assessment` and :mod:`~clearhouse.acts.review`.)

Every act takes the acting :class:`~clearhouse.acts.users.User` (authenticated by the caller with
:func:`~clearhouse.acts.users.require`), re-checks it against the catalog, does the act and records it
in the audit log and the ledger under the user's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from clearhouse.acts.retention import destroy_keys, remove_plaintext
from clearhouse.acts.users import User, ensure
from clearhouse.acts.waiting import clear_pending, waiting_version
from clearhouse.catalog import Catalog
from clearhouse.errors import CatalogError, ReleaseRefused
from clearhouse.governance.gates import APPROVAL, LABELS, version_gates
from clearhouse.governance.record import act, artifact_digests
from clearhouse.governance.report import refresh_reports
from clearhouse.policy import load_policy
from clearhouse.privacy.crypto.configured import provider_for
from clearhouse.privacy.crypto.keys import RotationResult
from clearhouse.privacy.crypto.protect import decrypt_table
from clearhouse.settings import Settings
from clearhouse.zones import VersionPaths, check_ids

_HOW = {
    "assessment": "clearhouse assessment sign {dataset}",
    "review": "clearhouse review sample {dataset} {version}, then clearhouse review submit",
}


def decide(settings: Settings, dataset: str, version: str, *, approve: bool, actor: User, note: str = "") -> str:
    """A privacy officer approves (→ cleared) or rejects (→ rejected) a version awaiting approval.

    Approval is the last gate: it is refused while the assessment's sign-off or the residual-PII review
    of the version is outstanding. Rejection is possible at any time while the version waits."""
    ensure(settings, actor, "officer", act="approve" if approve else "reject")
    catalog = Catalog(settings.db_url)
    info = waiting_version(catalog, dataset, version, doing="approved or rejected")
    paths = VersionPaths(settings, dataset, version)
    if approve:
        before = [g for g in version_gates(settings, info).outstanding if g != APPROVAL]
        if before:
            todo = "; ".join(f"{LABELS[g]} ({_HOW[g].format(dataset=dataset, version=version)})" for g in before)
            raise ReleaseRefused(f"{dataset} {version} cannot be approved yet: waiting for {todo}")
        clear_pending(paths)
        state = "cleared"
    else:
        state = "rejected"
        catalog.add_reason(dataset, version, "approval", f"rejected by {actor.name}: {note}".strip(": "), "rejected")
    catalog.update(dataset, version, state=state, info={"decided_by": actor.name})
    detail: dict[str, Any] = {"note": note[:500], "state": state}
    if approve:
        detail["artifacts"] = artifact_digests(settings, sorted(paths.cleared.iterdir()))
    act(settings, "approve" if approve else "reject", actor=actor.name, dataset=dataset, version=version, detail=detail)
    refresh_reports(settings, dataset, f"{'approved' if approve else 'rejected'} by {actor.name}", version=version)
    return state


#: states an officer may revoke: a release that is out (cleared) or waiting to go out
REVOCABLE = ("cleared", "awaiting_approval")


def revoke(settings: Settings, dataset: str, version: str, *, actor: User, reason: str) -> str:
    """Withdraw a released (or pending) version: its state becomes ``revoked`` and every further pull or
    download is refused. Copies already pulled are not recalled; the audit log says who pulled what.

    The release files stay where they are (the ledger's digests still verify them) but nothing hands
    them out again. A reason is required: it is shown with the version and recorded in the ledger."""
    ensure(settings, actor, "officer", act="revoke")
    check_ids(dataset, version)
    reason = reason.strip()
    if not reason:
        raise CatalogError("a revocation needs a reason")
    catalog = Catalog(settings.db_url)
    info = catalog.get(dataset, version)
    if info.state not in REVOCABLE:
        allowed = " or ".join(REVOCABLE)
        raise CatalogError(f"{dataset} {version} is {info.state}; only {allowed} versions can be revoked")
    catalog.update(dataset, version, state="revoked", info={"revoked_by": actor.name})
    catalog.add_reason(dataset, version, "revoke", f"revoked by {actor.name}: {reason}", "revoked")
    act(
        settings,
        "revoke",
        actor=actor.name,
        dataset=dataset,
        version=version,
        detail={"note": reason[:500], "state": "revoked", "previous_state": info.state},
    )
    return "revoked"


def shred(settings: Settings, dataset: str, version: str | None, *, actor: User) -> list[str]:
    """Destroy the data key(s) of a dataset (or one version) and record it in the catalog.

    Afterwards the encrypted columns of those versions cannot be decrypted and pulls are refused, and
    no copy of the version in clear is left: the landing copy and the work zone are removed (the cleared
    release keeps only ciphertext, pseudonyms and redacted text)."""
    ensure(settings, actor, "officer", act="keys shred")
    check_ids(dataset, version)
    catalog = Catalog(settings.db_url)
    targets = [v for v in catalog.versions(dataset) if version is None or v.version == version]
    if not targets:
        raise CatalogError(
            f"no version {version!r} of dataset {dataset!r}" if version else f"unknown dataset {dataset!r}"
        )
    for v in targets:
        destroyed, already = destroy_keys(settings, dataset, v.version)
        removed = remove_plaintext(settings, dataset, v.version)
        catalog.update(dataset, v.version, state="shredded", info={"shredded_by": actor.name})
        catalog.add_reason(dataset, v.version, "shred", f"data key destroyed by {actor.name}", "shredded")
        act(
            settings,
            "shred",
            actor=actor.name,
            dataset=dataset,
            version=v.version,
            detail={
                "state": "shredded",
                "keys_destroyed": destroyed,
                "already_shredded": already,
                "removed": removed,
            },
        )
    return [v.version for v in targets]


def decrypt(settings: Settings, dataset: str, version: str, columns: list[str], to: Path | str, *, actor: User) -> Path:
    """Privileged: decrypt columns of a released version into ``to`` (Parquet), audited.

    Nothing is written if decryption fails."""
    ensure(settings, actor, "officer", act="decrypt")
    check_ids(dataset, version)
    catalog = Catalog(settings.db_url)
    info = catalog.get(dataset, version)
    if info.state == "shredded":
        raise ReleaseRefused(f"{dataset} {version} was crypto-shredded; its data key no longer exists")
    paths = VersionPaths(settings, dataset, version)
    source = next(
        (
            p
            for p in (paths.cleared / "data.parquet", paths.pending_release / "data.parquet", paths.protected)
            if p.exists()
        ),
        None,
    )
    if source is None:
        raise CatalogError(f"{dataset} {version} has no protected data to decrypt")
    policy = load_policy(catalog.policy_path(dataset))
    table = pq.read_table(source)
    unknown = [c for c in columns if c not in table.column_names]
    if unknown:
        raise CatalogError(f"columns not in {dataset} {version}: {unknown}")
    try:
        plain = decrypt_table(
            table, policy, provider_for(settings), dataset=dataset, version=version, columns=columns or None
        )
    finally:
        act(
            settings,
            "decrypt",
            actor=actor.name,
            dataset=dataset,
            version=version,
            detail={"columns": columns or "all encrypted", "rows": table.num_rows},
        )
    out_dir = Path(to).expanduser().resolve() / dataset / version
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "decrypted.parquet"
    keep = [policy.row_id] if policy.row_id and policy.row_id in plain.column_names else []
    pq.write_table(plain.select(keep + [c for c in (columns or plain.column_names) if c not in keep]), out)
    out.chmod(0o600)
    return out


def rotate_kek(settings: Settings, *, actor: User) -> RotationResult:
    """New key-encryption key version; data and purpose keys are re-wrapped (no data re-encrypted)."""
    ensure(settings, actor, "officer", act="keys rotate")
    r = provider_for(settings).rotate_kek()
    act(
        settings,
        "keys_rotate",
        actor=actor.name,
        detail={
            "previous": r.previous_kek,
            "current": r.current_kek,
            "rewrapped": r.rewrapped_data_keys + r.rewrapped_purpose_keys,
        },
    )
    return r


def retire_kek(settings: Settings, kek_version: int, *, actor: User) -> None:
    """Retire an old key-encryption key version (after a rotation re-wrapped everything)."""
    ensure(settings, actor, "officer", act="keys retire")
    provider_for(settings).retire_kek(kek_version)
    act(settings, "keys_retire", actor=actor.name, detail={"kek_version": kek_version})


def audit_log(
    settings: Settings,
    *,
    actor: User,
    dataset: str | None = None,
    action: str | None = None,
    who: str | None = None,
) -> list[dict[str, Any]]:
    """The audit log for an officer: every act and every refusal, oldest first, optionally filtered by
    dataset, action (``access_refused``, ``pull_refused``, ``pull``, ``dispose``, ...) and actor."""
    ensure(settings, actor, "officer", act="audit")
    if dataset is not None:
        check_ids(dataset)
    return [
        e
        for e in Catalog(settings.db_url).audit_log(dataset)
        if (action is None or e["action"] == action) and (who is None or e["actor"] == who)
    ]

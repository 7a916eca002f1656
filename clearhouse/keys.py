"""Glue between Clearhouse settings and the key provider (``privacy.crypto``).

The provider is chosen by name (``CLEARHOUSE_KEY_PROVIDER``, default ``local``); its configuration never
comes from DAG arguments, only from the environment of the process that runs the task.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from clearhouse.config import Settings
from clearhouse.errors import KeyringError

if TYPE_CHECKING:
    from clearhouse.pipeline import RunContext
    from clearhouse.privacy.crypto.provider import KeyProvider


def provider_for(settings: Settings) -> KeyProvider:
    from clearhouse.privacy.crypto.provider import create_provider

    name = os.environ.get("CLEARHOUSE_KEY_PROVIDER", "local")
    if name == "local":
        return create_provider("local", keys_dir=settings.keys_dir)
    return create_provider(name)


def init_keyring(settings: Settings, *, dev_master_key: bool = False) -> None:
    """Make sure a root key is available; for the embedded demo create a local development key."""
    from clearhouse.privacy.crypto.root_key import ENV_MASTER_KEY, ENV_PASSPHRASE, create_dev_master_key

    settings.ensure_dirs()
    if dev_master_key and not (os.environ.get(ENV_MASTER_KEY) or os.environ.get(ENV_PASSPHRASE)):
        create_dev_master_key(settings.keys_dir)
    require_keyring(settings)


def require_keyring(settings: Settings) -> None:
    """Fail closed before a run starts if the keyring cannot be opened (no or wrong master key)."""
    provider = provider_for(settings)
    try:
        provider.check_access()
    except KeyringError:
        raise
    except Exception as exc:
        raise KeyringError(f"key provider unavailable: {type(exc).__name__}") from exc


def protect_file(ctx: RunContext, source: Path, target: Path, *, batch_rows: int = 50_000) -> dict[str, Any]:
    """Encrypt / pseudonymise the policy's columns of one version, batch by batch (flat memory).

    Row identity for the AEAD associated data is the row's index in the whole version (or the row id),
    so batches pass their offset. Returns per-column counts and key ids (never values)."""
    import pyarrow.parquet as pq

    from clearhouse.privacy.crypto.protect import protect_table

    provider = provider_for(ctx.settings)
    columns: dict[str, dict[str, Any]] = {}
    offset = 0
    writer: pq.ParquetWriter | None = None
    try:
        for batch in pq.ParquetFile(source).iter_batches(batch_size=batch_rows):
            table = pa.Table.from_batches([batch])
            protected, result = protect_table(
                table, ctx.policy, provider, dataset=ctx.dataset, version=ctx.version, row_offset=offset
            )
            if writer is None:
                writer = pq.ParquetWriter(target, protected.schema)
            writer.write_table(protected)
            offset += table.num_rows
            for col in result.to_dict()["columns"]:
                seen = columns.setdefault(col["column"], {**col, "protected": 0, "nulls": 0})
                seen["protected"] += col["protected"]
                seen["nulls"] += col["nulls"]
    finally:
        if writer is not None:
            writer.close()
    return {"dataset": ctx.dataset, "version": ctx.version, "rows": offset, "columns": list(columns.values())}


def shred(settings: Settings, dataset: str, version: str | None, *, actor: str) -> list[str]:
    """Destroy the data key(s) of a dataset (or one version) and record it in the catalog.

    Afterwards the encrypted columns of those versions cannot be decrypted and pulls are refused."""
    from clearhouse.catalog import Catalog
    from clearhouse.zones import check_ids

    check_ids(dataset, version)
    catalog = Catalog(settings.db_url)
    targets = [v for v in catalog.versions(dataset) if version is None or v.version == version]
    if not targets:
        from clearhouse.errors import CatalogError

        raise CatalogError(
            f"no version {version!r} of dataset {dataset!r}" if version else f"unknown dataset {dataset!r}"
        )
    result = provider_for(settings).shred(dataset, version)
    for v in targets:
        catalog.update(dataset, v.version, state="shredded", info={"shredded_by": actor})
        catalog.add_reason(dataset, v.version, "shred", f"data key destroyed by {actor}", "shredded")
    catalog.audit(
        "shred",
        actor=actor,
        dataset=dataset,
        version=version,
        detail={
            "versions": [v.version for v in targets],
            "keys_destroyed": len(result.shredded),
            "already_shredded": result.already_shredded,
        },
    )
    return [v.version for v in targets]


def decrypt(settings: Settings, dataset: str, version: str, columns: list[str], to: Any, *, actor: str) -> Any:
    """Privileged: decrypt columns of a released version into ``to`` (Parquet), audited.

    The caller must have checked the officer role. Nothing is written if decryption fails."""
    from pathlib import Path

    import pyarrow.parquet as pq

    from clearhouse.catalog import Catalog
    from clearhouse.errors import CatalogError, ReleaseRefused
    from clearhouse.policy import load_policy
    from clearhouse.privacy.crypto.protect import decrypt_table
    from clearhouse.zones import VersionPaths, check_ids

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
        catalog.audit(
            "decrypt",
            actor=actor,
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

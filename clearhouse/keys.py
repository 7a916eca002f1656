"""Glue between Clearhouse settings and the key provider (``privacy.crypto``).

The provider is chosen by name (``CLEARHOUSE_KEY_PROVIDER``, default ``local``); its configuration never
comes from DAG arguments, only from the environment of the process that runs the task.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from clearhouse.config import Settings
from clearhouse.errors import KeyringError

if TYPE_CHECKING:
    from clearhouse.pipeline import RunContext
    from privacy.crypto.provider import KeyProvider


def provider_for(settings: Settings) -> KeyProvider:
    from privacy.crypto.provider import create_provider

    name = os.environ.get("CLEARHOUSE_KEY_PROVIDER", "local")
    if name == "local":
        return create_provider("local", keys_dir=settings.keys_dir)
    return create_provider(name)


def init_keyring(settings: Settings, *, dev_master_key: bool = False) -> None:
    """Make sure a root key is available; for the embedded demo create a local development key."""
    from privacy.crypto.root_key import ENV_MASTER_KEY, ENV_PASSPHRASE, create_dev_master_key

    settings.ensure_dirs()
    if dev_master_key and not (os.environ.get(ENV_MASTER_KEY) or os.environ.get(ENV_PASSPHRASE)):
        create_dev_master_key(settings.keys_dir)
    require_keyring(settings)


def require_keyring(settings: Settings) -> None:
    """Fail closed before a run starts if the keyring cannot be opened (no or wrong master key)."""
    from privacy.crypto.root_key import resolve_root_secret

    provider = provider_for(settings)
    try:
        if getattr(provider, "name", "") == "local":
            resolve_root_secret(settings.keys_dir, os.environ)
        provider.status()
    except KeyringError:
        raise
    except Exception as exc:
        raise KeyringError(f"key provider unavailable: {type(exc).__name__}") from exc


def protect(ctx: RunContext, table: pa.Table) -> tuple[pa.Table, dict[str, Any]]:
    """Encrypt / pseudonymise the policy's columns of one version."""
    from privacy.crypto.protect import protect_table

    protected, result = protect_table(table, ctx.policy, provider_for(ctx.settings), dataset=ctx.dataset,
                                      version=ctx.version)
    return protected, result.to_dict()

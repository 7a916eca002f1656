"""The key provider named by the settings, and the keyring checks a run does before it starts.

The provider is chosen by name (``CLEARHOUSE_KEY_PROVIDER``, default ``local``); its configuration
comes from :class:`~clearhouse.settings.Settings` of the process that runs the task, never from DAG
arguments.
"""

from __future__ import annotations

from clearhouse.errors import KeyringError
from clearhouse.privacy.crypto.provider import KeyProvider, create_provider
from clearhouse.privacy.crypto.root_key import create_dev_master_key
from clearhouse.settings import Settings


def provider_for(settings: Settings) -> KeyProvider:
    """The configured key provider (the ``local`` keyring lives in ``settings.keys_dir``)."""
    if settings.key_provider == "local":
        return create_provider("local", keys_dir=settings.keys_dir, env=settings.root_secret_env())
    return create_provider(settings.key_provider)


def init_keyring(settings: Settings, *, dev_master_key: bool = False) -> None:
    """Make sure a root key is available; for the embedded demo create a local development key."""
    settings.ensure_dirs()
    if dev_master_key and not settings.root_secret_env():
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

"""Fixtures for the crypto tests: a master key in the environment and providers.

The table-stage tests run against the real local keyring *and* an in-memory fake provider
(:class:`crypto_helpers.MemoryKeyProvider`), which is how we know the stage depends on the
:class:`KeyProvider` interface only — the same way an external KMS provider would be exercised.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from crypto_helpers import MemoryKeyProvider, new_master_key

from clearhouse.privacy.crypto import KeyProvider, LocalKeyringProvider

ENV_VARS = ("CLEARHOUSE_MASTER_KEY", "CLEARHOUSE_MASTER_PASSPHRASE")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a master key from the developer's shell."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def master_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = new_master_key()
    monkeypatch.setenv("CLEARHOUSE_MASTER_KEY", key)
    return key


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def local(keys_dir: Path, master_key: str) -> LocalKeyringProvider:
    return LocalKeyringProvider(keys_dir)


@pytest.fixture(params=["local", "memory"])
def provider(request: pytest.FixtureRequest, keys_dir: Path, master_key: str) -> KeyProvider:
    """Every table-stage test runs against the real local keyring and the in-memory fake."""
    if request.param == "local":
        return LocalKeyringProvider(keys_dir)
    return MemoryKeyProvider()

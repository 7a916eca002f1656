"""Provider registry: string keys, lazy built-ins, clear configuration errors, plug-ins."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from crypto_helpers import MemoryKeyProvider, enc, make_policy

from clearhouse.errors import ProtectionError
from clearhouse.privacy.crypto import (
    KeyProvider,
    LocalKeyringProvider,
    available_providers,
    create_provider,
    decrypt_column,
    protect_table,
    register_provider,
)


def test_local_is_available_by_name(keys_dir: Path) -> None:
    assert "local" in available_providers()
    provider = create_provider("local", keys_dir=keys_dir)
    assert isinstance(provider, LocalKeyringProvider)
    assert repr(provider) == f"LocalKeyringProvider(keys_dir={str(keys_dir)!r})"


@pytest.mark.parametrize(
    ("name", "config", "message"),
    [
        ("vault", {}, "unknown key provider 'vault'; available: .*local"),
        ("local", {}, "missing a required argument: 'keys_dir'.*accepted parameters: keys_dir, env"),
        ("local", {"keys_dir": "k", "colour": "blue"}, "unexpected keyword argument 'colour'"),
    ],
)
def test_bad_names_and_config_fail_early(name: str, config: dict[str, object], message: str) -> None:
    with pytest.raises(ProtectionError, match=message):
        create_provider(name, **config)


def test_plugin_provider_drives_the_stage() -> None:
    register_provider("memory-test", MemoryKeyProvider)
    register_provider("memory-test", MemoryKeyProvider)  # same class again: no-op
    provider = create_provider("memory-test")
    policy = make_policy({"email": enc()})
    out, result = protect_table(
        pa.table({"email": ["a@b.c"]}), policy, provider, dataset="patients", version="v1"
    )
    assert result.column("email").key_id.startswith("dk_")
    assert decrypt_column(
        out, policy, provider, dataset="patients", version="v1", column="email"
    ).to_pylist() == ["a@b.c"]


def test_registry_refuses_clashes_and_non_providers() -> None:
    class Other(MemoryKeyProvider):
        pass

    with pytest.raises(ProtectionError, match="already registered"):
        register_provider("local", Other)
    with pytest.raises(ProtectionError, match="KeyProvider subclass"):
        register_provider("bogus", object)  # type: ignore[arg-type]
    with pytest.raises(ProtectionError, match="lower-case"):
        register_provider("Bad Name", Other)


def test_interface_is_abstract() -> None:
    with pytest.raises(TypeError):
        KeyProvider()  # type: ignore[abstract]

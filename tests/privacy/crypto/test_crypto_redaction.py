"""Secrets and cell values never show up in reprs, exception messages or log records."""

from __future__ import annotations

import base64
import copy
import logging
import pickle
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from crypto_helpers import enc, make_policy, new_master_key, psd

from clearhouse.errors import ClearhouseError
from clearhouse.privacy.crypto import (
    LocalKeyringProvider,
    Pseudonymiser,
    column_cipher,
    decrypt_column,
    protect_table,
)
from clearhouse.privacy.crypto.root_key import resolve_root_secret

PLAINTEXT = "alice.secret@example.com"
PASSPHRASE = "my very private passphrase"


def forms(raw: bytes) -> list[str]:
    """Encodings under which a key could leak."""
    return [
        raw.hex(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        repr(raw)[2:-1],
    ]


def assert_clean(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


def test_key_handles_redact_and_refuse_pickling(local: LocalKeyringProvider) -> None:
    dk = local.create_data_key("patients", "v1")
    pk = local.purpose_key("triage")
    cipher = column_cipher(dk, dataset="patients", column="email", deterministic=False)
    pseudo = Pseudonymiser(pk)
    for obj, key in ((dk, dk), (pk, pk), (cipher, dk), (pseudo, pk)):
        text = repr(obj) + str(obj) + f"{obj}"
        assert_clean(text, forms(key.key_bytes()))
    assert "<redacted>" in repr(dk) and "<redacted>" in repr(pk)
    for key in (dk, pk):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(key)
        with pytest.raises(TypeError):
            copy.deepcopy(key)
    assert dk != local.get_data_key("patients", "v1")  # no comparison by key bytes


def test_root_secret_redacts(keys_dir: Path) -> None:
    key = new_master_key()
    secret = resolve_root_secret(keys_dir, {"CLEARHOUSE_MASTER_KEY": key})
    raw = base64.urlsafe_b64decode(key)
    assert_clean(repr(secret) + str(secret), [key, *forms(raw)])
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_no_secret_or_value_in_errors_and_logs(
    keys_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    master = new_master_key()
    provider = LocalKeyringProvider(keys_dir, env={"CLEARHOUSE_MASTER_KEY": master})
    policy = make_policy({"email": enc(), "ssn": enc(joinable=True), "name": psd()})
    table = pa.table({"email": [PLAINTEXT], "ssn": [PLAINTEXT], "name": [PLAINTEXT]})
    out, result = protect_table(table, policy, provider, dataset="patients", version="v1")
    dk = provider.get_data_key("patients", "v1")
    pk = provider.purpose_key(policy.scope)
    token = out.column("email").to_pylist()[0]
    secrets = [
        PLAINTEXT,
        master,
        PASSPHRASE,
        *forms(dk.key_bytes()),
        *forms(pk.key_bytes()),
        *forms(base64.urlsafe_b64decode(master)),
    ]

    tampered = out.set_column(
        0, "email", pa.array([token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]])
    )
    pass_dir = tmp_path / "pass"
    LocalKeyringProvider(pass_dir, env={"CLEARHOUSE_MASTER_PASSPHRASE": PASSPHRASE}).purpose_key("x")

    def wrong_key() -> object:
        return LocalKeyringProvider(keys_dir, env={"CLEARHOUSE_MASTER_KEY": new_master_key()}).get_data_key(
            "patients", "v1"
        )

    def wrong_passphrase() -> object:
        env = {"CLEARHOUSE_MASTER_PASSPHRASE": PASSPHRASE + "x"}
        return LocalKeyringProvider(pass_dir, env=env).purpose_key("x")

    def short_key() -> object:
        return LocalKeyringProvider(keys_dir, env={"CLEARHOUSE_MASTER_KEY": master[:-4]}).get_data_key(
            "patients", "v1"
        )

    def bad_param() -> object:
        bad = make_policy({"email": enc(), "ssn": enc(), "name": psd(normalise="lower")})
        return protect_table(table, bad, provider, dataset="patients", version="v1")

    def decrypt(tab: pa.Table, version: str, column: str) -> Callable[[], object]:
        return lambda: decrypt_column(
            tab, policy, provider, dataset="patients", version=version, column=column
        )

    # (failure, what it must be about): checks each scenario fails for the intended reason
    failures: list[tuple[Callable[[], object], str]] = [
        (decrypt(tampered, "v1", "email"), "authentication"),
        (decrypt(out, "v2", "email"), "no data key"),
        (wrong_key, "does not match"),
        (wrong_passphrase, "does not match"),
        (short_key, "decodes to"),
        (bad_param, "normalisation"),
        (lambda: provider.retire_kek(1), "current KEK"),
    ]
    messages = []
    for index, (failure, about) in enumerate([*failures, (decrypt(out, "v1", "ssn"), "shredded")]):
        if index == len(failures):
            provider.shred("patients", "v1")
        with pytest.raises(ClearhouseError, match=about) as info:
            failure()
        chain: BaseException | None = info.value
        while chain is not None:  # the whole cause chain reaches the task log
            messages.append(f"{type(chain).__name__}: {chain}")
            chain = chain.__cause__ or chain.__context__
    assert_clean("\n".join(messages), secrets)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "created data key" in logged
    assert_clean(logged, secrets)
    assert_clean(repr(result), secrets)

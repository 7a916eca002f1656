"""The local keyring: root-key sources, file safety, rotation, retirement, shredding, concurrency."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import stat
import threading
from pathlib import Path

import pytest
from crypto_helpers import new_master_key

from clearhouse.errors import KeyringError
from clearhouse.privacy.crypto import LocalKeyringProvider, create_dev_master_key

PASSPHRASE = "correct horse battery staple"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def provider_with(keys_dir: Path, **env: str) -> LocalKeyringProvider:
    return LocalKeyringProvider(keys_dir, env=env)


# ------------------------------------------------------------------------------------ root key


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda raw: base64.b64encode(raw).decode(), id="standard"),
        pytest.param(lambda raw: base64.urlsafe_b64encode(raw).decode(), id="urlsafe"),
        pytest.param(lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("="), id="unpadded"),
        pytest.param(lambda raw: base64.b64encode(raw).decode() + "\n", id="trailing-newline"),
    ],
)
def test_master_key_encodings_accepted(keys_dir: Path, encode: object) -> None:
    raw = os.urandom(32)
    key_text = encode(raw)  # type: ignore[operator]
    first = provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=key_text).create_data_key("patients", "v1")
    # the same key in another encoding opens the same keyring
    second = provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=base64.b64encode(raw).decode())
    assert second.get_data_key("patients", "v1").key_bytes() == first.key_bytes()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(base64.b64encode(os.urandom(16)).decode(), "decodes to 16 bytes", id="too-short"),
        pytest.param(base64.b64encode(os.urandom(64)).decode(), "decodes to 64 bytes", id="too-long"),
        pytest.param("not base64 at all!", "not valid base64", id="garbage"),
    ],
)
def test_bad_master_key_is_rejected_clearly(keys_dir: Path, value: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message) as info:
        provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=value).create_data_key("patients", "v1")
    assert "CLEARHOUSE_MASTER_KEY" in str(info.value)
    assert value.strip() not in str(info.value)


def test_missing_master_key_names_the_env_vars(keys_dir: Path) -> None:
    with pytest.raises(KeyringError) as info:
        provider_with(keys_dir).create_data_key("patients", "v1")
    text = str(info.value)
    assert "CLEARHOUSE_MASTER_KEY" in text and "CLEARHOUSE_MASTER_PASSPHRASE" in text
    assert not (keys_dir / "keyring.json").exists()


def test_env_var_is_read_from_the_process_environment(keys_dir: Path, master_key: str) -> None:
    key = LocalKeyringProvider(keys_dir).create_data_key("patients", "v1")
    again = provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=master_key).get_data_key("patients", "v1")
    assert again.key_bytes() == key.key_bytes()


@pytest.mark.parametrize(
    ("created_with", "opened_with"),
    [
        pytest.param(
            {"CLEARHOUSE_MASTER_KEY": new_master_key()},
            {"CLEARHOUSE_MASTER_KEY": new_master_key()},
            id="other-key",
        ),
        pytest.param(
            {"CLEARHOUSE_MASTER_PASSPHRASE": PASSPHRASE},
            {"CLEARHOUSE_MASTER_PASSPHRASE": PASSPHRASE + "!"},
            id="other-passphrase",
        ),
        pytest.param(
            {"CLEARHOUSE_MASTER_PASSPHRASE": PASSPHRASE},
            {"CLEARHOUSE_MASTER_KEY": new_master_key()},
            id="key-instead-of-passphrase",
        ),
    ],
)
def test_wrong_master_key_is_detected(
    keys_dir: Path, created_with: dict[str, str], opened_with: dict[str, str]
) -> None:
    provider_with(keys_dir, **created_with).create_data_key("patients", "v1")
    wrong = provider_with(keys_dir, **opened_with)
    for operation in (
        lambda: wrong.get_data_key("patients", "v1"),
        lambda: wrong.create_data_key("patients", "v2"),
        lambda: wrong.purpose_key("triage"),
        wrong.rotate_kek,
    ):
        with pytest.raises(KeyringError, match="master key does not match this keyring"):
            operation()


def test_passphrase_keyring_is_stable_and_stores_scrypt_params(keys_dir: Path) -> None:
    key = provider_with(keys_dir, CLEARHOUSE_MASTER_PASSPHRASE=PASSPHRASE).create_data_key("patients", "v1")
    again = provider_with(keys_dir, CLEARHOUSE_MASTER_PASSPHRASE=PASSPHRASE).get_data_key("patients", "v1")
    assert again.key_bytes() == key.key_bytes()
    kdf = json.loads((keys_dir / "keyring.json").read_text())["root"]["kdf"]
    assert (kdf["name"], kdf["n"], kdf["r"], kdf["p"]) == ("scrypt", 2**15, 8, 1)
    assert PASSPHRASE not in (keys_dir / "keyring.json").read_text()


def test_short_passphrase_is_refused(keys_dir: Path) -> None:
    with pytest.raises(KeyringError, match="shorter than 12") as info:
        provider_with(keys_dir, CLEARHOUSE_MASTER_PASSPHRASE="hunter2").create_data_key("patients", "v1")
    assert "hunter2" not in str(info.value)


def test_master_key_wins_over_passphrase(keys_dir: Path) -> None:
    key = new_master_key()
    provider_with(
        keys_dir, CLEARHOUSE_MASTER_KEY=key, CLEARHOUSE_MASTER_PASSPHRASE=PASSPHRASE
    ).create_data_key("patients", "v1")
    assert json.loads((keys_dir / "keyring.json").read_text())["root"]["source"] == "env-key"
    provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=key).get_data_key("patients", "v1")


def test_dev_master_key_file(keys_dir: Path) -> None:
    path = create_dev_master_key(keys_dir)
    assert path == keys_dir / "master.key"
    assert mode(path) == 0o600
    content = path.read_bytes()
    assert create_dev_master_key(keys_dir) == path and path.read_bytes() == content  # never overwritten
    key = provider_with(keys_dir).create_data_key("patients", "v1")
    assert provider_with(keys_dir).get_data_key("patients", "v1").key_bytes() == key.key_bytes()
    path.chmod(0o644)
    with pytest.raises(KeyringError, match="mode 0644"):
        LocalKeyringProvider(keys_dir, env={}).get_data_key("patients", "v1")


# ----------------------------------------------------------------------------------- file safety


def test_keyring_file_is_private_and_holds_no_raw_keys(local: LocalKeyringProvider, keys_dir: Path) -> None:
    key = local.create_data_key("patients", "v1")
    purpose = local.purpose_key("triage")
    keyring = keys_dir / "keyring.json"
    assert mode(keyring) == 0o600
    assert mode(keys_dir / "keyring.lock") == 0o600
    # and no temp files left behind
    assert sorted(p.name for p in keys_dir.iterdir()) == ["keyring.json", "keyring.lock"]
    text = keyring.read_text()
    for raw in (key.key_bytes(), purpose.key_bytes()):
        assert base64.b64encode(raw).decode() not in text
        assert raw.hex() not in text


@pytest.mark.parametrize("bad_mode", [0o644, 0o640, 0o604, 0o660])
def test_group_or_world_accessible_keyring_is_refused(
    local: LocalKeyringProvider, keys_dir: Path, bad_mode: int
) -> None:
    local.create_data_key("patients", "v1")
    (keys_dir / "keyring.json").chmod(bad_mode)
    for operation in (
        lambda: local.get_data_key("patients", "v1"),
        lambda: local.create_data_key("patients", "v2"),
        local.status,
    ):
        with pytest.raises(KeyringError, match=f"mode {bad_mode:04o}.*chmod 600"):
            operation()


def test_group_writable_keys_dir_is_refused(keys_dir: Path, master_key: str) -> None:
    keys_dir.chmod(0o770)
    with pytest.raises(KeyringError, match="chmod 700"):
        LocalKeyringProvider(keys_dir).create_data_key("patients", "v1")


def test_keys_dir_is_created_private(tmp_path: Path, master_key: str) -> None:
    keys_dir = tmp_path / "state" / "keys"
    LocalKeyringProvider(keys_dir).create_data_key("patients", "v1")
    assert mode(keys_dir) & 0o077 == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "not valid JSON", id="not-json"),
        pytest.param("[]", "not a JSON object", id="not-object"),
        pytest.param('{"format": "other/9"}', "unsupported format", id="foreign-format"),
    ],
)
def test_damaged_keyring_is_refused(
    local: LocalKeyringProvider, keys_dir: Path, content: str, message: str
) -> None:
    local.create_data_key("patients", "v1")
    (keys_dir / "keyring.json").write_text(content)
    with pytest.raises(KeyringError, match=message):
        local.get_data_key("patients", "v1")


def test_swapped_wrapped_keys_do_not_unwrap(local: LocalKeyringProvider, keys_dir: Path) -> None:
    a = local.create_data_key("patients", "v1")
    b = local.create_data_key("patients", "v2")
    path = keys_dir / "keyring.json"
    doc = json.loads(path.read_text())
    entries = doc["data_keys"]
    entries[a.key_id]["wrapped"], entries[b.key_id]["wrapped"] = (
        entries[b.key_id]["wrapped"],
        entries[a.key_id]["wrapped"],
    )
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyringError, match="does not authenticate"):
        LocalKeyringProvider(keys_dir).get_data_key("patients", "v1")


# ---------------------------------------------------------------------------------- data keys


def test_create_is_idempotent_and_get_needs_an_existing_key(local: LocalKeyringProvider) -> None:
    first = local.create_data_key("patients", "v1")
    assert local.create_data_key("patients", "v1").key_id == first.key_id
    assert local.get_data_key("patients", "v1").key_bytes() == first.key_bytes()
    assert local.create_data_key("patients", "v2").key_id != first.key_id
    with pytest.raises(KeyringError, match="no data key for dataset 'patients' version 'v9'"):
        local.get_data_key("patients", "v9")


def test_get_before_any_keyring(keys_dir: Path, master_key: str) -> None:
    provider = LocalKeyringProvider(keys_dir)
    with pytest.raises(KeyringError, match="no keyring"):
        provider.get_data_key("patients", "v1")
    assert provider.status().current_kek is None


@pytest.mark.parametrize("label", ["", "v1\nforged log line", "x" * 201])
def test_bad_labels_are_refused(local: LocalKeyringProvider, label: str) -> None:
    with pytest.raises(KeyringError, match="version must be"):
        local.create_data_key("patients", label)


def test_purpose_key_created_once_and_stable(keys_dir: Path, master_key: str) -> None:
    first = LocalKeyringProvider(keys_dir).purpose_key("triage")
    second = LocalKeyringProvider(keys_dir).purpose_key("triage")
    assert (first.key_id, first.key_bytes()) == (second.key_id, second.key_bytes())
    assert LocalKeyringProvider(keys_dir).purpose_key("billing").key_bytes() != first.key_bytes()


# ---------------------------------------------------------------------------------- lifecycle


def test_rotation_rewraps_without_changing_keys(local: LocalKeyringProvider, keys_dir: Path) -> None:
    dk = local.create_data_key("patients", "v1")
    pk = local.purpose_key("triage")
    result = local.rotate_kek()
    assert (result.previous_kek, result.current_kek) == (1, 2)
    assert (result.rewrapped_data_keys, result.rewrapped_purpose_keys, result.pending) == (1, 1, 0)
    fresh = LocalKeyringProvider(keys_dir)  # no cache
    after = fresh.get_data_key("patients", "v1")
    assert (after.key_bytes(), after.kek_version) == (dk.key_bytes(), 2)
    assert fresh.purpose_key("triage").key_bytes() == pk.key_bytes()
    assert fresh.create_data_key("patients", "v2").kek_version == 2
    status = fresh.status()
    assert status.current_kek == 2
    assert [(k.version, k.status) for k in status.keks] == [(1, "active"), (2, "current")]


def test_retire_refused_while_needed_then_allowed_after_rewrap(local: LocalKeyringProvider) -> None:
    dk = local.create_data_key("patients", "v1")
    local.purpose_key("triage")
    lazy = local.rotate_kek(rewrap=False)
    assert lazy.pending == 2
    with pytest.raises(KeyringError, match=r"KEK v1 still wraps 1 data key\(s\) and 1 purpose key\(s\)"):
        local.retire_kek(1)
    with pytest.raises(KeyringError, match="current KEK"):
        local.retire_kek(2)
    with pytest.raises(KeyringError, match="KEK v7 is not in keyring"):
        local.retire_kek(7)
    assert local.rewrap(from_version=1).rewrapped_data_keys == 1
    local.retire_kek(1)
    local.retire_kek(1)  # idempotent
    assert local.get_data_key("patients", "v1").key_bytes() == dk.key_bytes()
    assert [(k.version, k.status) for k in local.status().keks] == [(1, "retired"), (2, "current")]


def test_rotation_after_retirement_and_several_rounds(local: LocalKeyringProvider) -> None:
    dk = local.create_data_key("patients", "v1")
    for round_ in range(3):
        local.rotate_kek()
        local.retire_kek(round_ + 1)
    assert local.get_data_key("patients", "v1").key_bytes() == dk.key_bytes()
    assert local.status().current_kek == 4


def test_shred_one_version(local: LocalKeyringProvider, keys_dir: Path) -> None:
    v1 = local.create_data_key("patients", "v1")
    v2 = local.create_data_key("patients", "v2")
    other = local.create_data_key("visits", "v1")
    wrapped_before = json.loads((keys_dir / "keyring.json").read_text())["data_keys"][v1.key_id]["wrapped"]
    result = local.shred("patients", "v1")
    assert [info.key_id for info in result.shredded] == [v1.key_id]
    with pytest.raises(KeyringError, match="shredded"):
        local.get_data_key("patients", "v1")
    with pytest.raises(KeyringError, match="shredded"):
        local.create_data_key("patients", "v1")  # never silently re-keyed
    assert local.get_data_key("patients", "v2").key_bytes() == v2.key_bytes()
    assert local.get_data_key("visits", "v1").key_bytes() == other.key_bytes()
    assert wrapped_before not in (keys_dir / "keyring.json").read_text()
    assert local.shred("patients", "v1").already_shredded == 1


def test_shred_whole_dataset_and_unknown(local: LocalKeyringProvider) -> None:
    local.create_data_key("patients", "v1")
    local.create_data_key("patients", "v2")
    local.create_data_key("visits", "v1")
    assert len(local.shred("patients").shredded) == 2
    assert {(i.dataset, i.shredded) for i in local.status().data_keys} == {
        ("patients", True),
        ("visits", False),
    }
    with pytest.raises(KeyringError, match="no data key for dataset 'nobody'"):
        local.shred("nobody")


def test_shred_does_not_need_the_master_key(local: LocalKeyringProvider, keys_dir: Path) -> None:
    local.create_data_key("patients", "v1")
    LocalKeyringProvider(keys_dir, env={}).shred("patients", "v1")
    with pytest.raises(KeyringError, match="shredded"):
        local.get_data_key("patients", "v1")


def test_shredded_keys_do_not_block_retirement(local: LocalKeyringProvider) -> None:
    local.create_data_key("patients", "v1")
    local.rotate_kek(rewrap=False)
    local.shred("patients", "v1")
    local.retire_kek(1)


def test_status_lists_metadata_only(local: LocalKeyringProvider) -> None:
    dk = local.create_data_key("patients", "v1")
    local.purpose_key("triage")
    status = local.status().to_dict()
    assert status["current_kek"] == 1
    assert [k["key_id"] for k in status["data_keys"]] == [dk.key_id]
    assert [k["scope"] for k in status["purpose_keys"]] == ["triage"]
    text = json.dumps(status)
    assert "wrapped" not in text and base64.b64encode(dk.key_bytes()).decode() not in text


# -------------------------------------------------------------------------------- concurrency


def _create_many(keys_dir: str, master: str, worker: int, count: int) -> None:
    provider = LocalKeyringProvider(keys_dir, env={"CLEARHOUSE_MASTER_KEY": master})
    for i in range(count):
        provider.create_data_key("patients", f"w{worker}-v{i}")
        provider.purpose_key(f"scope{i % 3}")


def _check_all(keys_dir: Path, master: str, workers: int, count: int) -> None:
    provider = LocalKeyringProvider(keys_dir, env={"CLEARHOUSE_MASTER_KEY": master})
    status = provider.status()
    assert len(status.data_keys) == workers * count
    assert sorted(p.scope for p in status.purpose_keys) == ["scope0", "scope1", "scope2"]
    for info in status.data_keys:
        provider.get_data_key(info.dataset, info.version)


def test_concurrent_threads_do_not_clobber(keys_dir: Path, master_key: str) -> None:
    threads = [
        threading.Thread(target=_create_many, args=(str(keys_dir), master_key, w, 10)) for w in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check_all(keys_dir, master_key, 8, 10)


def test_concurrent_processes_do_not_clobber(keys_dir: Path, master_key: str) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_create_many, args=(str(keys_dir), master_key, w, 10)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    _check_all(keys_dir, master_key, 4, 10)


def test_rotation_racing_with_creation(keys_dir: Path, master_key: str) -> None:
    creator = threading.Thread(target=_create_many, args=(str(keys_dir), master_key, 0, 20))
    LocalKeyringProvider(keys_dir).create_data_key("patients", "seed")
    creator.start()
    rotator = LocalKeyringProvider(keys_dir)
    for _ in range(3):
        rotator.rotate_kek()
    creator.join()
    rotator.rewrap()
    for version in (1, 2, 3):
        rotator.retire_kek(version)  # nothing left behind under an old KEK
    status = rotator.status()
    assert {k.kek_version for k in status.data_keys} == {4}
    assert len(status.data_keys) == 21


# ------------------------------------------------------------------------------- pre-run check


def test_check_access(keys_dir: Path) -> None:
    key = new_master_key()
    with pytest.raises(KeyringError, match="CLEARHOUSE_MASTER_KEY"):
        provider_with(keys_dir).check_access()  # nothing configured
    provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=key).check_access()  # no keyring yet: key is enough
    assert not (keys_dir / "keyring.json").exists()  # checking creates nothing
    provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=key).create_data_key("patients", "v1")
    provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=key).check_access()
    with pytest.raises(KeyringError, match="does not match"):
        provider_with(keys_dir, CLEARHOUSE_MASTER_KEY=new_master_key()).check_access()

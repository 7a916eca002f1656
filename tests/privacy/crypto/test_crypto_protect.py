"""The protect stage over Arrow tables, and the privileged decrypt path."""

from __future__ import annotations

import pyarrow as pa
import pytest
from crypto_helpers import enc, keep, make_policy, psd

from clearhouse.errors import DecryptionError, ProtectionError
from clearhouse.policy import Policy
from clearhouse.privacy.crypto import (
    KeyProvider,
    LocalKeyringProvider,
    decrypt_column,
    decrypt_table,
    protect_table,
)


def intake_table() -> pa.Table:
    return pa.table(
        {
            "patient_id": pa.array([101, 102, 103, 104], pa.int64()),
            "email": ["alice@example.com", None, "carol@example.com", "alice@example.com"],
            "ssn": ["123-45-6789", "987-65-4321", None, "123-45-6789"],
            "name": ["Alice", "Bob", None, "Alice"],
            "age": pa.array([34, 51, None, 34], pa.int64()),
            "notes_ok": ["a", "b", "c", "d"],
        }
    )


def intake_policy(
    *, row_id: str | None = "patient_id", row_id_treatment: dict[str, object] | None = None
) -> Policy:
    return make_policy(
        {
            "patient_id": row_id_treatment or keep(),
            "email": enc(),
            "ssn": enc(joinable=True),
            "name": psd(normalise="strip_casefold"),
            "age": {"role": "quasi_identifier", "treatment": "encrypt"},
            "notes_ok": keep(),
        },
        row_id=row_id,
        purpose_id="triage",
    )


@pytest.mark.parametrize("row_id", ["patient_id", None])
def test_round_trip(provider: KeyProvider, row_id: str | None) -> None:
    table, policy = intake_table(), intake_policy(row_id=row_id)
    out, _ = protect_table(table, policy, provider, dataset="patients", version="v1")
    assert out.column_names == table.column_names
    for name in ("email", "ssn", "name", "age"):
        assert out.schema.field(name).type == pa.string()
        values = out.column(name).to_pylist()
        assert [v is None for v in values] == [v is None for v in table.column(name).to_pylist()]
        assert not set(values) & set(table.column(name).to_pylist()) - {None}
    assert out.column("notes_ok").equals(table.column("notes_ok"))
    assert out.column("patient_id").equals(table.column("patient_id"))
    back = decrypt_table(out, policy, provider, dataset="patients", version="v1")
    for name in ("email", "ssn", "age"):
        assert back.column(name).to_pylist() == table.column(name).to_pylist()
    assert back.schema.field("age").type == pa.int64()
    assert back.column("name").equals(out.column("name"))  # pseudonyms are not decrypted


def test_result_describes_columns_without_values(provider: KeyProvider) -> None:
    out, result = protect_table(intake_table(), intake_policy(), provider, dataset="patients", version="v1")
    by_name = {c.column: c for c in result.columns}
    assert set(by_name) == {"email", "ssn", "name", "age"}
    assert (by_name["email"].algorithm, by_name["email"].protected, by_name["email"].nulls) == (
        "AES-256-GCM",
        3,
        1,
    )
    assert (by_name["ssn"].algorithm, by_name["ssn"].treatment) == ("AES-SIV-512", "encrypt")
    assert (by_name["name"].algorithm, by_name["name"].scope) == ("HMAC-SHA256", "triage")
    data_key = provider.get_data_key("patients", "v1")
    assert by_name["email"].key_id == data_key.key_id and by_name["email"].kek_version == data_key.kek_version
    assert result.rows == 4 and (result.dataset, result.version) == ("patients", "v1")
    text = repr(result) + repr(result.to_dict())
    for value in ("alice", "carol", "123-45", "Alice"):
        assert value not in text
    assert out.schema.field("email").metadata[b"clearhouse.algorithm"] == b"AES-256-GCM"


def test_joinable_column_is_deterministic_and_gcm_is_not(provider: KeyProvider) -> None:
    out, _ = protect_table(intake_table(), intake_policy(), provider, dataset="patients", version="v1")
    ssn, email, name = (out.column(c).to_pylist() for c in ("ssn", "email", "name"))
    assert ssn[0] == ssn[3] and ssn[0] != ssn[1]
    assert email[0] != email[3]  # same plaintext, different tokens
    assert name[0] == name[3]


def test_swapped_cells_fail_authentication(provider: KeyProvider) -> None:
    policy = intake_policy()
    out, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    email = out.column("email").to_pylist()
    email[0], email[2] = email[2], email[0]
    swapped = out.set_column(out.schema.get_field_index("email"), "email", pa.array(email, pa.string()))
    with pytest.raises(DecryptionError, match="row 0 of column 'email' of dataset 'patients' version 'v1'"):
        decrypt_column(swapped, policy, provider, dataset="patients", version="v1", column="email")


def test_value_moved_between_columns_fails(provider: KeyProvider) -> None:
    policy = intake_policy()
    out, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    moved = out.set_column(out.schema.get_field_index("age"), "age", out.column("email"))
    with pytest.raises(DecryptionError, match="column 'age'"):
        decrypt_column(moved, policy, provider, dataset="patients", version="v1", column="age")


def test_reordered_rows_fail_without_row_id(provider: KeyProvider) -> None:
    policy = intake_policy(row_id=None)
    out, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    with pytest.raises(DecryptionError):
        decrypt_column(
            out.take([1, 0, 2, 3]), policy, provider, dataset="patients", version="v1", column="email"
        )
    # with a row_id, rows may be reordered: identity travels with the row
    policy = intake_policy()
    out, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v2")
    back = decrypt_column(
        out.take([3, 2, 1, 0]), policy, provider, dataset="patients", version="v2", column="email"
    )
    assert back.to_pylist() == intake_table().column("email").to_pylist()[::-1]


def test_token_from_another_version_fails(provider: KeyProvider) -> None:
    policy = intake_policy()
    v1, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    v2, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v2")
    assert v1.column("ssn").to_pylist()[0] != v2.column("ssn").to_pylist()[0]  # per-version data keys
    with pytest.raises(DecryptionError, match="data key"):
        decrypt_column(v1, policy, provider, dataset="patients", version="v2", column="ssn")


def test_record_batches_with_row_offset(provider: KeyProvider) -> None:
    policy = intake_policy(row_id=None)
    table = intake_table()
    first, _ = protect_table(table.slice(0, 2), policy, provider, dataset="patients", version="v1")
    second, _ = protect_table(
        table.slice(2), policy, provider, dataset="patients", version="v1", row_offset=2
    )
    whole = pa.concat_tables([first, second])
    assert decrypt_column(
        whole, policy, provider, dataset="patients", version="v1", column="email"
    ).to_pylist() == (table.column("email").to_pylist())
    with pytest.raises(DecryptionError):  # a batch decrypted with the wrong offset
        decrypt_column(second, policy, provider, dataset="patients", version="v1", column="email")


@pytest.mark.parametrize(
    "row_id_treatment",
    [
        pytest.param(enc(), id="row-id-gcm"),
        pytest.param(enc(joinable=True), id="row-id-siv"),
        pytest.param(psd(), id="row-id-pseudonymised"),
    ],
)
def test_protected_row_id_column(provider: KeyProvider, row_id_treatment: dict[str, object]) -> None:
    policy = intake_policy(row_id_treatment=row_id_treatment)
    out, result = protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    assert result.columns[0].column == "patient_id"  # protected first: the others bind to its token
    back = decrypt_table(out, policy, provider, dataset="patients", version="v1")
    assert back.column("email").to_pylist() == intake_table().column("email").to_pylist()
    if row_id_treatment["treatment"] == "encrypt":
        assert back.column("patient_id").to_pylist() == [101, 102, 103, 104]


@pytest.mark.parametrize(
    ("array", "expected_type"),
    [
        (pa.array(["a", None, ""], pa.large_string()), pa.string()),
        (pa.array([b"\x00", None, b"x"], pa.binary()), pa.binary()),
        (pa.array([1.5, None, -0.0]), pa.float64()),
        (pa.array([True, None, False]), pa.bool_()),
        (pa.array(["x", "y", "x"]).dictionary_encode(), pa.string()),
        (pa.array([None, None, None], pa.string()), pa.string()),
    ],
)
def test_column_types(provider: KeyProvider, array: pa.Array, expected_type: pa.DataType) -> None:
    policy = make_policy({"v": enc()})
    out, _ = protect_table(pa.table({"v": array}), policy, provider, dataset="patients", version="v1")
    back = decrypt_column(out, policy, provider, dataset="patients", version="v1", column="v")
    assert back.type == expected_type
    original = array.cast(array.type.value_type) if pa.types.is_dictionary(array.type) else array
    assert back.to_pylist() == original.to_pylist()


def test_dates_are_encrypted_as_text(provider: KeyProvider) -> None:
    import datetime as dt

    policy = make_policy({"dob": enc()})
    table = pa.table({"dob": pa.array([dt.date(1990, 5, 17), None])})
    out, _ = protect_table(table, policy, provider, dataset="patients", version="v1")
    back = decrypt_column(out, policy, provider, dataset="patients", version="v1", column="dob")
    assert back.to_pylist() == ["1990-05-17", None]


@pytest.mark.parametrize(
    ("policy", "table", "message"),
    [
        pytest.param(
            make_policy({"email": enc()}), pa.table({"other": [1]}), "'email'.*missing", id="missing"
        ),
        pytest.param(
            make_policy({"id": keep(), "email": enc()}, row_id="id"),
            pa.table({"id": [1, None], "email": ["a", "b"]}),
            "row_id column 'id' has 1 null",
            id="null-row-id",
        ),
        pytest.param(
            make_policy({"email": enc()}),
            pa.table({"email": pa.array([[1, 2]], pa.list_(pa.int64()))}),
            "Arrow type list",
            id="unsupported-type",
        ),
    ],
)
def test_protect_fails_closed(provider: KeyProvider, policy: Policy, table: pa.Table, message: str) -> None:
    with pytest.raises(ProtectionError, match=message):
        protect_table(table, policy, provider, dataset="patients", version="v1")


def test_no_data_key_without_encrypt_columns(local: LocalKeyringProvider) -> None:
    protect_table(
        pa.table({"email": ["a"]}), make_policy({"email": psd()}), local, dataset="patients", version="v1"
    )
    assert local.status().data_keys == ()


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("name", "pseudonyms are one-way"),
        ("notes_ok", "not encrypted"),
        ("nope", "not declared"),
    ],
)
def test_decrypt_refuses_non_encrypted_columns(provider: KeyProvider, column: str, message: str) -> None:
    policy = intake_policy()
    out, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    with pytest.raises(ProtectionError, match=message):
        decrypt_column(out, policy, provider, dataset="patients", version="v1", column=column)


def test_decrypt_unknown_version(provider: KeyProvider) -> None:
    policy = intake_policy()
    out, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    with pytest.raises(DecryptionError, match="no data key"):
        decrypt_column(out, policy, provider, dataset="patients", version="v9", column="email")


# ------------------------------------------------------------------------- lifecycle end to end


def test_rotation_keeps_old_and_new_data_readable(local: LocalKeyringProvider) -> None:
    policy = intake_policy()
    before, _ = protect_table(intake_table(), policy, local, dataset="patients", version="v1")
    local.rotate_kek()
    after, result = protect_table(intake_table(), policy, local, dataset="patients", version="v2")
    assert result.column("email").kek_version == 2
    assert before.column("email").to_pylist()[0].startswith("chv1.gcm.")
    assert ".1." in before.column("email").to_pylist()[0] and ".2." in after.column("email").to_pylist()[0]
    local.retire_kek(1)  # allowed: rotation re-wrapped v1's data key
    fresh = LocalKeyringProvider(local.keys_dir)
    for table, version in ((before, "v1"), (after, "v2")):
        back = decrypt_table(table, policy, fresh, dataset="patients", version=version)
        assert back.column("email").to_pylist() == intake_table().column("email").to_pylist()
    assert before.column("name").to_pylist() == after.column("name").to_pylist()  # purpose key unchanged


def test_lazy_rotation_then_rewrap_then_retire(local: LocalKeyringProvider) -> None:
    from clearhouse.errors import KeyringError

    policy = intake_policy()
    v1, _ = protect_table(intake_table(), policy, local, dataset="patients", version="v1")
    local.rotate_kek(rewrap=False)
    with pytest.raises(KeyringError, match="still wraps"):
        local.retire_kek(1)
    local.rewrap()
    local.retire_kek(1)
    back = decrypt_column(v1, policy, local, dataset="patients", version="v1", column="email")
    assert back.to_pylist() == intake_table().column("email").to_pylist()


def test_shredded_version_cannot_be_decrypted(provider: KeyProvider) -> None:
    policy = intake_policy()
    v1, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    v2, _ = protect_table(intake_table(), policy, provider, dataset="patients", version="v2")
    provider.shred("patients", "v1")
    with pytest.raises(DecryptionError, match="shredded"):
        decrypt_column(v1, policy, provider, dataset="patients", version="v1", column="email")
    with pytest.raises(ProtectionError, match="shredded"):
        protect_table(intake_table(), policy, provider, dataset="patients", version="v1")
    back = decrypt_column(v2, policy, provider, dataset="patients", version="v2", column="email")
    assert back.to_pylist() == intake_table().column("email").to_pylist()

"""The *protect* stage: encrypt and pseudonymise a table's columns as its policy says.

``encrypt`` columns become AES-256-GCM tokens (AES-SIV if the column is ``joinable``) under the dataset
version's data key; ``pseudonymise`` columns become HMAC pseudonyms under the policy's scope key. Values
become strings; nulls stay null; other columns are untouched.

Row identity (bound into every GCM token's associated data) is, per row: the *released* value of the
policy's ``row_id`` column — i.e. after that column's own protection, because that is what the decrypt
path will read — or, without a ``row_id``, the row's 0-based index within the dataset version
(``row_offset`` + position, so streamed record batches keep version-wide indices). The ``row_id``
column's own GCM tokens use the row index. Consequence: stages after *protect* must not reorder rows
(without a ``row_id``) nor rewrite the ``row_id`` column, or decryption fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from clearhouse.errors import DecryptionError, KeyringError, ProtectionError
from clearhouse.policy import Policy, Treatment
from clearhouse.privacy.crypto import pseudonym
from clearhouse.privacy.crypto.codec import Cell, arrow_type_for, python_values
from clearhouse.privacy.crypto.envelope import CIPHERS, ColumnCipher, column_cipher
from clearhouse.privacy.crypto.keys import DataKey
from clearhouse.privacy.crypto.provider import KeyProvider
from clearhouse.privacy.crypto.tokens import PREFIX, parse

_PROTECTED = (Treatment.ENCRYPT, Treatment.PSEUDONYMISE)


@dataclass(frozen=True)
class ColumnProtection:
    """What was done to one column. Holds counts and key ids only, never values."""

    column: str
    treatment: str
    algorithm: str
    key_id: str
    kek_version: int
    protected: int
    nulls: int
    #: pseudonym scope (``pseudonymise`` only)
    scope: str | None = None


@dataclass(frozen=True)
class ProtectResult:
    """Result of :func:`protect_table`; safe to log, to put in lineage facets and in the catalog."""

    dataset: str
    version: str
    rows: int
    columns: tuple[ColumnProtection, ...]

    def column(self, name: str) -> ColumnProtection:
        """The entry of one column (``KeyError`` if it was not protected)."""
        for entry in self.columns:
            if entry.column == name:
                return entry
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _ctx(dataset: str, version: str, column: str) -> str:
    return f"column {column!r} of dataset {dataset!r} version {version!r}"


def _row_identities(table: pa.Table, policy: Policy, *, row_offset: int, column: str) -> list[str]:
    """Row identity strings for the associated data of ``column`` (see module docstring)."""
    if policy.row_id is None or column == policy.row_id:
        return [f"idx:{row_offset + i}" for i in range(table.num_rows)]
    if policy.row_id not in table.column_names:
        raise ProtectionError(f"row_id column {policy.row_id!r} is missing from the table")
    ids = python_values(table.column(policy.row_id))
    nulls = sum(1 for v in ids if v is None)
    if nulls:
        raise ProtectionError(
            f"row_id column {policy.row_id!r} has {nulls} null value(s); "
            "every row needs an identity to bind its ciphertexts to"
        )
    return ["row:" + (v.hex() if isinstance(v, bytes) else str(v)) for v in ids]


def _replace(
    table: pa.Table, name: str, values: list[str | None], *, treatment: str, algorithm: str
) -> pa.Table:
    index = table.schema.get_field_index(name)
    old = table.schema.field(index)
    metadata = dict(old.metadata or {})
    metadata.update(
        {b"clearhouse.treatment": treatment.encode(), b"clearhouse.algorithm": algorithm.encode()}
    )
    field = pa.field(name, pa.string(), nullable=old.nullable, metadata=metadata)
    return table.set_column(index, field, pa.array(values, type=pa.string()))


def protect_table(
    table: pa.Table,
    policy: Policy,
    provider: KeyProvider,
    *,
    dataset: str,
    version: str,
    row_offset: int = 0,
) -> tuple[pa.Table, ProtectResult]:
    """Encrypt/pseudonymise the policy's ``encrypt``/``pseudonymise`` columns of ``table``.

    Creates the version's data key on first use (idempotent, so retries and further record batches of
    the same version reuse it). Raises ``ProtectionError``/``KeyringError`` — never returns a partially
    protected table — if a column is missing, a key is unavailable or a value cannot be encoded.
    """
    targets = [name for name, col in policy.columns.items() if col.treatment in _PROTECTED]
    missing = [name for name in targets if name not in table.column_names]
    if missing:
        raise ProtectionError(
            f"dataset {dataset!r} version {version!r}: column(s) {', '.join(map(repr, missing))} "
            "must be protected but are missing from the table"
        )
    # the row_id column first: the other columns bind to its released (protected) value
    if policy.row_id in targets:
        targets.remove(policy.row_id)
        targets.insert(0, policy.row_id)

    needs_data_key = any(policy.columns[n].treatment is Treatment.ENCRYPT for n in targets)
    data_key: DataKey | None = provider.create_data_key(dataset, version) if needs_data_key else None
    pseudonymisers: dict[str, pseudonym.Pseudonymiser] = {}
    purpose = None
    if any(policy.columns[n].treatment is Treatment.PSEUDONYMISE for n in targets):
        purpose = provider.purpose_key(policy.scope)

    results: list[ColumnProtection] = []
    for name in targets:
        col = policy.columns[name]
        values = python_values(table.column(name))
        nulls = sum(1 for v in values if v is None)
        try:
            if col.treatment is Treatment.ENCRYPT:
                assert data_key is not None  # created above whenever an encrypt column exists
                cipher = column_cipher(data_key, dataset=dataset, column=name, deterministic=col.joinable)
                out = _encrypt_values(cipher, values, table, policy, row_offset=row_offset, column=name)
                algorithm, key_id, kek_version, scope = (
                    cipher.algorithm,
                    data_key.key_id,
                    data_key.kek_version,
                    None,
                )
            else:
                assert purpose is not None
                normalise = str(col.params.get("normalise", "none"))
                pseudo = pseudonymisers.get(normalise) or pseudonymisers.setdefault(
                    normalise, pseudonym.Pseudonymiser(purpose, normalise=normalise)
                )
                make = pseudo.pseudonym
                out = [None if v is None else make(v) for v in values]
                algorithm, key_id, kek_version, scope = (
                    pseudonym.ALGORITHM,
                    purpose.key_id,
                    purpose.kek_version,
                    purpose.scope,
                )
        except ProtectionError as exc:
            raise type(exc)(f"cannot protect {_ctx(dataset, version, name)}: {exc}") from exc
        table = _replace(table, name, out, treatment=col.treatment.value, algorithm=algorithm)
        results.append(
            ColumnProtection(
                column=name,
                treatment=col.treatment.value,
                algorithm=algorithm,
                key_id=key_id,
                kek_version=kek_version,
                protected=len(values) - nulls,
                nulls=nulls,
                scope=scope,
            )
        )
    return table, ProtectResult(dataset=dataset, version=version, rows=table.num_rows, columns=tuple(results))


def _encrypt_values(
    cipher: ColumnCipher,
    values: list[Cell | None],
    table: pa.Table,
    policy: Policy,
    *,
    row_offset: int,
    column: str,
) -> list[str | None]:
    encrypt = cipher.encrypt
    if cipher.alg == "siv":  # deterministic: no row binding, so skip building identities
        return [None if v is None else encrypt(v, "") for v in values]
    rows = _row_identities(table, policy, row_offset=row_offset, column=column)
    return [None if v is None else encrypt(v, r) for v, r in zip(values, rows, strict=True)]


# ------------------------------------------------------------------------------------ decrypt path


def decrypt_column(
    table: pa.Table,
    policy: Policy,
    provider: KeyProvider,
    *,
    dataset: str,
    version: str,
    column: str,
    row_offset: int = 0,
) -> pa.Array:
    """Decrypt one ``encrypt`` column of a protected table (the privileged path; callers check access).

    Returns the plaintext values with their original kind (string, integer, float, boolean, binary;
    other Arrow types come back as their string form). Raises ``DecryptionError`` naming the dataset,
    version, column and row index — never a value — if the version's key is shredded or missing, or a
    token was altered, moved to another cell or encrypted under another key.
    """
    ctx = _ctx(dataset, version, column)
    spec = policy.columns.get(column)
    if spec is None:
        raise ProtectionError(f"{ctx} is not declared in policy {policy.id!r}")
    if spec.treatment is not Treatment.ENCRYPT:
        why = "pseudonyms are one-way" if spec.treatment is Treatment.PSEUDONYMISE else "it is not encrypted"
        raise ProtectionError(f"{ctx} has treatment {spec.treatment.value!r}; {why}")
    if column not in table.column_names:
        raise ProtectionError(f"{ctx} is missing from the table")
    array = table.column(column)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raise DecryptionError(f"{ctx} holds {array.type}, not ciphertext tokens")
    try:
        key = provider.get_data_key(dataset, version)
    except KeyringError as exc:
        raise DecryptionError(f"cannot decrypt {ctx}: {exc}") from exc

    token_list: list[str | None] = array.to_pylist()
    rows: list[str] | None = None
    ciphers: dict[str, ColumnCipher] = {}
    out: list[Cell | None] = []
    for i, token in enumerate(token_list):
        if token is None:
            out.append(None)
            continue
        try:
            # cheap split to pick the cipher; the cipher itself parses and validates the whole token
            alg = token.split(".", 2)[1] if token.startswith(PREFIX + ".") else parse(token).alg
            cipher = ciphers.get(alg)
            if cipher is None:
                cls = CIPHERS.get(alg)
                if cls is None:
                    raise DecryptionError(f"unknown ciphertext algorithm {alg!r}")
                cipher = ciphers[alg] = cls(key, dataset=dataset, column=column)
            if alg == "siv":
                out.append(cipher.decrypt(token, ""))
                continue
            if rows is None:
                rows = _row_identities(table, policy, row_offset=row_offset, column=column)
            out.append(cipher.decrypt(token, rows[i]))
        except DecryptionError as exc:
            raise DecryptionError(f"cannot decrypt row {row_offset + i} of {ctx}: {exc}") from exc
    return _to_arrow(out)


def _to_arrow(values: list[Cell | None]) -> pa.Array:
    try:
        return pa.array(values, type=arrow_type_for(values))
    except (pa.ArrowInvalid, OverflowError):  # e.g. uint64 values beyond int64
        return pa.array(values)


def decrypt_table(
    table: pa.Table,
    policy: Policy,
    provider: KeyProvider,
    *,
    dataset: str,
    version: str,
    columns: Iterable[str] | None = None,
    row_offset: int = 0,
) -> pa.Table:
    """Decrypt ``columns`` (default: every ``encrypt`` column of the policy present in the table)."""
    names = (
        list(columns)
        if columns is not None
        else [n for n in policy.columns_with(treatment=Treatment.ENCRYPT) if n in table.column_names]
    )
    # decrypt every column against the protected table first: if the row_id column is itself encrypted,
    # the other columns' associated data binds to its *token*, not to its plaintext
    plain = {
        name: decrypt_column(
            table, policy, provider, dataset=dataset, version=version, column=name, row_offset=row_offset
        )
        for name in names
    }
    for name, values in plain.items():
        table = table.set_column(table.schema.get_field_index(name), pa.field(name, values.type), values)
    return table

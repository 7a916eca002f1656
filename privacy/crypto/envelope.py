"""Field encryption under a dataset version's data key: AES-256-GCM, or AES-SIV for joinable columns.

One cipher object per column: the per-column subkey is derived once with HKDF-SHA256 from the data key
(info binds algorithm, dataset and column), so a column's values never share a key with another column
and there is no per-value key derivation.

* ``gcm`` — random 96-bit nonce per value; associated data = token header, dataset, column and the row
  identity, so a value copied into another cell (other row, column or dataset) fails authentication.
  A random nonce is safe up to ~2**32 values per column subkey (NIST SP 800-38D).
* ``siv`` — AES-SIV with a 512-bit subkey: deterministic, so equal values in a column give equal tokens
  (equality joins and group-bys work on ciphertext). Associated data = header, dataset, column; it cannot
  bind the row, since that would break determinism. It reveals which cells are equal — by design.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clearhouse.errors import DecryptionError
from clearhouse.privacy.crypto import codec, tokens
from clearhouse.privacy.crypto._encoding import b64url_encode, pack
from clearhouse.privacy.crypto.codec import Cell
from clearhouse.privacy.crypto.keys import DataKey

_NONCE = 12


def derive_subkey(key: DataKey, *, alg: str, dataset: str, column: str, length: int) -> bytes:
    """Per-column subkey of a data key (HKDF-SHA256, info binds algorithm, dataset and column)."""
    info = pack("clearhouse-field-v1", alg, dataset, column)
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key.key_bytes())


class ColumnCipher(ABC):
    """Encrypts and decrypts the cells of one column of one dataset version."""

    #: token algorithm id
    alg: ClassVar[str]
    #: human-readable algorithm name for results and reports
    algorithm: ClassVar[str]

    def __init__(self, key: DataKey, *, dataset: str, column: str) -> None:
        self.key_id = key.key_id
        self.kek_version = key.kek_version
        self.dataset = dataset
        self.column = column
        self._header = tokens.header(self.alg, key.key_id, key.kek_version)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(key_id={self.key_id!r}, dataset={self.dataset!r}, column={self.column!r})"
        )

    def _parse(self, token: str) -> tokens.ParsedToken:
        parsed = tokens.parse(token)
        if parsed.alg != self.alg:
            raise DecryptionError(f"token algorithm {parsed.alg!r} is not {self.alg!r}")
        if parsed.key_id != self.key_id:
            raise DecryptionError(
                f"token was encrypted under data key {parsed.key_id}, not {self.key_id} "
                f"(dataset {self.dataset!r}, column {self.column!r})"
            )
        return parsed

    @abstractmethod
    def encrypt(self, value: Cell, row: str) -> str:
        """Token for ``value`` in the cell identified by ``row``."""

    @abstractmethod
    def decrypt(self, token: str, row: str) -> Cell:
        """Plaintext of ``token`` read from the cell identified by ``row``; ``DecryptionError`` otherwise."""


class GcmColumnCipher(ColumnCipher):
    """AES-256-GCM, random nonce, associated data bound to dataset, column and row."""

    alg = "gcm"
    algorithm = "AES-256-GCM"

    def __init__(self, key: DataKey, *, dataset: str, column: str) -> None:
        super().__init__(key, dataset=dataset, column=column)
        self._aead = AESGCM(derive_subkey(key, alg=self.alg, dataset=dataset, column=column, length=32))
        self._prefix = self._header + "."
        self._aad_prefix = pack(self._header, dataset, column)
        self._aad_by_header: dict[str, bytes] = {self._header: self._aad_prefix}

    def encrypt(self, value: Cell, row: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, codec.encode(value), self._aad_prefix + pack(row))
        return self._prefix + b64url_encode(nonce + sealed)

    def decrypt(self, token: str, row: str) -> Cell:
        parsed = self._parse(token)
        # tokens written before a KEK rotation carry the older kek_ver in their (authenticated) header
        aad = self._aad_by_header.get(parsed.header)
        if aad is None:
            aad = self._aad_by_header.setdefault(
                parsed.header, pack(parsed.header, self.dataset, self.column)
            )
        payload = parsed.payload
        if len(payload) < _NONCE + 16 + 1:
            raise DecryptionError("ciphertext token is truncated")
        try:
            plain = self._aead.decrypt(payload[:_NONCE], payload[_NONCE:], aad + pack(row))
        except InvalidTag as exc:
            raise DecryptionError(
                "ciphertext failed authentication (altered, moved from another cell, or another key)"
            ) from exc
        return _decode(plain)


class SivColumnCipher(ColumnCipher):
    """AES-SIV (RFC 5297) with a 512-bit per-column subkey: deterministic, for joinable columns."""

    alg = "siv"
    algorithm = "AES-SIV-512"

    def __init__(self, key: DataKey, *, dataset: str, column: str) -> None:
        super().__init__(key, dataset=dataset, column=column)
        self._aead = AESSIV(derive_subkey(key, alg=self.alg, dataset=dataset, column=column, length=64))
        self._prefix = self._header + "."
        self._ad = [self._header.encode("ascii"), dataset.encode("utf-8"), column.encode("utf-8")]

    def encrypt(self, value: Cell, row: str) -> str:
        return self._prefix + b64url_encode(self._aead.encrypt(codec.encode(value), self._ad))

    def decrypt(self, token: str, row: str) -> Cell:
        parsed = self._parse(token)
        ad = [parsed.header.encode("ascii"), *self._ad[1:]]
        if len(parsed.payload) < 16 + 1:
            raise DecryptionError("ciphertext token is truncated")
        try:
            plain = self._aead.decrypt(parsed.payload, ad)
        except InvalidTag as exc:
            raise DecryptionError(
                "ciphertext failed authentication (altered, moved from another column, or another key)"
            ) from exc
        return _decode(plain)


def _decode(plain: bytes) -> Cell:
    try:
        return codec.decode(plain)
    except (ValueError, UnicodeDecodeError) as exc:
        # authenticated, so only a bug or a foreign writer with our key gets here
        raise DecryptionError("decrypted value has an unknown encoding") from exc


#: token algorithm id → cipher class (the decrypt path picks the class from the token)
CIPHERS: dict[str, type[ColumnCipher]] = {"gcm": GcmColumnCipher, "siv": SivColumnCipher}


def column_cipher(key: DataKey, *, dataset: str, column: str, deterministic: bool) -> ColumnCipher:
    """The cipher for an ``encrypt`` column: AES-SIV if ``deterministic`` (policy ``joinable``), else GCM."""
    cls = SivColumnCipher if deterministic else GcmColumnCipher
    return cls(key, dataset=dataset, column=column)


def cipher_for_token(token: str, key: DataKey, *, dataset: str, column: str) -> ColumnCipher:
    """The cipher class named by a token's algorithm id, keyed for this column."""
    alg = tokens.parse(token).alg
    cls = CIPHERS.get(alg)
    if cls is None:
        raise DecryptionError(f"unknown ciphertext algorithm {alg!r} in token (column {column!r})")
    return cls(key, dataset=dataset, column=column)

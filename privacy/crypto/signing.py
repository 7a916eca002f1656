"""The governance ledger's signing key: Ed25519, derived from a keyring-held secret.

The private key is never stored on its own: its 32-byte seed is the keyring's purpose key of the scope
:data:`LEDGER_SCOPE`, wrapped by the key-encryption key like every other key (rotated with it, and
unreadable without the root key). Its public key is written next to the keyring and into every release
manifest, so a release can be checked where the keyring is not at hand.
"""

from __future__ import annotations

import base64
import hashlib
from typing import NoReturn

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearhouse.privacy.crypto.provider import KeyProvider

LEDGER_SCOPE = "clearhouse-ledger-signing"


class LedgerSigner:
    """Signs ledger entry hashes; ``key_id`` is the public key's fingerprint."""

    __slots__ = ("_private", "_public", "key_id")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed has 32 bytes")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self._public = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = hashlib.sha256(self._public).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"LedgerSigner(key_id={self.key_id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("LedgerSigner holds key material and cannot be pickled")

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def public_key_bytes(self) -> bytes:
        return self._public

    def public_key_b64(self) -> str:
        return base64.b64encode(self._public).decode("ascii")


def ledger_signer(provider: KeyProvider) -> LedgerSigner:
    """The ledger signer of this keyring (created on first use, stable afterwards)."""
    return LedgerSigner(provider.purpose_key(LEDGER_SCOPE).key_bytes())

"""Key wrapping: AES-256-GCM with a label as associated data.

Chosen over RFC 3394 AES key wrap because the label binds each wrapped key to *where* it sits in the
keyring (its kind, id, dataset/version or scope, and the wrapping KEK version): a wrapped key copied to
another entry of the file fails to unwrap instead of silently becoming that entry's key.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clearhouse.privacy.crypto._encoding import b64_std_decode, b64_std_encode, pack

_NONCE = 12


class UnwrapError(Exception):
    """A wrapped key did not authenticate (wrong wrapping key, wrong label, or a damaged keyring).

    Internal: callers translate it into a ``KeyringError`` that names the entry.
    """


def label(*parts: str | int) -> bytes:
    """Associated data of a wrapped entry, e.g. ``label("dek", key_id, dataset, version, kek_version)``."""
    return pack("clearhouse-wrap-v1", *(str(p) for p in parts))


def wrap(wrapping_key: bytes, key: bytes, aad: bytes) -> str:
    """Encrypt ``key`` under ``wrapping_key``; returns base64 of nonce || ciphertext || tag."""
    nonce = os.urandom(_NONCE)
    return b64_std_encode(nonce + AESGCM(wrapping_key).encrypt(nonce, key, aad))


def unwrap(wrapping_key: bytes, blob: str, aad: bytes) -> bytes:
    """Inverse of :func:`wrap`; raises :class:`UnwrapError` on any failure (never returns a garbage key)."""
    try:
        raw = b64_std_decode(blob)
        if len(raw) <= _NONCE + 16:
            raise UnwrapError("wrapped key is truncated")
        return AESGCM(wrapping_key).decrypt(raw[:_NONCE], raw[_NONCE:], aad)
    except (InvalidTag, ValueError, TypeError) as exc:
        raise UnwrapError("wrapped key did not authenticate") from exc

"""The ciphertext token format.

A protected cell holds one ASCII word::

    chv1.<alg>.<key_id>.<kek_ver>.<payload>
    chv1.gcm.dk_1f9c2a7d0b3e4f51.2.q8Vb...      AES-256-GCM:  payload = nonce(12) || ciphertext || tag(16)
    chv1.siv.dk_1f9c2a7d0b3e4f51.2.Jd0x...      AES-SIV-512:  payload = siv(16) || ciphertext

* ``chv1`` — format version; a new layout gets a new prefix, old tokens stay readable.
* ``alg`` — ``gcm`` (randomised) or ``siv`` (deterministic, for joinable columns).
* ``key_id`` — the data key of the dataset version (``[A-Za-z0-9_-]``, no dots).
* ``kek_ver`` — the KEK version that wrapped that data key when the value was encrypted. Decryption does
  not need it (rotation re-wraps data keys, it never re-encrypts values); it tells an auditor which values
  were produced before a rotation.
* ``payload`` — unpadded base64url.

Everything before the last dot (the *header*) is part of the authenticated associated data, so changing
any character of a token — header or payload — makes decryption fail rather than succeed differently.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from clearhouse.errors import DecryptionError
from clearhouse.privacy.crypto._encoding import b64url_decode

PREFIX = "chv1"
_TOKEN = re.compile(r"chv1\.([a-z0-9]{1,8})\.([A-Za-z0-9_-]{1,64})\.([1-9][0-9]{0,8})\.([A-Za-z0-9_-]+)")


class ParsedToken(NamedTuple):
    """A token split into its parts (no plaintext involved). A tuple: parsed once per cell, so cheap."""

    alg: str
    key_id: str
    kek_version: int
    header: str
    payload: bytes


def header(alg: str, key_id: str, kek_version: int) -> str:
    """The token header, e.g. ``chv1.gcm.dk_….2``; it doubles as associated data."""
    return f"{PREFIX}.{alg}.{key_id}.{kek_version}"


def parse(token: str) -> ParsedToken:
    """Split and decode a token. Raises ``DecryptionError`` (without echoing the token) if malformed."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise DecryptionError(
            f"not a Clearhouse ciphertext token (expected {PREFIX}.<alg>.<key_id>.<kek_ver>.<data>)"
        )
    alg, key_id, kek, payload = match.groups()
    try:
        raw = b64url_decode(payload)
    except ValueError as exc:
        raise DecryptionError("ciphertext token payload is not canonical base64url") from exc
    return ParsedToken(alg, key_id, int(kek), token[: match.start(4) - 1], raw)

"""Byte-level helpers shared by the crypto modules: unambiguous packing and strict base64url.

Private to the package: the formats they produce are part of the on-disk keyring and of every token, so
changing them is a format change (bump ``chv1`` / the keyring format).
"""

from __future__ import annotations

import base64
import binascii
import re

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B64URL_INDEX = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}


def pack(*parts: str | bytes) -> bytes:
    """Length-prefix each part so that no two different part lists encode to the same bytes.

    Used for associated data and wrap labels: a plain separator would let ``("a.b", "c")`` collide with
    ``("a", "b.c")``, and row ids come from the data, so they may contain any separator.
    """
    out = bytearray()
    for part in parts:
        raw = part.encode("utf-8") if isinstance(part, str) else part
        out += len(raw).to_bytes(4, "big")
        out += raw
    return bytes(out)


def b64url_encode(data: bytes) -> str:
    """URL-safe base64 without padding (tokens stay one ASCII word, no ``=`` to escape in CSV/URLs)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strictly decode unpadded base64url; raise ``ValueError`` on anything non-canonical.

    The standard decoder silently drops characters outside the alphabet and ignores the unused low bits of
    the last character, so two different strings could decode to the same bytes. Checking the alphabet and
    that those unused bits are zero makes every character of a token significant, which is what tamper
    detection promises.
    """
    rest = len(text) % 4
    if rest == 1 or not _B64URL.fullmatch(text):
        raise ValueError("not unpadded base64url")
    # 2 trailing chars carry 1 byte (4 unused bits), 3 carry 2 bytes (2 unused bits)
    if rest and _B64URL_INDEX[text[-1]] & (0x0F if rest == 2 else 0x03):
        raise ValueError("non-canonical base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not unpadded base64url") from exc


def b64_std_encode(data: bytes) -> str:
    """Standard padded base64, used inside the keyring JSON."""
    return base64.b64encode(data).decode("ascii")


def b64_std_decode(text: str) -> bytes:
    """Strictly decode standard padded base64 (keyring JSON fields)."""
    return base64.b64decode(text.encode("ascii"), validate=True)

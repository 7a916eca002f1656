"""Keyed pseudonyms: HMAC-SHA256 under a scope's purpose key.

``psd_`` + the first 128 bits of the HMAC in lower-case hex (32 characters; hex rather than base32
because ``base64.b32encode`` costs twice the HMAC itself). Equal inputs give equal
pseudonyms across runs and across every dataset whose policy shares the scope (``purpose_id``), so they
can be joined; different scopes give unrelated pseudonyms, so data released for one purpose cannot be
linked to another's. Without the purpose key a pseudonym cannot be computed or reversed (unlike a plain
hash, which anyone can compute over a dictionary of e-mail addresses).

Normalisation (policy column ``params: {normalise: ...}``) is applied before the HMAC so that trivially
different spellings of one identifier meet:

``none``            (default) the value as is
``strip``           leading/trailing whitespace removed
``casefold``        Unicode case-folded (``"Straße"`` → ``"strasse"``), after NFKC normalisation
``strip_casefold``  both — usually right for e-mail addresses and usernames

Non-string values are pseudonymised through ``str()`` (an integer 42 and the string ``"42"`` meet).
"""

from __future__ import annotations

import hmac
import unicodedata
from collections.abc import Callable
from typing import Final

from clearhouse.errors import ProtectionError
from clearhouse.privacy.crypto.codec import Cell
from clearhouse.privacy.crypto.keys import PurposeKey

PREFIX: Final = "psd_"
TOKEN_BYTES: Final = 16  # 128 bits: collisions stay negligible (~2**-64 at 2**32 distinct values)
ALGORITHM: Final = "HMAC-SHA256"


def _nfkc_casefold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


NORMALISERS: dict[str, Callable[[str], str]] = {
    "none": lambda text: text,
    "strip": str.strip,
    "casefold": _nfkc_casefold,
    "strip_casefold": lambda text: _nfkc_casefold(text.strip()),
}


class Pseudonymiser:
    """Pseudonyms of one scope. Build once per column; :meth:`pseudonym` is cheap."""

    def __init__(self, key: PurposeKey, *, normalise: str = "none") -> None:
        if normalise not in NORMALISERS:
            raise ProtectionError(
                f"unknown pseudonym normalisation {normalise!r}; choose one of {', '.join(NORMALISERS)}"
            )
        self.scope = key.scope
        self.key_id = key.key_id
        self.kek_version = key.kek_version
        self.normalise = normalise
        self._normalise = NORMALISERS[normalise]
        # hmac.new once, copy() per value: skips re-hashing the padded key for every cell
        self._base = hmac.new(key.key_bytes(), digestmod="sha256")

    def __repr__(self) -> str:
        return f"Pseudonymiser(scope={self.scope!r}, key_id={self.key_id!r}, normalise={self.normalise!r})"

    def pseudonym(self, value: Cell) -> str:
        """``psd_<32 hex chars>`` for ``value`` (after normalisation)."""
        text = (
            value
            if isinstance(value, str)
            else (value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value))
        )
        mac = self._base.copy()
        mac.update(self._normalise(text).encode("utf-8", "surrogatepass"))
        return PREFIX + mac.digest()[:TOKEN_BYTES].hex()

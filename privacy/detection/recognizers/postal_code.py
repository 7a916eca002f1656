"""Postal codes: US ZIP (+4), UK postcodes, and 4-5 digit codes next to a postal word."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer

_ZIP = re.compile(r"(?<![\w.,$#-])\d{5}(?:-\d{4})?(?![\w.,%-]\d|\w)")
_UK = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")
_CUED = re.compile(
    r"\b(?:zip|postal|post\s*code|postcode|plz|cap)(?:\s*code)?\s*(?:[:#]|is)?\s*(?P<v>\d{3,5}(?:[-\s]\d{2,4})?)\b",
    re.IGNORECASE,
)
_CONTEXT = frozenset({"zip", "postal", "postcode", "code", "address", "state"})


class PostalCodeRecognizer(ClearhouseRecognizer):
    """ZIP_CODE: cued codes (0.8), UK postcodes (0.6) and bare 5-digit numbers (0.3 + context)."""

    name = "postal_code"
    entities = ("ZIP_CODE",)
    needs = "digit"

    def find(self, text: str) -> list[Candidate]:
        out = [Candidate(m.start("v"), m.end("v"), "ZIP_CODE", 0.8) for m in _CUED.finditer(text)]
        out += [Candidate(m.start(), m.end(), "ZIP_CODE", 0.6) for m in _UK.finditer(text)]
        out += [Candidate(m.start(), m.end(), "ZIP_CODE", 0.3, _CONTEXT) for m in _ZIP.finditer(text)]
        return out

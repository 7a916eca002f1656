"""Web addresses: with a scheme or "www.", or a bare domain under a common generic top-level domain.

Presidio's URL recognizer accepts any "word.tld" and so fires on sentence joins such as "asleep.Pt" or
"NIGHTS.PR" (country-code TLDs) in notes typed without spaces; bare domains here need a generic TLD.
"""

from __future__ import annotations

import re

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer

_SCHEME = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'|]+|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s<>\"'|]*", re.IGNORECASE)
_BARE = re.compile(
    r"(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|org|net|edu|gov|info|biz|io|app|dev|ai|co)"
    r"(?:\.[a-z]{2})?(?:/[^\s<>\"'|]*)?(?![\w@-])",
    re.IGNORECASE,
)


class ClearhouseUrlRecognizer(ClearhouseRecognizer):
    """URL: scheme or www. (0.9); bare domain with a generic TLD (0.6)."""

    name = "url"
    entities = ("URL",)
    needs = "."

    def find(self, text: str) -> list[Candidate]:
        out = [Candidate(m.start(), len(m.group().rstrip(".,;:!?)")) + m.start(), "URL", 0.9)
               for m in _SCHEME.finditer(text)]
        out += [Candidate(m.start(), len(m.group().rstrip(".,;:!?)")) + m.start(), "URL", 0.6)
                for m in _BARE.finditer(text)]
        return out

"""Ages: "74 yo", "31 y/o", "a 79 year old", "46-year-old", "aged 74", "age: 74", "just turned 60"."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer

_AFTER = re.compile(
    r"\b(?P<v>\d{1,3})(?:\s*|-)(?:yo|y/o|y\.o\.?|yrs?\.?[\s-]*old|years?[\s-]*old|year-old|yr-old|"
    r"yoa|years?\s+of\s+age|months?[\s-]*old|mo[\s-]*old)\b",
    re.IGNORECASE,
)
_BEFORE = re.compile(
    r"\b(?:age[ds]?|aged|turned|turning|turn|turns)\s*(?:[:=]|is|was|of)?\s*(?P<v>\d{1,3})\b(?!\s*(?:%|mg|ml|kg|degrees|times))",
    re.IGNORECASE,
)


class AgeRecognizer(ClearhouseRecognizer):
    """AGE for a person's age in years (0-125) written next to an age word."""

    name = "age"
    entities = ("AGE",)
    needs = "digit"

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for pattern, score in ((_AFTER, 0.85), (_BEFORE, 0.75)):
            for m in pattern.finditer(text):
                if int(m.group("v")) <= 125:
                    out.append(Candidate(m.start("v"), m.end("v"), "AGE", score))
        return out

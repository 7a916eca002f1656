"""Names signed with a credential: "Odell W. Brightwater, RRT", "jane doe rn", "A. Smith, MD"."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import NOT_NAMES

_CRED = (r"rn|rrt|md|np|pa-c|phd|lpn|lvn|cna|rph|pharmd|dds|dmd|esq|cpa|msw|lcsw|crna|aprn|fnp|"
         r"bsn|msn|slp")
_NAME = r"[^\W\d_][^\W\d_'\u2019-]+"
_SIGNED = re.compile(
    rf"(?P<v>{_NAME}(?:[ \t]+(?:[^\W\d_]\.?[ \t]+)?{_NAME}){{1,2}}|(?:[^\W\d_]\.[ \t]*){{1,2}}{_NAME})"
    rf",[ \t]*(?:{_CRED})\b",
    re.IGNORECASE,
)


class SignatureNameRecognizer(ClearhouseRecognizer):
    """PERSON for two or three name words (or initials + surname) right before a comma and a
    professional credential; every word must be a non-common word."""

    name = "signature_name"
    prefilter = re.compile(r",[ \t]*(?:" + _CRED + r")\b", re.IGNORECASE)
    entities = ("PERSON",)

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _SIGNED.finditer(text):
            words = [w.strip(".,") for w in m.group("v").split()]
            if any(w.lower() in NOT_NAMES for w in words if len(w) > 1):
                continue
            out.append(Candidate(m.start("v"), m.end("v"), "PERSON", 0.75))
        return out

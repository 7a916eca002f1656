"""Recognizers declared in the policy YAML: regex patterns and deny lists with context words."""

from __future__ import annotations

import re

from clearhouse.errors import DetectionError
from clearhouse.policy import RecognizerSpec
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer


class PolicyPatternRecognizer(ClearhouseRecognizer):
    """One ``detection.recognizers`` entry: each pattern match (and each deny-list term, matched
    case-insensitively on word boundaries) is reported with its score, raised by the context words."""

    def __init__(self, spec: RecognizerSpec, index: int) -> None:
        self.name = f"policy_{spec.entity.lower()}_{index}"
        self.entity = spec.entity
        self.entities = (spec.entity,)
        self.context = frozenset(w.lower() for w in spec.context)
        try:
            self.patterns = [(re.compile(p.regex), p.score) for p in spec.patterns]
        except re.error as exc:  # the policy validator compiles them too; keep a clear message anyway
            raise DetectionError(f"policy recognizer {self.name}: regex does not compile: {exc}") from exc
        self.deny = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in spec.deny_list) + r")(?!\w)", re.IGNORECASE)
            if spec.deny_list else None
        )
        super().__init__()

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for regex, score in self.patterns:
            for m in regex.finditer(text):
                if m.end() > m.start():
                    out.append(Candidate(m.start(), m.end(), self.entity, score, self.context))
        if self.deny is not None:
            out += [Candidate(m.start(), m.end(), self.entity, 1.0) for m in self.deny.finditer(text)]
        return out

"""Adapter running one of Presidio's predefined pattern recognizers (with its validators: Luhn for
cards, SSN rules, IBAN mod-97, checksum of NHS numbers, …) inside Clearhouse's detector."""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer

from clearhouse.privacy.detection.recognizers.base import Candidate, TextRecognizer

#: entity → a cheap regex every match of Presidio's patterns implies (most texts skip most recognizers)
_PREFILTER = {
    "EMAIL_ADDRESS": re.compile(r"@"),
    "IP_ADDRESS": re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]|::"),
    "MAC_ADDRESS": re.compile(r"[0-9A-Fa-f]{2}[:.-][0-9A-Fa-f]{2}[:.-]"),
    "UUID": re.compile(r"[0-9A-Fa-f]{8}-"),
    "CRYPTO": re.compile(r"[A-Za-z0-9]{25}"),
    "IBAN_CODE": re.compile(r"[A-Za-z]{2}\d{2}"),
    "CREDIT_CARD": re.compile(r"\d{4}"),
}
_DIGITS3 = re.compile(r"\d{3}")


class PresidioPatternRecognizer(TextRecognizer):
    """Wraps a Presidio ``EntityRecognizer`` that needs no NLP artefacts."""

    def __init__(self, recognizer: EntityRecognizer) -> None:
        self.inner = recognizer
        self.name = f"presidio_{type(recognizer).__name__}"
        self.entities = tuple(recognizer.supported_entities)
        self.context = frozenset(w.lower() for w in (recognizer.context or []))
        entity = self.entities[0] if self.entities else ""
        # national IDs, licences and bank numbers all contain a run of at least three digits
        self.prefilter = _PREFILTER.get(entity, _DIGITS3)

    def find(self, text: str) -> list[Candidate]:
        # pattern recognizers never read the NLP artefacts; None keeps spaCy out of this path
        results = self.inner.analyze(text=text, entities=list(self.entities), nlp_artifacts=None)  # type: ignore[arg-type]
        out: list[Candidate] = []
        for r in results or []:
            meta = r.recognition_metadata or {}
            validated = r.score >= 1.0 or bool(meta.get("validation_result"))
            out.append(Candidate(r.start, r.end, r.entity_type, float(r.score), self.context, validated))
        return out

"""Adapter registering one of Presidio's predefined pattern recognizers (with its validators: Luhn for
cards, SSN rules, IBAN mod-97, checksum of NHS numbers, …) behind a cheap precondition."""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from clearhouse.privacy.detection.recognizers.base import VALIDATED_KEY, Candidate, ClearhouseRecognizer

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


class PresidioPatternRecognizer(ClearhouseRecognizer):
    """Wraps a Presidio ``EntityRecognizer`` that needs no NLP artefacts.

    Why a wrapper rather than the recognizer itself in the registry: Presidio runs every pattern of every
    recognizer over every text; the precondition here (an ``@`` for e-mail, three digits for national
    IDs) skips most of them on most texts. Its context words are the wrapped recognizer's, applied by the
    analyzer's context enhancer as for any Presidio recognizer.
    """

    def __init__(self, recognizer: EntityRecognizer) -> None:
        self.inner = recognizer
        self.name = f"presidio_{type(recognizer).__name__}"
        self.entities = tuple(recognizer.supported_entities)
        self.context = frozenset(w.lower() for w in (recognizer.context or []))
        entity = self.entities[0] if self.entities else ""
        # national IDs, licences and bank numbers all contain a run of at least three digits
        self.prefilter = _PREFILTER.get(entity, _DIGITS3)
        super().__init__(recognizer.supported_language)

    def _results(self, text: str, nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        # pattern recognizers never read the NLP artefacts
        results = self.inner.analyze(text=text, entities=list(self.entities), nlp_artifacts=nlp_artifacts)  # type: ignore[arg-type]
        for r in results or []:
            meta = r.recognition_metadata if r.recognition_metadata is not None else {}
            meta[VALIDATED_KEY] = r.score >= 1.0 or bool(meta.get("validation_result"))
            if r.score >= 1.0:  # no context word can raise it: the enhancer may skip it
                meta[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
            # results are ours in the engine (the enhancer finds this recognizer's context by this id)
            meta[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] = self.id
            meta[RecognizerResult.RECOGNIZER_NAME_KEY] = self.name
            r.recognition_metadata = meta
        return list(results or [])

    def analyze(self, text: str, entities: list[str] | None = None,
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        return self._results(text, nlp_artifacts) if self.applies(text) else []

    def enhance_using_context(self, text: str, raw_recognizer_results: list[RecognizerResult],
                              other_raw_recognizer_results: list[RecognizerResult],
                              nlp_artifacts: NlpArtifacts | None,
                              context: list[str] | None = None) -> list[RecognizerResult]:
        """Left to the analyzer's context enhancer (Presidio's own recognizers use one context list)."""
        return raw_recognizer_results

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for r in self._results(text):
            out.append(Candidate(r.start, r.end, r.entity_type, float(r.score), self.context,
                                 bool(r.recognition_metadata.get(VALIDATED_KEY))))
        return out

"""Context enhancement for Presidio's recognizers and YAML recognizers: Presidio's
``LemmaContextAwareEnhancer`` over the artefacts of :mod:`clearhouse.privacy.detection.nlp_engine`.

Two differences from Presidio's defaults, both to keep what Clearhouse's detection did before it ran
through the ``AnalyzerEngine``:

* lemmas are the lower-cased token texts (the pipeline runs no lemmatizer: it costs as much as NER), so
  ALL-CAPS and lower-case text behave alike;
* matching mode ``prefix`` (the default here): a word supports a context word when it equals it or, for
  context words of four letters or more, starts with it ("accounts" → "account", while "lic" does not
  fire inside "duplicate" as Presidio's ``substring`` mode does). ``whole_word`` and ``substring`` are
  Presidio's modes and can be chosen in an analyzer configuration file. Two words after a match count
  too (Presidio's default is none): "call 415 555 0100 (cell)".
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

#: Presidio's matching modes plus Clearhouse's ``prefix``
MATCHING_MODES = ("prefix", "whole_word", "substring")
#: the smallest context word matched as a prefix
_PREFIX_MIN = 4


class ClearhouseContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's lemma enhancer with the ``prefix`` matching mode (see the module docstring)."""

    def __init__(self, context_similarity_factor: float = 0.35, min_score_with_context_similarity: float = 0.4,
                 context_prefix_count: int = 5, context_suffix_count: int = 2,
                 context_matching_mode: str = "prefix", *, floor: float = 0.0) -> None:
        if context_matching_mode not in MATCHING_MODES:
            raise ValueError(f"context_matching_mode must be one of {', '.join(MATCHING_MODES)}")
        super().__init__(context_similarity_factor=context_similarity_factor,
                         min_score_with_context_similarity=min_score_with_context_similarity,
                         context_prefix_count=context_prefix_count, context_suffix_count=context_suffix_count,
                         context_matching_mode="whole_word" if context_matching_mode == "prefix"
                         else context_matching_mode)
        self.context_matching_mode = context_matching_mode
        #: the detection threshold: a result that stays below it even when enhanced changes nothing
        self.floor = floor

    def enhance_using_context(self, text: str, raw_results: list[RecognizerResult], nlp_artifacts: NlpArtifacts,
                              recognizers: list[EntityRecognizer], context: list[str] | None = None,
                              ) -> list[RecognizerResult]:
        """Presidio's enhancement, skipped (results returned as they are) when it could change nothing
        the detector uses: no result comes from a recognizer with context words, is not enhanced yet,
        and would reach the detection threshold if it were (a 0.01 licence-number pattern stays below
        0.5 with any context). Most texts are like that, and the enhancer deep-copies every result and
        tokenizes the text first."""
        with_context = {r.id for r in recognizers if r.context}
        id_key, done_key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
        lowest = self.floor - self.context_similarity_factor  # the least score a boost lifts to the floor
        if self.min_score_with_context_similarity >= self.floor:
            lowest = 0.0
        if not any(r.recognition_metadata and r.recognition_metadata.get(id_key) in with_context
                   and not r.recognition_metadata.get(done_key) and lowest <= r.score < 1.0 for r in raw_results):
            return raw_results
        return list(super().enhance_using_context(text, raw_results, nlp_artifacts, recognizers, context))

    @staticmethod
    def _find_supportive_word_in_context(context_list: list[str], recognizer_context_list: list[str],
                                         matching_mode: str = "substring") -> str:
        if matching_mode != "prefix":
            return str(LemmaContextAwareEnhancer._find_supportive_word_in_context(
                context_list, recognizer_context_list, matching_mode))
        if not context_list or not recognizer_context_list:
            return ""
        words = [w.lower() for w in context_list if w]
        for wanted in recognizer_context_list:
            c = wanted.lower()
            if any(w == c or (len(c) >= _PREFIX_MIN and w.startswith(c)) for w in words):
                return str(wanted)
        return ""


def make_enhancer(settings: dict[str, Any] | None = None, floor: float = 0.0) -> ClearhouseContextEnhancer:
    """The enhancer, with an analyzer configuration's ``context_aware_enhancer`` settings applied."""
    return ClearhouseContextEnhancer(**(settings or {}), floor=floor)

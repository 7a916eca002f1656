"""The base of Clearhouse's recognizers: a Presidio ``EntityRecognizer`` with a fast ``find``.

Each recognizer implements ``find(text) -> [Candidate]`` (what the table-driven tests call) and a cheap
precondition (``applies``); :meth:`ClearhouseRecognizer.analyze` turns candidates into Presidio
``RecognizerResult``s, so the recognizers live in a ``RecognizerRegistry`` and run inside Presidio's
``AnalyzerEngine`` like any other.

Context: Clearhouse's recognizers attach context words to individual matches (a year needs a year cue, a
full date does not), which Presidio's ``LemmaContextAwareEnhancer`` cannot express — it applies one list
per recognizer. So they raise their own scores in Presidio's recognizer-level hook
(:meth:`ClearhouseRecognizer.enhance_using_context`) on lower-cased words around the match (the same on
ALL-CAPS and all-lower-case text, no lemmatizer needed) and mark the results as enhanced, so the engine's
enhancer leaves them alone. Presidio's own recognizers and YAML recognizers are enhanced by the engine's
enhancer (see ``privacy/detection/context.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from clearhouse.privacy.detection.types import Span

if TYPE_CHECKING:
    from clearhouse.privacy.detection.profiles import DetectionProfile

#: score added when a context word precedes (or closely follows) a match — Presidio's default factor
CONTEXT_BOOST = 0.35
#: a match with supporting context scores at least this much (Presidio's default)
CONTEXT_FLOOR = 0.4
#: words looked at before a match for context (Presidio's default prefix window is 5)
CONTEXT_WORDS_BEFORE = 5
CONTEXT_WORDS_AFTER = 2

_WORD = re.compile(r"[a-z0-9#]+")
_DIGIT = re.compile(r"\d")


def words_before(text: str, start: int, n: int = CONTEXT_WORDS_BEFORE) -> list[str]:
    """The ``n`` lower-cased words just before ``start`` (nearest last)."""
    window = text[max(0, start - 12 * n):start].lower()
    return _WORD.findall(window)[-n:]


def words_after(text: str, end: int, n: int = CONTEXT_WORDS_AFTER) -> list[str]:
    """The ``n`` lower-cased words just after ``end``."""
    return _WORD.findall(text[end:end + 12 * n].lower())[:n]


def has_context(words: Iterable[str], context: frozenset[str]) -> bool:
    """True when a word equals a context word or starts with one that is at least 4 letters long
    (so "accounts" matches "account" but "a" does not match "age")."""
    for w in words:
        if w in context:
            return True
        for c in context:
            if len(c) >= 4 and w.startswith(c):
                return True
    return False


@dataclass(frozen=True)
class Candidate:
    """A recognizer's raw match before context scoring and overlap resolution."""

    start: int
    end: int
    entity_type: str
    score: float
    #: context words that raise the score of this match
    context: frozenset[str] = frozenset()
    #: True when a validator (checksum, parser) already confirmed the match
    validated: bool = False

    def to_span(self) -> Span:
        return Span(self.start, self.end, self.entity_type, round(min(1.0, self.score), 4))


#: ``recognition_metadata`` keys Clearhouse adds to a result
VALIDATED_KEY = "clearhouse_validated"
CONTEXT_KEY = "clearhouse_context"


def result_of(cand: Candidate, recognizer: EntityRecognizer) -> RecognizerResult:
    """A Presidio result for a candidate (the context words and the validator's verdict ride along in
    ``recognition_metadata``)."""
    return RecognizerResult(
        cand.entity_type, cand.start, cand.end, cand.score,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,  # type: ignore[has-type]
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
            VALIDATED_KEY: cand.validated,
            CONTEXT_KEY: cand.context,
        },
    )


def candidate_of(result: RecognizerResult) -> Candidate:
    """The candidate a Presidio result stands for: validated as its recognizer said, or — for any other
    recognizer — when a validator confirmed it or it scored 1.0."""
    meta = result.recognition_metadata or {}
    if VALIDATED_KEY in meta:  # (set by the recognizer before any context boost)
        validated = bool(meta[VALIDATED_KEY])
    else:
        validated = bool(meta.get("validation_result")) or result.score >= 1.0
    return Candidate(result.start, result.end, result.entity_type, float(result.score), validated=validated)


class ClearhouseRecognizer(EntityRecognizer):
    """Base of Clearhouse recognizers: a Presidio ``EntityRecognizer`` whose :meth:`find` returns
    candidates for one text.

    Subclasses set ``name`` and ``entities`` and implement :meth:`find`. ``needs`` is a cheap
    precondition (characters one of which must occur) so most texts skip most recognizers. A subclass
    with its own ``__init__`` sets its attributes first, then calls ``super().__init__()``.
    """

    name: str = "recognizer"
    entities: tuple[str, ...] = ()
    needs: str | None = None
    #: a cheap regex that must match somewhere for the recognizer to run (faster than ``needs``)
    prefilter: re.Pattern[str] | None = None
    context: frozenset[str] = frozenset()  # type: ignore[assignment]  # (Presidio only iterates it)

    def __init__(self, supported_language: str = "en") -> None:
        context = frozenset(self.context)
        super().__init__(supported_entities=list(self.entities), name=self.name,
                         supported_language=supported_language, context=sorted(context) or None)
        # per-match context lives on the candidates; the set is kept for ``find`` and for callers
        self.context = context  # (a frozenset: Presidio only iterates it)

    @classmethod
    def for_profile(cls, profile: DetectionProfile) -> Self:
        """An instance set up with the domain data of the policy's detection profiles; most recognizers
        read none (those that do override this)."""
        return cls()

    def load(self) -> None:
        """Nothing to load: patterns are compiled at import."""

    def analyze(self, text: str, entities: list[str] | None = None,
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        """Presidio's entry point: the candidates of :meth:`find` as results (NLP artefacts unused)."""
        if not self.applies(text):
            return []
        return [result_of(c, self) for c in self.find(text)]

    def enhance_using_context(self, text: str, raw_recognizer_results: list[RecognizerResult],
                              other_raw_recognizer_results: list[RecognizerResult],
                              nlp_artifacts: NlpArtifacts | None,
                              context: list[str] | None = None) -> list[RecognizerResult]:
        """Raise a match's score when one of *its* context words is among the lower-cased words just
        before or after it (see the module docstring); every result is then marked as enhanced."""
        for result in raw_recognizer_results:
            meta = result.recognition_metadata
            words: frozenset[str] = meta.get(CONTEXT_KEY) or frozenset()
            if words and not (meta.get(VALIDATED_KEY) and result.score >= 1.0):
                window = words_before(text, result.start) + words_after(text, result.end)
                if has_context(window, words):
                    result.score = min(1.0, max(result.score + CONTEXT_BOOST, CONTEXT_FLOOR))
            meta[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        return raw_recognizer_results

    def applies(self, text: str) -> bool:
        if self.prefilter is not None:
            return self.prefilter.search(text) is not None
        if self.needs is None:
            return True
        if self.needs == "digit":
            return _DIGIT.search(text) is not None
        return any(ch in text for ch in self.needs)

    def find(self, text: str) -> list[Candidate]:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class PatternDef:
    """One regex of a :class:`RegexRecognizer`; group ``v`` (when present) is the span reported."""

    regex: re.Pattern[str]
    score: float


class RegexRecognizer(ClearhouseRecognizer):
    """Regex patterns + an optional validator: ``validate`` returns True (confirmed → score 1.0),
    False (rejected) or None (unknown → pattern score)."""

    entity: str = "ID"
    patterns: tuple[PatternDef, ...] = ()

    def __init__(self) -> None:
        self.entities = (self.entity,)
        super().__init__()

    def validate(self, value: str) -> bool | None:
        return None

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for pat in self.patterns:
            for m in pat.regex.finditer(text):
                group = "v" if "v" in pat.regex.groupindex and m.group("v") is not None else 0
                start, end = m.span(group)
                if start == end:
                    continue
                verdict = self.validate(text[start:end])
                if verdict is False:
                    continue
                out.append(Candidate(start, end, self.entity, 1.0 if verdict else pat.score, self.context,
                                     validated=bool(verdict)))
        return out

"""A small, fast regex recognizer base shared by Clearhouse's own recognizers.

Presidio's ``PatternRecognizer`` builds a ``RecognizerResult`` with explanation metadata per match and
relies on the analyzer's lemma-based context enhancer, which needs spaCy's tagger and lemmatizer. We run
only the NER pipe (and often no NER at all), so context is matched on lower-cased words instead: that
also makes it work the same on ALL-CAPS and all-lower-case text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from clearhouse.privacy.detection.types import Span

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


class TextRecognizer:
    """Base of Clearhouse recognizers: ``find`` returns candidates for one text.

    Subclasses set ``name`` and ``entities`` and implement :meth:`find`. ``needs`` is a cheap
    precondition (characters one of which must occur) so most texts skip most recognizers.
    """

    name: str = "recognizer"
    entities: tuple[str, ...] = ()
    needs: str | None = None
    #: a cheap regex that must match somewhere for the recognizer to run (faster than ``needs``)
    prefilter: re.Pattern[str] | None = None
    context: frozenset[str] = frozenset()

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


class RegexRecognizer(TextRecognizer):
    """Regex patterns + an optional validator: ``validate`` returns True (confirmed → score 1.0),
    False (rejected) or None (unknown → pattern score)."""

    entity: str = "ID"
    patterns: tuple[PatternDef, ...] = ()

    def __init__(self) -> None:
        self.entities = (self.entity,)

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

"""Places recognised from the GeoNames list: "moved here from Tallinn", "FLEW IN FROM OSLO", "in new london".

A listed city, country, state or county of one to three words is taken when it reads as a place:

* in mixed-case text, capitalised and no English verb, adjective or function word ("Split", "Nice" and
  "Reading" are words first) — at a sentence start not a noun either;
* in any case, right after a locative word ("in", "from", "to", "near", "@"), where a noun that is also a
  place counts too, but still no verb or adjective.
"""

from __future__ import annotations

import itertools
import re

from clearhouse.privacy.detection.lexicons import (
    is_major_place,
    is_medicine,
    is_person_name,
    is_place,
    is_place_first_word,
)
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import (
    common_noun,
    common_word,
    english_lemma,
    local_case,
)

_WORD = re.compile(r"(?<![\w'\u2019.-])[^\W\d_][^\W\d_'\u2019.-]*(?:[.'\u2019-][^\W\d_]+)*\.?(?![\w'\u2019-])")
_LOCATIVE = re.compile(r"(?:\b(?:in|from|to|at|near|of|outside|via|visiting|visit|towards?|around|into|"
                       r"between|lives|living|born)|@)[ \t]+$", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n\"(>-])[ \t]*$")
_MAX_WORDS = 3


def _ordinary(word: str) -> bool:
    """An English function word, verb, adjective or adverb (the word itself), or a medicine."""
    return english_lemma(word) or is_medicine(word)  # (english_lemma covers function words and irregular verbs)


class GazetteerPlaceRecognizer(ClearhouseRecognizer):
    """LOCATION from the GeoNames place list (see the module docstring)."""

    name = "gazetteer_place"
    entities = ("LOCATION",)

    def find(self, text: str) -> list[Candidate]:
        words = list(_WORD.finditer(text))
        out: list[Candidate] = []
        i = 0
        while i < len(words):
            hit = self._match(text, words, i)
            if hit is None:
                i += 1
                continue
            n, cand = hit
            out.append(cand)
            i += n
        return out

    @staticmethod
    def _match(text: str, words: list[re.Match[str]], i: int) -> tuple[int, Candidate] | None:
        first = words[i]
        if not is_place_first_word(first.group().rstrip(".")):
            return None
        context: tuple[bool, bool] | None = None  # (mixed case, after a locative word), once a place matched
        for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
            run = words[i:i + n]
            # the words of a place name stand apart by single spaces
            if any(text[a.end():b.start()] not in {" ", "\t"} for a, b in itertools.pairwise(run)):
                continue
            phrase = text[run[0].start():run[-1].end()].rstrip(".")
            if not is_place(phrase):
                continue
            if context is None:
                context = (local_case(text, first.start(), first.end()) == "mixed",
                           _LOCATIVE.search(text, max(0, first.start() - 12), first.start()) is not None)
            cased, locative = context
            tokens = phrase.split()
            if cased and not all(t[0].isupper() for t in tokens if t.lower() not in {"of", "de", "la", "upon"}):
                continue
            if n == 1 and not GazetteerPlaceRecognizer._single_ok(text, first, cased, locative):
                continue
            if n > 1 and not (cased or locative) and all(_ordinary(t) or common_noun(t) for t in tokens):
                continue  # "long beach", "grand island" in running lower-case text
            end = run[0].start() + len(phrase)
            return n, Candidate(run[0].start(), end, "LOCATION", 0.65 if (locative or n > 1) else 0.55)
        return None

    @staticmethod
    def _single_ok(text: str, m: re.Match[str], cased: bool, locative: bool) -> bool:
        word = m.group().rstrip(".")
        # alone, an inflected verb is a word too ("Reading", "Bury")
        if len(word) < 4 or _ordinary(word) or common_word(word):
            return False  # (three letters or fewer: an abbreviation as often as a place)
        if cased and word.isupper() and len(word) <= 4:
            return False  # an acronym in mixed-case text
        if locative:
            # "in PERSON", "to COFFEE": after a locative word a noun is still a noun, unless the place is
            # a large one (a city of 100,000 or more, a country or a state: "in Denver")
            return not common_noun(word) or is_major_place(word)
        if is_person_name(word):
            return False  # "Foley", "Douglas": a person (or a thing named after one) without "in"/"from"
        if not cased:
            return False
        # capitalised mid-sentence; at a sentence start a noun ("Bath", "Orange") is taken for a word
        return not (_SENTENCE_START.search(text, max(0, m.start() - 3), m.start()) and common_noun(word))

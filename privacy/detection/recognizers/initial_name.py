"""Names written as an initial and a surname: "K. Hollis aware", "T. OKAFOR", "j. fenwick rn"."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.lexicons import frequent_surname, is_medicine, is_person_name
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import NOT_NAMES, common_noun, common_word, has_vowel, local_case

#: census surnames this frequent are names first even when they are also English words ("Bell", "Hall")
_FREQUENT_SURNAME = 5000
_LABEL_BEFORE = re.compile(r"(?:^|[\n:;])[ \t]*$")
_INITIAL = re.compile(r"(?<![\w.'\u2019])(?P<i>[^\W\d_])\.[ \t]?(?P<v>[^\W\d_][\w'\u2019-]+)(?!\.\w)")


class InitialNameRecognizer(ClearhouseRecognizer):
    """PERSON for an initial followed by a surname-like word written in the same case as the initial
    (so "E. coli" — capital initial, lower-case word — is not a name) and is no function word. The
    initial is a strong cue, so adjectives that are also surnames ("K. Brown") still count."""

    name = "initial_name"
    entities = ("PERSON",)
    prefilter = re.compile(r"(?<![\w.])[^\W\d_]\.[ \t]?[^\W\d_]{2}")

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _INITIAL.finditer(text):
            initial, word = m.group("i"), m.group("v")
            if len(word) < 3 or word.lower() in NOT_NAMES:
                continue
            if initial.isupper():
                same_case = word[0].isupper() and (word[1:].islower() or word.isupper())
            else:
                # all lower case only counts where the text around it has no capitals either: in
                # mixed-case text a name is capitalised, and "x. word" is a list label or shorthand
                same_case = word.islower() and local_case(text, m.start(), m.end()) == "lower"
            # without case to go by ("L. KNEE", "v. drip", "I. HISTORY") an English noun, verb or adjective
            # is no surname unless it is a frequent census surname ("B. HALL"); a capitalised word
            # counts when it is listed ("K. Brown") or no such word
            uncased = word.isupper() or word.islower()
            listed = is_person_name(word)
            ordinary = common_word(word) or common_noun(word)
            if uncased:
                plausible = not ordinary or frequent_surname(word, top=_FREQUENT_SURNAME)
            else:
                plausible = listed or not ordinary
            # a letter opening a line or following a colon is an outline or note label ("S. Stable",
            # "b. follow-up", "I. HISTORY"): there only a listed name counts
            if _LABEL_BEFORE.search(text, max(0, m.start() - 3), m.start()) and not listed:
                continue
            if same_case and plausible and not is_medicine(word) and has_vowel(word):
                out.append(Candidate(m.start(), m.end("v"), "PERSON", 0.6))
        return out

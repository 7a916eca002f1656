"""Names recognised from the census name lists: "hattie brunswick", "Odessa:", "per nora vance", "HOLLOWAY AWARE".

The statistical model misses names in lower- and upper-case text and in short utterances; a list of
real given names and surnames, read with a few general constraints, catches them the way a human
redactor does:

* a given name followed by a surname (an initial may sit between) — in any case;
* a lone capitalised given name in mixed-case text, when it is no English word ("Odessa", not "Grace"),
  with the capitalised surname that may follow it;
* a listed name right after a role that introduces a person ("nurse", "per"; a detection profile adds
  its domain's shorthand, "NP", "RN") or right before a verb that reports what a person knew or did
  ("aware", "notified", "paged").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Self

from clearhouse.privacy.detection.lexicons import (
    frequent_given_name,
    frequent_surname,
    given_name_rank,
    is_given_name,
    is_medicine,
    is_person_name,
    is_place,
    surname_rank,
)
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import (
    NOT_NAMES,
    common_noun,
    common_word,
    english_lemma,
    has_vowel,
    irregular_verb,
    local_case,
)

if TYPE_CHECKING:
    from clearhouse.privacy.detection.profiles import DetectionProfile

_WORD = re.compile(r"(?<![\w'\u2019-])[^\W\d_][^\W\d_'\u2019-]*(?:['\u2019][^\W\d_]+)?(?![\w'\u2019-])")
_INITIAL = re.compile(r"[ \t]+([^\W\d_])\.?(?=[ \t])")
_GAP = re.compile(r"[ \t]+")
#: roles that introduce the person who holds them ("nurse Harriet", "per Nora", "Dr K Lindqvist"); a
#: domain's own role shorthand ("NP Vance", "RN harriet") comes from a detection profile's ``person_cues``
_GENERAL_ROLES = ("per", "md", "nurse", "rabbi", "chaplain", "priest", "pastor", r"social[ \t]+worker",
                  "therapist", "doctor", "dr")


def _role_before(cues: Iterable[str]) -> re.Pattern[str]:
    extra = sorted((r"[ \t]+".join(re.escape(w) for w in cue.split()) for cue in set(cues)), key=len, reverse=True)
    return re.compile(
        rf"\b(?P<role>{'|'.join([*extra, *_GENERAL_ROLES])})[.:]?[ \t]+"
        r"(?:[^\W\d_]\.?[ \t]+)?$",  # an initial may stand between ("per t gallagher", "Dr K Lindqvist")
        re.IGNORECASE,
    )
#: speaking with someone introduces them ("talked to john", "emailed kim", "thanks to priya")
_SPEECH_BEFORE = re.compile(
    r"\b(?:talked|talking|talk|spoke|speak|speaking|spoken|chatted|chat|met|meet|meeting|called|emailed|email|"
    r"texted|text|messaged|asked|ask|told|tell|thanks|thank|ping|pinged|contacted|contact)"
    r"(?:[ \t]+(?:to|with|from))?[ \t]+$",
    re.IGNORECASE,
)
#: what a person was told or did, right after the name ("Vance aware", "dr brown notified")
_REPORTED_AFTER = re.compile(r"[ \t]+(?:made[ \t]+)?(?:aware|notified|paged|informed|updated|called|consulted|ordered|"
                             r"said|stated|spoke|asked|agreed|requested|recommended)\b", re.IGNORECASE)
#: an initial right before a name ("R. Holloway aware", "K JONES ORDERED")
_INITIAL_BEFORE = re.compile(r"(?<![\w'\u2019.-])[^\W\d_]\.?[ \t]+$")
_LIST_SEP = re.compile(r"[ \t]*,[ \t]*(?:(?:and|or)[ \t]+)?|[ \t]+(?:and|or|&)[ \t]+")
_POSSESSIVE = re.compile(r"['\u2019]s$")
_POSITIONAL = re.compile(r"(?:^|[.!?:;\n\"(>-])[ \t]*$")


def _listed_surname(word: str) -> bool:
    return surname_rank(word) is not None and not english_lemma(word)


def _plain_name(word: str) -> bool:
    """A listed name that is no English function word, verb, adjective or noun (unless a given name)
    and no medicine ("Vance", "Brunswick"; not "Worker", "Colace")."""
    # (the noun list also holds famous people — "lincoln", "darwin" — so a frequent surname stays a name)
    return (len(word) >= 3 and is_person_name(word) and not english_lemma(word) and not is_medicine(word)
            and (is_given_name(word) or not common_noun(word) or frequent_surname(word)))


def _noun_first(word: str) -> bool:
    """A given name that is also a noun, unless it is a frequent given name (the noun list holds famous
    people and saints: "james", "bryce")."""
    return common_noun(word) and not frequent_given_name(word)


def _pair_score(first: str, last: str, cased: bool) -> float | None:
    """Score of a given name followed by a possible surname, or None when the pair reads as words."""
    if last.lower() in NOT_NAMES:
        return None
    rank = surname_rank(last)
    # (not the noun list: it holds many given names as plant genera or proper nouns — "Felicia")
    ordinary_first = english_lemma(first)  # (the word itself: "James" is no inflection of "jam")
    word_like_last = english_lemma(last) or common_noun(last)
    if rank is None:
        # an unlisted surname after a given name that is no word, in text without case to go by
        # ("GERALD OKONJO", "harriet kowalczyk"): a word that is no English word either
        plausible = not (cased or ordinary_first or _noun_first(first) or len(first) < 3 or word_like_last
                         or is_medicine(last) or len(last) < 3 or not has_vowel(last))
        return 0.6 if plausible else None
    if cased:
        # "Alice Brown": capitalised after a given name that is no English word, any listed surname
        plausible = first[0].isupper() and last[0].isupper() and not (ordinary_first and word_like_last)
    else:
        # "will power", "mark time", "art class": a given name that is also a word (or an abbreviation)
        # before a word is ordinary text, unless that word is a frequent surname ("ZOE BROWN")
        plausible = not ((ordinary_first or _noun_first(first) or len(first) < 4) and word_like_last
                         and not frequent_surname(last))
    return 0.7 if plausible else None


class GazetteerNameRecognizer(ClearhouseRecognizer):
    """PERSON from the census given-name and surname lists (see the module docstring)."""

    name = "gazetteer_name"
    entities = ("PERSON",)

    def __init__(self, person_cues: Iterable[str] = ()) -> None:
        super().__init__()
        #: roles before a listed name that make it a person (general ones and a profile's)
        self.role_before = _role_before(person_cues)

    @classmethod
    def for_profile(cls, profile: DetectionProfile) -> Self:
        return cls(profile.person_cues)

    def find(self, text: str) -> list[Candidate]:
        words = list(_WORD.finditer(text))
        out: list[Candidate] = self._given_name_list(text, words)
        for i, m in enumerate(words):
            word = m.group()
            if len(word) < 2 or not is_person_name(word) or _POSSESSIVE.sub("", word.lower()) in NOT_NAMES:
                continue  # (every rule below needs a listed name)
            cased = local_case(text, m.start(), m.end()) == "mixed"
            if is_given_name(word):
                pair = self._pair(text, words, i, cased)
                if pair is not None:
                    out.append(pair)
                    continue
                if cased and self._lone_given(text, m):
                    out.append(Candidate(m.start(), self._surname_end(text, words, i), "PERSON", 0.6))
                    continue
                if (not english_lemma(word) and len(word) >= 3
                        and _SPEECH_BEFORE.search(text, max(0, m.start() - 24), m.start())):
                    # "i talked to john", "spoke with amber": someone one speaks with, in any case
                    out.append(Candidate(m.start(), m.end(), "PERSON", 0.6))
                    continue
            role = self.role_before.search(text, max(0, m.start() - 24), m.start())
            initial = _INITIAL_BEFORE.search(text, max(0, m.start() - 4), m.start())
            if cased and not word[0].isupper() and role is None:
                continue  # (notes type names in lower case after a role: "NP harriet", "per t gallagher")
            if not (self._after_role(word, role) or (_REPORTED_AFTER.match(text, m.end()) and (
                    _plain_name(word) or (initial is not None and is_person_name(word))))):
                continue
            start = initial.start() if initial is not None else m.start()
            out.append(Candidate(start, m.end(), "PERSON", 0.65))
        return out

    @staticmethod
    def _given_name_list(text: str, words: list[re.Match[str]]) -> list[Candidate]:
        """Three or more words in a comma list ("…: ana, adam, chris and kim") of which at least two
        are given names that are no English words: every name-like item is a name."""
        out: list[Candidate] = []
        if text.count(",") + text.count(" and ") + text.count(" or ") + text.count("&") < 2:
            return out  # a list of three needs two separators
        run: list[re.Match[str]] = []
        items = [w for w in words if w.group().lower() not in {"and", "or", "&"}]
        for w in [*items, None]:
            if w is not None and run and _LIST_SEP.fullmatch(text[run[-1].end():w.start()]):
                run.append(w)
                continue
            listed = [m for m in run if is_given_name(m.group()) and not english_lemma(m.group())]
            if len(run) >= 3 and len(listed) >= 2:
                out += [Candidate(m.start(), m.end(), "PERSON", 0.6) for m in run
                        if not english_lemma(m.group())]
            run = [w] if w is not None else []
        return out

    @staticmethod
    def _after_role(word: str, role: re.Match[str] | None) -> bool:
        """A listed name after a role: a given name ("NP Harriet"), a surname that is no English word
        ("per Vance"; not "per protocol"), or after an honorific any listed name ("dr brown")."""
        if role is None or len(word) < 3 or word.lower() in NOT_NAMES:
            return False
        if role.group("role").lower() in {"dr", "doctor"}:
            return is_person_name(word)
        return (is_given_name(word) and not is_medicine(word)) or _plain_name(word)

    @staticmethod
    def _pair(text: str, words: list[re.Match[str]], i: int, cased: bool) -> Candidate | None:
        """A given name, an optional initial, then a listed surname ("hattie brunswick", "ANNA K SMITH")."""
        given = words[i]
        pos = given.end()
        ini = _INITIAL.match(text, pos)
        if ini is not None:
            pos = ini.end()
        gap = _GAP.match(text, pos)
        if gap is None or i + 1 >= len(words):
            return None
        nxt = next((w for w in words[i + 1:i + 3] if w.start() == gap.end()), None)
        if nxt is None:
            return None
        score = _pair_score(given.group(), nxt.group(), cased)
        return Candidate(given.start(), nxt.end(), "PERSON", score) if score else None

    @staticmethod
    def _lone_given(text: str, m: re.Match[str]) -> bool:
        """A capitalised given name that is no English word ("Odessa", "Rosemarie"; not "Grace", "Will")."""
        word = m.group()
        if len(word) < 3 or not (word[0].isupper() and word[1:].islower() and word[1:].isalpha()):
            return False
        if common_word(word) or irregular_verb(word):
            return False
        if given_name_rank(word) is None and is_place(word):
            return False  # only the world list knows it as a name, and it is a listed place ("Wil", "Asti")
        # at a sentence start any word is capitalised: there a noun ("Hope", "Amber") is taken for a word,
        # unless it opens a line of dialogue or chat ("Desiree: see you then")
        if not _POSITIONAL.search(text[max(0, m.start() - 3):m.start()]):
            return True
        after = text[m.end():m.end() + 2]
        if after[:1] == ":" and after[1:2] in {" ", '"', "\u201c", ""}:
            return True
        return not (common_noun(word) or after[:1] == ".")

    @staticmethod
    def _surname_end(text: str, words: list[re.Match[str]], i: int) -> int:
        """End of a given name with the capitalised, non-word surname that follows it ("Odessa Vantongeren")."""
        end = words[i].end()
        for w in words[i + 1:i + 3]:
            if text[end:w.start()].strip(" \t") not in {"", "."} or "\n" in text[end:w.start()]:
                break
            token = w.group()
            if not token[0].isupper() or (token.isupper() and len(token) > 1) or common_word(token) \
                    or token.lower() in NOT_NAMES or (common_noun(token) and not is_person_name(token)):
                break
            end = w.end()
        return end

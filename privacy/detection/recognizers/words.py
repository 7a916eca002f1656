"""Generic English word lists used to tell a name from an ordinary word after a cue.

These are general-language lists (spaCy's stop words plus common verbs/adjectives/nouns that often
follow a person cue such as "dr" or "daughter"), not lists tuned to any corpus.
"""

from __future__ import annotations

import re
from pathlib import Path

import spacy.util
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.lookups import Lookups

from clearhouse.privacy.detection.lexicons import is_person_name

_EXTRA = [
    # roles and parties, never names themselves
    "judge", "justice", "plaintiff", "plaintiffs", "defendant", "defendants", "petitioner", "respondent",
    "appellant", "appellee", "claimant", "complainant", "witness", "victim", "counsel", "attorney", "officer",
    "detective", "sergeant", "agent", "inspector", "court", "clerk", "honorable", "id", "ref", "no",
    "aware", "here", "there", "called", "calls", "calling", "said", "says", "told", "tells", "notified",
    "informed", "paged", "page", "present", "states", "stated", "reports", "reported", "feels",
    "feeling", "felt", "wants", "wanted", "would", "will", "came", "come", "comes", "coming", "visited",
    "visiting", "visit", "arrived", "arrives", "left", "leaving", "stayed", "stays", "staying", "saw",
    "seen", "sees", "see", "spoke", "speaks", "speaking", "talked", "talk", "talking", "asked", "asks",
    "asking", "agrees", "agreed", "updated", "update", "wishes", "request", "requests", "requested",
    "phoned", "phone", "phones", "contacted", "contact", "texted", "emailed", "wrote", "writes",
    "signed", "sign", "today", "tomorrow", "yesterday", "tonight", "morning", "evening", "night",
    "afternoon", "day", "days", "week", "weeks", "month", "months", "year", "years", "time", "times",
    "am", "pm", "also", "still", "now", "then", "just", "only", "well", "ok", "okay", "yes", "not",
    "no", "none", "pt", "patient", "patients", "family", "families", "husband", "wife", "son",
    "daughter", "brother", "sister", "mother", "father", "friend", "team", "staff", "md", "rn", "np",
    "pa", "nurse", "nursing", "doctor", "dr", "mr", "mrs", "ms", "miss", "service", "services",
    "office", "at", "by", "in", "on", "of", "to", "for", "from", "with", "and", "or", "but", "the", "a",
    "an", "is", "was", "were", "be", "been", "being", "has", "have", "had", "who", "whom", "whose",
    "which", "what", "when", "where", "why", "how", "that", "this", "these", "those", "new", "old",
    "good", "bad", "fine", "well", "better", "worse", "same", "other", "another", "first", "last",
    "next", "hi", "hello", "hey", "dear", "thanks", "thank", "regards", "sincerely", "best", "cheers",
    "please", "sorry", "updated", "informed", "involved", "following", "aware", "available",
    "unavailable", "bedside", "unit", "floor", "room", "home",
]

#: lower-cased words that are never taken as (part of) a name after a cue
NOT_NAMES: frozenset[str] = frozenset(STOP_WORDS) | frozenset(_EXTRA)

_NAME_TOKEN = re.compile(r"^[^\W\d_][^\W\d_'\u2019-]*(?:['\u2019-][^\W\d_]+)*$")


def name_like(token: str, *, cased: bool, lexical: bool = True) -> bool:
    """Could ``token`` be (part of) a person's name? ``cased`` says whether the text is mixed case,
    in which case a name must start with a capital letter; otherwise verbs and adjectives of general
    English are refused unless ``lexical`` is False (after an honorific, "Dr Green" is a name)."""
    if len(token) < 2 or not _NAME_TOKEN.match(token):
        return False
    if token.lower() in NOT_NAMES:
        return False
    if cased:
        # in mixed-case text a name is capitalised, and a short all-capitals token is an acronym
        return token[0].isupper() and not (token.isupper() and len(token) <= 3)
    # without capitals to go by, verbs and adjectives ("daughter called", "son aware") are not names
    # (irregular verb forms too: "son drove", "dr smith met"); after an honorific a census surname
    # that only looks inflected is a name ("DR FLEMING", "dr reed")
    if not lexical and is_person_name(token):
        return True
    return not token.lower().endswith(("ed", "ing")) and not (
        lexical and (common_word(token) or token.lower() in _IRREGULAR))


_VOWEL = re.compile(r"[aeiouyà-ÿ]", re.IGNORECASE)


def has_vowel(word: str) -> bool:
    """Does ``word`` hold a vowel (a name does; "xyz", "CCU" read as abbreviations)?"""
    return _VOWEL.search(word) is not None


def text_case(text: str) -> str:
    """``"upper"`` (shouting), ``"lower"`` (no capitals at all) or ``"mixed"``."""
    letters = sum(map(str.isalpha, text))  # (map over a str method runs at C speed; called per word)
    if not letters:
        return "mixed"
    upper = sum(map(str.isupper, text))
    if upper == 0:
        return "lower"
    if letters >= 8 and upper / letters > 0.6:
        return "upper"
    return "mixed"


def local_case(text: str, start: int, end: int, radius: int = 60) -> str:
    """:func:`text_case` of the text around ``start:end`` — notes mix typed-in-caps, lower-case and
    normal passages, and a name's casing is only comparable with its neighbourhood."""
    return text_case(text[max(0, start - radius):end + radius])


#: verbs, adjectives and adverbs of the spaCy model's lemmatizer tables (WordNet-derived, general
#: English); loaded by :func:`load_lexicon`. Nouns are not used: many surnames are nouns too.
_LEXICON: frozenset[str] = frozenset()
#: irregular inflected verb forms ("flew", "spoke", "began") of the same tables' exception lists
_IRREGULAR: frozenset[str] = frozenset()
#: nouns of the same tables; used only together with the census name lists (many surnames are nouns)
_NOUNS: frozenset[str] = frozenset()


def load_lexicon(model_name: str) -> None:
    """Load the model's lemma index (verbs/adjectives/adverbs) once; missing tables leave it empty."""
    global _LEXICON, _IRREGULAR, _NOUNS  # noqa: PLW0603 - loaded once per process, read-only afterwards
    if _LEXICON:
        return
    try:
        base = spacy.util.get_package_path(model_name) if spacy.util.is_package(model_name) else Path(model_name)
        found = sorted(base.glob("**/lemmatizer/lookups"))
        if not found:
            return
        lookups = Lookups().from_disk(found[0])
        index = lookups.get_table("lemma_index")
        if lookups.has_table("lemma_exc"):
            _IRREGULAR = frozenset(w for w in lookups.get_table("lemma_exc").get("verb", {}) if w.isalpha())
        words: set[str] = set()
        for pos in ("verb", "adj", "adv"):
            words.update(w for w in index.get(pos, []) if w.isalpha())
        _LEXICON = frozenset(words)
        _NOUNS = frozenset(w for w in index.get("noun", []) if w.isalpha())
    except Exception:
        return


def _base_forms(word: str) -> list[str]:
    forms = [word]
    for suffix, repl in (("ied", "y"), ("ies", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
                         ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + repl
            forms.append(stem)
            if len(stem) > 3 and stem[-1] == stem[-2]:  # "stopped" → "stop"
                forms.append(stem[:-1])
    return forms


def common_word(token: str) -> bool:
    """A function word, or a verb/adjective/adverb (in any inflection) of general English."""
    w = token.lower().strip(".,'\u2019")
    if w in NOT_NAMES:
        return True
    return bool(_LEXICON) and any(f in _LEXICON for f in _base_forms(w))


def english_lemma(token: str) -> bool:
    """The word itself (not an inflection of it) is a function word or a verb/adjective/adverb lemma:
    "green", "will" yes; "Hastings", "Fleming", "Rhodes" no — listed surnames that only look inflected."""
    w = token.lower().strip(".,'\u2019")
    return w in NOT_NAMES or w in _LEXICON or w in _IRREGULAR


def common_noun(token: str) -> bool:
    """A noun of general English, singular or plural ("tube", "blockers"). Many surnames are nouns too,
    so callers combine this with the census name lists."""
    w = token.lower().strip(".,'\u2019")
    return bool(_NOUNS) and any(f in _NOUNS for f in _base_forms(w))


#: prepositions that follow a noun used as a label ("X to gravity", "X with meals"), not a subject
_LABEL_PREPOSITIONS = frozenset({"to", "with", "in", "on", "for"})


def predicate_like(word: str) -> bool:
    """Could ``word`` (lower case, after a capitalised sentence-initial word) start what a sentence says
    about its subject? Function words ("is", "and", "had"), cue verbs ("aware", "said") and finite verb
    forms ("spoke", "lives", "arrived") do; adjectives, participles in "-ing", nouns and the
    prepositions of a label ("soft", "running", "status" aside, "to") do not."""
    w = word.lower().strip(".,;:!?'\u2019\"()")
    if not w or w in _LABEL_PREPOSITIONS:
        return False
    return w in NOT_NAMES or w.endswith(("ed", "s")) or w in _IRREGULAR


def irregular_verb(token: str) -> bool:
    """An irregular inflected verb form of general English ("began", "woke", "spoke")."""
    return token.lower().strip(".,'\u2019") in _IRREGULAR

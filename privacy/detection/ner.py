"""spaCy NER with only the ``ner`` pipe loaded (the tagger, parser, lemmatizer and the shared tok2vec
are not needed for entities and cost about half the time), loaded once per process, never downloaded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from clearhouse.errors import DetectionError
from clearhouse.privacy.detection.lexicons import given_name_rank, is_given_name, is_medicine, is_person_name
from clearhouse.privacy.detection.offline import ensure_offline, require_installed_model
from clearhouse.privacy.detection.recognizers.base import Candidate
from clearhouse.privacy.detection.recognizers.words import (
    NOT_NAMES,
    common_noun,
    common_word,
    has_vowel,
    irregular_verb,
    load_lexicon,
)

#: spaCy label → (entity type, score). DATE/TIME/CARDINAL are left to the date/age recognizers:
#: spaCy's DATE also covers "yesterday" or "two weeks", which identify no one.
NER_LABELS: dict[str, tuple[str, float]] = {
    "PERSON": ("PERSON", 0.85),
    "GPE": ("LOCATION", 0.85),
    "LOC": ("LOCATION", 0.8),
    "FAC": ("LOCATION", 0.7),
    "ORG": ("ORGANIZATION", 0.6),
    "NORP": ("NRP", 0.6),
    "DATE": ("DATE_TIME", 0.6),
}
#: spaCy DATE entities are kept only when they name a calendar date (not "two weeks", "today")
_CALENDAR = re.compile(
    r"\b(?:(?:19|20)\d{2}|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|"
    r"sat(?:ur)?|sun)(?:day)?)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=4)
def load_ner(model_name: str) -> Any:
    """The spaCy pipeline with only the NER component (cached per process)."""
    ensure_offline()
    require_installed_model(model_name)
    import spacy  # noqa: PLC0415 - heavy; and only after ensure_offline() has patched the network paths

    try:
        info = spacy.util.get_model_meta(spacy.util.get_package_path(model_name)) \
            if spacy.util.is_package(model_name) else {}
        names = info.get("pipeline") or []
        load_lexicon(model_name)
        return spacy.load(model_name, exclude=[p for p in names if p != "ner"])
    except Exception as exc:  # spaCy raises OSError/ValueError/… depending on what is wrong
        raise DetectionError(f"cannot load spaCy model {model_name!r}: {type(exc).__name__}") from exc


_NUMERIC_ONLY = re.compile(r"[\d\s:/.,-]+")
_YEARISH = re.compile(r"(?:19|20)\d\d")
_TIME_BEFORE = re.compile(r"(?:@|\bat|\bby|\buntil|\btill|\bfrom)[ \t]*$", re.IGNORECASE)


def _clock_time(text: str, document: str, start: int) -> bool:
    """A date entity of bare four-digit numbers that reads as a 24-hour clock time: a number that is
    no year ("2300-0700") or one introduced by a time preposition ("@ 2130", "at 2145")."""
    if not _NUMERIC_ONLY.fullmatch(text):
        return False
    numbers = re.findall(r"\d+", text)
    return (any(not _YEARISH.fullmatch(n) for n in numbers)
            or _TIME_BEFORE.search(document[max(0, start - 8):start]) is not None)


_ANY_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
_LEADING_COMMON = re.compile(
    r"(?:" + "|".join(sorted((re.escape(w) for w in NOT_NAMES if w.isalpha()), key=len, reverse=True))
    + r")\.?\s+",
    re.IGNORECASE,
)
#: month names that are also given names (the census list leaves calendar words out)
_CALENDAR_GIVEN = frozenset({"may", "june", "april", "august"})


def _given_name_word(lead: str) -> bool:
    word = lead.strip(" \t.").lower()
    rank = given_name_rank(word)
    return word in _CALENDAR_GIVEN or (rank is not None and rank <= 1000)


#: a quantity with a unit right after (or before) a word makes it a substance or a device, never a person
#: or a place ("Brandname 40 mg", "250 ml Salinex"): measurements are general notation, not a domain list
_UNIT = (r"(?:mg|mcg|µg|g|gm|gms|mgm|kg|lbs?|oz|ml|cc|l|dl|units?|u|meq|mmol|mol|iu|%|mm|cm|mmhg|tabs?|"
         r"tablets?|caps?|capsules?|puffs?|drops?)")
_DOSE_AFTER = re.compile(rf"[ \t]*\d+(?:[.,]\d+)?[ \t]*{_UNIT}(?![^\W\d_])", re.IGNORECASE)
_DOSE_BEFORE = re.compile(rf"\d+(?:[.,]\d+)?[ \t]*{_UNIT}[ \t]*$", re.IGNORECASE)
#: an entity that is itself a quantity ("250cc", "40 mg")
_QUANTITY = re.compile(rf"\d+(?:[.,]\d+)?[ \t]*{_UNIT}", re.IGNORECASE)
#: a dose that starts inside an entity ("Brandname 40" + " mg")
_DOSE_INSIDE = re.compile(rf"(?<![\w.,])\d+(?:[.,]\d+)?[ \t]*{_UNIT}(?![^\W\d_])", re.IGNORECASE)
#: credentials written after a name ("Ann Lee MD"): a closed list, trimmed off, never a name themselves
_CREDENTIALS = frozenset({"MD", "RN", "NP", "PA", "DO", "DDS", "DMD", "PHD", "LPN", "CNA", "BSN", "MSN", "ESQ",
                          "CPA", "MBA", "PA-C", "FNP", "DNP", "MPH", "LCSW"})


def shorthand(text: str, document: str, start: int, end: int) -> bool:
    """Is an NER entity a dose rather than a name? A quantity with a unit next to it ("Brandname 40 mg")
    is positive evidence of a substance or device; an unusual character or shape is not."""
    if _DOSE_AFTER.match(document, end) or _DOSE_BEFORE.search(document[max(0, start - 16):start]):
        return True
    m = _DOSE_INSIDE.search(document, start, min(len(document), end + 16))
    return m is not None and m.start() < end


def trim_caps(text: str) -> tuple[int, int]:
    """Offsets (into ``text``) left after dropping listed credentials at the end of an entity ("Ann Lee
    MD" → "Ann Lee"); anything else, short upper-case words included, stays part of it."""
    words = list(re.finditer(r"\S+", text))
    hi = len(text)
    while len(words) > 1 and words[-1].group().upper().strip(".,") in _CREDENTIALS:
        words.pop()
        hi = words[-1].end()
    return 0, hi


def plausible(text: str, document: str = "") -> bool:
    """Could an NER entity be a name at all? It holds a letter and is no quantity ("250cc"). Case,
    length and digits are no evidence against a name ("UK", "london", "Cap 1")."""
    return bool(text) and any(ch.isalpha() for ch in text) and _QUANTITY.fullmatch(text.strip()) is None


_STANDS_BEFORE = re.compile(r"(?:^|[.!?:;,\n>|-])[ \t]*$")
_STANDS_AFTER = re.compile(r"[ \t]*(?:[.!?,;:\n(|<-]|$)")


def _shouted_name_word(word: str) -> bool:
    """A word of an upper-case name: letters (and an apostrophe), a vowel, not an abbreviation-length
    fragment, not a common verb/adjective/function word."""
    core = word.replace("'", "").replace("\u2019", "")
    return (len(core) >= 2 and core.isalpha() and has_vowel(core)
            and not (len(core) <= 3 and core.isupper() and len(word) == len(core) and not has_vowel(core[-1]))
            and not common_word(word) and not irregular_verb(word)
            # a past form written with an apostrophe ("OKAY'D") is a verb too
            and not word.upper().endswith(("'D", "\u2019D")))


def title_copy(text: str) -> str:
    """``text`` with each word capitalised, same length (so offsets still index the original)."""
    titled = _ANY_WORD.sub(lambda m: m.group()[:1].upper() + m.group()[1:].lower(), text)
    return titled if len(titled) == len(text) else text


def shouted_names(nlp: Any, texts: Sequence[str], *, batch_size: int = 128) -> list[list[Candidate]]:
    """PERSON candidates in ALL-CAPS texts: NER (trained on cased text) reads a title-cased copy; only
    names of two or more uncommon words are kept, because every capitalised word now looks like one."""
    # (``doc.text`` rebuilds the whole string on every access: read the copies we made instead)
    copies = [title_copy(t) for t in texts]
    return [shouted_candidates(document, doc.ents)
            for document, doc in zip(copies, nlp.pipe(copies, batch_size=batch_size), strict=True)]


def shouted_candidates(document: str, ents: Sequence[Any]) -> list[Candidate]:
    """PERSON candidates from the entities NER found in the title-cased copy ``document`` of an
    ALL-CAPS text (offsets index the original: the copy has the same length)."""
    spans: list[Candidate] = []
    for ent in ents:
        if ent.label_ != "PERSON":
            continue
        start, text = ent.start_char, ent.text
        lead = _LEADING_COMMON.match(text)
        while lead is not None and lead.end() < len(text):
            start += lead.end()
            text = text[lead.end():]
            lead = _LEADING_COMMON.match(text)
        words = text.split()
        # (the first word may be a census given name that is also a word: "GRACE OKONKWO")
        if len(words) < 2 or "\n" in text or not all(
                _shouted_name_word(w) or (i == 0 and is_given_name(w) and w.lower() not in NOT_NAMES)
                for i, w in enumerate(words)):
            continue
        if any(is_medicine(w) for w in words) or _vocabulary(words, "PERSON"):
            continue  # ("KIDNEY STONES": English nouns, no census name among them)
        end = start + len(text)
        # a shouted name stands on its own (a signature, a list item, "…, ANNA KOWALSKI."):
        # title-cased clinical or technical phrases sit inside sentences
        if not (_STANDS_BEFORE.search(document[max(0, start - 4):start] or "")
                and _STANDS_AFTER.match(document[end:end + 4])):
            continue
        spans.append(Candidate(start, end, "PERSON", 0.7))
    return spans


def _name_shaped(text: str, document: str, start: int, end: int, entity: str) -> bool:
    """The checks an NER entity must pass: only positive evidence that it is no personal data (a
    quantity, a dose beside it) drops it; being an English word, short, lower-case or sentence-initial
    does not ("Brown", "Rose" and "Trump" are surnames)."""
    return plausible(text, document) and not shorthand(text, document, start, end)




def _vocabulary(words: Sequence[str], entity: str) -> bool:
    """Is an entity a medicine rather than a name? Listed medicine names ("Ibuprofen"), possibly with
    ordinary words beside them ("Ibuprofen Tablets"), and no census name among them. Ordinary English
    words alone are no evidence: many surnames and places are words."""
    if not words or not any(is_medicine(w) for w in words):
        return False
    return all(is_medicine(w) or (_ordinary_word(w) and not is_person_name(w)) for w in words)


def _ordinary_word(word: str) -> bool:
    return common_word(word) or common_noun(word)


def ner_candidates(nlp: Any, texts: Sequence[str], *, batch_size: int = 128) -> list[list[Candidate]]:
    """Entity candidates per text, offsets into the given strings."""
    # (``doc.text`` rebuilds the whole string on every access: read the given strings instead)
    return [entity_candidates(document, doc.ents)
            for document, doc in zip(texts, nlp.pipe(texts, batch_size=batch_size), strict=True)]


def entity_candidates(document: str, ents: Sequence[Any]) -> list[Candidate]:
    """Candidates from the spaCy entities NER found in ``document`` (mapped by :data:`NER_LABELS`,
    trimmed, and dropped only on positive evidence that they are no personal data)."""
    spans: list[Candidate] = []
    for ent in ents:
        mapped = NER_LABELS.get(ent.label_)
        if mapped is None:
            continue
        entity, score = mapped
        start, end = ent.start_char, ent.end_char
        text = ent.text
        # an entity never runs across a line break or a table rule
        cut = min((i for i in (text.find("\n"), text.find("|")) if i > 0), default=len(text))
        text = text[:cut].rstrip()
        end = start + len(text)
        # NER often starts a name at a preceding capitalised verb or honorific ("Call Dr. Smith");
        # a word that is also a frequent given name stays ("Will Smith", "May Lee")
        lead = _LEADING_COMMON.match(text)
        while lead is not None and lead.end() < len(text) and not _given_name_word(lead.group()):
            start += lead.end()
            text = text[lead.end():]
            lead = _LEADING_COMMON.match(text)
        end = start + len(text)
        if entity == "DATE_TIME":
            if _CALENDAR.search(text) and not _clock_time(text, document, start):
                spans.append(Candidate(start, end, entity, score))
            continue
        if entity == "PERSON":
            lo, hi = trim_caps(text)
            start, end, text = start + lo, start + hi, text[lo:hi]
        if not text or not _name_shaped(text, document, start, end, entity):
            continue
        words = _ANY_WORD.findall(text)
        if _vocabulary(words, entity):
            continue
        spans.append(Candidate(start, end, entity, score))
    return spans

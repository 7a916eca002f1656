"""spaCy NER with only the ``ner`` pipe loaded (the tagger, parser, lemmatizer and the shared tok2vec
are not needed for entities and cost about half the time), loaded once per process, never downloaded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from clearhouse.errors import DetectionError
from clearhouse.privacy.detection.lexicons import is_given_name, is_medicine, is_person_name, is_place
from clearhouse.privacy.detection.offline import ensure_offline, require_installed_model
from clearhouse.privacy.detection.recognizers.base import Candidate
from clearhouse.privacy.detection.recognizers.words import (
    NOT_NAMES,
    common_noun,
    common_word,
    has_vowel,
    irregular_verb,
    load_lexicon,
    name_like,
    predicate_like,
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
_LOWER_WORD = re.compile(r"(?<![\w'\u2019-])[a-z][a-z'\u2019-]*(?![\w'\u2019-])")
_ANY_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
_LEADING_COMMON = re.compile(
    r"(?:" + "|".join(sorted((re.escape(w) for w in NOT_NAMES if w.isalpha()), key=len, reverse=True))
    + r")\.?\s+",
    re.IGNORECASE,
)
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_PARTICLES = frozenset({"of", "de", "da", "do", "del", "der", "di", "du", "van", "von", "la", "le", "and", "&",
                        "the", "bin", "ibn", "al", "el", "y", "e", "zu", "ten", "ter"})


#: characters that never occur inside a proper name but join the shorthand of notes, forms and chats
#: ("Na/K", "A + B", "Plan~", "Skin- dry", "x=3")
_NOT_IN_NAME = re.compile(r"[/+~=]|-(?:\s|$)")
#: a quantity with a unit right after (or before) a word makes it a substance or a device, never a person
#: or a place ("Brandname 40 mg", "250 ml Salinex"): measurements are general notation, not a domain list
_UNIT = (r"(?:mg|mcg|µg|g|gm|gms|mgm|kg|lbs?|oz|ml|cc|l|dl|units?|u|meq|mmol|mol|iu|%|mm|cm|mmhg|tabs?|"
         r"tablets?|caps?|capsules?|puffs?|drops?)")
_DOSE_AFTER = re.compile(rf"[ \t]*\d+(?:[.,]\d+)?[ \t]*{_UNIT}(?![^\W\d_])", re.IGNORECASE)
_DOSE_BEFORE = re.compile(rf"\d+(?:[.,]\d+)?[ \t]*{_UNIT}[ \t]*$", re.IGNORECASE)
#: upper-case suffixes that do belong to a person's name
_NAME_CAPS = frozenset({"II", "III", "JR", "SR"})


def shorthand(text: str, document: str, start: int, end: int) -> bool:
    """Is an NER entity in mixed-case text notation rather than a name? Shorthand characters inside it
    or a dose next to it."""
    if _NOT_IN_NAME.search(text):
        return True
    return bool(_DOSE_AFTER.match(document, end) or _DOSE_BEFORE.search(document[max(0, start - 16):start]))


_EDGE_CAPS = re.compile(r"^(?:[A-Z]{2,4}[ \t]+)+|(?:[ \t]+[A-Z]{2,4})+$")


def trim_caps(text: str) -> tuple[int, int]:
    """Offsets (into ``text``) left after dropping short upper-case words at either end of a mixed-case
    entity: an abbreviation or a credential beside a name ("Wean ABCD", "IV Brandname", "Ann Lee MD")
    is not part of it (a name is written in one case; "II", "III", "Jr" stay)."""
    if text.isupper():
        return 0, len(text)
    lo, hi = 0, len(text)
    m = _EDGE_CAPS.search(text)
    while m is not None and m.group().split()[0] not in _NAME_CAPS and lo < hi:
        if m.start() == lo:
            lo = m.end()
        else:
            hi = m.start()
        m = _EDGE_CAPS.search(text, lo, hi) if lo < hi else None
    return lo, hi


def plausible(text: str, document: str = "") -> bool:
    """Is an NER entity (found in mixed-case text) shaped like a proper name? The small model also tags
    lower-case words ("knee soft"), measurements ("250cc") and upper-case headings or acronyms; proper
    names are capitalised words with no digits."""
    if not text or any(ch.isdigit() for ch in text) or not any(ch.isalpha() for ch in text):
        return False
    letters = [ch for ch in text if ch.isalpha()]
    if all(ch.isupper() for ch in letters):
        if len(letters) <= 4 and " " not in text:
            return False  # an acronym (a test, a ward, a device) rather than a name
        if len(_CAPS_WORD.findall(document)) - len(text.split()) >= 3:
            return False  # upper case is how this document writes headings and abbreviations
    words = [w for w in text.replace("-", " ").split() if any(ch.isalpha() for ch in w)]
    return all(w[0].isupper() or w.lower() in _PARTICLES or not w[0].isalpha() for w in words)


#: a word capitalised only by its position: at a line or sentence start, not after an honorific
_POSITIONAL = re.compile(r"(?:^|[!?;:\n]|(?<!\b[MD]r)(?<!\bMrs)(?<!\bMs)(?<!\bSt)\.)[ \t]*$")
_NEXT_LOWER = re.compile(r"[ \t]+([a-z][^\s]*)")


def _positional_label(document: str, start: int, end: int) -> bool:
    """A lone word capitalised only because it starts a sentence and followed by no predicate ("Word
    soft", "Word draining", "Word to …") is a label or a noun, as in a note or a form; a named subject
    is followed by a verb or a function word ("Odessa lives …", "Kim and …", "Ray spoke …")."""
    if not _POSITIONAL.search(document[max(0, start - 6):start]):
        return False
    m = _NEXT_LOWER.match(document, end)
    if m is None or predicate_like(m.group(1)):
        return False
    # a surname typed in lower case ("Amelia schmidt here") keeps the given name: a next word that
    # is no English verb or adjective and has a vowel
    nxt = m.group(1).strip(".,;:!?'\u2019\"()")
    return not (name_like(nxt, cased=False) and has_vowel(nxt))


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
    out: list[list[Candidate]] = []
    for doc in nlp.pipe([title_copy(t) for t in texts], batch_size=batch_size):
        spans: list[Candidate] = []
        for ent in doc.ents:
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
            if not (_STANDS_BEFORE.search(doc.text[max(0, start - 4):start] or "")
                    and _STANDS_AFTER.match(doc.text[end:end + 4])):
                continue
            spans.append(Candidate(start, end, "PERSON", 0.7))
        out.append(spans)
    return out


#: nationalities, religions and political groups are a closed class of English words; nearly all end in
#: a demonym or adherent suffix ("Italian", "Japanese", "Polish", "Czech", "Icelandic", "Buddhist",
#: "Democrat"); the rest ("Saudi", "Greek", "Muslim") are listed. Anything else tagged NRP by the
#: small model is a capitalised noun ("Brandname", "Symptomitis").
_GROUP_SUFFIX = re.compile(r"(?:.{3,}an|ian|ese|ish|ic|ch|ist|er|ite|at|ant|en)$", re.IGNORECASE)
_GROUP_WORDS = frozenset({"muslim", "muslims", "jew", "jews", "sikh", "sikhs", "hindu", "hindus", "arab", "arabs",
                          "greek", "greeks", "thai", "swiss", "maori", "inuit", "latino", "latinos", "latina",
                          "latinas", "latinx", "jain", "jains", "sunni", "sunnis", "shia", "kurd", "kurds", "turk",
                          "turks", "basque", "basques", "scot", "scots", "pole", "poles", "dane", "danes", "swede",
                          "swedes", "finn", "finns", "brit", "brits", "serb", "serbs", "croat", "croats", "slovak",
                          "slovaks", "uzbek", "uzbeks", "tajik", "tajiks", "kazakh", "kazakhs", "bantu", "zulu",
                          "zulus", "hutu", "tutsi", "amish", "mormon", "mormons", "quaker", "quakers", "tory",
                          "tories", "lgbt", "lgbtq", "saudi", "iraqi", "israeli", "pakistani", "bangladeshi", "somali",
                          "yemeni", "kuwaiti", "omani", "qatari", "nepali", "bengali", "punjabi", "emirati",
                          "azerbaijani", "afghani", "shii"})


def _group_word(text: str) -> bool:
    """Could a one-word NRP entity be a nationality, religion or political group?"""
    w = text.lower().strip(".,'\u2019")
    forms = (w, w[:-1]) if w.endswith("s") and len(w) > 3 else (w,)  # plurals: "Cubans", "Iraqis"
    return any(f in _GROUP_WORDS or _GROUP_SUFFIX.search(f) is not None for f in forms)


def _name_shaped(text: str, document: str, start: int, end: int, entity: str) -> bool:
    """The checks an NER entity of mixed-case text must pass, on its own text and its neighbours."""
    if not plausible(text, document) or shorthand(text, document, start, end):
        return False
    if entity == "NRP" and " " not in text and not _group_word(text):
        return False
    if document[end:end + 1] == ":" and (len(text) <= 5 or common_word(text)):
        return False  # a heading ("Neuro:", "Social:") rather than a name
    if entity != "NRP" and " " not in text:
        # a lone capitalised adjective or verb ("Cardiac", "Replete") is no name, nor is a lone word
        # capitalised by position and followed by no predicate
        return not (common_word(text) or _positional_label(document, start, end))
    return True


#: words that make a phrase of ordinary words an organisation's name ("Quiet River Solutions")
_ORG_WORDS = frozenset({
    "inc", "llc", "ltd", "plc", "corp", "corporation", "company", "co", "group", "holdings", "partners",
    "solutions", "services", "systems", "software", "technologies", "technology", "labs", "ventures", "capital",
    "consulting", "media", "bank", "insurance", "foundation", "institute", "university", "college", "school",
    "association", "agency", "society", "trust", "fund", "network", "industries", "enterprises", "international",
    "global", "studio", "studios", "press", "airlines", "motors", "energy", "pharmaceuticals", "council",
    "department", "ministry", "committee", "church", "club", "team", "union", "league", "party",
})


def _ordinary_word(word: str) -> bool:
    return common_word(word) or common_noun(word) or (word.isupper() and len(word) <= 4)


def _ordinary_person(words: Sequence[str]) -> bool:
    if any(is_person_name(w) for w in words):
        return False
    # a short word no census lists is an abbreviation ("Qty", "Tbsp") more often than a name
    return (len(words) == 1 and len(words[0]) <= 4) or all(_ordinary_word(w) for w in words)


def _ordinary_organisation(words: Sequence[str]) -> bool:
    if any(w.lower() in _ORG_WORDS or is_person_name(w) or is_place(w) for w in words):
        return False
    return all(_ordinary_word(w) for w in words)


def _ordinary_place(words: Sequence[str]) -> bool:
    return len(words) == 1 and _ordinary_word(words[0]) and not (is_place(words[0]) or is_person_name(words[0]))


_ORDINARY = {"PERSON": _ordinary_person, "ORGANIZATION": _ordinary_organisation, "LOCATION": _ordinary_place}


def _vocabulary(words: Sequence[str], entity: str) -> bool:
    """Is an entity made of ordinary vocabulary rather than a name? Medicine names ("Ibuprofen"); for
    people, nothing but English words and abbreviations, none of them a census given name or surname
    ("Wrist Splint", "Fever Chart"), or a short unlisted word ("Qty"); for organisations, nothing but English
    words with no place, person or company word among them ("Shift Summary", "Pressure Readings"); for
    places, one ordinary word that is no listed place ("Sinus"; "Reading" stays)."""
    if not words:
        return False
    if any(is_medicine(w) for w in words) and all(is_medicine(w) or _ordinary_word(w) for w in words):
        return True
    check = _ORDINARY.get(entity)
    return check is not None and check(words)


def ner_candidates(nlp: Any, texts: Sequence[str], *, batch_size: int = 128) -> list[list[Candidate]]:
    """Entity candidates per text, offsets into the given strings."""
    out: list[list[Candidate]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        spans: list[Candidate] = []
        # words this document also writes in lower case are common words, not names ("Ibuprofen" at a
        # line start vs "ibuprofen" later); computed lazily, once per document
        lower_words: set[str] | None = None
        for ent in doc.ents:
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
            # NER often starts a name at a preceding capitalised verb or honorific ("Call Dr. Smith")
            lead = _LEADING_COMMON.match(text)
            while lead is not None and lead.end() < len(text):
                start += lead.end()
                text = text[lead.end():]
                lead = _LEADING_COMMON.match(text)
            end = start + len(text)
            if entity == "DATE_TIME":
                if _CALENDAR.search(text) and not _clock_time(text, doc.text, start):
                    spans.append(Candidate(start, end, entity, score))
                continue
            if entity in {"PERSON", "LOCATION", "ORGANIZATION"}:
                lo, hi = trim_caps(text)
                start, end, text = start + lo, start + hi, text[lo:hi]
            if not text or not _name_shaped(text, doc.text, start, end, entity):
                continue
            if lower_words is None:
                lower_words = set(_LOWER_WORD.findall(doc.text))
            words = _ANY_WORD.findall(text)
            if words and all(w.lower() in lower_words for w in words):
                continue
            if _vocabulary(words, entity):
                continue
            spans.append(Candidate(start, end, entity, score))
        out.append(spans)
    return out

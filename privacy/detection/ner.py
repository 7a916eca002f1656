"""spaCy NER with only the ``ner`` pipe loaded (the tagger, parser, lemmatizer and the shared tok2vec
are not needed for entities and cost about half the time), loaded once per process, never downloaded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from clearhouse.errors import DetectionError
from privacy.detection.offline import ensure_offline, require_installed_model
from privacy.detection.recognizers.base import Candidate
from privacy.detection.recognizers.words import NOT_NAMES, common_word, load_lexicon

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
    import spacy

    try:
        info = spacy.util.get_model_meta(spacy.util.get_package_path(model_name)) \
            if spacy.util.is_package(model_name) else {}
        names = info.get("pipeline") or []
        load_lexicon(model_name)
        return spacy.load(model_name, exclude=[p for p in names if p != "ner"])
    except Exception as exc:  # spaCy raises OSError/ValueError/… depending on what is wrong
        raise DetectionError(f"cannot load spaCy model {model_name!r}: {type(exc).__name__}") from exc


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


def plausible(text: str, document: str = "") -> bool:
    """Is an NER entity (found in mixed-case text) shaped like a proper name? The small model also tags
    lower-case words ("abd soft"), measurements ("250cc") and upper-case headings or acronyms; proper
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


_VOWEL = re.compile(r"[aeiouyà-ÿ]", re.IGNORECASE)
_STANDS_BEFORE = re.compile(r"(?:^|[.!?:;,\n>|-])[ \t]*$")
_STANDS_AFTER = re.compile(r"[ \t]*(?:[.!?,;:\n(|<-]|$)")


def _shouted_name_word(word: str) -> bool:
    """A word of an upper-case name: letters (and an apostrophe), a vowel, not an abbreviation-length
    fragment, not a common verb/adjective/function word."""
    core = word.replace("'", "").replace("\u2019", "")
    return (len(core) >= 2 and core.isalpha() and _VOWEL.search(core) is not None
            and not (len(core) <= 3 and core.isupper() and len(word) == len(core) and not _VOWEL.match(core[-1]))
            and not common_word(word))


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
            if len(words) < 2 or "\n" in text or not all(_shouted_name_word(w) for w in words):
                continue
            end = start + len(text)
            # a shouted name stands on its own (a signature, a list item, "…, ANNA KOWALSKI."):
            # title-cased clinical or technical phrases sit inside sentences
            if not (_STANDS_BEFORE.search(doc.text[max(0, start - 4):start] or "")
                    and _STANDS_AFTER.match(doc.text[end:end + 4])):
                continue
            spans.append(Candidate(start, end, "PERSON", 0.7))
        out.append(spans)
    return out


def ner_candidates(nlp: Any, texts: Sequence[str], *, batch_size: int = 128) -> list[list[Candidate]]:
    """Entity candidates per text, offsets into the given strings."""
    out: list[list[Candidate]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        spans: list[Candidate] = []
        # words this document also writes in lower case are common words, not names ("Propofol" at a
        # line start vs "propofol" later); computed lazily, once per document
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
                if _CALENDAR.search(text):
                    spans.append(Candidate(start, end, entity, score))
                continue
            if not plausible(text, doc.text):
                continue
            if doc.text[end:end + 1] == ":" and (len(text) <= 5 or common_word(text)):
                continue  # a heading ("Neuro:", "Social:") rather than a name
            if entity != "NRP" and " " not in text and common_word(text):
                continue  # a lone capitalised adjective or verb ("Cardiac", "Replete") is no name
            if lower_words is None:
                lower_words = set(_LOWER_WORD.findall(doc.text))
            words = [w.lower() for w in _ANY_WORD.findall(text)]
            if words and all(w in lower_words for w in words):
                continue
            spans.append(Candidate(start, end, entity, score))
        out.append(spans)
    return out

"""Names that follow an honorific: "Mr X", "dr y", "MRS Z", "Prof. A. B. Smith"."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.lexicons import is_person_name
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import local_case, name_like

_TITLE = re.compile(
    r"\b(?:mr|mrs|ms|miss|mister|dr|drs|doctor|prof|professor|sir|dame|madam|rev|herr|frau|mme|mlle|"
    # role titles written before a surname in legal, police and official documents
    r"judge|justice|hon|honorable|honourable|atty|attorney|counsel|officer|ofc|detective|det|sgt|sergeant|"
    r"lt|lieutenant|capt|captain|agent|inspector|constable|senator|rep|governor|mayor)"
    r"(?:\.|\b)[ \t]*(?P<rest>(?:[^\W\d_]\.[ \t]*)?[^\W\d_][\w'\u2019-]*(?:[ \t]+[^\W\d_][\w'\u2019-]*){0,2})",
    re.IGNORECASE,
)
#: the honorifics written only before a person's name (role titles such as "lt" or "rep" are also
#: abbreviations of ordinary words in lower case)
_PERSONAL = re.compile(r"(?:mr|mrs|dr|doctor|prof|professor)\b", re.IGNORECASE)
#: titles that are also abbreviations of ordinary words (left, mental status, repeat, detail, ...)
_AMBIGUOUS = frozenset({"lt", "ms", "rep", "det", "hon", "capt", "agent", "officer", "counsel", "attorney",
                        "justice", "judge", "inspector", "governor", "mayor"})
_TOKEN = re.compile(r"[^\W\d_]\.(?!\w)|[^\W\d_][\w'\u2019-]*")


class TitleNameRecognizer(ClearhouseRecognizer):
    """PERSON for the one to three name-like words after an honorific (the honorific itself is not
    reported: it is not identifying and keeping it preserves readability)."""

    name = "title_name"
    entities = ("PERSON",)

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _TITLE.finditer(text):
            cased = local_case(text, m.start(), m.end()) == "mixed"
            base = m.start("rest")
            lexical = False
            if cased and text[base].islower() and _PERSONAL.match(m.group()):
                # "dr. smith aware": people type names after a personal honorific in lower case even
                # in mixed-case text; then only a word that is no English verb/adjective counts
                cased, lexical = False, True
            title = m.group().split()[0].rstrip(".").lower() if m.group().split() else ""
            # "LT LEG", "ms noted", "REP LABS": abbreviations that are ordinary words in notes take only a
            # census name when case does not tell
            listed_only = not cased and title in _AMBIGUOUS
            start = end = -1
            for i, tok in enumerate(_TOKEN.finditer(m.group("rest"))):
                word = tok.group()
                if word.endswith(".") and len(word) == 2:  # an initial such as "J."
                    if i == 0:
                        start, end = base + tok.start(), base + tok.end()
                        continue
                    break
                if not name_like(word, cased=cased, lexical=lexical) or (listed_only and not is_person_name(word)):
                    break
                if start < 0:
                    start = base + tok.start()
                end = base + tok.end()
                # In uncased text a second word is only taken when the first is followed by a space
                # and the second is also name-like (checked above); stop after two words there.
                if not cased and i >= 1:
                    break
            if start >= 0 and end > start and text[start:end].strip(". ") != "":
                if end - start <= 2 and text[end - 1] == ".":
                    continue  # an initial alone is not a name
                out.append(Candidate(start, end, "PERSON", 0.85))
        return out

"""Organisations named with a legal form or a business word: "Northwind Logistics LLC", "7 Bridges Inc",
"Quillfeather Technologies", "CASCADE TIMBER CO.". An employer or a counterparty identifies a person as much as
an address does, and the suffix makes these names reliable in any case."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.lexicons import is_medicine
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import NOT_NAMES, common_noun, common_word

#: legal forms: a name before one of these is a company whatever its words
_LEGAL = r"inc|incorporated|llc|l\.l\.c|ltd|limited|corp|corporation|co\.|company|plc|gmbh|llp"
#: business words: they make a company name only with a word that is no ordinary English word
_BUSINESS = (r"group|holdings|technologies|partners|associates|consulting|solutions|systems|software|labs|"
             r"ventures|capital|industries|enterprises|logistics|insights")
_SUFFIX = f"{_LEGAL}|{_BUSINESS}"
_WORD = r"[A-Z0-9][\w'\u2019&-]*(?:\.[A-Za-z]+)*"
#: one to four name words (capitalised or numbers, joined by "&", "and", "of"), a comma maybe, the suffix
_ORG = re.compile(
    rf"(?<![\w'\u2019&.-])(?P<name>{_WORD}(?:[ \t]+(?:&|and|of|{_WORD})){{0,3}})"
    rf",?[ \t]+(?P<suffix>(?i:{_SUFFIX}))\.?(?![\w'\u2019-])"
)
_LEGAL_FORM = re.compile(rf"(?i:{_LEGAL})\.?")
_TOKEN = re.compile(r"[^ \t]+")
_JOINERS = frozenset({"&", "and", "of"})
#: function words end the name when read backwards from the suffix ("I work for Acme Inc" → "Acme")
_BREAK = NOT_NAMES - _JOINERS
_LEADING = frozenset({"The", "THE", "A", "An", "AN"})


def _ordinary(word: str) -> bool:
    """An English word, a medicine, an abbreviation or a code mixing letters and digits ("FIO2")."""
    return (common_word(word) or common_noun(word) or is_medicine(word) or (word.isupper() and len(word) <= 3)
            or (any(c.isdigit() for c in word) and any(c.isalpha() for c in word)))


class OrganisationSuffixRecognizer(ClearhouseRecognizer):
    """ORGANIZATION for capitalised name words followed by a legal form or business word (0.7)."""

    name = "org_suffix"
    entities = ("ORGANIZATION",)
    prefilter = re.compile(rf"[ \t,](?i:{_SUFFIX})\b")

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _ORG.finditer(text):
            toks = list(_TOKEN.finditer(text, m.start("name"), m.end("name")))
            # the name is the run of words right before the suffix that holds no function word
            # ("PAIN ON MOVEMENT, INC" → "MOVEMENT"), without a leading article ("The Acme Group")
            i = len(toks)
            while i > 0 and toks[i - 1].group().lower() not in _BREAK:
                i -= 1
            toks = toks[i:]
            while len(toks) > 1 and toks[0].group() in _LEADING:
                toks = toks[1:]
            words = [t.group() for t in toks]
            if not words or words[-1].lower() in _JOINERS or not any(w[:1].isalpha() for w in words):
                continue  # ("ELEV AND INC")
            if text[m.end():m.end() + 1] == ":":
                continue  # a heading ("Terms of Service:")
            name = " ".join(words)
            suffix = m.group("suffix")
            if suffix.islower() or (suffix.isupper() and not name.isupper() and len(suffix) > 3):
                continue  # "pm labs", "Acme SYSTEMS": a company writes its suffix as it writes its name
            legal = _LEGAL_FORM.fullmatch(suffix) is not None
            # upper-case text ("BP INC", "HR CO", "PM LABS") and business words ("Terms of Service") need
            # a name word that is no English word, medicine, abbreviation or code
            if (name.isupper() or not legal) and all(_ordinary(w) for w in words if w.lower() not in _JOINERS):
                continue
            out.append(Candidate(toks[0].start(), m.end(), "ORGANIZATION", 0.7))
        return out

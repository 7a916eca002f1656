"""Street addresses: "42 Oak Street, Salem", "4120 lindenweg 17 apt. 3", "P.O. Box 907", "Suite 12"."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import NOT_NAMES, common_word

#: street-type words spelled out (any case) …
_SUFFIX = (r"street|avenue|road|lane|drive|boulevard|court|terrace|way|place|parkway|highway|square|circle|"
           r"trail|crescent|alley|plaza|mews|grove|gardens|heights|strasse|straße|gasse|platz|katu|vej|gade|"
           r"gatan|vägen|straat|laan")
#: … and abbreviated, which collide with clinical and technical abbreviations ("CT", "ST", "Dr"), so
#: only accepted capitalised as in a written address ("Oak St.", "Elm Rd")
_ABBR = r"St|Ave|Rd|Ln|Dr|Blvd|Ct|Ter|Pl|Pkwy|Hwy|Sq|Cir|Trl|Cres|Str"
_STREET_FIRST = r"Rue|Via|Calle|Avenida|Rua|Strada|Viale|Carrer|Ulica|Ul\."
_WORD = r"[^\W\d_][\w'\u2019.-]*"
_SP = r"[ \t]+"
_UNIT = r"(?:,?[ \t]*(?i:apt|apartment|suite|ste|unit|flat|floor|fl|room|rm|#)\.?[ \t]*#?[ \t]*\w{1,6})?"
_CITY = (r"(?:,[ \t]*[A-Z][\w'\u2019-]+(?:[ \t]+[A-Z][\w'\u2019-]+){0,2}"
         r"(?:,?[ \t]+[A-Z]{2}(?:[ \t]+\d{5}(?:-\d{4})?)?)?)?")
_NUMBERED = re.compile(
    rf"(?<![\d/.:-])\b\d{{1,6}}[A-Za-z]?,?[ \t]+(?P<words>(?:{_WORD}{_SP}){{1,4}}?)"
    rf"(?:(?i:{_SUFFIX})|{_ABBR})\b\.?(?:{_SP}\d{{1,5}}\b)?{_UNIT}{_CITY}",
)
_SUFFIX_FIRST = re.compile(rf"\b(?:{_STREET_FIRST})\s+(?:{_WORD}\s+){{0,3}}?\d{{1,5}}[A-Za-z]?\b{_UNIT}")
_BOX = re.compile(
    r"\b(?:p\.?\s*o\.?\s*box|post\s+office\s+box)\s*\d{1,6}\b"
    # US military mail: "PSC 1234, Box 5678" / "Unit 1234 Box 56", then "APO AA 12345"
    r"|\b(?:psc|cmr|unit)\s+\d{3,5},?\s+box\s+\d{1,5}\b(?:\s*\n?\s*[apd]po\s+a[aep]\s+\d{5})?",
    re.IGNORECASE,
)
_UNIT_ONLY = re.compile(r"\b(?:apt|apartment|suite|ste|flat)\.?\s*#?\s*\d{1,5}[A-Za-z]?\b", re.IGNORECASE)
#: "Lindenweg 17", "Rua das Flores 220": a capitalised street name then a house number — common in
#: European addresses, but also "Windows 10", so only reported with address context nearby
_NAME_NUMBER = re.compile(
    r"\b[A-Z][a-zß-ÿ]{2,}(?:\s+(?:do|da|de|del|der|di|du|van|von|la|le|los|las)?\s*[A-Z][a-zß-ÿ]+)?"
    r"[ \t]+\d{1,5}[a-z]?\b"
)
#: "4120 Lindenweg 17", "81530 Tammitie 9": number, capitalised street name, house number
_NUM_NAME_NUM = re.compile(
    r"(?<![\w/.:-])\d{1,6}[ \t]+(?P<words>(?:[^\W\d_][^\s\d,]*[ \t]+){0,3}?[^\W\d_][^\s\d,]*)"
    r"[ \t]+\d{1,5}[a-z]?\b(?![/.:]\d)"
)
#: what may follow an address on the same or the next lines: unit, city, region code, postcode, country
_TAIL = re.compile(
    r"[ \t]*(?:(?:[,>;]|\n|\?{3})[ \t]*){0,4}"
    r"(?:(?i:apt|apartment|suite|ste|unit|flat|box)\.?[ \t]*#?\d+\w*"
    r"|[^\W\d_][^\s,\d:@()]*(?:[ \t]+[^\W\d_(][^\s,\d:@]*){0,3}(?:[ \t]+\d{3,6}(?:[- ]\d{2,4})?(?![\w/.:-]))?"
    r"|\d{3,6}(?:[- ]\d{2,4})?(?![\w/.:-]))"
)
#: a postcode or house number written before the street line ("5521 18 Fenwick Road")
_LEAD = re.compile(r"(?:^|(?<=[\s>]))\d{3,6}[ \t]+$")
_CONTEXT = frozenset({"address", "addresses", "live", "lives", "living", "located", "ship", "shipping", "deliver",
                      "delivery", "street", "billing", "mailing", "moved", "residence", "resides"})


class StreetAddressRecognizer(ClearhouseRecognizer):
    """STREET_ADDRESS: a house number, up to four words and a street-type word (any case), with an
    optional unit and ", City"; P.O. boxes; units; name-number addresses next to address words."""

    name = "street_address"
    entities = ("STREET_ADDRESS",)
    needs = "digit"

    def find(self, text: str) -> list[Candidate]:
        out = self._cores(text)
        return [self._extend(text, c) if c.score >= 0.6 else c for c in out]

    @staticmethod
    def _extend(text: str, cand: Candidate) -> Candidate:
        """Grow an address over the unit, city, region, postcode and country that follow it (up to
        five parts): an address block is personal data as a whole. Parts must be capitalised words
        (or codes), so ordinary prose after an address is not swallowed."""
        start, end = cand.start, cand.end
        lead = _LEAD.search(text, max(0, start - 8), start)
        if lead is not None:
            start = lead.start()
        for _ in range(5):
            m = _TAIL.match(text, end)
            if m is None or m.end() == end or m.group().count("\n") > 2:
                break
            part = m.group().strip(" \t\n,>?;")
            words = part.split()
            if not part or (words[0][0].isalpha() and not all(w[0].isupper() or not w[0].isalpha() for w in words)):
                break
            if words[0].lower() in NOT_NAMES:
                break
            end = m.end()
        if (start, end) == (cand.start, cand.end):
            return cand
        return Candidate(start, end, cand.entity_type, cand.score, cand.context)

    def _cores(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _NUM_NAME_NUM.finditer(text):
            words = m.group("words").split()
            if all(w[0].isupper() and len(w) >= 3 and not w[1:].isupper() and not common_word(w)
                   for w in words):
                out.append(Candidate(m.start(), m.end(), "STREET_ADDRESS", 0.6))
        for m in _NUMBERED.finditer(text):
            words = m.group("words").split()
            # "2 boxes at the street" is not an address: the words between must not be function words
            if any(w.lower().strip(".") in NOT_NAMES and w.lower() not in {"n", "s", "e", "w"} for w in words):
                continue
            out.append(Candidate(m.start(), m.end(), "STREET_ADDRESS", 0.8))
        for m in _SUFFIX_FIRST.finditer(text):
            out.append(Candidate(m.start(), m.end(), "STREET_ADDRESS", 0.6))
        for m in _BOX.finditer(text):
            out.append(Candidate(m.start(), m.end(), "STREET_ADDRESS", 0.85))
        for m in _UNIT_ONLY.finditer(text):
            out.append(Candidate(m.start(), m.end(), "STREET_ADDRESS", 0.6, _CONTEXT))
        for m in _NAME_NUMBER.finditer(text):
            out.append(Candidate(m.start(), m.end(), "STREET_ADDRESS", 0.3, _CONTEXT))
        return out

"""Calendar dates and years: "3/14", "7/9/1961", "2019-03-07", "June 3, 2021", "oct. 2018", "'79".

Times of day are not reported: alone they do not identify anyone, and clinical and support text is
full of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Self

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer, words_before

if TYPE_CHECKING:
    from clearhouse.privacy.detection.profiles import DetectionProfile

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_ORD = r"(?:st|nd|rd|th)?"
_NAMED = re.compile(
    rf"\b(?:(?P<d1>[0-3]?\d){_ORD}\s*(?:day\s+of\s+)?(?:of\s+)?)?(?P<m>{_MONTH})\.?"
    rf"(?:\s*(?P<d2>[0-3]?\d){_ORD}\b)?(?:,?\s*(?:of\s+|in\s+)?(?P<y>(?:19|20)\d{{2}}|'\d{{2}}))?\b",
    re.IGNORECASE,
)
_ISO = re.compile(r"\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\b")
#: a dash may join a date to a word or to another date ("ON 9/7-ADMITTED", "6/30-7/2"), not to a number
_NUMERIC = re.compile(
    r"(?<![\d/.])(?<!\d-)(?P<a>\d{1,2})(?P<s>[/.-])(?P<b>\d{1,2})(?:(?P=s)(?P<y>(?:19|20)?\d{2}))?"
    r"(?![\d/]|\.\d|-\d(?!\d?/\d))"
)
_YEAR = re.compile(r"(?<![\d.,:$#-])(?P<v>(?:19[0-9]|20[0-4])\d)(?![\d.,:%]\d|\d|%)")
_APOS_YEAR = re.compile(r"(?<![\d'])'(?P<a>\d{2})(?![\w'\"])|(?<![\w'])(?P<b>\d{2})'(?![\w'\"])")
#: words before a 4-digit number that make it a time or a quantity, not a year
_NOT_YEAR_BEFORE = frozenset({"at", "by", "until", "till", "from", "to", "approx", "about", "x", "of", "@",
                              "around", "before", "after", "q", "bp", "hr", "rr", "tv", "rate", "total"})
#: words that introduce a date; they make "8/7" a date rather than a fraction
_DATE_CONTEXT = frozenset({"on", "from", "since", "until", "till", "admitted", "adm", "dated", "date", "dob",
                           "born", "started", "stopped", "discharged", "transferred", "placed", "seen", "due",
                           "expired", "died", "visit", "appointment", "appt", "scheduled", "s/p", "p", "effective"})
#: general measurements whose values are written as pairs ("BP 90/60", "ratio 3/4", "grip strength 4/5");
#: a domain's own settings ("PEEP 8/5") come from the ``measurements`` of a detection profile
_GENERAL_MEASURES = ("bp", "hr", "ratio", "score", "grade", "strength", "power", "pulses?", "pupils?", "settings?")


def _measure_before(words: Iterable[str]) -> re.Pattern[str]:
    """A measurement word (and an optional qualifier, "PS 5/5", "BP: 90/60") ending right before a pair."""
    alternatives = "|".join([*_GENERAL_MEASURES, *sorted(re.escape(w) for w in set(words))])
    return re.compile(rf"\b(?:{alternatives})(?:[ \t]*[/:=][ \t]*[a-z0-9]+)?[ \t:=]*(?:of[ \t]+)?$",
                      re.IGNORECASE)
_YEAR_CONTEXT = frozenset({"in", "since", "during", "born", "year", "yr", "founded", "established", "class",
                           "graduated", "married", "died", "dx", "diagnosed", "s/p", "p", "circa", "c"})


def _valid_md(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


class ClearhouseDateRecognizer(ClearhouseRecognizer):
    """DATE_TIME for dates written with month names, ISO/numeric dates (validated as calendar dates)
    and years (1900-2049, not when the number reads as a time such as "at 2000")."""

    name = "date"
    entities = ("DATE_TIME",)
    needs = "digit"

    def __init__(self, measurements: Iterable[str] = ()) -> None:
        super().__init__()
        #: measurement words before a number pair that make it a setting, not a date
        self.measure_before = _measure_before(measurements)

    @classmethod
    def for_profile(cls, profile: DetectionProfile) -> Self:
        return cls(profile.measurements)

    def find(self, text: str) -> list[Candidate]:
        out = self._named(text) + self._numeric(text) + self._years(text)
        out += [Candidate(m.start(), m.end(), "DATE_TIME", 0.9) for m in _ISO.finditer(text)]
        return out

    @staticmethod
    def _named(text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _NAMED.finditer(text):
            if not (m.group("d1") or m.group("d2") or m.group("y")):
                continue
            day = m.group("d1") or m.group("d2")
            if day and not 1 <= int(day) <= 31:
                continue
            month = m.group("m")
            # "may"/"mar" are also ordinary words: demand a day or year and lower score when bare
            score = 0.85 if (m.group("y") or len(month) > 3 or month[0].isupper()) else 0.6
            out.append(Candidate(m.start(), m.end(), "DATE_TIME", score))
        return out

    def _numeric(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _NUMERIC.finditer(text):
            a, b, year = int(m.group("a")), int(m.group("b")), m.group("y")
            if not year and m.group("s") == "/" and 1 <= a <= 12 and b >= 32:
                # month/two-digit year: "5/97", "12/93"
                out.append(Candidate(m.start(), m.end(), "DATE_TIME", 0.55, _DATE_CONTEXT))
                continue
            if not (_valid_md(a, b) or (year and _valid_md(b, a))):
                continue
            if year and len(year) == 2 and a > 12:
                continue  # "18/6/30" reads as a setting, not a day-first date with a 2-digit year
            if year:
                score = 0.85
            elif m.group("s") != "/":
                continue  # "3-4" or "1.5" without a year are ranges and decimals
            elif self.measure_before.search(text, max(0, m.start() - 16), m.start()):
                continue  # "CPAP 8/6", "grip 4/5": a pair of settings after what they measure
            else:
                # "1/2", "3/4" are fractions (small numerator over 2, 3, 4 or 8); "9/7", "4/1" are dates
                score = 0.35 if a < b and b in {2, 3, 4, 8} else 0.6
            out.append(Candidate(m.start(), m.end(), "DATE_TIME", score, _DATE_CONTEXT))
        return out

    @staticmethod
    def _years(text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _YEAR.finditer(text):
            before = words_before(text, m.start(), 1)
            if before and before[-1] in _NOT_YEAR_BEFORE:
                continue
            if text[max(0, m.start() - 3):m.start()].rstrip().endswith("@"):
                continue  # "@ 2130" is a clock time ("@" is no word, so not in the list above)
            after = text[m.end():m.end() + 4].lower()
            if re.match(r"\s*(?:h|hr|hrs|am|pm|ml|mg|cc|kg|g|u|mcg|units?)\b", after):
                continue
            out.append(Candidate(m.start("v"), m.end("v"), "DATE_TIME", 0.55, _YEAR_CONTEXT))
        out += [Candidate(m.start(), m.end(), "DATE_TIME", 0.55) for m in _APOS_YEAR.finditer(text)]
        return out

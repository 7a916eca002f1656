"""Named places a person was at: "Fernbrook Memorial", "saint anselm hospital", "transferred to Riverton"."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.lexicons import is_place, us_state_codes
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import NOT_NAMES, common_noun, common_word, name_like

_KIND = (r"hospital|hosp|medical\s+cent(?:er|re)|memorial|clinic|infirmary|health\s+cent(?:er|re)|"
         r"nursing\s+home|rehab(?:ilitation)?(?:\s+cent(?:er|re))?|hospice|sanatorium|campus|university|college|"
         r"school|academy|church|mosque|synagogue|temple|prison|jail|penitentiary|county|parish|township")
_WORDS = r"[^\W\d_][\w'\u2019.-]*(?:[ \t]+[^\W\d_][\w'\u2019.-]*){0,2}"
_BEFORE_KIND = re.compile(rf"\b(?P<v>{_WORDS})[ \t]+(?:{_KIND})\b", re.IGNORECASE)
_MOVED = re.compile(
    r"\b(?:transferr?ed|transfer|admitted|readmitted|went|go|going|gone|moved|sent|discharged|brought|taken|"
    r"returned|referred|relocated|presented|arrived|flown|flying|flew|drove|travell?ing|travell?ed|lives?|"
    r"living|born|raised|resides?|residing)"
    r"[ \t]+(?:back[ \t]+)?(?:to|from|at|in)[ \t]+(?:the[ \t]+)?"
    r"(?P<v>[^\W\d_][\w'\u2019-]*(?:[ \t]+[^\W\d_][\w'\u2019-]*)?)",
    re.IGNORECASE,
)


#: the departments of a hospital any reader knows ("taken to ICU", "sent to the ER"): where a person goes
#: inside it, identifying no one. A domain's own unit shorthand ("MICU", "CSRU", "PACU") is declared
#: vocabulary of a detection profile (the clinical profile), not a general rule.
_CARE_UNIT = re.compile(
    r"icu|ed|er|or|lab|labs|rehab|floor|ward|unit|radiology|morgue|pharmacy|triage|recovery",
    re.IGNORECASE,
)


_UNIVERSITY_OF = re.compile(r"\b(?:university|univ\.?|u)[ \t]+of[ \t]+(?P<p>[^\W\d_][\w'\u2019-]*)", re.IGNORECASE)


class FacilityRecognizer(ClearhouseRecognizer):
    """LOCATION: the name words before a facility word ("X hospital", 0.7) and the place after a
    movement verb ("admitted to X", "lives in X", 0.55) when it is not a common word."""

    name = "facility"
    prefilter = re.compile(
        r"\b(?:" + _KIND + r"|u[ \t]+of|univ|transfer|admitted|went|go|going|gone|moved|sent|discharged|brought|"
        r"taken|returned|referred|relocated|presented|arrived|flown|flying|travel|flew|drove|live|living|born|raised|resid)",
        re.IGNORECASE,
    )
    entities = ("LOCATION",)

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _BEFORE_KIND.finditer(text):
            words = m.group("v").split()
            # keep the trailing run of non-common words: "went to saint anselm hospital" → "saint anselm"
            keep: list[str] = []
            for w in reversed(words):
                # a verb or adjective of general English ("dental clinic", "local hospital") is no name,
                # unless capitalised in mixed case as names are ("Harbor Hospital", "Grand View Clinic")
                titled = w[:1].isupper() and not w.isupper()
                if (w.lower().strip(".") in NOT_NAMES or (not titled and common_word(w))
                        or not any(c.isalpha() for c in w)):
                    break
                keep.insert(0, w)
            if not keep:
                continue
            start = text.rfind(keep[0], m.start("v"), m.end("v"))
            out.append(Candidate(start, m.end("v"), "LOCATION", 0.7))
        for m in _MOVED.finditer(text):
            words = m.group("v").split()
            # notes write places in any case: take uncommon words (not verbs, adjectives, function words),
            # not a hospital's own departments ("to ICU", "from radiology") nor a common noun ("to the
            # kitchen") unless it is a listed place ("to Denver")
            if not name_like(words[0], cased=False) or _CARE_UNIT.fullmatch(words[0]):
                continue
            if common_noun(words[0]) and not is_place(words[0]):
                continue
            end = m.start("v") + len(words[0])
            if len(words) > 1 and name_like(words[1], cased=False):
                end = m.end("v")
            out.append(Candidate(m.start("v"), end, "LOCATION", 0.55))
        for m in _UNIVERSITY_OF.finditer(text):
            # "University of Ohio", "U OF MD", "univ. of tartu": the institution named after a place
            place = m.group("p")
            if is_place(place) or (place[:1].isupper() and not common_word(place) and not common_noun(place)) \
                    or place.upper() in us_state_codes():
                out.append(Candidate(m.start(), m.end(), "LOCATION", 0.7))
        return out

"""Names introduced by a cue: "my name is X", "this is X", "thanks, X", "his daughter X"."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.lexicons import is_given_name
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import NOT_NAMES, local_case, name_like

_KIN = (r"(?:wife|husband|spouse|partner|son|daughter|dtr|brother|sister|mother|mom|mum|father|dad|"
        r"grandson|granddaughter|grandmother|grandfather|niece|nephew|aunt|uncle|cousin|fianc[eé]e?|"
        r"boyfriend|girlfriend|friend|neighbou?r|roommate|colleague|coworker|caregiver|guardian|"
        r"significant\s+other)s?|wives")
#: cues strong enough to take the next word as a name even when the text has no capitals
_STRONG = (
    r"my\s+name\s+is|name\s*(?:is|:|\?)|names?\s+(?:are|were)|(?:called|named)\s+(?=[A-Z])|"
    # kin and companions, singular or plural ("daughters X and Y": the list extends to Y later)
    rf"{_KIN}|"
    r"attn|attention|dear|signed|regards,?|sincerely,?|user\s*:|contact\s*:|from\s*:|to\s*:|by\s*:"
)
#: cues that only introduce a name when the name is capitalised in mixed-case text
_WEAK = (r"this\s+is|i\s+am|i'm|it's|its|it\s+is|thanks,?|thank\s+you,?|cheers,?|hi|hello|hey|"
         # parties and roles that introduce a person in legal, medical and HR documents
         r"plaintiffs?|defendants?|petitioners?|respondents?|appellants?|appellees?|claimants?|complainants?|"
         r"witness|victim|decedent|deceased|debtor|creditor|tenant|landlord|applicant|employee|patient|client|"
         r"minor|guardian\s+ad\s+litem|v\.|vs\.?|versus")

_KIN_WORD = re.compile(_KIN, re.IGNORECASE)
_SIGN_OFF = re.compile(r"thanks|thank\s+you|cheers", re.IGNORECASE)
#: one to three words and then the end of the line or the text: a signature after a sign-off
_SIGNATURE = re.compile(r"[^\W\d_][\w'\u2019-]*(?:[ \t]+[^\W\d_][\w'\u2019-]*){0,2}[ \t.!]*(?:\n|$)")
_CUE = re.compile(rf"\b(?:(?P<strong>{_STRONG})|(?P<weak>{_WEAK}))[\s,:]+", re.IGNORECASE)
_ORG_SUFFIX = re.compile(r"^,?[ \t]+(?:llc|l\.l\.c\.|inc|corp|corporation|ltd|limited|plc|gmbh|co|company|"
                         r"lp|llp|n\.a\.|s\.a\.|ag|bv|group|holdings)\b", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W\d_][\w'\u2019-]*")


class NameCueRecognizer(ClearhouseRecognizer):
    """PERSON for one to three name-like words after a cue. Weak cues ("this is", "thanks,") need a
    capitalised name in mixed-case text; strong cues (kinship, "my name is") work in any case."""

    name = "name_cue"
    entities = ("PERSON", "ORGANIZATION")

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _CUE.finditer(text):
            cased = local_case(text, m.start(), m.end()) == "mixed"
            weak = m.group("weak") is not None
            if weak and _SIGN_OFF.fullmatch(m.group("weak").strip(" ,")) and _SIGNATURE.match(text, m.end()):
                # "…thanks, priya nair" closing a message: a signature, whatever its case (typed in lower
                # case, its words are read as in uncased text: no English verb or adjective)
                weak = False
                cased = cased and not text[m.end():m.end() + 1].islower()
            if weak and not cased:
                continue
            pos = m.end()
            start = end = -1
            for i in range(3):
                tok = _TOKEN.match(text, pos)
                if tok is None:
                    break
                word = tok.group()
                # after a kinship word a census given name counts even when it is also an English word
                # ("son bill", "wife, Ivy", "daughter sue")
                kin_given = (i == 0 and m.group("strong") is not None
                             and _KIN_WORD.fullmatch(m.group("strong").strip()) is not None
                             and len(word) >= 3 and word.lower() not in NOT_NAMES and is_given_name(word)
                             and (not cased or word[0].isupper()))
                if not (kin_given or name_like(word, cased=cased or weak)) or _KIN_WORD.fullmatch(word):
                    break  # (a second relationship word, "sister and aunts", is no name either)
                if start < 0:
                    start = tok.start()
                end = tok.end()
                gap = re.match(r"[ \t]+|[ \t]*[^\W\d_]\.[ \t]+", text[end:end + 4])
                if gap is None or i == 2 or (not cased and i >= 1):
                    break
                pos = end + gap.end()
            if start >= 0:
                # a weak cue followed by one capitalised sentence-start-like word is less certain
                score = 0.6 if weak else 0.75
                # "v. Brightline Logistics LLC": a party can be a company
                entity = "ORGANIZATION" if _ORG_SUFFIX.search(text[end:end + 12]) else "PERSON"
                end = end if entity == "PERSON" else end + _ORG_SUFFIX.search(text[end:end + 12]).end()  # type: ignore[union-attr]
                out.append(Candidate(start, end, entity, score))
        return out

"""A full name standing alone at the end of a message: "… still no refund. Thandiwe Nkosi",
"…\\nkwabena mensah". People sign a message with their name, and a given name from outside the US
census is as much a name as one in it.

Two or three name-shaped words (letters, an apostrophe or a hyphen inside), the last thing in the text,
after a sentence end or on a line of their own, written in the case of their text (capitalised in
mixed-case text). None of them may be a function word or a cue word ("Thanks again", "Best regards"),
and not all of them ordinary English words ("Happy Birthday", "Order Status"): a census name or a word
no English list holds must be among them.

The test reads only the end of the text; anchored there, it costs the same for a text of any length.
"""

from __future__ import annotations

import re

from clearhouse.privacy.detection.lexicons import is_person_name, is_place
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.words import NOT_NAMES, common_noun, common_word, text_case

_NAME_WORD = r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*"
#: the tail of a text: a sentence end or a line break, then two or three words and nothing but
#: closing punctuation (read on the last 120 characters only)
_CLOSING = re.compile(
    rf"(?:[.!?]|\n|^)[ \t\"')\]]*(?:-+[ \t]*)?(?P<v>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{1,2}})[ \t.!]*\s*\Z"
)
_TAIL = 120


class ClosingNameRecognizer(ClearhouseRecognizer):
    """PERSON for a full name alone after the last sentence of a text (see the module docstring)."""

    name = "closing_name"
    entities = ("PERSON",)

    def find(self, text: str) -> list[Candidate]:
        offset = max(0, len(text) - _TAIL)
        m = _CLOSING.search(text, offset)
        if m is None or not _name_shaped(m.group("v"), text_case(text) == "mixed"):
            return []
        return [Candidate(m.start("v"), m.end("v"), "PERSON", 0.6)]


def _name_shaped(value: str, cased: bool) -> bool:
    words = value.split()
    if any(len(w) < 2 or w.lower() in NOT_NAMES for w in words):
        return False
    if cased and not all(w[0].isupper() and not w.isupper() for w in words):
        return False  # in mixed-case text a name is capitalised (and a shouted tail is left to NER)
    if text_case(value) == "upper" or is_place(value):
        return False  # (a place line, "… New York", is the place recognizers' business)
    ordinary = [common_word(w) or common_noun(w) for w in words]
    return not all(ordinary) or any(is_person_name(w) for w in words)

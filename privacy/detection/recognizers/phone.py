"""Phone numbers: phone-shaped digit groups, validated with ``phonenumbers`` for the policy's
countries; shapes that do not validate (international, pager, foreign formats) count when context
words such as "call" or "tel" are near."""

from __future__ import annotations

import re

import phonenumbers

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer

# separators are spaces, dots and dashes (slashes are lab values and ratios, "65/41/7.29"), except the
# North-American 3/3/4 grouping; bare runs of 10-13 digits are parsed too
#: (a dash may tie the number to a label before it, "CELL-617 555 0199", but not to another number)
_SHAPE = re.compile(
    r"(?<![\w/.])(?<![\d/.]-)(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?|\d{2,5}(?:[ .-]|[ ]?-[ ]?))"
    r"(?:\d{2,6}(?:[ .-]|[ ]?-[ ]?)){0,3}\d{2,8}(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w/-]|\.\d)"
    r"|(?<![\w/.-])\(?\d{3}\)?/\d{3}/\d{4}(?![\w/-])"
    r"|(?<![\w/.+-])\+?\d{10,13}(?![\w/-]|\.\d)"
)
_PREFILTER = re.compile(r"\d{2,}\D{0,3}\d{2,}\D{0,3}\d{2,}|\d{7,}")
_CONTEXT = frozenset({"phone", "telephone", "tel", "call", "called", "calling", "cell", "mobile", "mob", "fax",
                      "text", "reach", "contact", "number", "pager", "whatsapp", "sms", "ring", "dial", "landline",
                      "office", "home", "work", "desk", "answering", "registered", "voicemail", "ph"})


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


class ClearhousePhoneRecognizer(ClearhouseRecognizer):
    """PHONE_NUMBER: phone-shaped groups that ``phonenumbers`` validates for a policy region (0.75);
    other shapes of 7-15 digits in 3+ groups (0.5) or fewer (0.35), raised by context words."""

    name = "phone"
    entities = ("PHONE_NUMBER",)
    prefilter = _PREFILTER
    context = _CONTEXT

    def __init__(self, regions: list[str]) -> None:
        self.regions = regions or ["US"]
        super().__init__()

    def _valid(self, value: str) -> bool:
        for region in self.regions:
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(value, region)):
                    return True
            except phonenumbers.NumberParseException:
                continue
        return False

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _SHAPE.finditer(text):
            value = m.group()
            n = _digits(value)
            if not 7 <= n <= 15:
                continue
            if self._valid(value):
                out.append(Candidate(m.start(), m.end(), "PHONE_NUMBER", 0.75, self.context, validated=True))
                continue
            if value.lstrip("+").isdigit():
                continue  # a bare run of digits that is not a valid number is an ID or an amount
            groups = len(re.findall(r"\d+", value))
            # three or more digit groups with 8+ digits is how phone numbers are written worldwide
            # one consistent separator: "62-70 31 95-99" is a list of ranges, not a number
            seps = {sep.strip() or " " for sep in re.findall(r"[^\d+()]+", value)}
            score = 0.5 if groups >= 3 and n >= 8 and len(seps) == 1 else 0.35
            out.append(Candidate(m.start(), m.end(), "PHONE_NUMBER", score, self.context))
        return out

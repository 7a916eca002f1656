"""Reference numbers of a person's dealings: case, docket, record, application, account, order,
claim, ticket, policy, member… numbers — a code containing digits right after such a word, or a
code-shaped token (letters-digits with separators) with such a word nearby."""

from __future__ import annotations

import re

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer

#: cue word → entity type; anything not listed is a generic ID_NUMBER
_KINDS = {
    "case": "CASE_NUMBER", "docket": "CASE_NUMBER", "claim": "CASE_NUMBER", "matter": "CASE_NUMBER",
    "cause": "CASE_NUMBER", "complaint": "CASE_NUMBER", "file": "CASE_NUMBER",
    "record": "RECORD_NUMBER", "mrn": "RECORD_NUMBER", "chart": "RECORD_NUMBER", "patient": "RECORD_NUMBER",
    "medical": "RECORD_NUMBER", "admission": "RECORD_NUMBER", "encounter": "RECORD_NUMBER",
    "application": "APPLICATION_NUMBER", "app": "APPLICATION_NUMBER", "permit": "APPLICATION_NUMBER",
    "account": "ACCOUNT_NUMBER", "acct": "ACCOUNT_NUMBER", "iban": "ACCOUNT_NUMBER",
    "order": "ORDER_NUMBER", "invoice": "ORDER_NUMBER", "receipt": "ORDER_NUMBER", "tracking": "ORDER_NUMBER",
    "shipment": "ORDER_NUMBER", "parcel": "ORDER_NUMBER", "transaction": "ORDER_NUMBER",
    "pager": "PHONE_NUMBER", "beeper": "PHONE_NUMBER", "ext": "PHONE_NUMBER", "extension": "PHONE_NUMBER",
}
_CUES = (
    r"case|docket|claim|matter|cause|complaint|file|record|mrn|chart|patient|medical\s+record|admission|"
    r"encounter|application|permit|account|acct|order|invoice|receipt|tracking|shipment|parcel|"
    r"transaction|ticket|reference|ref|confirmation|booking|reservation|policy|member|membership|customer|"
    r"client|employee|staff|student|badge|licen[cs]e|passport|visa|id|identification|serial|registration|"
    r"reg|voucher|loan|contract|certificate|pager|beeper|ext|extension|inmate|prisoner|tax|vat|plate|"
    r"subscriber|subscription|card"
)
_CODE = r"(?P<v>(?=[A-Za-z0-9/.:-]*\d)[A-Za-z0-9](?:[A-Za-z0-9]|[-/.:](?=[A-Za-z0-9])){2,31})"
_CUED = re.compile(
    rf"\b(?P<cue>{_CUES})(?:\s*(?:no|nos|num|number|nr|id|code|ref|#))?\.?\s*(?:[:#=]|is|was|of)?\s*#?\s*{_CODE}",
    re.IGNORECASE,
)
#: code-shaped tokens: letters and digits joined by separators, or long digit-led alphanumerics
_SHAPED = re.compile(
    r"(?<![\w/.-])(?P<v>(?:[A-Za-z]{1,6}[-/]?\d{4,}(?:[-/][A-Za-z0-9]+)*|\d{1,4}[-/:][A-Za-z]{1,4}[-/]\d{3,}(?:[-/][A-Za-z0-9]+)*)|(?<=#)\d{4,})(?![\w/-])"
)
_NOT_CUE_CONTEXT = frozenset(re.sub(r"\\s\+|\(|\)|\?", " ", _CUES).replace("|", " ").split())
_DIGITS = re.compile(r"\d")
#: units that turn a number into a quantity, not a code ("room 12", "bed 3" need 3+ digits anyway)
_TIME_LIKE = re.compile(r"^\d{1,2}[:.]\d{2}$|^\d{1,2}/\d{1,2}(?:/\d{2,4})?$")


class ContextIdRecognizer(ClearhouseRecognizer):
    """Identifiers near a context word (score 0.75) and code-shaped tokens (0.45, raised by context)."""

    name = "context_id"
    prefilter = re.compile(r"\d{3}|\d-\d|\d/\d")
    entities = ("CASE_NUMBER", "RECORD_NUMBER", "APPLICATION_NUMBER", "ACCOUNT_NUMBER", "ORDER_NUMBER",
                "ID_NUMBER", "PHONE_NUMBER")
    needs = "digit"
    context = _NOT_CUE_CONTEXT

    def find(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        for m in _CUED.finditer(text):
            value = m.group("v").rstrip(".:-/")
            if len(_DIGITS.findall(value)) < 3 or _TIME_LIKE.match(value):
                continue
            cue = m.group("cue").lower().split()[0]
            kind = _KINDS.get(cue, "ID_NUMBER")
            start = m.start("v")
            out.append(Candidate(start, start + len(value), kind, 0.85))
        for m in _SHAPED.finditer(text):
            value = m.group("v")
            if _TIME_LIKE.match(value):
                continue
            out.append(Candidate(m.start("v"), m.end("v"), "ID_NUMBER", 0.45, self.context))
        return out

"""A row's own identifiers in its own free text: a leak no detector can argue with.

Every row of a collected table names its subject in its direct-identifier columns (a name, an e-mail
address, a phone number, a street address). If any of those values — or a telling part of them, such
as a capitalised surname or the local part of an e-mail address — still appears in the row's released
free text, personal data reached the labeler whatever the detector thought. This module finds such
matches with plain string rules, independent of NER:

* e-mail addresses: the whole address, and its local part (4+ characters) as a word;
* numbers (phones, account or ID numbers with 7+ digits): the digits, whatever separators the text
  puts between them (``+1 (555) 010-9999`` matches ``5550109999``);
* names and other text values: the whole value (case-insensitive, as words), and each word of 3+
  letters that is not a stop word where the text writes it capitalised (``Desai``, ``DESAI``) — a
  lower-case ``brown`` or ``will`` in running text is ordinary English, not evidence.

It reports counts and positions only; :func:`redact_own_identifiers` replaces what it finds with a
placeholder. Values never leave the function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from spacy.lang.en.stop_words import STOP_WORDS

#: what redaction leaves behind: ``<ENTITY_TYPE>``; never itself personal data
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_DIGITS = re.compile(r"\d")
#: a run of digits with the separators phone and ID numbers are written with
_NUMBER_RUN = re.compile(r"\+?\d[\d\s().\-/]{5,}\d")
_HOUSE = re.compile(r"\d+[A-Za-z]?\s+[^\W\d_]+", re.UNICODE)
MIN_DIGITS = 7
MIN_WORD = 3
MIN_LOCAL_PART = 4


@dataclass(frozen=True)
class Needle:
    """One thing to look for in a row's text: a case-insensitive word/phrase or a digit string."""

    kind: str  # "email" | "number" | "text" | "word"
    value: str
    #: the entity type a redaction of it is labelled with
    entity: str = "PERSON"


def needles_for(values: Iterable[object]) -> list[Needle]:
    """What to look for, from the row's direct-identifier values."""
    out: list[Needle] = []
    for raw in values:
        if raw is None:
            continue
        value = str(raw).strip()
        if not value:
            continue
        if _EMAIL.match(value):
            out.append(Needle("email", value.lower(), "EMAIL_ADDRESS"))
            local = value.split("@", 1)[0]
            if len(local) >= MIN_LOCAL_PART:
                out.append(Needle("text", local.lower(), "EMAIL_ADDRESS"))
            continue
        digits = "".join(_DIGITS.findall(value))
        if len(digits) >= MIN_DIGITS and len(digits) >= len(value.replace(" ", "")) // 2:
            out.append(Needle("number", digits, "PHONE_NUMBER"))
            continue
        entity = "STREET_ADDRESS" if digits else "PERSON"
        if len(value) >= MIN_WORD:
            out.append(Needle("text", value.lower(), entity))
        words = _WORD.findall(value)
        if digits:  # an address: its number with the next word ("12 Oak"), not "Street" on its own
            if lead := _HOUSE.match(value):
                out.append(Needle("text", lead.group().lower(), entity))
            continue
        if len(words) > 1:
            out += [
                Needle("word", w)
                for w in words
                if len(w) >= MIN_WORD and w.lower() not in STOP_WORDS
            ]
    return out


def _spans(text: str, lower: str, needle: Needle) -> list[tuple[int, int]]:
    if needle.kind != "number" and needle.value.lower() not in lower:
        return []  # the cheap test first: most needles are absent
    if needle.kind == "number":
        found = []
        for run in _NUMBER_RUN.finditer(text):
            digits = "".join(_DIGITS.findall(run.group()))
            if needle.value in digits or (len(digits) >= MIN_DIGITS and digits in needle.value):
                found.append((run.start(), run.end()))
        return found
    if needle.kind == "word":
        pattern = re.compile(rf"(?<![^\W_]){re.escape(needle.value)}(?![^\W_])", re.IGNORECASE)
        # a capitalised (or shouted) occurrence only: lower case is ordinary English
        return [(m.start(), m.end()) for m in pattern.finditer(text) if m.group()[:1].isupper()]
    pattern = re.compile(rf"(?<![^\W_]){re.escape(needle.value)}(?![^\W_])", re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def find_own_identifiers(text: str, needles: Sequence[Needle]) -> list[tuple[int, int, str]]:
    """``(start, end, entity)`` of every occurrence of the row's own identifiers in ``text``, merged."""
    if not text or not needles:
        return []
    lower = text.lower()
    holes = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)] if "<" in text else []
    hits = sorted(
        {
            (s, e, n.entity)
            for n in needles
            for s, e in _spans(text, lower, n)
            if not any(a <= s and e <= b for a, b in holes)  # inside "<STREET_ADDRESS>": our own mark
        }
    )
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in hits:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, kind))
    return merged


def redact_own_identifiers(text: str | None, needles: Sequence[Needle], placeholder: str) -> tuple[str | None, int]:
    """``text`` with the row's own identifiers replaced by ``placeholder`` (``{entity}`` filled in);
    and how many were."""
    if text is None:
        return None, 0
    hits = find_own_identifiers(text, needles)
    if not hits:
        return text, 0
    out, last = [], 0
    for start, end, entity in hits:
        out += [text[last:start], placeholder.replace("{entity}", entity)]
        last = end
    out.append(text[last:])
    return "".join(out), len(hits)


@dataclass
class LeakReport:
    """Rows whose released text still holds one of their own identifiers (counts only)."""

    rows_checked: int = 0
    values_checked: int = 0
    rows_with_leaks: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_column: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "rows_checked": self.rows_checked,
            "values_checked": self.values_checked,
            "rows_with_leaks": self.rows_with_leaks,
            "by_kind": dict(sorted(self.by_kind.items())),
            "by_column": dict(sorted(self.by_column.items())),
        }


def own_identifier_leaks(
    identifiers: Sequence[Mapping[str, object]], texts: Mapping[str, Sequence[str | None]]
) -> LeakReport:
    """Check each row's released ``texts`` (column → values, row-aligned with ``identifiers``) for the
    row's own identifier values (``identifiers[i]``: column → raw value)."""
    report = LeakReport(rows_checked=len(identifiers))
    for i, row in enumerate(identifiers):
        needles = needles_for(row.values())
        leaked = False
        for column, values in texts.items():
            text = values[i]
            if not text:
                continue
            report.values_checked += 1
            hits = find_own_identifiers(text, needles)
            if hits:
                leaked = True
                report.by_column[column] = report.by_column.get(column, 0) + 1
                for _, _, entity in hits:
                    report.by_kind[entity] = report.by_kind.get(entity, 0) + 1
        report.rows_with_leaks += leaked
    return report

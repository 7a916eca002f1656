"""Structured-column detection, column-wise and vectorised.

Each column is profiled batch by batch (so memory stays flat): values are de-duplicated per batch with
``pyarrow.compute.value_counts``, shape regexes run over the distinct values in C++ (RE2), and the
validators (Luhn, mod-97, SSN rules, phone parsing) run in Python only on a bounded sample of the
distinct candidates; their pass rate is applied to the candidates' row counts. The column name is
evidence too. Only counts leave this module — never values.

A column declared clean must not hide personal data; for those columns, name-shaped values are
confirmed by NER on a small sample, and text-like values are scanned by the free-text detector on a
sample, so that a column of codes such as "T100234" is never taken for names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from clearhouse.privacy.detection.types import ColumnFindings, EntityStats, TextDetector
from clearhouse.privacy.detection.validators import iban_ok, luhn_ok, phone_ok, ssn_ok

#: distinct candidate values validated per column and entity (the pass rate extrapolates the rest)
VALIDATE_SAMPLE = 200
#: distinct name-shaped / text-like values of a clean column checked with NER / the text detector
CONFIRM_SAMPLE = 60
#: validator pass rate below which passing candidates are taken for chance (IDs that happen to pass Luhn)
NOISE_RATE = 0.3
#: share of a column's non-empty rows that must match for the column to be classified as an entity
CLASSIFY_SHARE = 0.5


@dataclass(frozen=True)
class Shape:
    """A vectorised test: ``regex`` (RE2, anchored where the whole value must match)."""

    entity: str
    regex: str
    ignore_case: bool = False
    validator: Callable[[str, list[str]], bool] | None = None
    score: float = 0.85
    #: a cheap precondition checked once per batch: "digit" or "@" must occur in some value
    needs: str | None = "digit"


_STREET = (r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|terrace|way|place|pl|"
           r"parkway|highway|hwy|square|circle|trail|crescent|close|row|plaza|alley)")
SHAPES: tuple[Shape, ...] = (
    Shape("EMAIL_ADDRESS", r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", score=1.0,
          needs="@"),
    Shape("CREDIT_CARD", r"^(?:\d[ -]?){11,18}\d$", validator=lambda v, _r: luhn_ok(v), score=1.0),
    Shape("IBAN_CODE", r"^[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}$", validator=lambda v, _r: iban_ok(v),
          score=1.0),
    Shape("US_SSN", r"^\d{3}-\d{2}-\d{4}$", validator=lambda v, _r: ssn_ok(v), score=0.9),
    Shape("IP_ADDRESS", r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$"
          r"|^[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}$", score=0.95),
    Shape("STREET_ADDRESS", rf"^\d{{1,6}}[A-Za-z]?,?\s+\S.*\b{_STREET}\b|^p\.?\s*o\.?\s*box\s+\d",
          ignore_case=True, score=0.85),
    Shape("DATE_TIME", r"^(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[ T][\d:.]+)?$|"
          r"^(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/(?:19|20)?\d\d$|^(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:19|20)\d\d$",
          score=0.8),
    Shape("PHONE_NUMBER", r"^\+?\(?\d[\d ().-]{5,18}\d$", validator=phone_ok, score=0.85),
    Shape("PERSON", r"^\p{Lu}[\p{Ll}'\x{2019}-]+(?:\s+\p{Lu}\.?)?(?:\s+\p{Lu}[\p{Ll}'\x{2019}-]+){1,2}$",
          score=0.6, needs=None),
)
#: entities whose value shape alone is not proof (confirmed by the column name or, for clean columns, NER)
_WEAK_SHAPES = frozenset({"PERSON"})

#: column-name words → entity they announce
NAME_HINTS: dict[str, str] = {
    "email": "EMAIL_ADDRESS", "mail": "EMAIL_ADDRESS", "emailaddress": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER", "tel": "PHONE_NUMBER", "telephone": "PHONE_NUMBER", "mobile": "PHONE_NUMBER",
    "cell": "PHONE_NUMBER", "fax": "PHONE_NUMBER", "telephonenumber": "PHONE_NUMBER",
    "ssn": "US_SSN", "social": "US_SSN", "nationalid": "NATIONAL_ID", "national": "NATIONAL_ID",
    "card": "CREDIT_CARD", "cc": "CREDIT_CARD", "ccnumber": "CREDIT_CARD", "pan": "CREDIT_CARD",
    "iban": "IBAN_CODE", "ip": "IP_ADDRESS", "ipaddress": "IP_ADDRESS",
    "dob": "DATE_OF_BIRTH", "birth": "DATE_OF_BIRTH", "birthday": "DATE_OF_BIRTH", "birthdate": "DATE_OF_BIRTH",
    "name": "PERSON", "surname": "PERSON", "givenname": "PERSON", "firstname": "PERSON", "lastname": "PERSON",
    "fullname": "PERSON", "maiden": "PERSON", "mothersmaiden": "PERSON", "first": "PERSON", "last": "PERSON",
    "address": "STREET_ADDRESS", "street": "STREET_ADDRESS", "streetaddress": "STREET_ADDRESS",
    "addr": "STREET_ADDRESS",
    "zip": "ZIP_CODE", "zipcode": "ZIP_CODE", "postal": "ZIP_CODE", "postcode": "ZIP_CODE",
    "city": "LOCATION", "town": "LOCATION", "age": "AGE", "username": "USERNAME", "password": "PASSWORD",
    "latitude": "LOCATION", "longitude": "LOCATION", "guid": "UUID", "uuid": "UUID",
}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def name_hint(column: str) -> str | None:
    """The entity a column's name announces ("date_of_birth" → DATE_OF_BIRTH, "EmailAddress" → EMAIL)."""
    flat = re.sub(r"[^a-z0-9]", "", column.lower())
    if flat in NAME_HINTS:
        return NAME_HINTS[flat]
    words = [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", column).lower()) if w]
    if "birth" in words or "dob" in words:
        return "DATE_OF_BIRTH"
    for w in reversed(words):  # the last word is the head noun: "customer_name" → name
        if w in NAME_HINTS and w not in {"first", "last", "social", "national"}:
            return NAME_HINTS[w]
    for w in words:
        if w in NAME_HINTS:
            return NAME_HINTS[w]
    return None


@dataclass
class _EntityCount:
    rows: int = 0
    candidates_checked: int = 0
    candidates_passed: int = 0
    unvalidated_rows: int = 0


@dataclass
class ColumnProfiler:
    """Accumulates one structured column's evidence over record batches (counts only)."""

    name: str
    regions: list[str]
    confirm: bool = False  # the column is declared clean: confirm weak shapes and scan text-like values
    rows: int = 0
    non_empty: int = 0
    distinct_seen: int = 0
    counts: dict[str, _EntityCount] = field(default_factory=dict)
    text_like_rows: int = 0
    _name_like_sample: list[tuple[str, int]] = field(default_factory=list)
    _text_sample: list[tuple[str, int]] = field(default_factory=list)

    def add(self, values: pa.Array | pa.ChunkedArray) -> None:
        """Profile one batch of the column."""
        self.rows += len(values)
        strings = values if pa.types.is_string(values.type) or pa.types.is_large_string(values.type) \
            else pc.cast(values, pa.string())
        trimmed = pc.utf8_trim_whitespace(strings)
        vc = pc.value_counts(trimmed)
        distinct: pa.Array = vc.field("values")
        counts: pa.Array = vc.field("counts")
        keep = pc.and_(pc.is_valid(distinct), pc.greater(pc.utf8_length(distinct), 0))
        distinct, counts = pc.filter(distinct, keep), pc.filter(counts, keep)
        if len(distinct) == 0:
            return
        self.non_empty += int(pc.sum(counts).as_py() or 0)
        self.distinct_seen += len(distinct)
        claimed: pa.Array | None = None
        present = {
            "digit": bool(pc.any(pc.match_substring_regex(distinct, r"\d")).as_py()),
            "@": bool(pc.any(pc.match_substring(distinct, "@")).as_py()),
        }
        for shape in SHAPES:
            if shape.needs is not None and not present[shape.needs]:
                continue  # e.g. no digit anywhere in this batch: no card, phone, date or address
            mask = pc.match_substring_regex(distinct, shape.regex, ignore_case=shape.ignore_case)
            mask = pc.fill_null(mask, False)
            if not pc.any(mask).as_py():
                continue
            # a value already taken by an earlier, more specific shape (a card, a date) is not
            # a candidate for a later one (a phone number)
            if claimed is not None:
                mask = pc.and_not(mask, claimed)
            claimed = mask if claimed is None else pc.or_(claimed, mask)
            cand_values = pc.filter(distinct, mask)
            cand_counts = pc.filter(counts, mask)
            stat = self.counts.setdefault(shape.entity, _EntityCount())
            if shape.validator is None:
                stat.rows += int(pc.sum(cand_counts).as_py() or 0)
                if shape.entity in _WEAK_SHAPES and self.confirm:
                    room = CONFIRM_SAMPLE - len(self._name_like_sample)
                    if room > 0:
                        self._name_like_sample += list(zip(cand_values[:room].to_pylist(),
                                                           cand_counts[:room].to_pylist(), strict=True))
                continue
            room = max(0, VALIDATE_SAMPLE - stat.candidates_checked)
            checked_v = cand_values[:room].to_pylist()
            checked_c = cand_counts[:room].to_pylist()
            for v, c in zip(checked_v, checked_c, strict=True):
                stat.candidates_checked += 1
                if shape.validator(v, self.regions):
                    stat.candidates_passed += 1
                    stat.rows += c
            # beyond the sample, rows are credited at the sample's pass rate (see ``finish``)
            stat.unvalidated_rows += int(pc.sum(cand_counts[room:]).as_py() or 0) if room < len(cand_values) else 0
        if self.confirm:
            self._sample_text_like(distinct, counts)

    def _sample_text_like(self, distinct: pa.Array, counts: pa.Array) -> None:
        """Text-like values (several words) in a clean column are scanned by the text detector."""
        words = pc.count_substring_regex(distinct, r"\s+")
        text_mask = pc.fill_null(pc.greater_equal(words, 3), False)
        if pc.any(text_mask).as_py():
            tv, tc = pc.filter(distinct, text_mask), pc.filter(counts, text_mask)
            self.text_like_rows += int(pc.sum(tc).as_py() or 0)
            room = CONFIRM_SAMPLE - len(self._text_sample)
            if room > 0:
                self._text_sample += list(zip(tv[:room].to_pylist(), tc[:room].to_pylist(), strict=True))

    def finish(self, detector: TextDetector | None) -> ColumnFindings:
        """Classify the column from the accumulated evidence."""
        f = ColumnFindings(column=self.name, kind="structured", rows_scanned=self.rows)
        f.evidence.update({"rows": self.rows, "non_empty": self.non_empty, "distinct_values": self.distinct_seen})
        hint = name_hint(self.name)
        if hint:
            f.evidence[f"name_hint_{hint.lower()}"] = 1
        rows_by_entity: dict[str, int] = {}
        for entity, stat in self.counts.items():
            rows = stat.rows
            if stat.candidates_checked:
                rate = stat.candidates_passed / stat.candidates_checked
                rows += round(stat.unvalidated_rows * rate)
                f.evidence[f"validated_{entity.lower()}"] = stat.candidates_passed
                f.evidence[f"checked_{entity.lower()}"] = stat.candidates_checked
                if rate < NOISE_RATE and hint != entity:
                    # random digit strings pass Luhn 1 time in 10: a low pass rate is chance, not cards
                    f.evidence[f"rows_{entity.lower()}_chance"] = rows
                    rows = 0
            if entity in _WEAK_SHAPES and hint != entity:
                f.evidence[f"rows_{entity.lower()}_shaped"] = rows
                rows = self._confirm_names(detector, f) if self.confirm else 0
            if rows:
                rows_by_entity[entity] = rows
                f.evidence[f"rows_{entity.lower()}"] = rows
        if self.confirm and self._text_sample and detector is not None:
            self._scan_text(detector, f, rows_by_entity)
        score = {s.entity: s.score for s in SHAPES}
        for entity, rows in rows_by_entity.items():
            f.entities[entity] = EntityStats(count=rows, score_sum=rows * score.get(entity, 0.7))
        f.rows_with_pii = min(self.rows, max(rows_by_entity.values(), default=0))
        self._classify(f, rows_by_entity, hint)
        return f

    def _classify(self, f: ColumnFindings, rows_by_entity: dict[str, int], hint: str | None) -> None:
        base = self.non_empty or 1
        best = max(rows_by_entity.items(), key=lambda kv: kv[1], default=None)
        if best and best[1] / base >= CLASSIFY_SHARE:
            entity, rows = best
            if entity == "DATE_TIME" and hint == "DATE_OF_BIRTH":
                entity = "DATE_OF_BIRTH"
            agrees = hint in (entity, None) or (hint == "DATE_OF_BIRTH" and entity == "DATE_OF_BIRTH")
            f.inferred_entity = entity
            f.confidence = min(1.0, rows / base * (1.0 if agrees else 0.8) + (0.1 if hint == entity else 0.0))
        elif hint and self.non_empty:
            # the name alone: a weaker classification, still useful to an officer
            f.inferred_entity = hint
            f.confidence = 0.5

    def _confirm_names(self, detector: TextDetector | None, f: ColumnFindings) -> int:
        """Rows of name-shaped values NER confirms as PERSON (sample-based, row-weighted)."""
        if detector is None or not self._name_like_sample:
            return 0
        values = [v for v, _ in self._name_like_sample]
        weights = [c for _, c in self._name_like_sample]
        spans = detector.detect_many(values)
        hit = sum(c for v, c, s in zip(values, weights, spans, strict=True)
                  if any(x.entity_type == "PERSON" and x.end - x.start >= 0.6 * len(v) for x in s))
        f.evidence["person_confirmed_sample"] = hit
        f.evidence["person_checked_sample"] = sum(weights)
        shaped = f.evidence.get("rows_person_shaped", 0)
        return round(shaped * hit / sum(weights)) if weights else 0

    def _scan_text(self, detector: TextDetector, f: ColumnFindings, rows_by_entity: dict[str, int]) -> None:
        values = [v for v, _ in self._text_sample]
        weights = [c for _, c in self._text_sample]
        total = sum(weights)
        found: dict[str, int] = {}
        for spans, c in zip(detector.detect_many(values), weights, strict=True):
            for entity in {s.entity_type for s in spans}:
                found[entity] = found.get(entity, 0) + c
        f.evidence["text_like_rows"] = self.text_like_rows
        f.evidence["text_sample_rows"] = total
        for entity, hits in found.items():
            rows = round(self.text_like_rows * hits / total)
            f.evidence[f"text_rows_{entity.lower()}"] = rows
            rows_by_entity[entity] = max(rows_by_entity.get(entity, 0), rows)


def classify_column(name: str, values: pa.ChunkedArray | pa.Array, detector: TextDetector | None = None,
                    *, sample: int = 0, regions: list[str] | None = None, confirm: bool = False) -> ColumnFindings:
    """Findings for one whole structured column (``sample`` > 0 profiles only the first rows)."""
    profiler = ColumnProfiler(name, regions or ["US"], confirm=confirm)
    if sample:
        values = values.slice(0, sample)
    profiler.add(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)
    return profiler.finish(detector)

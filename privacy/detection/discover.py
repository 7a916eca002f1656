"""Discovery for a new dataset: what each column holds, a suggested role, and a conservative draft policy.

A bounded sample of rows is profiled with the same column classification the detect stage uses
(:class:`~clearhouse.privacy.detection.columns.ColumnProfiler`: header hints, vectorised patterns,
validators, NER confirmation of name-shaped values, the free-text detector on text-like values); short
values that no pattern explains are also shown to the text detector on a small sample, so a column of
given names or cities is recognised without a telling header. The header is evidence, never proof:
values outrank it (a column called "notes" full of emails is a direct identifier).

:func:`suggest_role` is a pure function of a column's :class:`ColumnFacts` (counts and shares only), so
the rules are table-testable. :func:`draft_policy` turns a :class:`Discovery` into policy YAML with
conservative treatments — direct identifiers pseudonymised or dropped, free text redacted,
quasi-identifiers generalised or dropped until the sample is k-anonymous, anything unclear dropped,
never kept in clear — and comments that tell the engineer what to review. The YAML is validated with the
policy model before it is returned.

Nothing here returns, logs or writes a value: facts, evidence and comments are counts, shares and names.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from clearhouse.policy import Role, Treatment, parse_policy
from clearhouse.privacy.detection.columns import ColumnProfiler, name_hint
from clearhouse.privacy.detection.types import ColumnFindings, TextDetector
from clearhouse.privacy.minimise import get_operator, validate_treatments

#: rows profiled by default (the first rows of the file)
SAMPLE_ROWS = 1_000
#: distinct short values per column shown to the text detector when no pattern explains the column
NER_SAMPLE = 40
#: share of a column's sampled values an entity must cover to decide its role
DECIDE_SHARE = 0.5
#: share of values holding a direct identifier above which a column is never kept or generalised
MIXED_SHARE = 0.1
#: the same for shares that come from NER on single short values (noisier than patterns)
NER_MIXED_SHARE = 0.3
#: average words per value from which a column is free text
FREE_TEXT_WORDS = 5.0
#: a column with at most this many distinct values over at least FEW_VALUES_MIN_ROWS rows identifies nobody
FEW_VALUES = 5
FEW_VALUES_MIN_ROWS = 20
#: most distinct values of a categorical column kept in clear
MAX_CATEGORIES = 20
#: k of the draft's k-anonymity gate
DEFAULT_K = 5

#: entity types that identify a person on their own
DIRECT_ENTITIES = frozenset({
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS",
    "STREET_ADDRESS", "NATIONAL_ID", "USERNAME", "PASSWORD", "US_PASSPORT", "US_DRIVER_LICENSE",
    "US_BANK_NUMBER", "UK_NHS", "UK_NINO", "MEDICAL_LICENSE", "US_ITIN", "CRYPTO",
})
#: entity types that identify a person in combination
QUASI_ENTITIES = frozenset({"DATE_OF_BIRTH", "DATE_TIME", "ZIP_CODE", "LOCATION", "AGE"})
#: direct identifiers worth a stable token (rows of one person can still be grouped); the rest are dropped
PSEUDONYMISE_ENTITIES = frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER", "USERNAME", "IP_ADDRESS"})
#: entities the text detector is asked about for short values (it finds others through patterns)
NER_ENTITIES = ("PERSON", "LOCATION")

#: header words → the role they announce (entities announced by the header come from ``name_hint``)
ROLE_HINTS: dict[str, Role] = {
    **dict.fromkeys(
        ("label", "labels", "target", "intent", "class", "outcome", "sentiment", "y"), Role.LABEL
    ),
    **dict.fromkeys(
        ("blood", "bloodtype", "diagnosis", "condition", "disease", "health", "medical", "medication",
         "religion", "religious", "ethnicity", "ethnic", "race", "sexuality", "orientation", "political",
         "politics", "union", "disability", "genetic", "biometric", "criminal", "conviction", "salary",
         "income", "hiv", "pregnancy"),
        Role.SENSITIVE,
    ),
    **dict.fromkeys(
        ("gender", "sex", "age", "zip", "zipcode", "postal", "postcode", "city", "town", "state", "county",
         "region", "province", "country", "nationality", "occupation", "job", "profession", "employer",
         "company", "title", "useragent", "agent", "browser", "vehicle", "language", "marital",
         "education", "birthplace", "latitude", "longitude", "race"),
        Role.QUASI_IDENTIFIER,
    ),
    **dict.fromkeys(
        ("password", "passwd", "secret", "token", "cvv", "cvv2", "cvc", "pin", "mtcn", "passport",
         "license", "licence", "username", "login"),
        Role.DIRECT_IDENTIFIER,
    ),
}
#: header words of record keys (unique per row)
KEY_WORDS = frozenset({"id", "key", "number", "no", "num", "uuid", "guid", "ref", "reference"})
#: header words naming a person whose key it is ("customer_id" identifies the customer)
PERSON_KEY_WORDS = frozenset({
    "customer", "user", "client", "patient", "member", "employee", "person", "subscriber", "applicant",
    "account", "student", "citizen", "voter", "contact",
})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NUMERIC = r"^[+-]?(?:\d+(?:[.,]\d+)?|\.\d+)$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}"


def header_words(column: str) -> list[str]:
    """Lower-case words of a column name ("EmailAddress" → email, address; "date_of_birth" → date, of, birth)."""
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", column).lower()) if w]


def role_hint(column: str) -> Role | None:
    """The role a column's name announces, if any (the head noun, i.e. the last word, first)."""
    words = header_words(column)
    flat = "".join(words)
    if flat in ROLE_HINTS:
        return ROLE_HINTS[flat]
    for w in reversed(words):
        if w in ROLE_HINTS:
            return ROLE_HINTS[w]
    return None


# ------------------------------------------------------------------------------------------ facts


@dataclass(frozen=True)
class Evidence:
    """One reason behind a suggestion: where it comes from (header, validated, pattern, ner, shape, sample)
    and what was seen — counts and shares, never values."""

    source: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "detail": self.detail}


@dataclass(frozen=True)
class ColumnFacts:
    """What the sample says about one column: the input of :func:`suggest_role` (no values)."""

    name: str
    rows: int
    non_empty: int
    distinct: int
    #: entity type → share of the non-empty sampled values holding it
    entities: Mapping[str, float] = field(default_factory=dict)
    #: entity type → where its share comes from: validated, pattern, ner_names (NER on name-shaped values),
    #: ner_text (the text detector on text-like values), ner_sample (NER on a sample of short values)
    sources: Mapping[str, str] = field(default_factory=dict)
    header_entity: str | None = None
    header_role: Role | None = None
    numeric_share: float = 0.0
    iso_date_share: float = 0.0
    mean_words: float = 0.0
    mean_digits: float = 0.0
    #: mean share of letters among a value's characters (free text is mostly letters)
    letter_share: float = 0.0
    #: rows of the rarest value (0 when empty): a category kept in clear needs every value ≥ k times
    min_count: int = 0
    #: lists, structs, maps or binary values (Parquet): profiled as text, never kept as they are
    nested: bool = False
    evidence: tuple[Evidence, ...] = ()

    @property
    def text_like(self) -> bool:
        """Several words per value, mostly letters: prose, not codes."""
        return self.mean_words >= FREE_TEXT_WORDS and self.letter_share >= 0.5

    @property
    def unique(self) -> bool:
        return self.non_empty > 1 and self.distinct == self.non_empty

    def share(self, entity: str) -> float:
        return float(self.entities.get(entity, 0.0))


@dataclass(frozen=True)
class Suggestion:
    """A suggested role with the draft treatment, its confidence (0..1), evidence and what to review."""

    role: Role
    treatment: Treatment
    confidence: float
    params: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    review: str = ""
    #: coarser generalisations to try, in order, before dropping a quasi-identifier for k-anonymity
    coarser: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class ColumnDiscovery:
    facts: ColumnFacts
    suggestion: Suggestion

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of one column: name, entities, role, confidence, evidence."""
        entities = sorted(self.facts.entities.items(), key=lambda kv: (-kv[1], kv[0]))
        return {
            "name": self.facts.name,
            "entities": [{"type": e, "share": round(s, 3)} for e, s in entities],
            "role": self.suggestion.role.value,
            "confidence": round(self.suggestion.confidence, 2),
            "evidence": [e.to_dict() for e in self.suggestion.evidence],
        }


@dataclass
class Discovery:
    """The result of discovering one file (the sampled table stays in memory for the draft's k check)."""

    columns: list[ColumnDiscovery]
    rows_sampled: int
    sample: pa.Table | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns]}


# ---------------------------------------------------------------------------------------- profiling


def _as_strings(values: pa.Array) -> pa.Array:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    return pc.cast(values, pa.string())


def _is_nested(kind: pa.DataType) -> bool:
    return bool(pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind))


def _profilable(values: pa.Array) -> pa.Array:
    """Values as the profiler can read them: nested, binary and dictionary values (Parquet) as text."""
    if _is_nested(values.type) or pa.types.is_dictionary(values.type):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], type=pa.string())
    return values


def _shape(values: pa.Array) -> dict[str, float]:
    """Shape statistics of one column's sample (vectorised; only counts leave)."""
    strings = pc.utf8_trim_whitespace(_as_strings(values))
    keep = pc.fill_null(pc.greater(pc.utf8_length(strings), 0), False)
    present = pc.filter(strings, keep)
    n = len(present)
    if n == 0:
        return {"non_empty": 0, "distinct": 0, "numeric": 0.0, "iso": 0.0, "words": 0.0, "digits": 0.0,
                "letters": 0.0, "min": 0}
    counts = pc.value_counts(present).field("counts")

    def share(mask: pa.Array) -> float:
        return float(pc.sum(pc.cast(mask, pa.int64())).as_py() or 0) / n

    words = pc.add(pc.count_substring_regex(present, r"\s+"), 1)
    return {
        "non_empty": n,
        "distinct": len(counts),
        "numeric": share(pc.match_substring_regex(present, _NUMERIC)),
        "iso": share(pc.match_substring_regex(present, _ISO_DATE)),
        "words": float(pc.mean(words).as_py() or 0.0),
        "digits": float(pc.mean(pc.count_substring_regex(present, r"\d")).as_py() or 0.0),
        "letters": float(pc.mean(pc.divide(pc.cast(pc.count_substring_regex(present, r"\pL"), pa.float64()),
                                           pc.cast(pc.utf8_length(present), pa.float64()))).as_py() or 0.0),
        "min": int(pc.min(counts).as_py() or 0),
    }


def _short_value_sample(values: pa.Array) -> list[tuple[str, int]]:
    """Up to ``NER_SAMPLE`` distinct short values with their row counts (first seen first)."""
    strings = pc.utf8_trim_whitespace(_as_strings(values))
    vc = pc.value_counts(strings)
    distinct, counts = vc.field("values"), vc.field("counts")
    keep = pc.and_(pc.fill_null(pc.greater(pc.utf8_length(distinct), 1), False),
                   pc.fill_null(pc.less(pc.count_substring_regex(distinct, r"\s+"), 4), False))
    distinct, counts = pc.filter(distinct, keep), pc.filter(counts, keep)
    return list(zip(distinct[:NER_SAMPLE].to_pylist(), counts[:NER_SAMPLE].to_pylist(), strict=True))


def _ner_shares(sample: list[tuple[str, int]], spans: list[list[Any]]) -> dict[str, float]:
    """Row-weighted share of sampled values that one NER entity covers (≥ 60% of the value)."""
    total = sum(c for _, c in sample)
    hits: dict[str, int] = {}
    for (value, count), found in zip(sample, spans, strict=True):
        covering = {s.entity_type for s in found if (s.end - s.start) >= 0.6 * len(value)}
        for entity in covering.intersection(NER_ENTITIES):
            hits[entity] = hits.get(entity, 0) + count
    return {e: h / total for e, h in hits.items()} if total else {}


def _finding_entities(f: ColumnFindings, non_empty: int) -> tuple[dict[str, float], dict[str, str]]:
    shares: dict[str, float] = {}
    sources: dict[str, str] = {}
    for entity, stats in f.entities.items():
        if not stats.count or not non_empty:
            continue
        key = entity.lower()
        shares[entity] = min(1.0, stats.count / non_empty)
        if f"checked_{key}" in f.evidence:
            sources[entity] = "validated"
        elif "person_confirmed_sample" in f.evidence and entity == "PERSON" \
                and f.evidence.get("rows_person") == stats.count:
            sources[entity] = "ner_names"
        elif f"text_rows_{key}" in f.evidence:
            sources[entity] = "ner_text"
        else:
            sources[entity] = "pattern"
    if f.inferred_entity == "DATE_OF_BIRTH" and "DATE_TIME" in shares:
        shares["DATE_OF_BIRTH"] = shares.pop("DATE_TIME")
        sources["DATE_OF_BIRTH"] = sources.pop("DATE_TIME")
    return shares, sources


def _facts_evidence(name: str, f: ColumnFindings, *, shape: Mapping[str, float], shares: Mapping[str, float],
                    sources: Mapping[str, str], ner_checked: int) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    hint, rhint = name_hint(name), role_hint(name)
    if hint:
        out.append(Evidence("header", f"the column name suggests {hint}"))
    if rhint:
        out.append(Evidence("header", f"the column name suggests the role {rhint.value}"))
    for entity, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        src = sources.get(entity, "pattern")
        key = entity.lower() if entity != "DATE_OF_BIRTH" else "date_time"
        if src == "validated":
            passed, checked = f.evidence.get(f"validated_{key}", 0), f.evidence.get(f"checked_{key}", 0)
            out.append(Evidence("validated", f"{share:.0%} of sampled values are {entity}: {passed} of {checked} "
                                             "distinct candidates pass its validator"))
        elif src == "ner_text":
            out.append(Evidence("ner", f"the text detector finds {entity} in {share:.0%} of sampled values "
                                       f"(NER on {f.evidence.get('text_sample_rows', 0)} text-like rows)"))
        elif src == "ner_names":
            out.append(Evidence("ner", f"NER confirms {f.evidence['person_confirmed_sample']} of "
                                       f"{f.evidence.get('person_checked_sample', 0)} name-shaped sampled rows "
                                       f"as PERSON ({share:.0%} of values)"))
        elif src == "ner_sample":
            out.append(Evidence("ner", f"NER tags {share:.0%} of a sample of {ner_checked} distinct short "
                                       f"values as {entity}"))
        else:
            out.append(Evidence("pattern", f"{share:.0%} of sampled values match the {entity} pattern"))
    non_empty = int(shape["non_empty"])
    out.append(Evidence(
        "shape",
        f"{non_empty} non-empty of {f.rows_scanned} sampled rows, {int(shape['distinct'])} distinct; "
        f"{shape['numeric']:.0%} numeric, {shape['words']:.1f} words per value on average",
    ))
    return tuple(out)


def profile_table(table: pa.Table, detector: TextDetector | None, *,
                  regions: Iterable[str] = ("US",)) -> list[ColumnFacts]:
    """Facts for every column of a (sampled) table, using the detect stage's column classification."""
    facts: list[ColumnFacts] = []
    ner_wanted: dict[str, list[tuple[str, int]]] = {}
    profiled: list[tuple[str, ColumnFindings, dict[str, float]]] = []
    nested: dict[str, bool] = {}
    for name in table.column_names:
        raw = table.column(name).combine_chunks()
        nested[name] = _is_nested(raw.type)
        values = _profilable(raw)
        profiler = ColumnProfiler(name, list(regions), confirm=True)
        profiler.add(values)
        findings = profiler.finish(detector)
        shape = _shape(values)
        profiled.append((name, findings, shape))
        # NER on short values only where no value-backed entity already explains most of the column
        decided = any(st.count >= DECIDE_SHARE * max(1, shape["non_empty"]) for st in findings.entities.values())
        if detector is not None and not decided and shape["numeric"] < 0.5 and shape["words"] < 4:
            sample = _short_value_sample(values)
            if sample:
                ner_wanted[name] = sample
    # one batched call for every column's short values (loading and running NER is the slow part)
    flat = [v for sample in ner_wanted.values() for v, _ in sample]
    spans = detector.detect_many(flat) if detector is not None and flat else []
    ner: dict[str, dict[str, float]] = {}
    at = 0
    for name, sample in ner_wanted.items():
        ner[name] = _ner_shares(sample, spans[at:at + len(sample)])
        at += len(sample)
    for name, findings, shape in profiled:
        non_empty = int(shape["non_empty"])
        shares, sources = _finding_entities(findings, non_empty)
        for entity, share in ner.get(name, {}).items():
            if share > shares.get(entity, 0.0):
                shares[entity], sources[entity] = share, "ner_sample"
        facts.append(ColumnFacts(
            name=name,
            rows=findings.rows_scanned,
            non_empty=non_empty,
            distinct=int(shape["distinct"]),
            entities=shares,
            sources=sources,
            header_entity=name_hint(name),
            header_role=role_hint(name),
            numeric_share=shape["numeric"],
            iso_date_share=shape["iso"],
            mean_words=shape["words"],
            mean_digits=shape["digits"],
            letter_share=shape["letters"],
            min_count=int(shape["min"]),
            nested=nested[name],
            evidence=_facts_evidence(name, findings, shape=shape, shares=shares, sources=sources,
                                     ner_checked=len(ner_wanted.get(name, []))),
        ))
    return facts


# ------------------------------------------------------------------------------------- role rules


def _direct(f: ColumnFacts, entity: str, confidence: float, why: str) -> Suggestion:
    if entity in PSEUDONYMISE_ENTITIES or entity == "KEY":
        treatment = Treatment.PSEUDONYMISE
        review = (f"{why}; pseudonymised (a keyed token: rows of one person stay groupable, the value is "
                  "gone). Drop it if the purpose does not need grouping; encrypt it if an officer must recover it.")
    else:
        treatment = Treatment.DROP
        review = (f"{why}; dropped. Pseudonymise or encrypt it instead only if the purpose needs it.")
    return Suggestion(Role.DIRECT_IDENTIFIER, treatment, confidence, evidence=f.evidence, review=review)


def _quasi(f: ColumnFacts, entity: str | None, confidence: float, why: str) -> Suggestion:
    """Generalise with a value-free default where one exists; keep a small category; else drop."""
    params: dict[str, Any] = {}
    coarser: tuple[dict[str, Any], ...] = ()
    if entity in {"DATE_OF_BIRTH", "DATE_TIME"}:
        if f.iso_date_share >= 0.95:
            params, how, coarser = {"to": "year"}, "generalised to the year", ({"to": "decade"},)
        else:
            return Suggestion(Role.QUASI_IDENTIFIER, Treatment.DROP, confidence, evidence=f.evidence,
                              review=f"{why}; dropped: its dates are not ISO (YYYY-MM-DD), which generalise.to "
                                     "needs. Convert them upstream and use generalise {to: year} to keep them.")
    elif entity == "AGE" and f.numeric_share >= 0.95:
        params, how = {"bin": 10, "top": 90}, "generalised to 10-year bands (90+ together)"
        coarser = ({"edges": [30, 50, 65]},)
    elif entity == "ZIP_CODE":
        params, how = {"keep_prefix": 3}, "generalised to its first 3 characters"
        coarser = ({"keep_prefix": 2}, {"keep_prefix": 1})
    elif 0 < f.distinct <= MAX_CATEGORIES and f.min_count >= DEFAULT_K:
        return Suggestion(Role.QUASI_IDENTIFIER, Treatment.KEEP, confidence, evidence=f.evidence,
                          review=f"{why}; kept: {f.distinct} categories, each on ≥ {DEFAULT_K} sampled rows "
                                 "(the k-anonymity gate checks every combination).")
    elif f.distinct <= MAX_CATEGORIES:
        return Suggestion(Role.QUASI_IDENTIFIER, Treatment.DROP, confidence, evidence=f.evidence,
                          review=f"{why}; dropped: some of its {f.distinct} categories cover fewer than "
                                 f"{DEFAULT_K} sampled rows. Keep it with generalise {{map: ..., other: ...}} "
                                 "grouping the rare ones if the purpose needs it.")
    else:
        return Suggestion(Role.QUASI_IDENTIFIER, Treatment.DROP, confidence, evidence=f.evidence,
                          review=f"{why}; dropped: no value-free generalisation fits and it has "
                                 f"{f.distinct} distinct values. Keep it with generalise {{map: ...}} if needed.")
    return Suggestion(Role.QUASI_IDENTIFIER, Treatment.GENERALISE, confidence, params=params,
                      evidence=f.evidence, review=f"{why}; {how}. Check the granularity the purpose needs.",
                      coarser=coarser)


def _best(f: ColumnFacts, entities: Iterable[str]) -> tuple[str | None, float]:
    scored = [(e, f.share(e)) for e in entities if f.share(e) > 0]
    return max(scored, key=lambda kv: kv[1], default=(None, 0.0))


def _empty(f: ColumnFacts) -> Suggestion | None:
    if f.non_empty:
        return None
    return Suggestion(Role.FEATURE, Treatment.DROP, 0.3, evidence=f.evidence,
                      review="no values in the sample; dropped. Declare its role once it holds data.")


def _nested(f: ColumnFacts) -> Suggestion | None:
    """Lists, structs and binary values: the minimisation operators work on flat values."""
    if not f.nested:
        return None
    direct, share = _best(f, DIRECT_ENTITIES)
    if direct is not None and share >= MIXED_SHARE:
        return Suggestion(Role.DIRECT_IDENTIFIER, Treatment.DROP, min(1.0, 0.5 + share / 2), evidence=f.evidence,
                          review=f"nested values, {share:.0%} of them holding {direct}; dropped. Flatten them "
                                 "upstream into columns to protect and keep them.")
    return Suggestion(Role.FEATURE, Treatment.DROP, 0.4, evidence=f.evidence,
                      review="nested or binary values; dropped. Flatten them upstream into columns to keep them.")


def _direct_values(f: ColumnFacts) -> Suggestion | None:
    """Values that identify a person on their own, in most rows (whatever the header says)."""
    direct, share = _best(f, DIRECT_ENTITIES)
    if direct is None or share < DECIDE_SHARE or f.text_like:
        return None
    agrees = f.header_entity == direct
    conf = min(1.0, share * (1.0 if agrees or f.header_entity is None else 0.85) + (0.1 if agrees else 0.0))
    return _direct(f, direct, conf, f"{share:.0%} of sampled values are {direct}")


def _free_text(f: ColumnFacts) -> Suggestion | None:
    """Prose: anything can hide in it."""
    if not f.text_like or f.header_role is Role.QUASI_IDENTIFIER:
        return None
    found = sorted(e for e, s in f.entities.items() if s > 0)
    conf = min(0.95, 0.6 + f.mean_words / 40 + (0.1 if found else 0.0))
    what = f"; the detector finds {', '.join(found)} in the sample" if found else ""
    return Suggestion(Role.FREE_TEXT, Treatment.REDACT, conf, evidence=f.evidence,
                      review=f"{f.mean_words:.0f} words per value on average{what}; redacted. "
                             "Drop it if the purpose does not need the text.")


def _direct_header(f: ColumnFacts) -> Suggestion | None:
    """The header names a direct identifier and the values do not say it is something else."""
    named = f.header_entity in DIRECT_ENTITIES or f.header_role is Role.DIRECT_IDENTIFIER
    if not named or _best(f, QUASI_ENTITIES)[1] >= DECIDE_SHARE:
        return None
    if f.non_empty >= FEW_VALUES_MIN_ROWS and f.distinct <= FEW_VALUES and _best(f, DIRECT_ENTITIES)[0] is None:
        return None  # "email_opt_in": yes/no — a handful of values identifies nobody, whatever the header says
    entity = f.header_entity if f.header_entity in DIRECT_ENTITIES else "a credential or document number"
    agree = f.share(f.header_entity) if f.header_entity else 0.0
    tail = (f" and {agree:.0%} of sampled values agree" if agree
            else " (the values alone do not show it: header evidence only)")
    return _direct(f, str(entity), min(0.95, 0.55 + 0.4 * agree), f"the column name suggests {entity}{tail}")


def _direct_minority(f: ColumnFacts) -> Suggestion | None:
    """A minority of values are direct identifiers: never kept in clear (NER on single short values is
    noisier than patterns, so it needs a larger share)."""
    mixed = [(e, sh) for e, sh in f.entities.items() if e in DIRECT_ENTITIES
             and sh >= (NER_MIXED_SHARE if f.sources.get(e) == "ner_sample" else MIXED_SHARE)]
    if not mixed:
        return None
    entity, share = max(mixed, key=lambda kv: kv[1])
    return _direct(f, "mixed", 0.5, f"{share:.0%} of sampled values are {entity} "
                                    "(a minority: check what else the column holds)")


def _sensitive(f: ColumnFacts) -> Suggestion | None:
    if f.header_role is not Role.SENSITIVE:
        return None
    return Suggestion(Role.SENSITIVE, Treatment.DROP, 0.6, evidence=f.evidence,
                      review="the column name suggests a special category (health, beliefs, origin, "
                             "finances); dropped. Keep it only if the purpose needs it, with ethics_risk E3.")


def _quasi_values_or_header(f: ColumnFacts) -> Suggestion | None:
    quasi, share = _best(f, QUASI_ENTITIES)
    if quasi is not None and share >= DECIDE_SHARE:
        if f.header_entity == "DATE_OF_BIRTH" and quasi == "DATE_TIME":
            quasi = "DATE_OF_BIRTH"
        conf = min(0.95, share * (0.9 if quasi == "LOCATION" else 1.0) + (0.1 if f.header_entity == quasi else 0.0))
        return _quasi(f, quasi, conf, f"{share:.0%} of sampled values are {quasi}")
    if f.header_entity in QUASI_ENTITIES or f.header_role is Role.QUASI_IDENTIFIER:
        entity = f.header_entity if f.header_entity in QUASI_ENTITIES else None
        return _quasi(f, entity, 0.6, "the column name suggests a quasi-identifier")
    return None


def _label(f: ColumnFacts) -> Suggestion | None:
    """Named like a label, with few distinct values."""
    if f.header_role is not Role.LABEL or f.distinct > max(2, min(50, f.non_empty // 2)):
        return None
    if f.non_empty < f.rows:
        # the suite requires a label on every row: an incomplete one would fail the run
        return Suggestion(Role.FEATURE, Treatment.KEEP, 0.5, evidence=f.evidence,
                          review=f"named like a label, {f.distinct} distinct values, but {f.rows - f.non_empty} "
                                 "sampled rows have none; kept as a feature. Declare it role: label once every "
                                 "row is labelled (the suite requires a label on every row).")
    return Suggestion(Role.LABEL, Treatment.KEEP, 0.75, evidence=f.evidence,
                      review=f"named like a label, {f.distinct} distinct values and no personal data "
                             "found in the sample; kept (labelers need it).")


def _record_key(f: ColumnFacts) -> Suggestion | None:
    """Unique per row and named like a key; a person's key ("customer_id") identifies the person."""
    words = set(header_words(f.name))
    if not f.unique or not words & KEY_WORDS:
        return None
    if words & PERSON_KEY_WORDS:
        return _direct(f, "KEY", 0.7, "unique per row and named like a person's key")
    return Suggestion(Role.FEATURE, Treatment.PSEUDONYMISE, 0.6, evidence=f.evidence,
                      review="unique per row and named like a record key; pseudonymised (stable within "
                             "the purpose). Keep it in clear only if it cannot be linked to a person "
                             "outside this dataset; then consider it as row_id.")


def _clean_feature(f: ColumnFacts) -> Suggestion | None:
    """A small set of categories, or small numbers, with nothing found. Below the minority threshold, NER
    on single short values is noise ("Rose" and "Jordan" are also colours and countries)."""
    if any(e in DIRECT_ENTITIES and f.sources.get(e) != "ner_sample" for e in f.entities):
        return None
    if 0 < f.distinct <= MAX_CATEGORIES and f.distinct <= f.non_empty / 2:
        return Suggestion(Role.FEATURE, Treatment.KEEP, 0.6, evidence=f.evidence,
                          review=f"{f.distinct} categories and no personal data found in the sample; kept.")
    if f.numeric_share >= 0.95 and f.mean_digits < 6 and not f.unique:
        return Suggestion(Role.FEATURE, Treatment.KEEP, 0.55, evidence=f.evidence,
                          review="numbers of at most 5 digits and no personal data found in the sample; kept.")
    return None


#: the rules in order; the first that applies decides (values before header, identifiers before the rest)
RULES: tuple[Callable[[ColumnFacts], Suggestion | None], ...] = (
    _empty, _nested, _direct_values, _free_text, _direct_header, _direct_minority, _sensitive,
    _quasi_values_or_header, _label, _record_key, _clean_feature,
)


def suggest_role(f: ColumnFacts) -> Suggestion:
    """The role a column most likely has, with a conservative treatment; unknown content is dropped."""
    for rule in RULES:
        suggestion = rule(f)
        if suggestion is not None:
            return suggestion
    return Suggestion(Role.FEATURE, Treatment.DROP, 0.3, evidence=f.evidence,
                      review=f"unclear content ({f.distinct} distinct values, no known entity); dropped. "
                             "Declare a role and keep it only once you know what it holds.")


# ------------------------------------------------------------------------------------ discovery


def take_sample(batches: Iterable[pa.RecordBatch], rows: int = SAMPLE_ROWS) -> pa.Table:
    """The first ``rows`` rows of a stream of record batches (stops reading as soon as it has them)."""
    taken: list[pa.RecordBatch] = []
    have = 0
    for batch in batches:
        taken.append(batch.slice(0, rows - have))
        have += taken[-1].num_rows
        if have >= rows:
            break
    if not taken:
        return pa.table({})
    return pa.Table.from_batches(taken)


def discover_table(table: pa.Table, detector: TextDetector | None, *,
                   regions: Iterable[str] = ("US",)) -> Discovery:
    """Profile every column of ``table`` and suggest its role."""
    facts = profile_table(table, detector, regions=regions)
    return Discovery([ColumnDiscovery(f, suggest_role(f)) for f in facts], table.num_rows, table)


# ---------------------------------------------------------------------------------------- draft


def _enforce_k(discovery: Discovery, k: int) -> dict[str, tuple[Treatment, dict[str, Any], str]]:
    """Coarsen, then drop, kept quasi-identifiers until the sample is k-anonymous.

    The quasi-identifier with the most distinct (treated) values goes first: to its next coarser
    generalisation if it has one, else it is dropped. Returns {column: (treatment, params, why)} for the
    columns it changed. Only counts are looked at.
    """
    # pandas (under risk) takes about a second to import: only a command that writes a draft pays for it
    from clearhouse.privacy.risk import k_anonymity  # noqa: PLC0415 - heavy (pandas), needed only for a draft

    table = discovery.sample
    state = {c.facts.name: (c.suggestion.treatment, dict(c.suggestion.params), list(c.suggestion.coarser))
             for c in discovery.columns
             if c.suggestion.role is Role.QUASI_IDENTIFIER and c.suggestion.treatment is not Treatment.DROP}
    if table is None or not state or table.num_rows == 0:
        return {}

    def treat(name: str) -> pa.Array:
        treatment, params, _ = state[name]
        out = get_operator(treatment.value).apply(table.column(name).to_pylist(), params, spans=None, row_offset=0)
        return pa.array([None if v is None else str(v) for v in out], type=pa.string())

    treated = {name: treat(name) for name in state}
    changed: dict[str, tuple[Treatment, dict[str, Any], str]] = {}
    while treated:
        result = k_anonymity(pa.table(treated), list(treated))
        if result.k >= k:
            break
        worst = max(treated, key=lambda c: (len(pc.unique(treated[c])), c))
        why = (f"with it, {result.classes_below(k)} combinations of quasi-identifiers covered fewer than {k} "
               "sampled rows")
        treatment, _params, coarser = state[worst]
        if coarser:
            params = dict(coarser.pop(0))
            state[worst] = (treatment, params, coarser)
            treated[worst] = treat(worst)
            changed[worst] = (treatment, params, f"coarsened to {_flow(params)} so that the sample is "
                                                 f"{k}-anonymous ({why})")
        else:
            changed[worst] = (Treatment.DROP, {}, f"dropped so that the sample is {k}-anonymous ({why})")
            del treated[worst]
    return changed


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:63] or "dataset"
    return slug if slug[0].isalpha() else f"d_{slug}"[:63]


def _yaml_str(value: str) -> str:
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", value) is not None
    reserved = value.lower() in {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
    return value if plain and not reserved else json.dumps(value)


def _flow(params: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in params.items()) + "}"


def draft_policy(discovery: Discovery, *, source_path: str, fmt: str, origin: str, dataset_id: str | None = None,
                 k: int = DEFAULT_K, encoding: str = "utf-8", delimiter: str = ",") -> str:
    """Policy YAML for the discovered file, validated by the policy model and the treatment operators.

    ``origin`` names the file in the header comment; ``source_path`` becomes ``source.path``.
    """
    ident = _slug(dataset_id or origin.rsplit(".", 1)[0])
    for_k = _enforce_k(discovery, k)
    lines = [
        f"# DRAFT policy written by `clearhouse discover` from {origin} ({discovery.rows_sampled} sampled rows).",
        "# Conservative by construction: direct identifiers are pseudonymised or dropped, free text is",
        "# redacted, quasi-identifiers are generalised or dropped until the sample is k-anonymous, and",
        "# anything unclear is dropped — nothing is kept in clear without evidence that it is clean.",
        "# REVIEW before the first run: owner, purpose and ethics_risk; every column's note below (role and",
        "# treatment follow the purpose, not only the data); the detection countries. Then:",
        "#   clearhouse check-policy THIS_FILE && clearhouse run THIS_FILE",
        f"id: {ident}",
        "owner: data-owner@example.org  # REVIEW: the team accountable for this dataset",
        "purpose: >-  # REVIEW: what the labelers' work is for; it decides which columns are needed",
        f"  TODO: describe the purpose. Drafted by clearhouse discover from {origin}.",
        "ethics_risk: E2  # REVIEW: E0 none … E3 high (needs an officer's approval); E4 is refused",
        f"source: {{path: {json.dumps(source_path)}, format: {fmt}"
        + (f", encoding: {json.dumps(encoding)}" if encoding.lower().replace("_", "-") not in {"utf-8", "utf8"} else "")
        + (f", delimiter: {json.dumps(delimiter)}" if delimiter != "," else "") + "}",
        "undeclared_columns: fail  # a column that appears later stops the run until it is declared",
        "columns:",
    ]
    for c in discovery.columns:
        s = c.suggestion
        treatment, params, review = s.treatment, dict(s.params), s.review
        if c.facts.name in for_k:
            treatment, params, why = for_k[c.facts.name]
            review = f"{review} Then {why}."
        entities = ", ".join(f"{e} {v:.0%}" for e, v in sorted(c.facts.entities.items(), key=lambda kv: -kv[1]))
        head = f"{s.role.value}, confidence {s.confidence:.2f}" + (f"; found: {entities}" if entities else "")
        lines += textwrap.wrap(head, width=110, initial_indent="  # ", subsequent_indent="  #   ")
        lines += textwrap.wrap(f"REVIEW: {review}", width=110, initial_indent="  # ", subsequent_indent="  #   ")
        spec = f"role: {s.role.value}, treatment: {treatment.value}"
        if params:
            spec += f", params: {_flow(params)}"
        lines.append(f"  {_yaml_str(c.facts.name)}: {{{spec}}}")
    lines += [
        "detection:",
        "  threshold: 0.5",
        "  countries: [US]  # REVIEW: countries whose national identifiers (SSN, NINO, …) apply",
        f"# every combination of the kept quasi-identifiers must cover at least {k} rows",
        f"k_anonymity: {k}",
        "# Privacy impact assessment (required from E1 up): REVIEW every field; a privacy officer signs it",
        "# off after reading it (`clearhouse assessment show THIS_FILE`, then `clearhouse assessment sign ID`).",
        "assessment:",
        "  purpose: TODO describe what the processing is for  # REVIEW",
        "  legal_basis: legitimate_interests  # REVIEW: consent, contract, legal_obligation, vital_interests,",
        "  #   public_task or legitimate_interests; legal_basis_note: where it is documented",
        "  sensitive: {categories: [], consent: not_applicable}  # REVIEW: e.g. [health] with consent: explicit",
        "  data_subjects: [TODO whose personal data this is]  # REVIEW",
        "  recipients: [TODO who receives the cleared data]  # REVIEW",
        "  retention_period: 1y  # REVIEW: how long cleared versions may be kept (180d, 26w, 2y)",
        "",
    ]
    text = "\n".join(lines)
    validate_treatments(parse_policy(text, origin="<draft policy>"))  # fails loudly if a rule is broken
    return text

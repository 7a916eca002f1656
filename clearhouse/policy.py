"""Dataset policy: the YAML a data engineer writes once per collected dataset.

Validated with pydantic at load, with cross-field rules. A bad policy raises one :class:`PolicyError`
that names the file, the field path and the line; nothing runs. An E4 (prohibited) dataset is refused,
and an E1-E3 dataset needs a privacy impact assessment (:class:`Assessment`) that an officer signs off.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from clearhouse.errors import PolicyError
from clearhouse.readers import FORMAT_BY_SUFFIX

SLUG = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RETENTION = re.compile(r"^(\d{1,5})([dwy])$")
_RETENTION_UNIT_DAYS = {"d": 1, "w": 7, "y": 365}


class EthicsRisk(StrEnum):
    """Ethics-risk levels of the governance model: E4 prohibited … E0 no AI/ML use."""

    E0 = "E0"
    E1 = "E1"
    E2 = "E2"
    E3 = "E3"
    E4 = "E4"

    @property
    def requires_approval(self) -> bool:
        return self is EthicsRisk.E3


class Role(StrEnum):
    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SENSITIVE = "sensitive"
    FREE_TEXT = "free_text"
    LABEL = "label"
    FEATURE = "feature"


class Treatment(StrEnum):
    DROP = "drop"
    KEEP = "keep"
    REDACT = "redact"
    MASK = "mask"
    GENERALISE = "generalise"
    PSEUDONYMISE = "pseudonymise"
    ENCRYPT = "encrypt"


#: treatments that leave a direct identifier's value readable in the cleared data
_REVEALING = {Treatment.KEEP, Treatment.GENERALISE}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Source(_Strict):
    path: str = Field(min_length=1)
    format: Literal["csv", "jsonl", "parquet"] | None = None
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    def resolved_format(self, path: Path | None = None) -> str:
        if self.format:
            return self.format
        suffix = (path or Path(self.path)).suffix.lower()
        if suffix not in FORMAT_BY_SUFFIX:
            raise PolicyError(
                f"source format cannot be inferred from {suffix or 'a missing suffix'!r}; "
                "set source.format to csv, jsonl or parquet"
            )
        return FORMAT_BY_SUFFIX[suffix]


class Column(_Strict):
    role: Role
    treatment: Treatment
    params: dict[str, Any] = Field(default_factory=dict)
    #: AES-SIV (deterministic, joinable) instead of AES-GCM for ``encrypt`` columns
    joinable: bool = False
    description: str = ""
    #: whether labelers receive the column when they pull (default: every released column except
    #: ``encrypt`` ones, whose ciphertext only an officer can open and a labeler has no use for)
    labelers: bool | None = None

    @property
    def released_to_labelers(self) -> bool:
        if self.treatment is Treatment.DROP:
            return False
        return self.labelers if self.labelers is not None else self.treatment is not Treatment.ENCRYPT

    @model_validator(mode="after")
    def _rules(self) -> Column:
        if self.role is Role.DIRECT_IDENTIFIER and self.treatment in _REVEALING:
            raise ValueError(
                f"a direct identifier cannot be '{self.treatment}'; use drop, pseudonymise, encrypt, mask or redact"
            )
        if self.role is Role.FREE_TEXT and self.treatment not in {Treatment.REDACT, Treatment.DROP}:
            raise ValueError("free text must be 'redact' or 'drop': it can hide any kind of personal data")
        if self.role is Role.LABEL and self.treatment is not Treatment.KEEP:
            raise ValueError("a label column must be 'keep': labelers need it")
        if self.joinable and self.treatment is not Treatment.ENCRYPT:
            raise ValueError("'joinable' applies to 'encrypt' columns only")
        if self.labelers and self.treatment is Treatment.DROP:
            raise ValueError("a dropped column cannot be released to labelers")
        if self.labelers is False and self.role is Role.LABEL:
            raise ValueError("a label column must reach labelers ('labelers: false' on a label)")
        return self


class PatternSpec(_Strict):
    name: str = Field(min_length=1)
    regex: str = Field(min_length=1)
    score: float = Field(default=0.6, ge=0.0, le=1.0)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"regex does not compile: {exc}") from exc
        return value


class RecognizerSpec(_Strict):
    """A custom regex/deny-list recognizer declared in the policy."""

    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    patterns: list[PatternSpec] = Field(default_factory=list)
    deny_list: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> RecognizerSpec:
        if not self.patterns and not self.deny_list:
            raise ValueError("a recognizer needs patterns or a deny_list")
        return self


class PresidioRecognizerSpec(BaseModel):
    """A recognizer written in Presidio's recognizer YAML (``name``, ``supported_entity``,
    ``supported_language``, ``patterns: [{name, regex, score}]``, ``context``, ``deny_list``,
    ``deny_list_score``, ``score_thresholds``…), validated by Presidio's own model
    (``CustomRecognizerConfig``) and built with ``PatternRecognizer.from_dict`` — so a file that works
    with Presidio works here, and an entry Presidio would refuse is refused at load."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(min_length=1)
    supported_entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")

    @model_validator(mode="before")
    @classmethod
    def _presidio(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kind = data.get("type", "custom")
        if kind != "custom":
            raise ValueError(f"type {kind!r}: a policy declares custom recognizers (patterns or a deny_list); "
                             "Presidio's predefined recognizers go in an analyzer configuration file "
                             "(detection.analyzer_config)")
        # (heavy: only when a policy has a Presidio-format recognizer)
        from presidio_analyzer import PatternRecognizer  # noqa: PLC0415 - heavy, see above
        from presidio_analyzer.input_validation.yaml_recognizer_models import (  # noqa: PLC0415 - heavy
            CustomRecognizerConfig,
        )

        unknown = sorted(set(data) - set(CustomRecognizerConfig.model_fields))
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)} in a Presidio recognizer; allowed: "
                             f"{', '.join(sorted(CustomRecognizerConfig.model_fields))}")
        try:
            checked = CustomRecognizerConfig.model_validate(data)
        except ValidationError as exc:
            raise ValueError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())) from exc
        try:
            PatternRecognizer.from_dict(presidio_recognizer_dict(data, checked.supported_language or "en"))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"Presidio cannot build this recognizer: {exc}") from exc
        return data

    @property
    def entity(self) -> str:
        """The entity type it reports."""
        return self.supported_entity


def presidio_recognizer_dict(data: dict[str, Any], language: str) -> dict[str, Any]:
    """The keyword arguments ``PatternRecognizer.from_dict`` takes for one Presidio YAML entry."""
    conf = {k: v for k, v in data.items() if k not in {"enabled", "type", "class_name", "score_thresholds",
                                                       "supported_languages"} and v is not None}
    conf.setdefault("supported_language", language)
    return conf


def _recognizer_format(value: Any) -> str:
    if isinstance(value, BaseModel):  # (serialising: the value is already a model)
        return "presidio" if isinstance(value, PresidioRecognizerSpec) else "clearhouse"
    if isinstance(value, dict) and "entity" not in value and ("supported_entity" in value or "name" in value):
        return "presidio"
    return "clearhouse"


_FORMAT_TAGS = frozenset({"presidio", "clearhouse"})
#: a ``detection.recognizers`` entry: Clearhouse's short form (``entity``) or Presidio's YAML
AnyRecognizerSpec = Annotated[
    Annotated[RecognizerSpec, Tag("clearhouse")] | Annotated[PresidioRecognizerSpec, Tag("presidio")],
    Discriminator(_recognizer_format),
]


class Detection(_Strict):
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    #: entity types to look for; empty means every supported type
    entities: list[str] = Field(default_factory=list)
    #: countries whose national identifiers apply (ISO 3166 alpha-2), e.g. [US], [GB]
    countries: list[str] = Field(default_factory=lambda: ["US"])
    language: str = "en"
    #: words that are never reported (Presidio's ``allow_list``); ``exact`` compares the matched text as
    #: written, ``regex`` treats each entry as a regular expression searched in it (case-insensitive)
    allow_list: list[str] = Field(default_factory=list)
    allow_list_match: Literal["exact", "regex"] = "exact"
    recognizers: list[AnyRecognizerSpec] = Field(default_factory=list)
    #: a Presidio analyzer configuration file (``AnalyzerEngineProvider`` format), relative to the policy
    #: file: its recognizers, context settings and score threshold join detection (the spaCy model
    #: stays Clearhouse's); resolved to an absolute path by :func:`load_policy`
    analyzer_config: str | None = None
    #: rows sampled per structured column for classification; 0 means every row
    column_sample: int = Field(default=0, ge=0)
    #: opt-in detection profiles: a shipped name (``clinical``: ``privacy/detection/profiles/<name>.yaml``)
    #: or a profile file relative to the policy's folder (``profiles/legal.yaml``) — declared vocabulary
    #: (a name-type hit loses those words), measurement words and Presidio-YAML recognizers
    profile: list[str] = Field(default_factory=list)
    #: scan redacted free text again with NER (context changes once names are gone). Off by default:
    #: on the sample tickets it found 1 more span in 5,000 rows for 26 s, and each row's own
    #: identifiers are redacted and checked without it; turn it on for text where it pays.
    rescan_redacted: bool = False

    @field_validator("profile", mode="before")
    @classmethod
    def _profiles(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _allow_regexes(self) -> Detection:
        if self.allow_list_match == "regex":
            for entry in self.allow_list:
                try:
                    re.compile(entry)
                except re.error as exc:
                    raise ValueError(f"allow_list entry {entry!r} is not a regular expression: {exc}") from exc
        for spec in self.recognizers:
            lang = getattr(spec, "model_extra", None) and (spec.model_extra or {}).get("supported_language")
            if lang and lang != self.language:
                raise ValueError(f"recognizer {spec.name!r} is for language {lang!r} but detection.language "  # type: ignore[union-attr]
                                 f"is {self.language!r}")
        return self

    @field_validator("countries")
    @classmethod
    def _iso(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise ValueError(f"country {code!r} is not an ISO 3166 alpha-2 code such as US or GB")
        return value


class Expectation(_Strict):
    """One expectation of the dataset's suite. ``type`` is a GX expectation type (snake_case)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str = Field(pattern=r"^expect_[a-z0-9_]+$")
    severity: Literal["critical", "warning"] = "critical"

    def kwargs(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class LegalBasis(StrEnum):
    """Lawful bases for processing (GDPR Art. 6(1); PIPL Art. 13 has the same core list)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


class SensitiveConsent(StrEnum):
    """How the processing of sensitive categories is permitted."""

    #: explicit consent (GDPR Art. 9(2)(a))
    EXPLICIT = "explicit"
    #: separate consent (PIPL Art. 29)
    SEPARATE = "separate"
    #: an exemption other than consent (e.g. GDPR Art. 9(2)(j), research), named in ``exemption``
    EXEMPT = "exempt"
    #: no sensitive category is processed
    NOT_APPLICABLE = "not_applicable"




def period_days(value: str) -> int:
    """Days of a retention period written as the policy writes them ("180d", "26w", "2y" = 730 days)."""
    match = RETENTION.fullmatch(value.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"retention {value!r} must be a positive number of days, weeks or years: 180d, 26w, 2y")
    return int(match.group(1)) * _RETENTION_UNIT_DAYS[match.group(2)]


class SensitiveData(_Strict):
    """Sensitive categories the dataset holds (health, biometric, religion, minors, …) and what permits it."""

    categories: list[str] = Field(default_factory=list, max_length=50)
    consent: SensitiveConsent = SensitiveConsent.NOT_APPLICABLE
    #: where the consent is recorded (required for ``explicit`` and ``separate``)
    consent_evidence: str = Field(default="", max_length=2000)
    #: the legal exemption relied on (required for ``exempt``)
    exemption: str = Field(default="", max_length=2000)

    @field_validator("categories")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        for cat in value:
            if not SLUG.fullmatch(cat):
                raise ValueError(f"category {cat!r} must be a lower-case name such as health or biometric")
        return value

    @model_validator(mode="after")
    def _permitted(self) -> SensitiveData:
        none = self.consent is SensitiveConsent.NOT_APPLICABLE
        if self.categories and none:
            raise ValueError(
                "sensitive categories are listed but consent is not_applicable; say what permits them: "
                "explicit, separate (with consent_evidence) or exempt (with exemption)"
            )
        if not self.categories and not none:
            raise ValueError(f"consent is {self.consent.value} but no sensitive category is listed")
        if self.consent in {SensitiveConsent.EXPLICIT, SensitiveConsent.SEPARATE} and not self.consent_evidence:
            raise ValueError(f"{self.consent.value} consent needs consent_evidence: where the consent is recorded")
        if self.consent is SensitiveConsent.EXEMPT and not self.exemption:
            raise ValueError("consent 'exempt' needs exemption: the legal provision relied on")
        return self


class Assessment(_Strict):
    """The privacy impact assessment a privacy officer signs off with their name.

    The sign-off records :meth:`digest`; any change to any field makes a different digest, which needs a
    new sign-off.
    """

    #: what the processing is for (usage), in the assessor's words
    purpose: str = Field(min_length=10, max_length=2000)
    legal_basis: LegalBasis
    #: where the basis is documented (e.g. the legitimate-interests assessment)
    legal_basis_note: str = Field(default="", max_length=2000)
    sensitive: SensitiveData = Field(default_factory=SensitiveData)
    #: whose personal data it is (customers, patients, employees, …)
    data_subjects: list[str] = Field(min_length=1, max_length=50)
    #: who receives the cleared data (disclosure)
    recipients: list[str] = Field(min_length=1, max_length=50)
    #: how long cleared versions may be kept, as the policy's ``retention`` is written: 180d, 26w, 2y
    retention_period: str
    #: how the data is disposed of at the end of the retention period
    disposal: str = Field(default="", max_length=2000)
    #: transfers to other organisations or countries (transmission); empty when there are none
    transfers: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("data_subjects", "recipients", "transfers")
    @classmethod
    def _nonblank(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip() or len(item) > 500:
                raise ValueError("each entry must be a non-blank line of at most 500 characters")
        return value

    @field_validator("retention_period")
    @classmethod
    def _duration(cls, value: str) -> str:
        period_days(value)
        return value.strip()

    def canonical_json(self) -> str:
        """The assessment as canonical JSON (sorted keys, no spaces): what the digest covers."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def digest(self) -> str:
        """SHA-256 of :meth:`canonical_json`: what a sign-off signs."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


class ReviewSpec(_Strict):
    """Residual-PII review by sampling: an officer reads a random sample of the cleared text and marks
    what still shows personal data; the version is released only when the exact upper bound of the
    leak rate is at most ``max_residual_rate``."""

    max_residual_rate: float = Field(gt=0.0, lt=1.0)
    #: confidence of the one-sided upper bound
    confidence: float = Field(default=0.95, ge=0.8, le=0.999)
    #: free-text columns shown to the reviewer; empty means every released free-text column
    columns: list[str] = Field(default_factory=list)


class Policy(_Strict):
    id: str
    owner: str = Field(min_length=1)
    purpose: str = Field(min_length=10)
    #: scope of pseudonym keys: datasets sharing a purpose id share pseudonyms
    purpose_id: str | None = None
    ethics_risk: EthicsRisk
    source: Source
    row_id: str | None = None
    undeclared_columns: Literal["fail", "drop"] = "fail"
    columns: dict[str, Column]
    detection: Detection = Field(default_factory=Detection)
    expectations: list[Expectation] = Field(default_factory=list)
    #: k for the k-anonymity gate over quasi-identifiers (0 disables it)
    k_anonymity: int = Field(default=0, ge=0)
    #: rows per chunk of this dataset (default: the CLEARHOUSE_CHUNK_ROWS setting)
    chunk_rows: int | None = Field(default=None, ge=1)
    #: Airflow schedule of the dataset's DAG (cron expression or preset such as "@daily"); none = manual
    schedule: str | None = None
    #: how long a version is kept ("180d", "26w", "2y" = 730 days); past it, the retention DAG shreds
    #: its data key and removes its files. None: kept until an officer shreds it
    retention: str | None = None
    #: privacy impact assessment; required from E1 up, signed off by a privacy officer
    assessment: Assessment | None = None
    #: residual-PII review by sampling; required for E3 datasets with released free text
    review: ReviewSpec | None = None

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = RETENTION.fullmatch(value.strip())
        if match is None or int(match.group(1)) == 0:
            raise ValueError(f"retention {value!r} must be a positive number of days, weeks or years: 180d, 26w, 2y")
        return value.strip()

    @property
    def retention_days(self) -> int | None:
        """The retention period in days (years count 365 days), or ``None`` when not declared."""
        if self.retention is None:
            return None
        match = RETENTION.fullmatch(self.retention)
        assert match is not None  # validated at load
        return int(match.group(1)) * _RETENTION_UNIT_DAYS[match.group(2)]

    def labeler_columns(self) -> list[str]:
        """The columns labelers receive when they pull (see :attr:`Column.labelers`)."""
        return [name for name, col in self.columns.items() if col.released_to_labelers]

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None:
            return value
        presets = {"@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@continuous"}
        if value in presets or len(value.split()) == 5:
            return value
        raise ValueError(f"schedule {value!r} must be a 5-field cron expression or one of {sorted(presets)}")

    @field_validator("id", "purpose_id")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not SLUG.fullmatch(value):
            raise ValueError("must be lower-case letters, digits and '_', starting with a letter (max 63)")
        return value

    @field_validator("ethics_risk")
    @classmethod
    def _not_prohibited(cls, value: EthicsRisk) -> EthicsRisk:
        if value is EthicsRisk.E4:
            raise ValueError("E4 (prohibited) datasets are refused: no AI/ML use may be cleared")
        return value

    @model_validator(mode="after")
    def _cross(self) -> Policy:
        if not self.columns:
            raise ValueError("columns: declare at least one column")
        if self.row_id is not None:
            if self.row_id not in self.columns:
                raise ValueError(f"row_id {self.row_id!r} is not a declared column")
            if self.columns[self.row_id].treatment is Treatment.DROP:
                raise ValueError(f"row_id {self.row_id!r} cannot be dropped")
        for exp in self.expectations:
            for col in _named_columns(exp.kwargs()):
                if col not in self.columns:
                    raise ValueError(f"expectation {exp.type} names undeclared column {col!r}")
        self._assessment_rules()
        self._review_rules()
        return self

    def _assessment_rules(self) -> None:
        if self.assessment is None:
            if self.ethics_risk is not EthicsRisk.E0:
                raise ValueError(
                    f"an {self.ethics_risk.value} policy needs an assessment (privacy impact assessment) with "
                    "purpose, legal_basis, sensitive (categories and consent), data_subjects, recipients and "
                    "retention_period; only E0 (no AI/ML use) may go without"
                )
            return
        # the tool must not keep data longer than the assessment that was signed says
        if self.retention is not None and period_days(self.retention) > period_days(
            self.assessment.retention_period
        ):
            raise ValueError(
                f"retention {self.retention} is longer than the assessment's retention_period "
                f"{self.assessment.retention_period}; shorten it or change (and have signed) the assessment"
            )
        # a dropped sensitive column is never released; a kept one is processed for the purpose
        sensitive = [
            n for n in self.columns_with(role=Role.SENSITIVE) if self.columns[n].treatment is not Treatment.DROP
        ]
        if sensitive and not self.assessment.sensitive.categories:
            raise ValueError(
                f"column(s) {', '.join(sensitive)} are declared sensitive and released, but "
                "assessment.sensitive.categories is empty; list the categories and what permits their processing"
            )

    def _review_rules(self) -> None:
        released_text = self._released_text()
        if self.review is None:
            if self.ethics_risk is EthicsRisk.E3 and released_text:
                raise ValueError(
                    f"an E3 policy that releases free text ({', '.join(released_text)}) needs "
                    "review: {max_residual_rate: …}, the largest share of records that may still show "
                    "personal data (checked by an officer on a random sample)"
                )
            return
        if not released_text:
            raise ValueError("review: there is no released free-text column to review (all are dropped)")
        for col in self.review.columns:
            if col not in released_text:
                raise ValueError(f"review.columns: {col!r} is not a released free-text column")

    def _released_text(self) -> list[str]:
        return [
            n for n, c in self.columns.items() if c.role is Role.FREE_TEXT and c.treatment is not Treatment.DROP
        ]

    def review_columns(self) -> list[str]:
        """The free-text columns a reviewer reads (empty when the policy asks for no review)."""
        if self.review is None:
            return []
        return list(self.review.columns) or self._released_text()

    def assessment_digest(self) -> str | None:
        return self.assessment.digest() if self.assessment else None

    @property
    def scope(self) -> str:
        """Pseudonym scope: the purpose id, or the dataset id."""
        return self.purpose_id or self.id

    def columns_with(self, *, role: Role | None = None, treatment: Treatment | None = None) -> list[str]:
        return [
            name
            for name, col in self.columns.items()
            if (role is None or col.role is role) and (treatment is None or col.treatment is treatment)
        ]

    def kept_columns(self) -> list[str]:
        return [name for name, col in self.columns.items() if col.treatment is not Treatment.DROP]

    def source_path(self, policy_file: Path | None, home: Path) -> Path:
        """The source path with ``${CLEARHOUSE_HOME}`` expanded; relative paths are taken from the policy's folder."""
        raw = self.source.path.replace("${CLEARHOUSE_HOME}", str(home))
        if "$" in raw:
            raise PolicyError(f"source.path: only ${{CLEARHOUSE_HOME}} may be expanded, got {self.source.path!r}")
        path = Path(raw).expanduser()
        if not path.is_absolute():
            base = policy_file.parent if policy_file else Path.cwd()
            path = base / path
        return path


#: expectation arguments that name columns (single names or lists)
_COLUMN_ARGS = ("column", "column_list", "quasi_identifiers", "sensitive_column", "group_column", "label_column")


def _named_columns(kwargs: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in _COLUMN_ARGS:
        value = kwargs.get(key)
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list):
            names += [v for v in value if isinstance(v, str)]
    return names


# --------------------------------------------------------------------------------------------- loading


def _line_index(node: yaml.Node, path: tuple[Any, ...], index: dict[tuple[Any, ...], int]) -> None:
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            index[(*path, key)] = key_node.start_mark.line + 1
            _line_index(value_node, (*path, key), index)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), index)


def _line_for(loc: tuple[Any, ...], index: dict[tuple[Any, ...], int]) -> int | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in index:
            return index[loc[:cut]]
    return None


#: a policy is a page of YAML; anything far larger is a mistake or an attack
MAX_POLICY_BYTES = 1 << 20


def _refuse_aliases(text: str, origin: str) -> None:
    """YAML anchors and aliases let a few hundred bytes expand to gigabytes ("billion laughs"); a policy
    never needs them, so the first alias is refused before anything is expanded."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise PolicyError(
                    f"{origin}: line {line}: YAML aliases (*name) are not allowed in a policy; write the value out"
                )
    except yaml.YAMLError:
        return  # reported with its line by the parser below


def load_yaml(text: str, origin: str) -> Any:
    """YAML ``text`` parsed safely for a file a policy names (the policy, an analyzer configuration, a
    detection profile): aliases refused before anything is expanded, a syntax error reported as
    ``origin: line N: problem``. Raises :class:`PolicyError`."""
    _refuse_aliases(text, origin)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"{origin}:{where}: {getattr(exc, 'problem', None) or 'invalid YAML'}") from exc


#: an analyzer configuration is a page of YAML too
MAX_ANALYZER_CONFIG_BYTES = 1 << 20


def is_profile_file(entry: str) -> bool:
    """Whether a ``detection.profile`` entry names a profile file (in the policy's folder) rather than a
    profile shipped with Clearhouse."""
    return entry.endswith((".yaml", ".yml")) or "/" in entry or "\\" in entry


def resolve_analyzer_config(raw: str, base: Path, origin: str, field: str = "detection.analyzer_config") -> Path:
    """The file ``raw`` names (an analyzer configuration, a profile file), relative to the policy's folder
    ``base``: a relative path to an existing regular file inside that folder (no absolute paths, no
    ``..`` or symbolic link out of it, at most 1 MiB). Anything else raises :class:`PolicyError`."""
    where = f"{origin}: {field}"
    rel = Path(raw)
    if rel.is_absolute() or raw.startswith("~") or "$" in raw:
        raise PolicyError(f"{where}: {raw!r} must be a path relative to the policy file's folder")
    root = base.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise PolicyError(f"{where}: {raw!r} points outside the policy file's folder")
    if not path.is_file():
        raise PolicyError(f"{where}: {raw!r} is not a file (looked for {path})")
    if path.stat().st_size > MAX_ANALYZER_CONFIG_BYTES:
        raise PolicyError(f"{where}: {raw!r} is larger than {MAX_ANALYZER_CONFIG_BYTES // 1024} KiB")
    return path


def read_analyzer_config(path: Path, origin: str = "detection.analyzer_config") -> dict[str, Any]:
    """The analyzer configuration at ``path``, validated by Presidio's ``ConfigurationValidator``
    (unknown keys, languages, thresholds, the recognizer registry entries, the enhancer settings).
    Raises :class:`PolicyError` naming the file and what Presidio found wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{origin}: cannot read {path}: {type(exc).__name__}") from exc
    data = load_yaml(text, str(path))
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: an analyzer configuration must be a YAML mapping")
    from presidio_analyzer.input_validation import ConfigurationValidator  # noqa: PLC0415 - heavy (Presidio)

    try:
        ConfigurationValidator.validate_analyzer_configuration(data)
    except (ValueError, TypeError) as exc:
        cause = exc.__cause__
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in cause.errors()) if isinstance(cause, ValidationError) else str(exc)
        raise PolicyError(f"{path}: invalid Presidio analyzer configuration: {detail}") from exc
    return data


def parse_policy(text: str, origin: str = "<policy>", base: Path | None = None) -> Policy:
    """Parse and validate policy YAML. Raises :class:`PolicyError` naming field and line.

    ``base`` is the policy file's folder: ``detection.analyzer_config`` is resolved against it (and
    refused without it)."""
    policy = _parse(text, origin)
    policy = _resolve_profile_files(policy, origin, base)
    raw = policy.detection.analyzer_config
    if raw is None:
        return policy
    if base is None:
        raise PolicyError(f"{origin}: detection.analyzer_config needs the policy to be read from a file "
                          "(the path is relative to it)")
    path = resolve_analyzer_config(raw, base, origin)
    data = read_analyzer_config(path)
    languages = data.get("supported_languages") or ["en"]
    if policy.detection.language not in languages:
        raise PolicyError(f"{path}: supported_languages {languages} does not include the policy's "
                          f"detection.language {policy.detection.language!r}")
    detection = policy.detection.model_copy(update={"analyzer_config": str(path)})
    return policy.model_copy(update={"detection": detection})


def _resolve_profile_files(policy: Policy, origin: str, base: Path | None) -> Policy:
    """``detection.profile`` entries that name files, resolved against the policy's folder (absolute)."""
    entries = policy.detection.profile
    if not any(is_profile_file(e) for e in entries):
        return policy
    if base is None:
        raise PolicyError(f"{origin}: detection.profile names a file, which needs the policy to be read from a "
                          "file (the path is relative to it)")
    resolved = [str(resolve_analyzer_config(e, base, origin, "detection.profile")) if is_profile_file(e) else e
                for e in entries]
    return policy.model_copy(update={"detection": policy.detection.model_copy(update={"profile": resolved})})


def _parse(text: str, origin: str) -> Policy:
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise PolicyError(f"{origin}: policy is larger than {MAX_POLICY_BYTES // 1024} KiB")
    data = load_yaml(text, origin)
    node = yaml.compose(text, Loader=yaml.SafeLoader)  # (parses: load_yaml has read it already)
    if not isinstance(data, dict) or node is None:
        raise PolicyError(f"{origin}: a policy must be a YAML mapping")
    index: dict[tuple[Any, ...], int] = {}
    _line_index(node, (), index)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            raw_loc = err["loc"]
            # (pydantic names union members in the location: "[...]" parts and the recognizer format tags)
            loc = tuple(part for i, part in enumerate(raw_loc)
                        if not (isinstance(part, str) and ("[" in part or (
                            part in _FORMAT_TAGS and i > 0 and isinstance(raw_loc[i - 1], int)))))
            field = ".".join(str(p) for p in loc) or "(policy)"
            line = _line_for(loc, index)
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{origin}: line {line}: {field}: {msg}" if line else f"{origin}: {field}: {msg}")
        raise PolicyError("invalid policy\n  " + "\n  ".join(problems)) from exc


def load_policy(path: Path | str) -> Policy:
    """Load a policy file. Missing, unreadable or non-UTF-8 files raise :class:`PolicyError`."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise PolicyError(f"{path}: policy is larger than {MAX_POLICY_BYTES // 1024} KiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: policy is not valid UTF-8 (byte {exc.start})") from exc
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc.strerror}") from exc
    return parse_policy(text, origin=os.fspath(path), base=path.parent)

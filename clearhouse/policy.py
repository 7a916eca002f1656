"""Dataset policy: the YAML a data engineer writes once per collected dataset.

Validated with pydantic at load, with cross-field rules. A bad policy raises one :class:`PolicyError`
that names the file, the field path and the line; nothing runs. An E4 (prohibited) dataset is refused.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clearhouse.errors import PolicyError
from clearhouse.readers import FORMAT_BY_SUFFIX

SLUG = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


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


class Detection(_Strict):
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    #: entity types to look for; empty means every supported type
    entities: list[str] = Field(default_factory=list)
    #: countries whose national identifiers apply (ISO 3166 alpha-2), e.g. [US], [GB]
    countries: list[str] = Field(default_factory=lambda: ["US"])
    language: str = "en"
    allow_list: list[str] = Field(default_factory=list)
    recognizers: list[RecognizerSpec] = Field(default_factory=list)
    #: rows sampled per structured column for classification; 0 means every row
    column_sample: int = Field(default=0, ge=0)
    #: opt-in domain vocabularies (``privacy/detection/profiles/<name>.txt``), e.g. ``clinical``: a
    #: name-type hit loses the words the profile declares (not persons) and keeps the rest
    profile: list[str] = Field(default_factory=list)
    #: scan redacted free text again with NER (context changes once names are gone). Off by default:
    #: on the sample tickets it found 1 more span in 5,000 rows for 26 s, and each row's own
    #: identifiers are redacted and checked without it; turn it on for text where it pays.
    rescan_redacted: bool = False

    @field_validator("profile", mode="before")
    @classmethod
    def _profiles(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

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
        return self

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


def parse_policy(text: str, origin: str = "<policy>") -> Policy:
    """Parse and validate policy YAML. Raises :class:`PolicyError` naming field and line."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise PolicyError(f"{origin}: policy is larger than {MAX_POLICY_BYTES // 1024} KiB")
    _refuse_aliases(text, origin)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise PolicyError(f"{origin}:{where}: {problem}") from exc
    if not isinstance(data, dict) or node is None:
        raise PolicyError(f"{origin}: a policy must be a YAML mapping")
    index: dict[tuple[Any, ...], int] = {}
    _line_index(node, (), index)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and "[" in part))
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
    return parse_policy(text, origin=os.fspath(path))

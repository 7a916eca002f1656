"""Opt-in detection profiles: what one domain writes, declared as data.

A profile is a YAML file (``privacy/detection/profiles/<name>.yaml`` for the shipped ones, or a file
in the policy's folder) that a policy names with ``detection: {profile: clinical}``::

    description: charting vocabulary of hospital notes
    vocabulary_files: [clinical.txt]    # word lists next to the file, one term per line, '#' comments
    vocabulary: [npo, prn]              # more words, inline
    measurements: [peep, fio2]          # words after which "5/5" is a setting, not a date
    person_cues: [np, rn, case manager] # roles after which a listed name is a person ("NP Vance")
    recognizers:                        # Presidio recognizer YAML (name, supported_entity, patterns,
      - name: WardNameRecognizer        # context, deny_list, ...), registered with the others
        supported_entity: LOCATION
        deny_list: [Fernbrook Ward, Alder Ward]

What each part means for detection:

* **vocabulary** — a name-type hit (PERSON, LOCATION, ORGANIZATION, …) made only of declared words is
  dropped; declared words are cut out of a longer hit. A declared vocabulary is positive evidence that
  the text is no personal data. So that a profile can never hide a person, a word the census lists as a
  frequent given name or surname ("Foley", "Ho") is left out when the list is loaded.
* **measurements** — a number pair right after one of these words is a setting ("PEEP 8/5"), not a
  date. General measurements (blood pressure, ratio, score, grade, …) need no profile.
* **person_cues** — the domain's own roles that introduce a person: a listed given name or surname right
  after one is a name ("RN harriet", "per NP Vance"). General roles (nurse, doctor, pastor, …) need none.
* **recognizers** — extra Presidio pattern or deny-list recognizers for what the domain writes that is
  personal data.

General rules never read a profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clearhouse.errors import DetectionError
from clearhouse.policy import PresidioRecognizerSpec, is_profile_file, load_yaml
from clearhouse.privacy.detection.lexicons import given_name_rank, surname_rank

_DIR = Path(__file__).resolve().parent
#: census ranks at or above which a word counts as a name a profile must not hide
_SURNAME_TOP = 5000
_GIVEN_TOP = 1000
#: a profile is a page of YAML; its word lists are at most this large each
MAX_PROFILE_BYTES = 1 << 20


class _ProfileFile(BaseModel):
    """The keys a profile file may have (anything else is refused, naming the key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str = ""
    vocabulary_files: list[str] = Field(default_factory=list)
    vocabulary: list[str] = Field(default_factory=list)
    measurements: list[str] = Field(default_factory=list)
    person_cues: list[str] = Field(default_factory=list)
    recognizers: list[PresidioRecognizerSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class DetectionProfile:
    """The merged profiles a policy names (empty when it names none)."""

    names: tuple[str, ...] = ()
    #: lower-cased declared words (frequent census names left out)
    vocabulary: frozenset[str] = frozenset()
    #: lower-cased words after which a number pair is a setting, not a date
    measurements: frozenset[str] = frozenset()
    #: lower-cased roles (one or more words) after which a listed name is a person
    person_cues: frozenset[str] = frozenset()
    #: Presidio recognizer YAML entries (validated), registered with the other recognizers
    recognizers: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def available_profiles() -> list[str]:
    """Names of the profiles shipped with Clearhouse."""
    return sorted(p.stem for p in _DIR.glob("*.yaml"))


def _is_frequent_name(word: str) -> bool:
    s, g = surname_rank(word), given_name_rank(word)
    return (s is not None and s <= _SURNAME_TOP) or (g is not None and g <= _GIVEN_TOP)


def _words(lines: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for line in lines:
        word = line.split("#", 1)[0].strip().lower()
        if word:
            out.add(word)
    return out


def _read(path: Path, what: str) -> str:
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise DetectionError(f"{what} {path.name}: larger than {MAX_PROFILE_BYTES // 1024} KiB")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DetectionError(f"{what} {path}: cannot read it ({type(exc).__name__})") from exc


def _profile_path(entry: str) -> Path:
    if is_profile_file(entry):
        path = Path(entry)
        if not path.is_absolute():
            raise DetectionError(f"detection profile {entry!r}: a profile file must be resolved against the "
                                 "policy's folder (load the policy with load_policy)")
        return path
    path = _DIR / f"{entry}.yaml"
    if not path.is_file():
        raise DetectionError(f"unknown detection profile {entry!r}; available: {', '.join(available_profiles())}")
    return path


def load_profile(entry: str) -> DetectionProfile:
    """One profile: a shipped name (``clinical``) or the absolute path of a profile file. Raises
    :class:`DetectionError` (:class:`PolicyError` for YAML that does not parse or uses aliases) naming
    the file and what is wrong with it. (Read again when the file
    changes.)"""
    path = _profile_path(entry)
    try:
        stat = path.stat()
    except OSError as exc:
        raise DetectionError(f"detection profile {path}: cannot read it ({type(exc).__name__})") from exc
    return _load_profile(entry, path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_profile(entry: str, path: Path, _mtime_ns: int, _size: int) -> DetectionProfile:
    data = load_yaml(_read(path, "detection profile"), f"detection profile {path.name}")
    try:
        spec = _ProfileFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors())
        raise DetectionError(f"detection profile {path.name}: {detail}") from exc
    words = _words(spec.vocabulary)
    root = path.parent.resolve()
    for name in spec.vocabulary_files:
        listed = (root / name).resolve()
        if not listed.is_relative_to(root) or not listed.is_file():
            raise DetectionError(f"detection profile {path.name}: vocabulary file {name!r} is not a file "
                                 "in the profile's folder")
        words |= _words(_read(listed, "vocabulary file").splitlines())
    return DetectionProfile(
        names=(entry,),
        vocabulary=frozenset(w for w in words if not _is_frequent_name(w)),
        measurements=frozenset(_words(spec.measurements)),
        person_cues=frozenset(" ".join(c.split()) for c in _words(spec.person_cues)),
        recognizers=tuple(r.model_dump(exclude_none=True) for r in spec.recognizers),
    )


def load_profiles(entries: Sequence[str]) -> DetectionProfile:
    """The named profiles merged (in order; each named once)."""
    merged = DetectionProfile()
    for entry in dict.fromkeys(entries):
        one = load_profile(entry)
        merged = DetectionProfile(
            names=(*merged.names, *one.names),
            vocabulary=merged.vocabulary | one.vocabulary,
            measurements=merged.measurements | one.measurements,
            person_cues=merged.person_cues | one.person_cues,
            recognizers=(*merged.recognizers, *one.recognizers),
        )
    return merged


def profile_vocabulary(name: str) -> frozenset[str]:
    """The lower-cased vocabulary of one profile (frequent census names left out)."""
    return load_profile(name).vocabulary

"""Opt-in detection profiles: domain vocabularies written as data (one word list per profile).

A profile names words that a domain writes as ordinary vocabulary (a clinical note's "GI", "Neuro",
"NPO"). A hit from the model or a recognizer made only of a profile's words is dropped: a declared
vocabulary is positive evidence that the text is no personal data. General rules never read a profile;
a policy (or a benchmark) names the profile it wants.

So that a profile can never hide a person, a word the census lists as a frequent given name or surname
("Foley", "Ho") is left out of the vocabulary when the list is loaded.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from clearhouse.errors import DetectionError
from clearhouse.privacy.detection.lexicons import given_name_rank, surname_rank

_DIR = Path(__file__).resolve().parent
#: census ranks at or above which a word counts as a name a profile must not hide
_SURNAME_TOP = 5000
_GIVEN_TOP = 1000


def available_profiles() -> list[str]:
    """Names of the profiles shipped with Clearhouse."""
    return sorted(p.stem for p in _DIR.glob("*.txt"))


def _is_frequent_name(word: str) -> bool:
    s, g = surname_rank(word), given_name_rank(word)
    return (s is not None and s <= _SURNAME_TOP) or (g is not None and g <= _GIVEN_TOP)


@lru_cache(maxsize=8)
def profile_vocabulary(name: str) -> frozenset[str]:
    """The lower-cased vocabulary of profile ``name`` (frequent census names left out)."""
    path = _DIR / f"{name}.txt"
    if not path.is_file():
        raise DetectionError(f"unknown detection profile {name!r}; available: {', '.join(available_profiles())}")
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip().lower()
        if word and not _is_frequent_name(word):
            words.add(word)
    return frozenset(words)


def vocabulary(names: tuple[str, ...]) -> frozenset[str]:
    """The union of the named profiles' vocabularies."""
    out: frozenset[str] = frozenset()
    for name in names:
        out |= profile_vocabulary(name)
    return out

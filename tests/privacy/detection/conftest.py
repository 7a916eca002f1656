"""Shared fixtures: the spaCy model is loaded once per test session (loading it is the slow part)."""

from __future__ import annotations

import pytest

from clearhouse.config import load_settings
from clearhouse.policy import Detection
from privacy.detection.text import PresidioTextDetector


@pytest.fixture(scope="session")
def model_name() -> str:
    return load_settings().spacy_model


@pytest.fixture(scope="session")
def us_detector(model_name: str) -> PresidioTextDetector:
    """The pipeline's free-text detector for a US policy, serial (no worker processes in unit tests)."""
    return PresidioTextDetector(Detection(countries=["US"]), model_name, processes=1)


@pytest.fixture(scope="session")
def gb_detector(model_name: str) -> PresidioTextDetector:
    return PresidioTextDetector(Detection(countries=["GB"]), model_name, processes=1)

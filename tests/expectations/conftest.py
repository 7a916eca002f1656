"""Fakes and fixtures of the validation-gate tests.

Test modules use these through fixtures only (never ``import conftest``), so they do not depend on
pytest's import mode or on another ``conftest.py`` in the tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
import pytest

from clearhouse.privacy.detection.types import Span

_PATTERNS = {
    "EMAIL_ADDRESS": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "PHONE_NUMBER": re.compile(r"\+?\d[\d -]{7,}\d"),
}


class RegexDetector:
    """A :class:`~privacy.detection.types.TextDetector` fake: e-mails and phone numbers by regex."""

    def __init__(self, score: float = 0.9) -> None:
        self.score = score
        self.calls = 0
        self.texts_seen = 0

    def detect_many(self, texts: Iterable[str | None]) -> list[list[Span]]:
        self.calls += 1
        out: list[list[Span]] = []
        for text in texts:
            self.texts_seen += 1
            spans = [
                Span(m.start(), m.end(), entity, self.score)
                for entity, pattern in _PATTERNS.items()
                for m in pattern.finditer(text or "")
            ]
            out.append(spans)
        return out


class ExplodingDetector:
    """A detector that fails the way a real one might: with the offending text in its message."""

    def detect_many(self, texts: Iterable[str | None]) -> list[list[Span]]:
        first = next(iter(texts))
        raise ValueError(f"cannot tokenize {first!r}")


@pytest.fixture
def regex_detector() -> RegexDetector:
    return RegexDetector()


@pytest.fixture
def exploding_detector() -> ExplodingDetector:
    return ExplodingDetector()


RunGx = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def run_gx() -> RunGx:
    """Run a list of suite entries (dicts as in suite JSON) through a real GX checkpoint; the checks."""
    from clearhouse.validation.gate import run_suite, to_check
    from clearhouse.validation.suites import build_suite

    def _run(
        df: pd.DataFrame, entries: list[dict[str, Any]], *, detector: Any = None
    ) -> list[dict[str, Any]]:
        suite = build_suite({"expectations": entries}, "test_suite", "<test>")
        evrs, _ = run_suite(df, suite, detector=detector)
        return [dict(to_check(evr)) for evr in evrs]

    return _run


@pytest.fixture(autouse=True)
def _no_global_detector() -> Iterable[None]:
    """Each test starts and ends with no residual detector registered."""
    from clearhouse.validation.residual import set_residual_detector

    set_residual_detector(None)
    yield
    set_residual_detector(None)

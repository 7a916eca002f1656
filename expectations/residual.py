"""Registry of the text detector used by ``expect_no_residual_pii``.

The detector (Presidio + spaCy) is heavy, so the gate's caller builds it once and injects it here;
the expectation reads it when it runs. With no detector set the expectation *fails* (fail closed):
an unchecked column must never pass as clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from threading import RLock

from clearhouse.privacy.detection.types import TextDetector

_lock = RLock()
_detector: TextDetector | None = None


def set_residual_detector(detector: TextDetector | None) -> None:
    """Use ``detector`` for residual-PII checks from now on (``None`` clears it: checks then fail)."""
    global _detector  # noqa: PLW0603 - a process-wide registry is the point of this module
    with _lock:
        _detector = detector


def get_residual_detector() -> TextDetector | None:
    """The detector set by :func:`set_residual_detector`, or ``None``."""
    with _lock:
        return _detector


@contextmanager
def residual_detector(detector: TextDetector | None) -> Iterator[None]:
    """Use ``detector`` inside the block, then restore the previous one (``None`` keeps the current)."""
    if detector is None:
        yield
        return
    with _lock:
        previous = get_residual_detector()
        set_residual_detector(detector)
        try:
            yield
        finally:
            set_residual_detector(previous)


# ------------------------------------------------------------------------ the rows' own identifiers

_identifiers: list[dict[str, object]] | None = None


def get_own_identifiers() -> list[dict[str, object]] | None:
    """Each row's direct-identifier values from the collected input (row-aligned with the table under
    validation), set for the duration of a gate run; ``None`` when not set (the check then fails)."""
    with _lock:
        return _identifiers


@contextmanager
def own_identifiers(rows: list[dict[str, object]] | None) -> Iterator[None]:
    """Provide the rows' own identifier values inside the block (``None`` keeps the current)."""
    global _identifiers  # noqa: PLW0603 - same registry pattern as the detector above
    if rows is None:
        yield
        return
    with _lock:
        previous = _identifiers
        _identifiers = rows
        try:
            yield
        finally:
            _identifiers = previous

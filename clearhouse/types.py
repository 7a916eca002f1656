"""Small shared types of the foundation layer."""

from __future__ import annotations

from typing import Any, Literal, Protocol

StageName = Literal["ingest", "detect", "minimise", "protect", "validate", "release"]

#: the clearing stages in order; ``release`` is the final gate that always runs
STAGES: tuple[StageName, ...] = ("ingest", "detect", "minimise", "protect", "validate", "release")


class StageResult(Protocol):
    """What a stage returns: small facts (counts, digests, names), never values."""

    def to_xcom(self) -> dict[str, Any]:
        """The JSON-safe reference passed to the next task (paths, digests, counts)."""
        ...

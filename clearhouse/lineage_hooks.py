"""Lineage around pipeline stages (placeholder wired to lineage/ below)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def stage_run(ctx: Any, name: str) -> Iterator[None]:
    yield

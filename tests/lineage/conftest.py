"""Fakes and fixtures shared by the lineage tests (fakes over mocks: sinks that record or fail).

Test modules use these through fixtures only (never ``import conftest``), so they do not depend on
pytest's import mode or on another ``conftest.py`` in the tree.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from openlineage.client.transport.transport import Transport

from clearhouse.lineage.events import DatasetRef

# Values that must never appear in an event: they are *cell values* of the sample table.
SECRET_CELLS = ("alice.martin@example.org", "+44 20 7946 0958", "123-45-6789", "Alice Martin")


class RecordingSink(Transport):
    """Keeps every event it is given."""

    kind = "recording"

    def __init__(self) -> None:
        self.events: list[Any] = []

    def emit(self, event: Any) -> None:
        self.events.append(event)

    @property
    def types(self) -> list[str]:
        return [e.eventType.value for e in self.events]


class FailingSink(Transport):
    """Raises on every emit, with PII in the message (which must not reach the logs)."""

    kind = "failing"

    def __init__(self) -> None:
        self.calls = 0

    def emit(self, event: Any) -> None:
        self.calls += 1
        raise ConnectionError("cannot reach backend for alice.martin@example.org")


@pytest.fixture
def secret_cells() -> tuple[str, ...]:
    return SECRET_CELLS


@pytest.fixture
def recording_sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def failing_sink() -> FailingSink:
    return FailingSink()


@pytest.fixture
def sample_table() -> pa.Table:
    return pa.table(
        {
            "name": [SECRET_CELLS[3]],
            "email": [SECRET_CELLS[0]],
            "phone": [SECRET_CELLS[1]],
            "ssn": [SECRET_CELLS[2]],
            "age": pa.array([42], pa.int32()),
        }
    )


@pytest.fixture
def input_ref(sample_table: pa.Table) -> DatasetRef:
    return DatasetRef.from_arrow_schema(
        "file:///state/zones",
        "landing/survey/v3/raw.parquet",
        sample_table.schema,
        row_count=sample_table.num_rows,
        sha256="ab" * 32,
        extra={"zone": "landing", "version": 3},
    )


@pytest.fixture
def output_ref(sample_table: pa.Table) -> DatasetRef:
    return DatasetRef.from_arrow_schema(
        "file:///state/zones",
        "work/survey/v3/minimised.parquet",
        sample_table.drop_columns(["name", "ssn"]).schema,
        row_count=1,
        sha256="cd" * 32,
        extra={"zone": "work", "treatments": "drop:name,ssn"},
    )

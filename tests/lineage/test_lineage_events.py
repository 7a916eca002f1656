"""Shape and content of the OpenLineage events Clearhouse builds."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent

from clearhouse.errors import LineageError
from clearhouse.lineage.events import (
    PRODUCER,
    DatasetRef,
    ParentRef,
    build_run_event,
    event_to_dict,
    event_to_json,
    new_run_id,
    run_id_for,
)

# Every key an event may contain. Anything else (a cell value used as a key, a stray facet) fails.
ALLOWED_KEYS = {
    "eventTime", "producer", "schemaURL", "eventType", "run", "runId", "job", "namespace", "name",
    "facets", "inputs", "outputs", "inputFacets", "outputFacets", "_producer", "_schemaURL",
    "schema", "fields", "type", "ordinal_position", "inputStatistics", "outputStatistics", "rowCount",
    "clearhouse_dataset", "sha256", "facts", "jobType", "processingType", "integration",
    "parent", "root", "errorMessage", "message", "programmingLanguage",
}  # fmt: skip
FACT_KEYS = {"zone", "version", "treatments"}


def _keys(node: Any, parent: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if parent != "facts":
                found.add(key)
            found |= _keys(value, key)
    elif isinstance(node, list):
        for item in node:
            found |= _keys(item, parent)
    return found


def _event(event_type: Any = "START", **kwargs: Any) -> RunEvent:
    defaults: dict[str, Any] = {"run_id": run_id_for("survey", 3, "minimise"), "job_name": "survey.minimise"}
    return build_run_event(event_type, **{**defaults, **kwargs})


def test_start_event_shape(input_ref: DatasetRef, output_ref: DatasetRef) -> None:
    doc = event_to_dict(_event("START", inputs=[input_ref], outputs=[output_ref]))
    assert doc["eventType"] == "START"
    assert doc["producer"] == PRODUCER
    assert uuid.UUID(doc["run"]["runId"])
    assert doc["job"] == {
        "namespace": "clearhouse",
        "name": "survey.minimise",
        "facets": {"jobType": doc["job"]["facets"]["jobType"]},
    }
    assert doc["job"]["facets"]["jobType"]["jobType"] == "TASK"
    [inp] = doc["inputs"]
    assert (inp["namespace"], inp["name"]) == ("file:///state/zones", "landing/survey/v3/raw.parquet")
    fields = [(f["name"], f["type"], f["ordinal_position"]) for f in inp["facets"]["schema"]["fields"]]
    assert fields == [
        ("name", "string", 1),
        ("email", "string", 2),
        ("phone", "string", 3),
        ("ssn", "string", 4),
        ("age", "int32", 5),
    ]
    assert inp["inputFacets"]["inputStatistics"]["rowCount"] == 1
    assert inp["facets"]["clearhouse_dataset"]["sha256"] == "ab" * 32
    assert inp["facets"]["clearhouse_dataset"]["facts"] == {"zone": "landing", "version": 3}
    [out] = doc["outputs"]
    assert [f["name"] for f in out["facets"]["schema"]["fields"]] == ["email", "phone", "age"]
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 1
    assert "errorMessage" not in doc["run"].get("facets", {})


def test_fail_event_has_redacted_error_facet() -> None:
    doc = event_to_dict(_event("FAIL", error="IngestError: bad value alice@example.com on +1 555 123 4567"))
    assert doc["eventType"] == "FAIL"
    error = doc["run"]["facets"]["errorMessage"]
    assert error["message"] == "IngestError: bad value [email] on [number]"
    assert error["programmingLanguage"] == "python"
    assert "stackTrace" not in error


def test_fail_event_without_message_still_has_error_facet() -> None:
    assert event_to_dict(_event("FAIL"))["run"]["facets"]["errorMessage"]["message"] == "unknown error"


def test_complete_event_ignores_error_text() -> None:
    assert "errorMessage" not in event_to_dict(_event("COMPLETE", error="ignored"))["run"]["facets"]


def test_parent_run_facet() -> None:
    dag_run = new_run_id()
    doc = event_to_dict(_event(parent=ParentRef("survey_pipeline", dag_run)))
    parent = doc["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == dag_run
    assert parent["job"] == {"namespace": "clearhouse", "name": "survey_pipeline", "facets": {}}
    assert parent["root"]["run"]["runId"] == dag_run


def test_event_from_schema_never_contains_cell_values(
    input_ref: DatasetRef, output_ref: DatasetRef, secret_cells: tuple[str, ...]
) -> None:
    event = _event("FAIL", inputs=[input_ref], outputs=[output_ref], error="failed on row 3")
    text = event_to_json(event)
    for cell in secret_cells:
        assert cell not in text
    doc = json.loads(text)
    assert _keys(doc) <= ALLOWED_KEYS
    facts = doc["inputs"][0]["facets"]["clearhouse_dataset"]["facts"]
    assert set(facts) <= FACT_KEYS


def test_column_names_and_facts_are_redacted() -> None:
    # A headerless CSV makes its first row the header: the "column names" are then cell values.
    ref = DatasetRef(
        "file:///z",
        "landing/x.csv",
        [("alice.martin@example.org", "string"), ("+44 20 7946 0958", "string")],
        extra={"note": "owner bob@example.com"},
    )
    text = event_to_json(_event(inputs=[ref]))
    assert "alice.martin" not in text
    assert "7946" not in text
    assert "bob@example.com" not in text


def test_bad_stats_are_dropped_not_raised() -> None:
    ref = DatasetRef("file:///z", "x", [("a", "int64")], row_count=-1, sha256="not-a-digest")
    doc = event_to_dict(_event("COMPLETE", outputs=[ref]))
    [out] = doc["outputs"]
    assert "outputStatistics" not in out.get("outputFacets", {})
    assert "clearhouse_dataset" not in out["facets"]


def test_event_time_is_timezone_aware() -> None:
    naive = datetime(2026, 11, 25, 9, 30)
    assert _event(event_time=naive).eventTime == "2026-11-25T09:30:00+00:00"
    assert datetime.fromisoformat(_event().eventTime).tzinfo is not None
    assert _event(event_time=datetime(2026, 1, 1, tzinfo=UTC)).eventTime.startswith("2026-01-01T00:00")


def test_run_ids() -> None:
    assert run_id_for("survey", 3, "ingest") == run_id_for("survey", "3", "ingest")
    assert run_id_for("survey", 3, "ingest") != run_id_for("survey", 4, "ingest")
    assert run_id_for("survey", 3, "ingest") != run_id_for("survey", 3, "detect")
    assert uuid.UUID(run_id_for("a", 1, "b")).version == 5
    assert uuid.UUID(new_run_id()).version == 4
    assert new_run_id() != new_run_id()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"run_id": "not-a-uuid"}, "run_id is not a UUID"),
        ({"parent": ParentRef("dag", "nope")}, "parent run_id is not a UUID"),
    ],
)
def test_invalid_ids_raise_lineage_error(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(LineageError, match=match):
        _event(**kwargs)


def test_unknown_event_type_raises() -> None:
    with pytest.raises(LineageError, match="unknown lineage event type"):
        _event("RUNNING")


def test_dataset_ref_is_frozen_and_hashable(input_ref: DatasetRef) -> None:
    assert isinstance(input_ref.fields, tuple)
    assert hash(input_ref) == hash(input_ref)
    with pytest.raises(AttributeError):
        input_ref.name = "other"  # type: ignore[misc]

"""The emitter never fails the task; task_run records START and COMPLETE or FAIL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from clearhouse.errors import IngestError, LineageError
from clearhouse.lineage.emitter import LineageEmitter, task_run
from clearhouse.lineage.events import DatasetRef, ParentRef, build_run_event, event_to_dict, new_run_id, run_id_for
from clearhouse.lineage.store import LineageStore


def _event() -> Any:
    return build_run_event("START", run_id=new_run_id(), job_name="survey.ingest")


def test_emit_to_all_sinks(recording_sink: Any) -> None:
    other = type(recording_sink)()
    emitter = LineageEmitter([recording_sink, other])
    assert emitter.emit(_event()) is True
    assert len(recording_sink.events) == len(other.events) == 1
    assert (emitter.emitted, emitter.failures) == (1, 0)


def test_emitter_swallows_and_counts_failing_sink(
    recording_sink: Any, failing_sink: Any, caplog: pytest.LogCaptureFixture
) -> None:
    emitter = LineageEmitter([failing_sink, recording_sink])
    with caplog.at_level(logging.DEBUG, logger="clearhouse.lineage.emitter"):
        assert emitter.emit(_event()) is False
        assert emitter.emit(_event()) is False
    assert emitter.failures == 2
    assert emitter.emitted == 0
    assert failing_sink.calls == 2
    assert len(recording_sink.events) == 2  # the healthy sink still got every event
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "ConnectionError" in warnings[0].getMessage()
    assert "START event of job survey.ingest" in warnings[0].getMessage()
    # The exception message held an e-mail address: it is in no log line, at any level.
    assert all("alice" not in r.getMessage() for r in caplog.records)


def test_emitter_without_sinks_is_a_no_op() -> None:
    emitter = LineageEmitter()
    assert emitter.emit(_event()) is True
    emitter.close()


def test_emit_run_counts_build_errors_instead_of_raising(recording_sink: Any) -> None:
    emitter = LineageEmitter([recording_sink])
    assert emitter.emit_run("START", run_id="not-a-uuid", job_name="j") is False
    assert emitter.failures == 1
    assert recording_sink.events == []


def test_close_never_raises(recording_sink: Any) -> None:
    class BadClose(type(recording_sink)):  # type: ignore[misc]
        def close(self, timeout: float = -1) -> bool:
            raise OSError("disk gone")

    LineageEmitter([BadClose(), recording_sink]).close()


def test_from_specs_fails_early_on_bad_config(tmp_path: Path) -> None:
    emitter = LineageEmitter.from_specs([{"type": "file", "path": str(tmp_path / "l.jsonl")}])
    assert len(emitter.sinks) == 1
    with pytest.raises(LineageError, match="unknown lineage sink 'kafka'"):
        LineageEmitter.from_specs([{"type": "kafka"}])


def test_task_run_emits_start_and_complete_with_late_outputs(
    recording_sink: Any, input_ref: DatasetRef, output_ref: DatasetRef
) -> None:
    emitter = LineageEmitter([recording_sink])
    dag_run = new_run_id()
    run_id = run_id_for("survey", 3, "minimise")
    with task_run(
        emitter,
        job_name="survey.minimise",
        run_id=run_id,
        inputs=[input_ref],
        parent=ParentRef("survey", dag_run),
    ) as run:
        assert run.state == "RUNNING"
        run.outputs = [output_ref]
    assert run.state == "COMPLETE"
    assert recording_sink.types == ["START", "COMPLETE"]
    start, complete = (event_to_dict(e) for e in recording_sink.events)
    assert start["run"]["runId"] == complete["run"]["runId"] == run_id
    assert start["outputs"] == []
    assert [o["name"] for o in complete["outputs"]] == [output_ref.name]
    assert [i["name"] for i in complete["inputs"]] == [input_ref.name]
    assert complete["run"]["facets"]["parent"]["run"]["runId"] == dag_run
    assert emitter.failures == 0


def test_task_run_outputs_factory(recording_sink: Any, output_ref: DatasetRef) -> None:
    emitter = LineageEmitter([recording_sink])
    with task_run(emitter, job_name="j", outputs_factory=lambda: [output_ref]):
        pass
    assert recording_sink.events[-1].outputs[0].name == output_ref.name


def test_task_run_emits_fail_and_reraises_unchanged(recording_sink: Any, input_ref: DatasetRef) -> None:
    emitter = LineageEmitter([recording_sink])
    error = IngestError("row 7 of survey.csv: bad phone +44 20 7946 0958 for alice@example.org")
    with (
        pytest.raises(IngestError) as info,
        task_run(emitter, job_name="survey.ingest", inputs=[input_ref]) as run,
    ):
        raise error
    assert info.value is error
    assert run.state == "FAIL"
    assert recording_sink.types == ["START", "FAIL"]
    message = event_to_dict(recording_sink.events[1])["run"]["facets"]["errorMessage"]["message"]
    assert message == "IngestError: row 7 of survey.csv: bad phone [number] for [email]"


def test_task_run_fail_with_broken_sink_still_raises_task_error(failing_sink: Any) -> None:
    emitter = LineageEmitter([failing_sink])
    with pytest.raises(ZeroDivisionError), task_run(emitter, job_name="j"):
        _ = 1 / 0
    assert emitter.failures == 2  # START and FAIL both failed, neither surfaced


def test_task_run_with_broken_sink_completes_the_task(failing_sink: Any) -> None:
    emitter = LineageEmitter([failing_sink])
    with task_run(emitter, job_name="j") as run:
        result = 42
    assert result == 42
    assert run.state == "COMPLETE"
    assert emitter.failures == 2


def test_task_run_with_bad_run_id_does_not_fail_the_task(recording_sink: Any) -> None:
    emitter = LineageEmitter([recording_sink])
    with task_run(emitter, job_name="j", run_id="oops"):
        pass
    assert emitter.failures == 2
    assert recording_sink.events == []


def test_task_run_with_failing_outputs_factory(recording_sink: Any) -> None:
    def broken() -> list[DatasetRef]:
        raise RuntimeError("no stats")

    emitter = LineageEmitter([recording_sink])
    with task_run(emitter, job_name="j", outputs_factory=broken):
        pass
    assert recording_sink.types == ["START", "COMPLETE"]
    assert emitter.failures == 1


def test_task_run_without_emitter() -> None:
    with task_run(None, job_name="j") as run:
        pass
    assert run.state == "COMPLETE"
    with pytest.raises(KeyError), task_run(None, job_name="j"):
        raise KeyError("x")


def test_task_run_into_sql_and_file_sinks(
    tmp_path: Path, input_ref: DatasetRef, output_ref: DatasetRef
) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    emitter = LineageEmitter.from_specs(
        [{"type": "sql", "url": url}, {"type": "file", "path": str(tmp_path / "lineage.jsonl")}]
    )
    run_id = run_id_for("survey", 3, "minimise")
    with (
        pytest.raises(ValueError, match="boom"),
        task_run(emitter, job_name="survey.minimise", run_id=run_id),
    ):
        raise ValueError("boom")
    with task_run(emitter, job_name="survey.minimise", run_id=run_id, inputs=[input_ref]) as run:
        run.outputs = [output_ref]
    emitter.close()
    assert emitter.failures == 0
    with LineageStore(url) as store:
        assert store.run_states(run_id) == ["START", "FAIL", "START", "COMPLETE"]
        [produced] = store.runs_for_dataset(output_ref.name)
        assert (produced.run_id, produced.state, produced.direction) == (run_id, "COMPLETE", "out")
    assert len((tmp_path / "lineage.jsonl").read_text(encoding="utf-8").splitlines()) == 4


def test_sql_sink_with_unreachable_database_is_counted_not_raised(tmp_path: Path) -> None:
    emitter = LineageEmitter.from_specs([{"type": "sql", "url": f"sqlite:///{tmp_path / 'no' / 'dir.db'}"}])
    with task_run(emitter, job_name="j"):
        pass
    assert emitter.failures == 2

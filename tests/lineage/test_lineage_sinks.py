"""Sink registry and the built-in sinks (no network: the http sink is only constructed)."""

from __future__ import annotations

import json
import logging
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.transport.transport import Transport

from clearhouse.errors import LineageError
from clearhouse.lineage.events import DatasetRef, build_run_event, new_run_id
from clearhouse.lineage.sinks import available_sinks, create_sink, create_sinks, register_sink
from clearhouse.lineage.sinks.composite import CompositeSink
from clearhouse.lineage.sinks.console import ConsoleSink
from clearhouse.lineage.sinks.file import FileSink
from clearhouse.lineage.sinks.http import HttpSink
from clearhouse.lineage.sinks.registry import _REGISTRY
from clearhouse.lineage.sinks.sql import SqlSink

# No sink may touch the network here (the http sink is only constructed); loopback stays allowed.
pytestmark = pytest.mark.usefixtures("no_network")


def _event(event_type: Any = "START", **kwargs: Any) -> Any:
    return build_run_event(event_type, run_id=new_run_id(), job_name="survey.ingest", **kwargs)


def test_builtin_sinks_are_registered() -> None:
    assert {"sql", "file", "console", "http", "composite"} <= set(available_sinks())


@pytest.mark.parametrize(
    ("name", "config", "cls"),
    [
        ("console", {}, ConsoleSink),
        ("file", {"path": "/tmp/never-written.jsonl"}, FileSink),
        ("sql", {"url": "sqlite://"}, SqlSink),
        ("http", {"url": "http://marquez.invalid:5000"}, HttpSink),
        ("composite", {"sinks": [{"type": "console"}]}, CompositeSink),
    ],
)
def test_create_sink_by_name(name: str, config: dict[str, Any], cls: type[Transport]) -> None:
    sink = create_sink(name, **config)
    assert isinstance(sink, cls)
    assert isinstance(sink, Transport)
    assert sink.name == name


@pytest.mark.parametrize(
    ("name", "config", "match"),
    [
        ("nope", {}, "unknown lineage sink 'nope'; known sinks are"),
        ("file", {}, "lineage sink 'file': invalid configuration"),
        ("file", {"path": "x", "colour": "red"}, "invalid configuration"),
        ("sql", {}, "invalid configuration"),
        ("sql", {"url": "sqlite://", "store": object()}, "invalid configuration"),
        ("http", {"endpoint": "x"}, "invalid configuration"),
        ("http", {"url": "not a url"}, "invalid configuration"),
        ("http", {"url": "http://x", "compression": "brotli"}, "invalid configuration"),
        ("console", {"verbose": True}, "invalid configuration"),
    ],
)
def test_create_sink_refuses_bad_config(name: str, config: dict[str, Any], match: str) -> None:
    with pytest.raises(LineageError, match=match):
        create_sink(name, **config)


def test_create_sinks_from_specs_needs_type() -> None:
    assert [type(s) for s in create_sinks([{"type": "console"}])] == [ConsoleSink]
    with pytest.raises(LineageError, match="#1 has no 'type'"):
        create_sinks([{"path": "x"}])


def test_register_custom_sink() -> None:
    class MemorySink(Transport):
        kind = "memory"

        def __init__(self, config: Any) -> None:
            self.events: list[Any] = []

        def emit(self, event: Any) -> None:
            self.events.append(event)

    try:
        register_sink("memory", MemorySink)
        with pytest.raises(LineageError, match="already registered"):
            register_sink("memory", MemorySink)
        sink = create_sink("memory")
        sink.emit(_event())
        assert len(sink.events) == 1  # type: ignore[attr-defined]
    finally:
        _REGISTRY.pop("memory", None)


def test_registering_a_non_transport_fails_on_create() -> None:
    try:
        register_sink("bogus", "builtins.dict")
        with pytest.raises(LineageError, match="not an OpenLineage Transport"):
            create_sink("bogus")
        register_sink("bogus", "no.such.module.Sink", replace=True)
        with pytest.raises(LineageError, match="cannot be imported"):
            create_sink("bogus")
    finally:
        _REGISTRY.pop("bogus", None)


def test_file_sink_writes_valid_json_lines(tmp_path: Path, input_ref: DatasetRef) -> None:
    path = tmp_path / "nested" / "lineage.jsonl"
    sink = create_sink("file", path=str(path))
    sink.emit(_event("START", inputs=[input_ref]))
    sink.emit(_event("FAIL", error="boom"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    docs = [json.loads(line) for line in lines]
    assert [d["eventType"] for d in docs] == ["START", "FAIL"]
    assert docs[0]["inputs"][0]["name"] == input_ref.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_sink_lines_do_not_interleave_across_threads(tmp_path: Path, input_ref: DatasetRef) -> None:
    path = tmp_path / "lineage.jsonl"
    sink = create_sink("file", path=str(path))
    event = _event("START", inputs=[input_ref] * 20)  # a line of several KiB

    def writer() -> None:
        for _ in range(25):
            sink.emit(event)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 100
    assert all(json.loads(line)["eventType"] == "START" for line in lines)


def test_console_sink_logs_serialized_event_at_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="clearhouse.lineage.sinks.console"):
        create_sink("console").emit(_event("COMPLETE"))
    [record] = [r for r in caplog.records if r.name == "clearhouse.lineage.sinks.console"]
    assert record.levelno == logging.INFO
    assert json.loads(record.getMessage())["eventType"] == "COMPLETE"


def test_http_sink_wraps_client_transport_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_MARQUEZ_KEY", "k-123")
    sink = create_sink(
        "http", url="http://marquez.invalid:5000", api_key_env="TEST_MARQUEZ_KEY", retries=0, timeout=1
    )
    assert isinstance(sink, HttpSink)
    assert sink.transport.url == "http://marquez.invalid:5000"
    assert sink.transport.endpoint == "api/v1/lineage"
    assert sink.transport.config.auth.get_bearer() == "Bearer k-123"
    assert sink.transport.config.retry["total"] == 0
    assert "k-123" not in repr(sink.config)
    assert sink.close() is True


def test_http_sink_without_key_sends_no_authorization() -> None:
    sink = create_sink("http", url="http://marquez.invalid:5000")
    assert isinstance(sink, HttpSink)
    assert sink.transport.config.auth.get_bearer() is None


def test_composite_sink_tries_every_child_then_raises(recording_sink: Any, failing_sink: Any) -> None:
    second = type(recording_sink)()
    composite = CompositeSink([failing_sink, recording_sink, second])
    with pytest.raises(
        LineageError, match=r"1 of 3 lineage sinks failed: failing \(ConnectionError\)"
    ) as info:
        composite.emit(_event())
    assert "alice" not in str(info.value)
    assert len(recording_sink.events) == len(second.events) == 1
    assert CompositeSink([recording_sink]).close() is True


def test_sinks_work_as_openlineage_client_transport(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recording_sink: Any
) -> None:
    # Keep the client away from any openlineage.yml or OPENLINEAGE_* configuration on this machine.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_DISABLED"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "events.jsonl"
    client = OpenLineageClient(transport=CompositeSink([recording_sink, create_sink("file", path=str(path))]))
    client.emit(_event("START"))
    assert recording_sink.types == ["START"]
    assert json.loads(path.read_text(encoding="utf-8"))["eventType"] == "START"

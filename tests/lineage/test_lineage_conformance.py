"""Every lineage event of a real run (cleared and quarantined), validated against the official OpenLineage
schemas in ../shared/openlineage-spec, and checked for what lineage tools need to connect the graph:
stable file names, the collected file as the first input, column lineage with masking, data-quality
assertions, ownership and documentation, a DAG-level parent run, UUIDv7 run ids per task try, FAIL on a
quarantined release. The run also sends its events to a local OpenLineage receiver configured the
standard way (OPENLINEAGE_URL)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
from referencing import Registry, Resource

from clearhouse.lineage import stage_runs
from clearhouse.lineage.stage_runs import version_events
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings, load_settings
from clearhouse.stages.context import prepare
from clearhouse.stages.runner import run_all
from tests.conftest import TEST_MASTER_KEY  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow
SPEC = REPO_ROOT.parent / "shared" / "openlineage-spec"


def _registry() -> Registry[Any]:
    resources = []
    for path in [SPEC / "OpenLineage.json", *sorted((SPEC / "facets").glob("*.json"))]:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - one receiver per test module

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).received.append(json.loads(body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, receiver: str) -> Iterator[tuple[Settings, str, str, Path]]:
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENLINEAGE_URL", receiver)  # the OpenLineage client reads it itself
    home = tmp_path_factory.mktemp("ol") / "state"
    s = load_settings(
        {
            "CLEARHOUSE_HOME": str(home),
            "CLEARHOUSE_SUITES": str(home / "suites"),
            "CLEARHOUSE_MASTER_KEY": TEST_MASTER_KEY,
            "OPENLINEAGE_URL": receiver,
        }
    )
    s.ensure_dirs()
    policy = home.parent / "policy.yaml"
    policy.write_text(
        (REPO_ROOT / "datasets" / "support_tickets.yaml")
        .read_text()
        .replace("k_anonymity: 5", "k_anonymity: 1")
        .replace("l: 2", "l: 1")
    )
    inbox = home.parent / "inbox" / "tickets.csv"
    write_table(generate_support_tickets(200, seed=3), inbox)
    ok = prepare(policy, source=inbox, settings=s)
    assert run_all(ok) == "cleared"
    write_table(generate_support_tickets(200, seed=3, skew="label:refund"), inbox)
    bad = prepare(policy, source=inbox, settings=s)
    assert run_all(bad) == "quarantined"
    yield s, ok.version, bad.version, inbox
    mp.undo()
    stage_runs._emitter.cache_clear()


def _events(s: Settings, version: str) -> list[dict[str, Any]]:
    from clearhouse.catalog import Catalog

    info = Catalog(s.db_url).get("support_tickets", version)
    return version_events(s.db_url, "support_tickets", version, info.info["lineage_run_id"])


def _validate_facets(event: dict[str, Any], registry: Registry[Any]) -> int:
    checked = 0
    holders: list[dict[str, Any]] = [event["run"].get("facets", {}), event["job"].get("facets", {})]
    for ds in [*event.get("inputs", []), *event.get("outputs", [])]:
        holders += [ds.get("facets", {}), ds.get("inputFacets", {}), ds.get("outputFacets", {})]
    for facets in holders:
        for facet in facets.values():
            url = facet["_schemaURL"]
            parsed = urlparse(url)
            if parsed.scheme == "file":  # our custom facet: its schema ships in the package
                path = Path(parsed.path)
                assert path.is_file(), url
                schema = json.loads(path.read_text())
                subschema = {"$ref": f"{path.name}#{parsed.fragment}"}
                reg = registry.with_resource(path.name, Resource.from_contents(schema))
            else:
                base, _, _fragment = url.partition("#")
                assert (SPEC / "facets" / Path(urlparse(base).path).name).is_file() or base.endswith(
                    "OpenLineage.json"
                ), url
                subschema = {"$ref": url}
                reg = registry
            jsonschema.Draft202012Validator(subschema, registry=reg).validate(facet)
            checked += 1
    return checked


def test_every_event_validates_against_the_official_schemas(runs: tuple[Settings, str, str, Path]) -> None:
    s, ok, bad, _ = runs
    registry = _registry()
    validator = jsonschema.Draft202012Validator(json.loads((SPEC / "OpenLineage.json").read_text()), registry=registry)
    facets = 0
    for version in (ok, bad):
        events = _events(s, version)
        assert len(events) >= 10
        for event in events:
            validator.validate(event)
            facets += _validate_facets(event, registry)
    assert facets > 50


def test_runs_are_parented_per_try_and_end_as_the_version_did(runs: tuple[Settings, str, str, Path]) -> None:
    s, ok, bad, _ = runs
    for version, dag_end, release_end in ((ok, "COMPLETE", "COMPLETE"), (bad, "FAIL", "FAIL")):
        events = _events(s, version)
        dag = [e for e in events if e["job"]["name"] == "clearhouse__support_tickets"]
        assert [e["eventType"] for e in dag] == ["START", dag_end]
        dag_run = dag[0]["run"]["runId"]
        tasks = [e for e in events if e not in dag]
        assert all(e["run"]["facets"]["parent"]["run"]["runId"] == dag_run for e in tasks)
        run_ids = {e["run"]["runId"] for e in tasks}
        assert all(uuid.UUID(r).version == 7 for r in run_ids | {dag_run})
        by_job: dict[str, list[str]] = {}
        for e in tasks:
            by_job.setdefault(e["job"]["name"], []).append(e["eventType"])
        assert by_job["clearhouse__support_tickets.release"] == ["START", release_end]
        assert len(run_ids) == len(by_job)  # one run per task try
        if release_end == "FAIL":
            [failed] = [e for e in tasks if e["job"]["name"].endswith(".release") and e["eventType"] == "FAIL"]
            assert "quarantined" in failed["run"]["facets"]["errorMessage"]["message"]


def test_datasets_connect_across_versions(runs: tuple[Settings, str, str, Path]) -> None:
    s, ok, bad, inbox = runs
    names: dict[str, set[str]] = {}
    for version in (ok, bad):
        events = _events(s, version)
        ingest = next(e for e in events if e["job"]["name"].endswith(".ingest") and e["eventType"] == "COMPLETE")
        [source] = ingest["inputs"]
        assert (source["namespace"], source["name"]) == ("file", str(inbox))  # the collected file, first input
        assert source["facets"]["version"]["datasetVersion"] == version
        for e in events:
            for ds in [*e.get("inputs", []), *e.get("outputs", [])]:
                assert ds["namespace"] == "file" and ds["name"].startswith("/")
                assert version not in ds["name"]  # the version is a facet, not part of the name
                names.setdefault(version, set()).add(ds["name"])
    assert names[ok] & names[bad] >= {str(inbox)}
    assert len(names[ok] & names[bad]) >= 3


def test_column_lineage_marks_masking_and_validation_reaches_lineage(runs: tuple[Settings, str, str, Path]) -> None:
    s, ok, _, inbox = runs
    events = _events(s, ok)
    release = next(e for e in events if e["job"]["name"].endswith(".release") and e["eventType"] == "COMPLETE")
    [cleared] = release["outputs"]
    fields = cleared["facets"]["columnLineage"]["fields"]
    transformation = {c: f["inputFields"][0]["transformations"][0] for c, f in fields.items()}
    assert {c for c, t in transformation.items() if t["masking"]} == {"email", "phone", "age", "country", "message"}
    assert transformation["label"] == {"type": "DIRECT", "subtype": "IDENTITY", "masking": False}
    assert all(f["inputFields"][0]["name"] == str(inbox) for f in fields.values())
    assert "customer_name" not in fields  # dropped
    assert cleared["facets"]["ownership"]["owners"][0]["name"].startswith(("user:", "team:"))
    assert cleared["facets"]["documentation"]["description"]
    minimised = next(
        ds
        for e in events
        if e["job"]["name"].endswith(".minimise") and e["eventType"] == "COMPLETE"
        for ds in e["outputs"]
    )
    mfields = minimised["facets"]["columnLineage"]["fields"]
    assert mfields["message"]["inputFields"][0]["transformations"][0]["masking"] is True
    assert mfields["phone"]["inputFields"][0]["transformations"][0]["masking"] is False  # encrypted later
    validate = next(e for e in events if e["job"]["name"].endswith(".validate") and e["eventType"] == "COMPLETE")
    assertions = validate["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert len(assertions) >= 5 and all(a["success"] for a in assertions if a.get("severity") == "error")
    assert validate["job"]["facets"]["ownership"]["owners"] and validate["job"]["facets"]["documentation"]


def test_the_standard_openlineage_transport_received_every_event(runs: tuple[Settings, str, str, Path]) -> None:
    s, ok, bad, _ = runs
    stored = {(e["run"]["runId"], e["eventType"]) for v in (ok, bad) for e in _events(s, v)}
    received = {(e["run"]["runId"], e["eventType"]) for e in _Receiver.received}
    assert stored and stored <= received

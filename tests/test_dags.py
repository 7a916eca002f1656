"""Every DAG file imports without errors, one DAG per dataset policy, with the expected task chain.

Airflow reads its configuration at import time, so the DagBag is built in a subprocess with the same
environment the runner gives ``airflow dags test``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from clearhouse.runs.embedded import DAGS_FOLDER, airflow_env
from clearhouse.settings import REPO_ROOT
from tests.conftest import make_settings  # type: ignore[import-not-found]

SCRIPT = textwrap.dedent("""
    import json, sys
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    print(json.dumps({
        "errors": {k: str(v)[:500] for k, v in bag.import_errors.items()},
        "dags": {d: sorted(t.task_id for t in dag.tasks) for d, dag in bag.dags.items()},
        "edges": {d: sorted([t.task_id, down] for t in dag.tasks for down in t.downstream_task_ids)
                  for d, dag in bag.dags.items()},
    }))
""")


def _dagbag(home: Path, extra: list[Path] | None = None) -> dict[str, object]:
    settings = make_settings(home)
    env = airflow_env(settings, extra)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(DAGS_FOLDER)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_every_policy_has_a_dag_without_import_errors(tmp_path: Path) -> None:
    bag = _dagbag(tmp_path / "state")
    assert bag["errors"] == {}
    dags = bag["dags"]
    assert isinstance(dags, dict)
    policies = sorted(p.stem for p in (REPO_ROOT / "datasets").glob("*.yaml"))
    assert sorted(dags) == [f"clearhouse__{p}" for p in policies]
    assert dags["clearhouse__support_tickets"] == sorted(
        ["prepare", "ingest", "detect", "minimise", "protect", "validate", "release"]
    )
    edges = bag["edges"]["clearhouse__support_tickets"]  # type: ignore[index]
    for a, b in [
        ("prepare", "ingest"),
        ("ingest", "detect"),
        ("detect", "minimise"),
        ("minimise", "protect"),
        ("protect", "validate"),
        ("validate", "release"),
    ]:
        assert [a, b] in edges


def test_invalid_extra_policy_is_skipped_not_fatal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nethics_risk: E4\n")
    bag = _dagbag(tmp_path / "state", [bad])
    assert bag["errors"] == {}
    assert "clearhouse__support_tickets" in bag["dags"]  # type: ignore[operator]


def test_plugin_loads_and_mounts_the_catalog_api(tmp_path: Path) -> None:
    env = airflow_env(make_settings(tmp_path / "state"))
    airflow = Path(sys.executable).with_name("airflow")
    out = subprocess.run(
        [str(airflow), "plugins", "-o", "json"], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    assert "Failed to import plugin" not in out.stdout + out.stderr
    plugins = {p["name"]: p for p in json.loads(out.stdout)}
    assert plugins["clearhouse"]["fastapi_apps"][0]["url_prefix"] == "/clearhouse"

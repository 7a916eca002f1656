"""Every DAG file imports without errors, one DAG per dataset policy, with the expected task chain.

Airflow reads its configuration at import time, so the DagBag is built in a subprocess with the same
environment the runner gives ``airflow dags test``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from clearhouse.policy import load_policy
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
        "tasks": {d: {t.task_id: {
                    "owner": t.owner,
                    "retries": t.retries,
                    "retry_delay": t.retry_delay.total_seconds(),
                    "backoff": t.retry_exponential_backoff,
                    "max_retry_delay": t.max_retry_delay.total_seconds() if t.max_retry_delay else None,
                    "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                    "outlets": [[type(o).__name__, o.name, o.uri] for o in t.outlets],
                    "mapped": bool(getattr(t, "is_mapped", False)),
                  } for t in dag.tasks} for d, dag in bag.dags.items()},
    }))
""")


def _dagbag(home: Path, extra: list[Path] | None = None, env_extra: dict[str, str] | None = None) -> dict[str, object]:
    settings = make_settings(home)
    env = {**airflow_env(settings, extra), **(env_extra or {})}
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
    assert sorted(dags) == [f"clearhouse__{p}" for p in policies] + ["clearhouse_retention"]
    assert dags["clearhouse_retention"] == ["dispose"]
    assert dags["clearhouse__support_tickets"] == sorted(
        ["prepare", "ingest", "chunks", "detect", "minimise", "protect", "validate", "release"]
    )
    edges = bag["edges"]["clearhouse__support_tickets"]  # type: ignore[index]
    for a, b in [
        ("prepare", "ingest"),
        ("ingest", "chunks"),
        ("chunks", "detect"),
        ("ingest", "detect"),
        ("detect", "minimise"),
        ("minimise", "protect"),
        ("protect", "validate"),
        ("validate", "release"),
    ]:
        assert [a, b] in edges
    # detect, minimise and protect are mapped over the chunks ingest plans (one task instance per chunk)
    tasks = bag["tasks"]["clearhouse__support_tickets"]  # type: ignore[index]
    assert sorted(t for t, info in tasks.items() if info["mapped"]) == ["detect", "minimise", "protect"]


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


def test_tasks_have_owner_retries_with_backoff_and_timeouts(tmp_path: Path) -> None:
    bag = _dagbag(tmp_path / "state")
    assert bag["tasks"]["clearhouse_retention"]["dispose"]["owner"] == "privacy-officer"  # type: ignore[index]
    tasks = bag["tasks"]["clearhouse__support_tickets"]  # type: ignore[index]
    owner = load_policy(REPO_ROOT / "datasets" / "support_tickets.yaml").owner
    for task_id, t in tasks.items():
        assert t["owner"] == owner, task_id
        assert t["timeout"] == 3600, task_id
        if task_id == "release":
            continue
        assert t["retries"] == 2, task_id
        assert t["retry_delay"] == 30
        # True on a plain task; a mapped task reports the same back-off as its multiplier, 2.0
        assert t["backoff"] in (True, 2.0), task_id
        assert t["max_retry_delay"] == 600
    # the fail-closed gate never retries into a second release
    assert tasks["release"]["retries"] == 0


def test_retries_and_timeout_come_from_settings(tmp_path: Path) -> None:
    env = {
        "CLEARHOUSE_TASK_RETRIES": "5",
        "CLEARHOUSE_TASK_RETRY_DELAY": "7",
        "CLEARHOUSE_TASK_MAX_RETRY_DELAY": "70",
        "CLEARHOUSE_TASK_TIMEOUT": "0",
    }
    bag = _dagbag(tmp_path / "state", env_extra=env)
    tasks = bag["tasks"]["clearhouse__support_tickets"]  # type: ignore[index]
    detect = tasks["detect"]
    assert (detect["retries"], detect["retry_delay"], detect["max_retry_delay"]) == (5, 7, 70)
    assert tasks["detect"]["timeout"] is None
    assert tasks["release"]["retries"] == 0


def test_release_publishes_the_dataset_asset(tmp_path: Path) -> None:
    bag = _dagbag(tmp_path / "state")
    tasks = bag["tasks"]["clearhouse__support_tickets"]  # type: ignore[index]
    [[kind, name, uri]] = tasks["release"]["outlets"]
    # Airflow normalises the URI (a trailing slash); a downstream DAG's Asset("clearhouse://…") matches it
    assert (kind, name, uri.rstrip("/")) == ("Asset", "clearhouse://support_tickets", "clearhouse://support_tickets")
    assert all(not t["outlets"] for task_id, t in tasks.items() if task_id != "release")

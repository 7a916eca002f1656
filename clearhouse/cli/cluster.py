"""The scale-out commands: ``cluster up|down|status`` (a local Airflow 3 CeleryExecutor deployment on
the local PostgreSQL and Redis) and ``trigger`` (submit a run to a deployed Airflow through its REST API)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from clearhouse.cli._common import EXIT_OK, EXIT_REFUSED, JsonOption, QuietOption, out, print_json, settings
from clearhouse.cli.pipeline import print_summary
from clearhouse.privacy.crypto.configured import init_keyring
from clearhouse.runs import cluster as local_cluster
from clearhouse.runs import remote

cluster_app = typer.Typer(
    help="a local distributed Airflow (CeleryExecutor, PostgreSQL, Redis) under CLEARHOUSE_HOME/cluster",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    cluster_app.command("up", help="start the API server, scheduler, DAG processor, triggerer and Celery workers")(up)
    cluster_app.command("down", help="stop every component of the local cluster")(down)
    cluster_app.command("status", help="components, pids and the API server's health")(status)
    app.add_typer(cluster_app, name="cluster")
    app.command("trigger", help="submit a policy's run to Airflow's REST API; with --wait exit 0 only if cleared")(
        trigger
    )


def up(
    dev_master_key: Annotated[
        bool,
        typer.Option(help="create a local master key file when no CLEARHOUSE_MASTER_KEY is set (demo only)"),
    ] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait for every component to be healthy")] = 240.0,
    json: JsonOption = False,
) -> None:
    s = settings()
    # the workers open the keyring under this home: fail before starting anything if they could not
    init_keyring(s, dev_master_key=dev_master_key)
    pids = local_cluster.up(s, timeout=timeout)
    doc = local_cluster.status(s)
    if json:
        print_json(doc)
        return
    for name, pid in pids.items():
        out(f"{name:<16} pid {pid}")
    out(f"api          {doc['api_url']}   (user admin; password in {local_cluster.layout(s).passwords}, mode 0600)")
    out(f"catalog      {doc['catalog_url']}")
    out(f"logs         {doc['logs']}")
    out("submit with  clearhouse trigger datasets/support_tickets.yaml --source FILE --wait")


def down(json: JsonOption = False) -> None:
    s = settings()
    stopped = local_cluster.down(s)
    if json:
        print_json({"stopped": stopped})
        return
    out(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


def status(json: JsonOption = False) -> None:
    s = settings()
    doc = local_cluster.status(s)
    if json:
        print_json(doc)
    else:
        for name, pid in doc["components"].items():
            out(f"{name:<16} {'pid ' + str(pid) if pid else 'not running'}")
        health = doc["health"] or {}
        for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
            out(f"{part:<16} {(health.get(part) or {}).get('status', 'unknown')}")
        if doc["api_url"]:
            out(f"api          {doc['api_url']}")
    components = doc["components"]
    if not components or not all(components.values()):
        raise typer.Exit(EXIT_REFUSED)


def trigger(
    policy: Annotated[Path, typer.Argument(help="policy YAML file (the deployment must have its DAG)")],
    source: Annotated[
        Path | None, typer.Option(help="input file, as the workers see it (default: the policy's)")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="wait for the run; exit 0 only if the version is cleared")
    ] = False,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Airflow API server (default: CLEARHOUSE_API_URL or the local cluster)"),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds --wait waits for the run")] = 3600.0,
    quiet: QuietOption = False,
    json: JsonOption = False,
) -> None:
    s = settings()
    api, catalog_url = remote.connect(s, api_url)
    submitted = remote.submit(s, api, catalog_url, policy, source)
    if not wait:
        doc = {
            "dataset": submitted.dataset,
            "version": submitted.version,
            "dag_id": submitted.dag_id,
            "dag_run_id": submitted.run_id,
        }
        if json:
            print_json(doc)
        else:
            out(f"submitted    {submitted.dag_id} run {submitted.run_id} (version {submitted.version})")
        raise typer.Exit(EXIT_OK)

    seen: dict[str, str] = {}

    def on_tasks(tis: list[dict[str, Any]]) -> None:
        if quiet or json or not sys.stderr.isatty():
            return
        for ti in tis:
            key, state = str(ti.get("task_id")), str(ti.get("state"))
            if seen.get(key) != state:
                seen[key] = state
                sys.stderr.write(f"  {key:<10} {state:<16} {ti.get('hostname') or ''}\n")

    outcome = remote.wait(api, catalog_url, submitted, timeout=timeout, on_tasks=on_tasks)
    if json:
        print_json(outcome.to_dict())
    else:
        shown = s.model_copy(update={"db_url": submitted.catalog_url})
        print_summary(shown, outcome.info, log=f"{submitted.api_url} (dag {submitted.dag_id}, run {submitted.run_id})")
        for ti in outcome.to_dict()["task_instances"]:
            out(f"task         {ti['task_id']:<10} {ti['state'] or '-':<10} {ti['hostname'] or ''}")
    if outcome.info.state != "cleared":
        raise typer.Exit(EXIT_REFUSED)

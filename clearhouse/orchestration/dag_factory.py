"""Airflow edge: one DAG per dataset policy, each task a thin call into :mod:`clearhouse.pipeline`.

This is the only core module that imports Airflow. No data I/O happens at parse time: the factory reads
policy files (small YAML) to know which DAGs exist and nothing else.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, TriggerRule, task

from clearhouse import pipeline
from clearhouse.config import load_settings
from clearhouse.errors import ClearhouseError, ReleaseRefused, StageError
from clearhouse.policy import Policy, load_policy

log = logging.getLogger("clearhouse.dags")
DAG_PREFIX = "clearhouse__"


def dag_id_for(dataset: str) -> str:
    return f"{DAG_PREFIX}{dataset}"


def policy_files() -> list[Path]:
    """Policies in the datasets folder plus any named in ``CLEARHOUSE_EXTRA_POLICIES`` (os.pathsep list)."""
    settings = load_settings()
    files = sorted(settings.datasets_dir.glob("*.yaml")) if settings.datasets_dir.is_dir() else []
    extra = os.environ.get("CLEARHOUSE_EXTRA_POLICIES", "")
    files += [Path(p).resolve() for p in extra.split(os.pathsep) if p]
    seen: dict[Path, None] = {}
    for f in files:
        seen.setdefault(f.resolve(), None)
    return list(seen)


def _stage_task(name: str) -> Any:
    @task(task_id=name)
    def run(ref: dict[str, Any]) -> dict[str, Any]:
        ctx = pipeline.RunContext.from_ref(ref)
        try:
            return pipeline.STAGE_FUNCS[name](ctx)
        except ClearhouseError as exc:
            # Our messages name causes, never values; drop the chained library exception, whose text
            # Airflow would print into the task log.
            raise type(exc)(str(exc)) from None
        except Exception as exc:
            raise StageError(
                f"stage {name} failed with {type(exc).__name__}; details are kept in the version's work zone "
                "(library messages may quote data)"
            ) from None

    return run


def build_dag(policy: Policy, policy_path: Path) -> DAG:
    """The clearing DAG of one dataset: prepare → ingest → detect → minimise → protect → validate → release."""
    with DAG(
        dag_id=dag_id_for(policy.id),
        description=f"Clear {policy.id} for labeling ({policy.ethics_risk.value})",
        schedule=policy.schedule,
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        tags=["clearhouse", policy.ethics_risk.value],
        params={
            "source": Param(None, type=["null", "string"], description="override the policy's source path"),
            "version": Param(None, type=["null", "string"], description="version id (generated if empty)"),
        },
        doc_md=f"**Purpose:** {policy.purpose}\n\n**Owner:** {policy.owner}",
    ) as dag:

        @task(task_id="prepare")
        def prepare(**context: Any) -> dict[str, Any]:
            params = context["params"]
            ctx = pipeline.prepare(
                str(policy_path),
                source=params.get("source"),
                version=params.get("version"),
                run_id=str(context["run_id"]),
            )
            return ctx.ref()

        @task(task_id="release", trigger_rule=TriggerRule.ALL_DONE)
        def release(ref: dict[str, Any] | None) -> dict[str, Any]:
            if not ref:
                raise ReleaseRefused("the version was never prepared; nothing to release")
            ctx = pipeline.RunContext.from_ref(ref)
            result = pipeline.run_release(ctx)
            if result["state"] == "quarantined":
                reasons = ctx.catalog.get(ctx.dataset, ctx.version).reasons
                raise ReleaseRefused(
                    f"{ctx.dataset} {ctx.version} quarantined: " + "; ".join(r["message"] for r in reasons)
                )
            return result

        ref = prepare()
        previous: Any = ref
        for name in pipeline.STAGES[:-1]:
            current = _stage_task(name)(ref)
            previous >> current
            previous = current
        previous >> release(ref)  # type: ignore[arg-type]  # an XComArg resolves to the dict at run time
    return dag


def build_dags() -> dict[str, DAG]:
    """Every valid policy's DAG, keyed by dag id. Invalid policies are logged and skipped."""
    dags: dict[str, DAG] = {}
    for path in policy_files():
        try:
            policy = load_policy(path)
        except ClearhouseError as exc:
            log.warning("skipping policy %s: %s", path.name, exc)
            continue
        dags[dag_id_for(policy.id)] = build_dag(policy, path)
    return dags

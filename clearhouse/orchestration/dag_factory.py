"""Airflow edge: one DAG per dataset policy, each task a thin call into :mod:`clearhouse.stages.runner`.

This is the only module that imports Airflow. No data I/O happens at parse time: the factory reads
policy files (small YAML) to know which DAGs exist and nothing else. The runner (and with it Presidio,
spaCy and Great Expectations, several seconds of imports) is imported inside the tasks, so the DAG
processor never pays for it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, TriggerRule, task

from clearhouse.errors import ClearhouseError, ReleaseRefused, StageError
from clearhouse.policy import Policy, load_policy
from clearhouse.runs import dag_id_for
from clearhouse.settings import load_settings
from clearhouse.types import STAGES

log = logging.getLogger("clearhouse.dags")


def policy_files() -> list[Path]:
    """Policies in the datasets folder plus any named in ``CLEARHOUSE_EXTRA_POLICIES`` (os.pathsep list)."""
    settings = load_settings()
    files = sorted(settings.datasets_dir.glob("*.yaml")) if settings.datasets_dir.is_dir() else []
    files += settings.extra_policy_files
    seen: dict[Path, None] = {}
    for f in files:
        seen.setdefault(f.resolve(), None)
    return list(seen)


def _stage_task(name: str) -> Any:
    @task(task_id=name)
    def run(ref: dict[str, Any]) -> dict[str, Any]:
        from clearhouse.stages import runner  # noqa: PLC0415 - heavy (Presidio, spaCy, GX: seconds): imported in the task, not at DAG parse time
        from clearhouse.stages.context import RunContext  # noqa: PLC0415 - see above

        ctx = RunContext.from_ref(ref)
        try:
            return runner.run_stage(ctx, name).to_xcom()
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
            from clearhouse.stages.context import prepare as prepare_version  # noqa: PLC0415 - see run()

            params = context["params"]
            ctx = prepare_version(
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
            from clearhouse.stages import runner  # noqa: PLC0415 - see run()
            from clearhouse.stages.context import RunContext  # noqa: PLC0415 - see run()

            ctx = RunContext.from_ref(ref)
            result = runner.finish(ctx).to_xcom()
            if result["state"] == "quarantined":
                reasons = ctx.catalog.get(ctx.dataset, ctx.version).reasons
                raise ReleaseRefused(
                    f"{ctx.dataset} {ctx.version} quarantined: " + "; ".join(r["message"] for r in reasons)
                )
            return result

        ref = prepare()
        previous: Any = ref
        for name in STAGES[:-1]:
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

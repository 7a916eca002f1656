"""Airflow edge: one DAG per dataset policy, each task a thin call into :mod:`clearhouse.stages.runner`,
and the daily retention DAG, a thin call into :mod:`clearhouse.acts.retention`.

This is the only module that imports Airflow. No data I/O happens at parse time: the factory reads
policy files (small YAML) to know which DAGs exist and nothing else. The runner (and with it Presidio,
spaCy and Great Expectations, several seconds of imports) is imported inside the tasks, so the DAG
processor never pays for it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, Param, TriggerRule, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from clearhouse.errors import ClearhouseError, ReleaseRefused, StageError
from clearhouse.files import make_private
from clearhouse.policy import Policy, load_policy
from clearhouse.runs import dag_id_for
from clearhouse.settings import Settings, load_settings
from clearhouse.types import STAGES
from clearhouse.zones import CHUNKED_STAGES

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


ASSET_SCHEME = "clearhouse"


def released_asset(dataset: str) -> Asset:
    """The Asset a cleared release of ``dataset`` publishes (``clearhouse://DATASET``): downstream DAGs
    scheduled on it run when a new version is cleared. The event's ``extra`` names the version."""
    uri = f"{ASSET_SCHEME}://{dataset}"
    return Asset(uri, uri=uri, group="clearhouse")


def task_defaults(policy: Policy, settings: Settings) -> dict[str, Any]:
    """Airflow ``default_args`` of a policy's DAG: owner, retries with exponential back-off, timeout.

    Retries are for infrastructure failures that never reached the runner (a lost worker, a killed
    process, a timeout): a stage that fails inside the runner has already quarantined its version, so
    such failures are raised as ``AirflowFailException`` and not retried (see :func:`_stage_task`)."""
    return _defaults(policy.owner, settings)


def _defaults(owner: str, settings: Settings) -> dict[str, Any]:
    return {
        "owner": owner,
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=settings.task_retry_delay),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=settings.task_max_retry_delay),
        "execution_timeout": timedelta(seconds=settings.task_timeout) if settings.task_timeout else None,
    }


def _run_stage(name: str, ref: dict[str, Any], chunk: int | None) -> dict[str, Any]:
    from clearhouse.stages import runner  # noqa: PLC0415 - heavy (Presidio, spaCy, GX: seconds): imported in the task, not at DAG parse time
    from clearhouse.stages.context import RunContext  # noqa: PLC0415 - see above

    make_private()  # whatever umask the worker was started with: data files are the owner's only
    ctx = RunContext.from_ref(ref).for_chunk(chunk)
    try:
        return runner.run_stage(ctx, name).to_xcom()
    except ClearhouseError as exc:
        # Our messages name causes, never values; drop the chained library exception, whose text
        # Airflow would print into the task log. The runner has quarantined the version (fail
        # closed), so a retry could not clear it: fail without retrying.
        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:
        raise AirflowFailException(
            f"{StageError.__name__}: stage {name} failed with {type(exc).__name__}; details are kept in the "
            "version's work zone (library messages may quote data)"
        ) from None


def _stage_task(name: str) -> Any:
    """A task running one stage on the whole version."""

    @task(task_id=name)
    def run(ref: dict[str, Any]) -> dict[str, Any]:
        return _run_stage(name, ref, None)

    return run


def _chunk_task(name: str) -> Any:
    """A task running one chunked stage on one chunk: mapped over the chunks ingest planned."""

    @task(task_id=name)
    def run(ref: dict[str, Any], chunk: int) -> dict[str, Any]:
        return _run_stage(name, ref, chunk)

    return run


@task(task_id="chunks")
def _chunk_indices(ingested: dict[str, Any]) -> list[int]:
    """The chunk indices from ingest's reference (what the chunked stages are mapped over)."""
    return [int(i) for i in ingested.get("chunks") or []]


def build_dag(policy: Policy, policy_path: Path) -> DAG:
    """The clearing DAG of one dataset: prepare → ingest → detect → minimise → protect → validate → release.

    Every task has the policy's owner, retries with exponential back-off and an execution timeout
    (:func:`task_defaults`), except that ``release`` never retries: it is the fail-closed gate that
    writes the version's final state, and a second attempt must not release twice. A cleared release
    publishes :func:`released_asset`."""
    settings = load_settings()
    asset = released_asset(policy.id)
    with DAG(
        dag_id=dag_id_for(policy.id),
        description=f"Clear {policy.id} for labeling ({policy.ethics_risk.value})",
        schedule=policy.schedule,
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        tags=["clearhouse", policy.ethics_risk.value],
        default_args=task_defaults(policy, settings),
        params={
            "source": Param(None, type=["null", "string"], description="override the policy's source path"),
            "version": Param(None, type=["null", "string"], description="version id (generated if empty)"),
        },
        doc_md=f"**Purpose:** {policy.purpose}\n\n**Owner:** {policy.owner}",
    ) as dag:

        @task(task_id="prepare")
        def prepare(**context: Any) -> dict[str, Any]:
            from clearhouse.stages.context import prepare as prepare_version  # noqa: PLC0415 - see run()

            make_private()
            params = context["params"]
            try:
                ctx = prepare_version(
                    str(policy_path),
                    source=params.get("source"),
                    version=params.get("version"),
                    run_id=str(context["run_id"]),
                )
            except ClearhouseError as exc:  # bad policy or input: retrying cannot help
                raise AirflowFailException(f"{type(exc).__name__}: {exc}") from None
            return ctx.ref()

        @task(task_id="release", trigger_rule=TriggerRule.ALL_DONE, retries=0, outlets=[asset])
        def release(ref: dict[str, Any] | None, **context: Any) -> dict[str, Any]:
            # Fail closed, never twice: no retries (set above), and a refusal is an AirflowFailException.
            if not ref:
                raise AirflowFailException(
                    f"{ReleaseRefused.__name__}: the version was never prepared; nothing to release"
                )
            from clearhouse.stages import runner  # noqa: PLC0415 - see run()
            from clearhouse.stages.context import RunContext  # noqa: PLC0415 - see run()

            make_private()
            ctx = RunContext.from_ref(ref)
            result = runner.finish(ctx).to_xcom()
            if result["state"] == "quarantined":
                reasons = ctx.catalog.get(ctx.dataset, ctx.version).reasons
                raise AirflowFailException(
                    f"{ReleaseRefused.__name__}: {ctx.dataset} {ctx.version} quarantined: "
                    + "; ".join(r["message"] for r in reasons)
                )
            if result["state"] != "cleared":
                # awaiting an officer's approval (E3): nothing is published, so no asset event
                raise AirflowSkipException(f"{ctx.dataset} {ctx.version} is {result['state']}; not published")
            # small references only, never values: downstream DAGs learn which version was cleared
            context["outlet_events"][asset].extra = {"dataset": ctx.dataset, "version": ctx.version}
            return result

        ref = prepare()
        previous: Any = ref
        chunks: Any = None
        for name in STAGES[:-1]:
            if name in CHUNKED_STAGES:
                # one task instance per chunk (dynamic task mapping); each stage waits for every chunk
                # of the previous one
                current = _chunk_task(name).partial(ref=ref).expand(chunk=chunks)
            else:
                current = _stage_task(name)(ref)
            previous >> current
            previous = current
            if name == "ingest":
                chunks = _chunk_indices(current)
        previous >> release(ref)  # type: ignore[arg-type]  # an XComArg resolves to the dict at run time
    return dag


RETENTION_DAG_ID = "clearhouse_retention"


def build_retention_dag() -> DAG:
    """Daily: dispose of every version past its policy's ``retention`` (data keys destroyed, files
    removed, each disposal recorded; :func:`clearhouse.acts.retention.apply_retention`). The run fails
    when a dataset could not be checked or a version not disposed of, so nobody mistakes it for done."""
    settings = load_settings()
    with DAG(
        dag_id=RETENTION_DAG_ID,
        description="Dispose of dataset versions past their policy's retention",
        schedule="@daily",
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=["clearhouse", "retention"],
        default_args=_defaults("privacy-officer", settings),
        doc_md="Destroys the data keys and removes the files of versions past their policy's `retention`. "
        "`clearhouse retention --dry-run` lists what the next run disposes of.",
    ) as dag:

        @task(task_id="dispose")
        def dispose() -> dict[str, Any]:
            from clearhouse.acts.retention import apply_retention  # noqa: PLC0415 - the core, imported at run time

            make_private()
            result = apply_retention(load_settings(), actor=None)
            if result.problems:
                raise AirflowFailException("retention incomplete: " + "; ".join(result.problems))
            # identifiers and counts only
            return {"disposed": [f"{d.dataset}/{d.version}" for d in result.disposed]}

        dispose()
    return dag


def build_dags() -> dict[str, DAG]:
    """Every valid policy's DAG, keyed by dag id, and the retention DAG. Invalid policies are logged and
    skipped."""
    dags: dict[str, DAG] = {RETENTION_DAG_ID: build_retention_dag()}
    for path in policy_files():
        try:
            policy = load_policy(path)
        except ClearhouseError as exc:
            log.warning("skipping policy %s: %s", path.name, exc)
            continue
        dags[dag_id_for(policy.id)] = build_dag(policy, path)
    return dags

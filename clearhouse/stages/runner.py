"""The runner: composes the stages, wraps each in lineage, and owns quarantine on failure.

The DAG factory calls :func:`run_stage` once per task and :func:`finish` in the final task (which always
runs); the CLI's in-process paths and the tests call :func:`run_all`. A stage never quarantines a version
itself: it raises, and the runner records the reason and quarantines (fail closed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearhouse.errors import ClearhouseError
from clearhouse.files import make_private, write_json
from clearhouse.governance.record import artifact_digests, ledger_for, record
from clearhouse.lineage.emitter import TaskRun
from clearhouse.lineage.stage_runs import dag_run_event, export_version_events, stage_run
from clearhouse.stages import detect, ingest, minimise, protect, release, validate
from clearhouse.stages.chunks import chunk_outputs, concatenate
from clearhouse.stages.context import RunContext, version_lineage
from clearhouse.types import STAGES, StageResult
from clearhouse.zones import CHUNKED_STAGES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    """One stage as the runner sees it: its function and the zone files it reads and writes."""

    name: str
    run: Callable[[RunContext], StageResult]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


REGISTRY: dict[str, Stage] = {
    mod.__name__.rsplit(".", 1)[-1]: Stage(mod.__name__.rsplit(".", 1)[-1], mod.run, mod.INPUTS, mod.OUTPUTS)
    for mod in (ingest, detect, minimise, protect, validate, release)
}
assert tuple(REGISTRY) == STAGES, "stage modules and STAGES disagree"


@contextmanager
def guarded(ctx: RunContext, name: str) -> Iterator[TaskRun]:
    """Run one stage's block: lineage around it; on failure, record why and quarantine (then re-raise)."""
    stage = REGISTRY[name]
    with stage_run(version_lineage(ctx), name, inputs=stage.inputs, outputs=stage.outputs) as run:
        try:
            yield run
        except ClearhouseError as exc:
            ctx.catalog.add_reason(ctx.dataset, ctx.version, name, str(exc), exc.code)
            ctx.catalog.set_state(ctx.dataset, ctx.version, "quarantined")
            _record_failure(ctx, name, exc.code)
            log.error("stage %s failed for %s/%s: %s", name, ctx.dataset, ctx.version, exc)
            raise
        except Exception as exc:
            # Unexpected errors fail closed too; only the type is recorded (messages may quote data).
            trace = ctx.paths.work / f"{name}.traceback"
            _keep_traceback(trace, exc)
            ctx.catalog.add_reason(
                ctx.dataset,
                ctx.version,
                name,
                f"internal error ({type(exc).__name__}); traceback kept in the work zone: {trace.name}",
                "internal",
            )
            ctx.catalog.set_state(ctx.dataset, ctx.version, "quarantined")
            _record_failure(ctx, name, "internal")
            raise


def _record_failure(ctx: RunContext, name: str, code: str) -> None:
    # The version is quarantined whatever happens here; a failed ledger write must not mask the cause.
    try:
        record(
            ctx.settings,
            "stage",
            dataset=ctx.dataset,
            version=ctx.version,
            payload={"stage": name, "status": "failed", "code": code, "state": "quarantined"},
        )
    except Exception as exc:
        log.error("could not record the failure of stage %s in the ledger (%s)", name, type(exc).__name__)


def _stage_files(ctx: RunContext, name: str) -> list[Path]:
    """The files a stage wrote, whose digests the ledger keeps."""
    paths = ctx.paths
    files = [getattr(paths, o) for o in REGISTRY[name].outputs if o not in {"cleared_data"}]
    files.append(paths.stage_json(name))
    if name == "ingest" and paths.landing.exists():
        files += sorted(paths.landing.glob("raw.*"))
        files.append(paths.chunks_json)
    if name == "detect" and (spans := ctx.read_stage("detect").get("spans_path")):
        files.append(Path(spans))
    if name == "validate":
        # the chunks merged: the version's protected table and stage results (each chunk's own files
        # are in the ledger entries of its detect, minimise and protect tasks)
        files += [paths.protected, *(paths.stage_json(s) for s in CHUNKED_STAGES)]
        files.append(paths.reports / "privacy_report.html")
    return files


def _stage_facts(name: str, result: StageResult) -> dict[str, Any]:
    if isinstance(result, protect.ProtectStageResult):
        return {"keys": {c["column"]: {"treatment": c["treatment"], "key_id": c["key_id"]} for c in result.columns}}
    return {}


class RerunResult:
    """A task re-run on a version that already reached a final state: recorded, nothing changed."""

    def __init__(self, state: str) -> None:
        self.state = state

    def to_xcom(self) -> dict[str, Any]:
        return {"rerun": True, "state": self.state}


def _keep_traceback(path: Path, exc: BaseException) -> None:
    """Keep a full traceback for engineers where the data already lives (work zone, mode 0600), since
    exception messages from libraries may quote cell values and must not reach task logs."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        log.warning("could not keep the traceback of a failed stage")


def run_stage(ctx: RunContext, name: str) -> StageResult:
    """Run one of the stages before ``release`` (the DAG's stage tasks call this): a chunked stage
    (detect, minimise, protect) on the context's chunk, any other on the whole version."""
    make_private()
    if name not in REGISTRY or name == "release":
        raise ClearhouseError(f"unknown stage {name!r}; stages are {', '.join(STAGES[:-1])} (then finish)")
    if (name in CHUNKED_STAGES) != (ctx.chunk is not None):
        raise ClearhouseError(
            f"stage {name} runs {'per chunk' if name in CHUNKED_STAGES else 'on the whole version'}; "
            f"got chunk {ctx.chunk}"
        )
    if (rerun := _rerun_of_finished(ctx, name)) is not None:
        return rerun
    with guarded(ctx, name):
        result = REGISTRY[name].run(ctx)
        # inside the guard: a stage whose result cannot be recorded fails closed
        record(
            ctx.settings,
            "stage",
            dataset=ctx.dataset,
            version=ctx.version,
            payload={
                "stage": name,
                **({"chunk": ctx.chunk} if ctx.chunk is not None else {}),
                "status": "ok",
                "artifacts": artifact_digests(ctx.settings, _stage_files(ctx, name)),
                "result": result.to_xcom(),
                **_stage_facts(name, result),
            },
        )
        return result


def _rerun_of_finished(ctx: RunContext, name: str) -> RerunResult | None:
    """Clearing a task of a finished run (Airflow UI/API, a retry) must not change the version: the
    re-run is recorded and nothing else happens. Only ``processing`` versions run stages."""
    state = ctx.catalog.get(ctx.dataset, ctx.version).state
    if state == "processing":
        return None
    record(
        ctx.settings,
        "rerun",
        dataset=ctx.dataset,
        version=ctx.version,
        payload={"stage": name, "state": state, "note": "task re-run on a finished version; nothing changed"},
    )
    log.warning("%s of %s/%s re-run on a %s version: recorded, nothing changed", name, ctx.dataset, ctx.version, state)
    return RerunResult(state)


def finish(ctx: RunContext) -> StageResult:
    """The final gate: publish only if every stage passed (E3 waits for an officer); else quarantine."""
    make_private()
    result = _finish(ctx)
    if not isinstance(result, RerunResult):
        vl = version_lineage(ctx)
        state = result.to_xcom()["state"]
        if state == "quarantined":
            dag_run_event(vl, "FAIL", error=_reasons_text(ctx))
        else:
            dag_run_event(vl, "COMPLETE")
    # after the DAG run's own events, so the officer's copy of the lineage is complete
    export_version_events(
        ctx.settings, ctx.dataset, ctx.version, version_lineage(ctx).dag_run_id, ctx.paths.reports / "lineage.json"
    )
    return result


def _reasons_text(ctx: RunContext) -> str:
    reasons = ctx.catalog.get(ctx.dataset, ctx.version).reasons
    return "quarantined: " + "; ".join(f"[{r['stage']}] {r['message']}" for r in reasons)


def _finish(ctx: RunContext) -> StageResult:
    info = ctx.catalog.get(ctx.dataset, ctx.version)
    if info.state != "processing" and (info.state != "quarantined" or _release_recorded(ctx)):
        # a re-run of the final task: the version keeps its state (a cleared one stays cleared)
        return _rerun_of_finished(ctx, "release") or release.ReleaseStageResult(info.state)
    with guarded(ctx, "release") as run:
        missing = [s for s in STAGES[:-1] if not ctx.paths.stage_json(s).exists()]
        if info.reasons or info.state == "quarantined" or missing:
            if missing and not info.reasons:
                ctx.catalog.add_reason(
                    ctx.dataset, ctx.version, "release", f"stages did not complete: {', '.join(missing)}", "incomplete"
                )
            quarantine(ctx)
            run.fail(_reasons_text(ctx))  # the release task's lineage run ends in FAIL
            reasons = ctx.catalog.get(ctx.dataset, ctx.version).reasons
            record(
                ctx.settings,
                "release",
                dataset=ctx.dataset,
                version=ctx.version,
                payload={
                    "state": "quarantined",
                    "reasons": [{"stage": r["stage"], "code": r["code"]} for r in reasons],
                    "artifacts": artifact_digests(ctx.settings, sorted(ctx.paths.quarantine.iterdir())),
                },
            )
            return release.ReleaseStageResult("quarantined")
        result = release.run(ctx)
        target = ctx.paths.pending_release if result.state == "awaiting_approval" else ctx.paths.cleared
        record(
            ctx.settings,
            "release",
            dataset=ctx.dataset,
            version=ctx.version,
            payload={
                "state": result.state,
                "rows": result.rows,
                "artifacts": artifact_digests(ctx.settings, sorted(target.iterdir())),
            },
        )
        return result


def _release_recorded(ctx: RunContext) -> bool:
    """Whether the final gate already ran for this version (its ``release`` entry exists)."""
    return any(e.kind == "release" for e in ledger_for(ctx.settings).entries(dataset=ctx.dataset, version=ctx.version))


def quarantine(ctx: RunContext) -> None:
    """Mark the version quarantined and give officers its reasons and protected output to inspect."""
    ctx.catalog.set_state(ctx.dataset, ctx.version, "quarantined")
    q = ctx.paths.quarantine
    q.mkdir(parents=True, exist_ok=True)
    info = ctx.catalog.get(ctx.dataset, ctx.version)
    write_json(q / "reasons.json", {"dataset": ctx.dataset, "version": ctx.version, "reasons": info.reasons})
    # Keep only protected output for the officer to inspect; raw stays in landing, work stays in work.
    if ctx.paths.protected.exists():
        shutil.copyfile(ctx.paths.protected, q / "data.parquet")
    elif ctx.paths.chunks_json.exists():
        # every chunk protected but the merge never ran: the officer still gets the table
        with contextlib.suppress(ClearhouseError):
            concatenate(chunk_outputs(ctx), q / "data.parquet")


def run_all(ctx: RunContext) -> str:
    """Run every stage in this process, then the final gate; return the version's state."""
    try:
        for name in STAGES[:-1]:
            if name in CHUNKED_STAGES:
                for chunk in ctx.chunks():
                    run_stage(ctx.for_chunk(chunk.index), name)
            else:
                run_stage(ctx, name)
    except ClearhouseError:
        pass
    finish(ctx)
    return ctx.catalog.get(ctx.dataset, ctx.version).state

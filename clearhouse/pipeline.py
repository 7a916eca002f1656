"""The clearing pipeline: one plain function per stage, called by thin Airflow tasks (and by tests).

Data moves between stages as files in the version's work zone; stages return small JSON-safe references
(paths, digests, counts) that are safe to put in XCom. Every stage runs inside :func:`stage`, which records
lineage (never failing the task because of it) and, when the stage fails, records the reason in the
catalog and quarantines the version: privacy controls fail closed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clearhouse import ingest as ingest_mod
from clearhouse.catalog import Catalog
from clearhouse.config import Settings, load_settings
from clearhouse.errors import ClearhouseError, DetectionError, ValidationGateError
from clearhouse.policy import Policy, load_policy
from clearhouse.zones import VersionPaths, new_version_id

log = logging.getLogger("clearhouse.pipeline")

STAGES = ("ingest", "detect", "minimise", "protect", "validate", "release")


@dataclass
class RunContext:
    """Everything a stage needs, rebuilt cheaply in each task from the small XCom reference."""

    settings: Settings
    policy_path: Path
    policy: Policy
    version: str
    source: Path
    run_id: str | None = None

    @property
    def dataset(self) -> str:
        return self.policy.id

    @cached_property
    def paths(self) -> VersionPaths:
        return VersionPaths(self.settings, self.dataset, self.version)

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.settings.db_url)

    def ref(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.version,
            "policy_path": str(self.policy_path),
            "source": str(self.source),
            "run_id": self.run_id,
        }

    @classmethod
    def from_ref(cls, ref: dict[str, Any], settings: Settings | None = None) -> RunContext:
        policy_path = Path(ref["policy_path"])
        return cls(
            settings=settings or load_settings(),
            policy_path=policy_path,
            policy=load_policy(policy_path),
            version=str(ref["version"]),
            source=Path(ref["source"]),
            run_id=ref.get("run_id"),
        )


def prepare(
    policy_path: Path | str,
    *,
    source: Path | str | None = None,
    version: str | None = None,
    run_id: str | None = None,
    settings: Settings | None = None,
) -> RunContext:
    """Load and check the policy, register the dataset and open a new ``processing`` version."""
    from clearhouse.privacy.minimise import validate_treatments

    settings = settings or load_settings()
    settings.ensure_dirs()
    policy_path = Path(policy_path).resolve()
    policy = load_policy(policy_path)
    validate_treatments(policy)
    src = Path(source).expanduser().resolve() if source else policy.source_path(policy_path, settings.home)
    ctx = RunContext(settings, policy_path, policy, version or new_version_id(), src, run_id)
    ctx.catalog.register_dataset(
        dataset=policy.id,
        owner=policy.owner,
        purpose=policy.purpose,
        ethics_risk=policy.ethics_risk.value,
        policy_path=str(policy_path),
    )
    ctx.catalog.start_version(policy.id, ctx.version, run_id=run_id)
    ctx.catalog.update(policy.id, ctx.version, info={"source_name": src.name, "ethics_risk": policy.ethics_risk.value})
    return ctx


def prepare_check(
    policy_path: Path, source: Path | None, settings: Settings, *, require_source: bool = True
) -> tuple[Policy, Path]:
    """Everything that can be checked before a run starts: policy, treatments, source file."""
    from clearhouse.errors import IngestError
    from clearhouse.privacy.minimise import validate_treatments

    policy = load_policy(policy_path)
    validate_treatments(policy)
    src = source.expanduser().resolve() if source else policy.source_path(policy_path.resolve(), settings.home)
    if require_source and not src.is_file():
        raise IngestError(f"input not found: {src}")
    policy.source.resolved_format(src)
    return policy, src


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")


def _read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@contextmanager
def stage(ctx: RunContext, name: str) -> Iterator[None]:
    """Run one stage: lineage around it; on failure, record why and quarantine (then re-raise)."""
    from clearhouse import lineage_hooks

    with lineage_hooks.stage_run(ctx, name):
        try:
            yield
        except ClearhouseError as exc:
            ctx.catalog.add_reason(ctx.dataset, ctx.version, name, str(exc), exc.code)
            ctx.catalog.set_state(ctx.dataset, ctx.version, "quarantined")
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
            raise


def _keep_traceback(path: Path, exc: BaseException) -> None:
    """Keep a full traceback for engineers where the data already lives (work zone, mode 0600), since
    exception messages from libraries may quote cell values and must not reach task logs."""
    import traceback

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        log.warning("could not keep the traceback of a failed stage")


# ------------------------------------------------------------------------------------------------ stages


def run_ingest(ctx: RunContext) -> dict[str, Any]:
    with stage(ctx, "ingest"):
        result = ingest_mod.ingest(ctx.source, ctx.policy, landing_dir=ctx.paths.landing, work_dir=ctx.paths.work)
        ctx.catalog.update(
            ctx.dataset,
            ctx.version,
            raw_sha256=result.raw_sha256,
            rows_in=result.rows,
            info={"dropped_undeclared": result.dropped_undeclared},
        )
        ref = result.to_ref()
        _write_json(ctx.paths.stage_json("ingest"), ref)
        return {"rows": result.rows, "raw_sha256": result.raw_sha256}


_detectors: dict[tuple[str, str], Any] = {}


def text_detector(ctx: RunContext) -> Any:
    """The free-text detector for this policy (cached per process: loading NER is the slow part)."""
    from clearhouse.privacy.detection.text import PresidioTextDetector

    key = (ctx.policy.detection.model_dump_json(), ctx.settings.spacy_model)
    if key not in _detectors:
        _detectors[key] = PresidioTextDetector(ctx.policy.detection, ctx.settings.spacy_model)
    return _detectors[key]


def run_detect(ctx: RunContext) -> dict[str, Any]:
    with stage(ctx, "detect"):
        from clearhouse.privacy.detection.scan import detect_table

        result = detect_table(ctx.paths.ingested, ctx.policy, text_detector(ctx), out_dir=ctx.paths.work)
        payload = result.to_dict()
        _write_json(ctx.paths.stage_json("detect"), payload)
        summary = {f.column: {e: s.count for e, s in f.entities.items()} for f in result.findings}
        ctx.catalog.update(ctx.dataset, ctx.version, info={"pii_found": summary})
        if result.blocking:
            raise DetectionError("; ".join(result.blocking))
        return {"columns": len(result.findings), "entities": sum(sum(v.values()) for v in summary.values())}


def run_minimise(ctx: RunContext) -> dict[str, Any]:
    with stage(ctx, "minimise"):
        from clearhouse.privacy.minimise import minimise_table

        detect = _read_json(ctx.paths.stage_json("detect"))
        spans = Path(detect["spans_path"]) if detect.get("spans_path") else None
        result = minimise_table(
            ctx.paths.ingested, ctx.policy, spans_path=spans, out_path=ctx.paths.minimised, rescan=text_detector(ctx)
        )
        _write_json(ctx.paths.stage_json("minimise"), result.to_dict())
        return {"rows": result.rows, "dropped": result.dropped, "spans_redacted": result.spans_redacted}


def run_protect(ctx: RunContext) -> dict[str, Any]:
    with stage(ctx, "protect"):
        from clearhouse import keys

        summary = keys.protect_file(ctx, ctx.paths.minimised, ctx.paths.protected)
        _write_json(ctx.paths.stage_json("protect"), summary)
        return {"rows": summary["rows"], "columns": [c["column"] for c in summary["columns"]]}


def run_validate(ctx: RunContext) -> dict[str, Any]:
    with stage(ctx, "validate"):
        from clearhouse.privacy.minimise import PlaceholderAwareDetector
        from clearhouse.validation.gate import validate_version

        cleared = pq.read_table(ctx.paths.protected)
        raw = pq.read_table(ctx.paths.ingested)
        outcome = validate_version(
            cleared,
            ctx.policy,
            dataset=ctx.dataset,
            version=ctx.version,
            suites_dir=ctx.settings.suites_dir,
            reports_dir=ctx.settings.reports_dir,
            raw=raw,
            detector=PlaceholderAwareDetector(text_detector(ctx)),
        )
        payload = {
            "passed": outcome.passed,
            "failed_critical": list(outcome.failed_critical),
            "warnings": list(outcome.warnings),
            "data_docs_index": str(outcome.data_docs_index) if outcome.data_docs_index else None,
            "checks": list(outcome.checks),
            "metrics_before": outcome.metrics_before,
            "metrics_after": outcome.metrics_after,
        }
        _write_json(ctx.paths.stage_json("validate"), payload)
        _write_privacy_report(ctx, outcome)
        ctx.catalog.update(
            ctx.dataset,
            ctx.version,
            info={
                "data_docs": payload["data_docs_index"],
                "warnings": payload["warnings"],
                "privacy_report": str(ctx.paths.reports / "privacy_report.html"),
            },
        )
        if not outcome.passed:
            raise ValidationGateError("critical expectations failed: " + "; ".join(outcome.failed_critical))
        return {"passed": True, "warnings": len(outcome.warnings)}


def _write_privacy_report(ctx: RunContext, outcome: Any) -> None:
    from clearhouse.privacy.minimise import describe
    from clearhouse.validation.report import write_privacy_report

    detect = _read_json(ctx.paths.stage_json("detect"))
    write_privacy_report(
        ctx.paths.reports / "privacy_report.html",
        policy=ctx.policy,
        dataset=ctx.dataset,
        version=ctx.version,
        findings=detect["findings"],
        treatments={c: describe(col) for c, col in ctx.policy.columns.items()},
        outcome=outcome,
        lineage_href="lineage.json",
    )


def run_release(ctx: RunContext) -> dict[str, Any]:
    """Final gate: cleared only if every stage passed (E3 waits for an officer); else quarantined."""
    from clearhouse import lineage_hooks

    result = _release(ctx)
    # after the release stage's own events, so the officer's copy of the lineage is complete
    lineage_hooks.export_version_events(ctx, ctx.paths.reports / "lineage.json")
    return result


def _release(ctx: RunContext) -> dict[str, Any]:
    info = ctx.catalog.get(ctx.dataset, ctx.version)
    with stage(ctx, "release"):
        missing = [s for s in STAGES[:-1] if not ctx.paths.stage_json(s).exists()]
        if info.reasons or info.state == "quarantined" or missing:
            if missing and not info.reasons:
                ctx.catalog.add_reason(
                    ctx.dataset, ctx.version, "release", f"stages did not complete: {', '.join(missing)}", "incomplete"
                )
            _quarantine(ctx)
            return {"state": "quarantined"}
        # High-risk (E3) data waits outside the cleared zone until a privacy officer approves it.
        needs_approval = ctx.policy.ethics_risk.requires_approval
        target = ctx.paths.pending_release if needs_approval else ctx.paths.cleared
        manifest = write_release(ctx, target)
        state = "awaiting_approval" if needs_approval else "cleared"
        ctx.catalog.update(
            ctx.dataset, ctx.version, state=state, rows_out=manifest["rows"], info={"cleared_path": str(target)}
        )
        return {"state": state, "rows": manifest["rows"]}


def _quarantine(ctx: RunContext) -> None:
    ctx.catalog.set_state(ctx.dataset, ctx.version, "quarantined")
    q = ctx.paths.quarantine
    q.mkdir(parents=True, exist_ok=True)
    info = ctx.catalog.get(ctx.dataset, ctx.version)
    _write_json(q / "reasons.json", {"dataset": ctx.dataset, "version": ctx.version, "reasons": info.reasons})
    # Keep only protected output for the officer to inspect; raw stays in landing, work stays in work.
    if ctx.paths.protected.exists():
        shutil.copyfile(ctx.paths.protected, q / "data.parquet")


def write_release(ctx: RunContext, target: Path) -> dict[str, Any]:
    """Write the release files (Parquet, CSV, manifest with SHA-256 digests), read-only."""
    from clearhouse.release import sha256_file

    if target.exists():
        raise ClearhouseError(f"release directory already exists: {target}")
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    table = pq.read_table(ctx.paths.protected)
    pq.write_table(table, tmp / "data.parquet")
    pacsv.write_csv(table, tmp / "data.csv")
    files = {}
    for name in ("data.parquet", "data.csv"):
        files[name] = sha256_file(tmp / name)
    info = ctx.catalog.get(ctx.dataset, ctx.version)
    manifest = {
        "dataset": ctx.dataset,
        "version": ctx.version,
        "rows": table.num_rows,
        "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
        "files": files,
        "raw_sha256": info.raw_sha256,
        "policy": {"id": ctx.policy.id, "purpose": ctx.policy.purpose, "ethics_risk": ctx.policy.ethics_risk.value},
    }
    _write_json(tmp / "manifest.json", manifest)
    for p in tmp.iterdir():
        p.chmod(0o444)
    tmp.rename(target)
    return manifest


STAGE_FUNCS: dict[str, Callable[[RunContext], dict[str, Any]]] = {
    "ingest": run_ingest,
    "detect": run_detect,
    "minimise": run_minimise,
    "protect": run_protect,
    "validate": run_validate,
    "release": run_release,
}


def run_all(ctx: RunContext) -> str:
    """Run every stage in-process (used by tests of the core; the DAG runs the same functions)."""
    for name in STAGES[:-1]:
        try:
            STAGE_FUNCS[name](ctx)
        except ClearhouseError:
            break
    run_release(ctx)
    return ctx.catalog.get(ctx.dataset, ctx.version).state


def table_rows(path: Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)

"""What every stage receives: the run context, rebuilt in each task from a small XCom reference."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog
from clearhouse.errors import DetectionError, IngestError, PolicyError, StageError
from clearhouse.files import make_private, read_json, write_json, write_text_atomically
from clearhouse.governance.record import policy_digest, record, software_versions
from clearhouse.lineage.events import Assertion, run_id_for, task_try_run_id
from clearhouse.lineage.stage_runs import VersionLineage, dag_run_event
from clearhouse.policy import Policy, is_profile_file, load_policy
from clearhouse.privacy.detection.profiles import available_profiles, load_profiles
from clearhouse.privacy.minimise import validate_treatments
from clearhouse.settings import Settings, load_settings
from clearhouse.zones import VersionPaths, new_version_id


@dataclass(frozen=True)
class Chunk:
    """One chunk of a version: row group ``index`` of the ingested table, rows ``start`` … ``start+rows``."""

    index: int
    start: int
    rows: int


@dataclass
class RunContext:
    """Everything a stage needs, rebuilt cheaply in each task from the small XCom reference."""

    settings: Settings
    policy_path: Path
    policy: Policy
    version: str
    source: Path
    run_id: str | None = None
    #: the OpenLineage run of the whole DAG run (UUIDv7 made at prepare); the stage runs' parent
    lineage_run_id: str | None = None
    #: the chunk a chunked stage (detect, minimise, protect) works on; ``None`` for the whole version
    chunk: int | None = None

    @property
    def dataset(self) -> str:
        return self.policy.id

    @cached_property
    def paths(self) -> VersionPaths:
        return VersionPaths(self.settings, self.dataset, self.version, self.chunk)

    @property
    def chunk_rows(self) -> int:
        """Rows per chunk: the policy's ``chunk_rows``, else the ``CLEARHOUSE_CHUNK_ROWS`` setting."""
        return self.policy.chunk_rows or self.settings.chunk_rows

    def for_chunk(self, chunk: int | None) -> RunContext:
        """The same run, working on one chunk (``None``: the whole version)."""
        return replace(self, chunk=chunk)

    def chunks(self) -> list[Chunk]:
        """The version's chunks, as ingest planned them."""
        plan = read_json(self.paths.chunks_json)
        return [Chunk(int(c["index"]), int(c["start"]), int(c["rows"])) for c in plan["chunks"]]

    def current_chunk(self) -> Chunk:
        """The chunk this context works on (:class:`StageError` outside a chunk)."""
        if self.chunk is None:
            raise StageError("a chunked stage ran without a chunk")
        for c in self.chunks():
            if c.index == self.chunk:
                return c
        raise StageError(f"chunk {self.chunk} is not in the version's chunk plan")

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
            "lineage_run_id": self.lineage_run_id,
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
            lineage_run_id=ref.get("lineage_run_id"),
        )

    # stage results on disk: the next stage (maybe in another process) reads what this one wrote
    def write_stage(self, stage: str, payload: dict[str, Any]) -> None:
        write_json(self.paths.stage_json(stage), payload)

    def read_stage(self, stage: str) -> dict[str, Any]:
        data: dict[str, Any] = read_json(self.paths.stage_json(stage))
        return data


def check_profiles(policy: Policy, origin: Path) -> None:
    """The detection profiles a policy names exist and are well formed: shipped ones by name, profile
    files by their content (checked before a run)."""
    unknown = [p for p in policy.detection.profile if not is_profile_file(p) and p not in available_profiles()]
    if unknown:
        raise PolicyError(
            f"{origin}: detection.profile: unknown profile(s) {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(available_profiles())}, or a profile file in the policy's folder"
        )
    try:
        load_profiles(policy.detection.profile)
    except (DetectionError, PolicyError) as exc:
        raise PolicyError(f"{origin}: detection.profile: {exc}") from exc


def check_analyzer_config(policy: Policy, origin: Path) -> None:
    """Build the recognizers of the policy's analyzer configuration file (loading the policy already
    validated the file with Presidio's validator; this finds what only building reveals, such as a
    pattern that does not compile)."""
    if policy.detection.analyzer_config is None:
        return
    from clearhouse.privacy.detection.analyzer import load_analyzer_file  # noqa: PLC0415 - heavy (Presidio)

    try:
        load_analyzer_file(policy.detection.analyzer_config, policy.detection.language)
    except DetectionError as exc:
        raise PolicyError(f"{origin}: detection.analyzer_config: {exc}") from exc


def prepare_check(
    policy_path: Path, source: Path | None, settings: Settings, *, require_source: bool = True
) -> tuple[Policy, Path]:
    """Everything that can be checked before a run starts: policy, treatments, source file."""
    policy = load_policy(policy_path)
    validate_treatments(policy)
    check_profiles(policy, policy_path)
    check_analyzer_config(policy, policy_path)
    src = source.expanduser().resolve() if source else policy.source_path(policy_path.resolve(), settings.home)
    if require_source and not src.is_file():
        raise IngestError(f"input not found: {src}")
    policy.source.resolved_format(src)
    return policy, src


def prepare(
    policy_path: Path | str,
    *,
    source: Path | str | None = None,
    version: str | None = None,
    run_id: str | None = None,
    settings: Settings | None = None,
) -> RunContext:
    """Load and check the policy, register the dataset and open a new ``processing`` version."""
    make_private()  # the version's files hold personal data: the owner's only, whoever started us
    settings = settings or load_settings()
    settings.ensure_dirs()
    policy_path = Path(policy_path).resolve()
    policy = load_policy(policy_path)
    validate_treatments(policy)
    check_profiles(policy, policy_path)
    check_analyzer_config(policy, policy_path)
    src = Path(source).expanduser().resolve() if source else policy.source_path(policy_path, settings.home)
    ctx = RunContext(settings, policy_path, policy, version or new_version_id(), src, run_id, task_try_run_id())
    ctx.catalog.register_dataset(
        dataset=policy.id,
        owner=policy.owner,
        purpose=policy.purpose,
        ethics_risk=policy.ethics_risk.value,
        policy_path=str(policy_path),
    )
    ctx.catalog.start_version(policy.id, ctx.version, run_id=run_id)
    # the version keeps the policy it ran with: its assessment and review plan stay what they were
    # when the policy file changes later
    write_text_atomically(ctx.paths.policy_copy, policy_path.read_text(encoding="utf-8"), mode=0o600)
    ctx.catalog.update(
        policy.id,
        ctx.version,
        info={
            "source_name": src.name,
            "ethics_risk": policy.ethics_risk.value,
            "lineage_run_id": ctx.lineage_run_id,
            "assessment_digest": policy.assessment_digest(),
        },
    )
    record(
        settings,
        "run_start",
        dataset=policy.id,
        version=ctx.version,
        payload={
            "state": "processing",
            "run_id": run_id,
            "lineage_run_id": ctx.lineage_run_id,
            "policy_path": str(policy_path),
            "policy_sha256": policy_digest(policy_path),
            "assessment_sha256": policy.assessment_digest(),
            "source_name": src.name,
            "ethics_risk": policy.ethics_risk.value,
            "software": software_versions(settings.spacy_model),
        },
    )
    dag_run_event(version_lineage(ctx), "START")
    return ctx


def version_lineage(ctx: RunContext) -> VersionLineage:
    """What lineage needs to know about this version (plain values; the catalog is read lazily)."""

    def source_facts() -> tuple[int | None, str | None]:
        info = ctx.catalog.get(ctx.dataset, ctx.version)
        return info.rows_in, info.raw_sha256

    def assertions() -> list[Assertion]:
        checks = ctx.read_stage("validate").get("checks") or []
        return [
            Assertion(
                assertion=str(c.get("type") or c.get("name")),
                success=bool(c.get("success")),
                column=c.get("column"),
                severity="error" if c.get("severity") == "critical" else "warn",
            )
            for c in checks
        ]

    dag_run_id = ctx.lineage_run_id or ctx.catalog.get(ctx.dataset, ctx.version).info.get("lineage_run_id")
    return VersionLineage(
        paths=ctx.paths,
        source=ctx.source,
        source_facts=source_facts,
        treatments={name: col.treatment.value for name, col in ctx.policy.columns.items()},
        dag_run_id=dag_run_id or run_id_for(ctx.dataset, ctx.version, "dag"),
        owner=ctx.policy.owner,
        purpose=ctx.policy.purpose,
        assertions=assertions,
    )

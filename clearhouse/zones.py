"""Paths of one dataset version in the data zones. Only validated slugs and generated version ids are
ever joined into paths, so a policy or CLI argument cannot point outside the state directory."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clearhouse.errors import CatalogError
from clearhouse.policy import SLUG
from clearhouse.settings import Settings

VERSION = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
#: what a release directory holds (manifest.json carries the SHA-256 of the other two)
RELEASE_FILES = ("data.parquet", "data.csv", "manifest.json")


def new_version_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def check_ids(dataset: str, version: str | None = None) -> None:
    if not SLUG.fullmatch(dataset):
        raise CatalogError(f"invalid dataset id {dataset!r}")
    if version is not None and not VERSION.fullmatch(version):
        raise CatalogError(f"invalid version id {version!r} (expected e.g. 20261125T101500Z-a1b2c3)")


#: stages that run once per chunk of the input (one mapped Airflow task each)
CHUNKED_STAGES = ("detect", "minimise", "protect")


@dataclass(frozen=True)
class VersionPaths:
    """Files of one version; with ``chunk``, the chunked stages' files are those of that chunk
    (``work/chunks/NNNNN/``), and everything else stays the version's."""

    settings: Settings
    dataset: str
    version: str
    chunk: int | None = None

    def __post_init__(self) -> None:
        check_ids(self.dataset, self.version)
        if self.chunk is not None and not 0 <= self.chunk < 100_000:
            raise CatalogError(f"invalid chunk index {self.chunk!r}")

    def for_chunk(self, chunk: int | None) -> VersionPaths:
        return VersionPaths(self.settings, self.dataset, self.version, chunk)

    def chunk_dir(self, chunk: int) -> Path:
        return self.work / "chunks" / f"{chunk:05d}"

    @property
    def chunks_json(self) -> Path:
        """The chunk plan ingest writes: each chunk's index, first row and rows."""
        return self.work / "chunks.json"

    @property
    def _stage_dir(self) -> Path:
        return self.work if self.chunk is None else self.chunk_dir(self.chunk)

    def _in(self, zone: str) -> Path:
        return self.settings.zone(zone) / self.dataset / self.version

    @property
    def landing(self) -> Path:
        return self._in("landing")

    @property
    def work(self) -> Path:
        return self._in("work")

    @property
    def quarantine(self) -> Path:
        return self._in("quarantine")

    @property
    def cleared(self) -> Path:
        return self._in("cleared")

    @property
    def pending_release(self) -> Path:
        """Release files of an E3 version awaiting approval (moved to ``cleared`` when approved)."""
        return self.work / "release"

    @property
    def reports(self) -> Path:
        return self.settings.reports_dir / self.dataset / self.version

    @property
    def run_log(self) -> Path:
        """Output of the version's Airflow run (``airflow dags test``) on the embedded default."""
        return self.settings.home / "runs" / f"{self.dataset}-{self.version}.log"

    @property
    def ingested(self) -> Path:
        return self.work / "ingested.parquet"

    @property
    def minimised(self) -> Path:
        return self._stage_dir / "minimised.parquet"

    @property
    def protected(self) -> Path:
        """The protected table: a chunk's, or (merged from the chunks before the gate) the version's."""
        return self._stage_dir / "protected.parquet"

    @property
    def policy_copy(self) -> Path:
        """The policy the version ran with, copied at prepare (its assessment and review plan)."""
        return self.work / "policy.yaml"

    @property
    def review_sample(self) -> Path:
        """The residual-PII review's sample of cleared text records (mode 0600; officers only)."""
        return self.work / "review_sample.json"

    def stage_json(self, stage: str) -> Path:
        base = self._stage_dir if stage in CHUNKED_STAGES else self.work
        return base / f"{stage}.json"

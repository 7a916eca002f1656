"""The catalog: datasets, their versions and states, and an audit trail of privileged acts.

SQLite by default (``CLEARHOUSE_HOME/catalog.db``); PostgreSQL through the same SQLAlchemy models.
A version is ``processing`` while its DAG runs, then exactly one of ``cleared``, ``quarantined`` (with
reasons), ``awaiting_approval`` (passed every automatic gate and waits for a privacy officer: E3 data
for the assessment's sign-off and approval, data whose policy asks for it for the residual-PII review),
``rejected`` (an officer said no), ``revoked`` (an officer withdrew a cleared version: no further pulls)
or ``shredded`` (its data key was destroyed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from clearhouse.errors import CatalogError, NotFoundError, ReleaseRefused

STATES = (
    "processing", "cleared", "quarantined", "awaiting_approval", "rejected", "revoked", "shredded", "disposed"
)
FINAL = {"cleared", "quarantined", "rejected", "revoked", "shredded", "disposed"}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class DatasetRow(Base):
    __tablename__ = "ch_datasets"
    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    ethics_risk: Mapped[str] = mapped_column(String(2))
    policy_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VersionRow(Base):
    __tablename__ = "ch_versions"
    dataset_id: Mapped[str] = mapped_column(ForeignKey("ch_datasets.id"), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="processing")
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    raw_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rows_in: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_out: Mapped[int | None] = mapped_column(Integer, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class AuditRow(Base):
    __tablename__ = "ch_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    dataset_id: Mapped[str | None] = mapped_column(String(63), nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UserRow(Base):
    """A person with a role. The API token is stored only as an argon2 hash; ``token_id`` is its short,
    non-secret prefix, so a token is looked up by id and verified against one hash."""

    __tablename__ = "ch_users"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    token_id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    token_hash: Mapped[str] = mapped_column(String(200))
    certified_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    certified_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class UserRecord:
    """A user row as the catalog returns it (with the hash, for :mod:`clearhouse.acts.users` only)."""

    name: str
    role: str
    token_id: str
    token_hash: str
    certified_until: date | None
    certified_by: str | None
    revoked: bool
    created_by: str
    created_at: datetime


def _to_user(row: UserRow) -> UserRecord:
    return UserRecord(
        name=row.name,
        role=row.role,
        token_id=row.token_id,
        token_hash=row.token_hash,
        certified_until=row.certified_until,
        certified_by=row.certified_by,
        revoked=bool(row.revoked),
        created_by=row.created_by,
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class VersionInfo:
    dataset: str
    version: str
    state: str
    reasons: list[dict[str, str]]
    raw_sha256: str | None
    rows_in: int | None
    rows_out: int | None
    info: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    #: the Airflow run that produced the version
    run_id: str | None = None

    #: facts of ``info`` that are safe to show anyone who may see the catalog (counts and names, no values)
    PUBLIC_INFO = (
        "pii_found",
        "warnings",
        "ethics_risk",
        "source_name",
        "assessment_digest",
        "requires",
        "review_plan",
    )

    def to_dict(self) -> dict[str, Any]:
        """The version as JSON (CLI ``--json``, catalog API): states, reasons, counts, digests."""
        return {
            "dataset": self.dataset,
            "version": self.version,
            "state": self.state,
            "reasons": self.reasons,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "raw_sha256": self.raw_sha256,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "run_id": self.run_id,
            **{k: self.info[k] for k in self.PUBLIC_INFO if k in self.info},
        }


def _to_info(row: VersionRow) -> VersionInfo:
    return VersionInfo(
        dataset=row.dataset_id,
        version=row.version,
        state=row.state,
        reasons=list(row.reasons or []),
        raw_sha256=row.raw_sha256,
        rows_in=row.rows_in,
        rows_out=row.rows_out,
        info=dict(row.info or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        run_id=row.run_id,
    )


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    Base.metadata.create_all(engine)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        # the catalog names people and versions and holds token hashes: the owner's only, whatever the umask
        db = Path(url.removeprefix("sqlite:///"))
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            if path.exists():
                path.chmod(0o600)
    return engine


class Catalog:
    """Repository over the catalog tables."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = get_engine(url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    # -- datasets and versions ------------------------------------------------------------------------
    def register_dataset(self, *, dataset: str, owner: str, purpose: str, ethics_risk: str, policy_path: str) -> None:
        with self.session() as s:
            row = s.get(DatasetRow, dataset)
            if row is None:
                s.add(
                    DatasetRow(
                        id=dataset, owner=owner, purpose=purpose, ethics_risk=ethics_risk, policy_path=policy_path
                    )
                )
            else:
                row.owner, row.purpose, row.ethics_risk, row.policy_path = owner, purpose, ethics_risk, policy_path

    def start_version(self, dataset: str, version: str, *, run_id: str | None = None) -> None:
        with self.session() as s:
            if s.get(DatasetRow, dataset) is None:
                raise NotFoundError(f"unknown dataset {dataset!r}")
            if s.get(VersionRow, (dataset, version)) is not None:
                raise CatalogError(f"version {version!r} of {dataset!r} already exists")
            s.add(
                VersionRow(dataset_id=dataset, version=version, state="processing", run_id=run_id, reasons=[], info={})
            )

    def _row(self, s: Session, dataset: str, version: str) -> VersionRow:
        row = s.get(VersionRow, (dataset, version))
        if row is None:
            raise NotFoundError(f"unknown version {version!r} of dataset {dataset!r}")
        return row

    def update(self, dataset: str, version: str, **fields: Any) -> None:
        with self.session() as s:
            row = self._row(s, dataset, version)
            for key, value in fields.items():
                if key == "info":
                    merged = dict(row.info or {})
                    merged.update(value)
                    row.info = merged
                else:
                    setattr(row, key, value)

    def add_reason(self, dataset: str, version: str, stage: str, message: str, code: str = "error") -> None:
        with self.session() as s:
            row = self._row(s, dataset, version)
            row.reasons = [*(row.reasons or []), {"stage": stage, "code": code, "message": message}]

    def set_state(self, dataset: str, version: str, state: str) -> None:
        if state not in STATES:
            raise CatalogError(f"unknown state {state!r}")
        self.update(dataset, version, state=state)

    def get(self, dataset: str, version: str) -> VersionInfo:
        with self.session() as s:
            return _to_info(self._row(s, dataset, version))

    def versions(self, dataset: str | None = None) -> list[VersionInfo]:
        with self.session() as s:
            stmt = select(VersionRow).order_by(VersionRow.dataset_id, VersionRow.created_at)
            if dataset:
                stmt = stmt.where(VersionRow.dataset_id == dataset)
            return [_to_info(r) for r in s.scalars(stmt)]

    def policy_path(self, dataset: str) -> str:
        """Where the dataset's policy file was when it was registered."""
        with self.session() as s:
            row = s.get(DatasetRow, dataset)
            if row is None:
                raise NotFoundError(f"unknown dataset {dataset!r}")
            return str(row.policy_path)

    def require_dataset(self, dataset: str) -> None:
        """Raise :class:`NotFoundError` unless ``dataset`` is registered."""
        with self.session() as s:
            if s.get(DatasetRow, dataset) is None:
                raise NotFoundError(f"unknown dataset {dataset!r}")

    def datasets(self) -> list[str]:
        with self.session() as s:
            return list(s.scalars(select(DatasetRow.id).order_by(DatasetRow.id)))

    def latest_cleared(self, dataset: str) -> VersionInfo:
        cleared = [v for v in self.versions(dataset) if v.state == "cleared"]
        if not cleared:
            if dataset not in self.datasets():
                raise NotFoundError(f"unknown dataset {dataset!r}")
            raise ReleaseRefused(f"dataset {dataset!r} has no cleared version")
        return cleared[-1]

    # -- users ------------------------------------------------------------------------------------------
    def add_user(
        self,
        *,
        name: str,
        role: str,
        token_id: str,
        token_hash: str,
        created_by: str,
        certified_until: date | None = None,
        certified_by: str | None = None,
    ) -> None:
        """Store a new user (only the token's id and argon2 hash; the token itself never reaches here)."""
        with self.session() as s:
            if s.get(UserRow, name) is not None:
                raise CatalogError(f"user {name!r} already exists (names are never reused: the audit log names them)")
            s.add(
                UserRow(
                    name=name,
                    role=role,
                    token_id=token_id,
                    token_hash=token_hash,
                    created_by=created_by,
                    certified_until=certified_until,
                    certified_by=certified_by,
                    revoked=False,
                )
            )

    def user(self, name: str) -> UserRecord:
        """One user by name (:class:`NotFoundError` when unknown)."""
        with self.session() as s:
            row = s.get(UserRow, name)
            if row is None:
                raise NotFoundError(f"unknown user {name!r}")
            return _to_user(row)

    def user_by_token_id(self, token_id: str) -> UserRecord | None:
        """The user whose current token has this id (the id is not secret; the hash decides)."""
        with self.session() as s:
            row = s.scalars(select(UserRow).where(UserRow.token_id == token_id)).first()
            return _to_user(row) if row is not None else None

    def users(self) -> list[UserRecord]:
        """Every user, revoked ones included, by name."""
        with self.session() as s:
            return [_to_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def update_user(self, name: str, **fields: Any) -> None:
        """Set columns of one user (role, certification, revocation, token id and hash)."""
        with self.session() as s:
            row = s.get(UserRow, name)
            if row is None:
                raise NotFoundError(f"unknown user {name!r}")
            for key, value in fields.items():
                setattr(row, key, value)

    # -- audit ------------------------------------------------------------------------------------------
    def audit(
        self,
        action: str,
        *,
        actor: str | None = None,
        dataset: str | None = None,
        version: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        # detail must hold identifiers and counts only; guard against accidental large blobs
        payload = detail or {}
        if len(json.dumps(payload, default=str)) > 10_000:
            raise CatalogError("audit detail too large")
        with self.session() as s:
            s.add(
                AuditRow(
                    actor=actor or "unknown", action=action, dataset_id=dataset, version=version, detail=payload
                )
            )

    def audit_log(self, dataset: str | None = None) -> list[dict[str, Any]]:
        with self.session() as s:
            stmt = select(AuditRow).order_by(AuditRow.id)
            if dataset:
                stmt = stmt.where(AuditRow.dataset_id == dataset)
            return [
                {
                    "at": r.at.isoformat(),
                    "actor": r.actor,
                    "action": r.action,
                    "dataset": r.dataset_id,
                    "version": r.version,
                    "detail": r.detail,
                }
                for r in s.scalars(stmt)
            ]

"""SQLAlchemy 2.x store of OpenLineage events, queryable by run, job and dataset.

Two tables in the store's own :data:`metadata` (so the catalog can live in the same database without
sharing model classes):

``lineage_events``          one row per event: time, type, run id, job, parent run id and the full
                            serialised JSON event (the source of truth; other columns are for querying)
``lineage_event_datasets``  one row per dataset an event reads (``in``) or writes (``out``)

Works on SQLite (``sqlite:////state/catalog.db``) and PostgreSQL (``postgresql+psycopg://...``). Every
operation opens a connection and closes it when done (``NullPool`` for engines the store creates), so
the store is safe to use from forked Airflow workers and from several processes at once; SQLite
writers wait up to :data:`SQLITE_BUSY_TIMEOUT` seconds for the database lock. Tables are created on
start-up; that is idempotent and tolerates another process creating them at the same moment.

The store trusts that events were built by :mod:`lineage.events` (redacted); it does not redact again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from openlineage.client.serde import Serde
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool, StaticPool

from clearhouse.errors import LineageError

__all__ = [
    "SQLITE_BUSY_TIMEOUT",
    "DatasetRun",
    "LineageStore",
    "create_all_safely",
    "event_datasets",
    "events_table",
    "metadata",
]

#: seconds a SQLite writer waits for another process's lock before failing
SQLITE_BUSY_TIMEOUT = 30.0

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT ids on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

events_table = sa.Table(
    "lineage_events",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event_type", sa.String(16), nullable=True),
    sa.Column("run_id", sa.String(36), nullable=True, index=True),
    sa.Column("job_namespace", sa.String(255), nullable=True),
    sa.Column("job_name", sa.String(255), nullable=True, index=True),
    sa.Column("parent_run_id", sa.String(36), nullable=True, index=True),
    sa.Column("event_json", sa.Text(), nullable=False),
)

event_datasets = sa.Table(
    "lineage_event_datasets",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column(
        "event_id",
        _ID,
        sa.ForeignKey("lineage_events.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("namespace", sa.String(1024), nullable=False),
    sa.Column("name", sa.String(1024), nullable=False),
    sa.CheckConstraint("direction IN ('in', 'out')", name="direction"),
    sa.Index(None, "name", "namespace"),
)


@dataclass(frozen=True)
class DatasetRun:
    """A run that read (``in``) or wrote (``out``) a dataset, with its latest recorded state."""

    run_id: str
    job_namespace: str | None
    job_name: str | None
    direction: str
    state: str | None
    event_time: datetime


def _make_engine(url: str) -> Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            # An in-memory database exists only as long as its one connection: keep that connection.
            return sa.create_engine(parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})
        return sa.create_engine(parsed, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
    return sa.create_engine(parsed, poolclass=NullPool)


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            when = datetime.now(UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything the store writes is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _event_dict(event: Any) -> dict[str, Any]:
    if isinstance(event, Mapping):
        return dict(event)
    return Serde.to_dict(event)


def _str_or_none(value: Any, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]


def create_all_safely(md: sa.MetaData, engine: Engine, what: str, attempts: int = 6) -> None:
    """``md.create_all`` that tolerates other processes creating the same tables at the same moment.

    Two runs starting together on a fresh PostgreSQL database both see the tables missing and both
    issue CREATE; the loser fails (duplicate type or relation). Waiting a moment and checking again
    sees the winner's tables."""
    for attempt in range(attempts):
        try:
            md.create_all(engine, checkfirst=True)
            return
        except SQLAlchemyError as exc:
            if attempt == attempts - 1:
                raise LineageError(f"{what}: cannot create tables ({type(exc).__name__})") from exc
            time.sleep(0.1 * (attempt + 1))


class LineageStore:
    """Append-and-query store of lineage events.

    ``LineageStore("sqlite:////path/catalog.db")`` creates its own engine (disposed by :meth:`close`);
    ``LineageStore(engine)`` uses the caller's engine (e.g. the catalog's) and leaves it open.
    """

    def __init__(self, url_or_engine: str | Engine, *, create_tables: bool = True) -> None:
        self._owns_engine = isinstance(url_or_engine, str)
        try:
            self.engine = _make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise LineageError(f"lineage store: unusable database URL ({type(exc).__name__})") from exc
        if create_tables:
            self.create_tables()

    def create_tables(self) -> None:
        """Create the lineage tables if missing (idempotent, safe against a concurrent creator)."""
        create_all_safely(metadata, self.engine, "lineage store")

    def close(self) -> None:
        """Dispose of the engine if the store created it."""
        if self._owns_engine:
            self.engine.dispose()

    # -- writing ------------------------------------------------------------------------------------

    def add(self, event: Any) -> int:
        """Record an OpenLineage event (client object or its dict form); returns the new row id."""
        doc = _event_dict(event)
        run = doc.get("run") or {}
        job = doc.get("job") or {}
        parent = ((run.get("facets") or {}).get("parent") or {}).get("run") or {}
        row = {
            "event_time": _parse_time(doc.get("eventTime")),
            "recorded_at": datetime.now(UTC),
            "event_type": _str_or_none(doc.get("eventType"), 16),
            "run_id": _str_or_none(run.get("runId"), 36),
            "job_namespace": _str_or_none(job.get("namespace"), 255),
            "job_name": _str_or_none(job.get("name"), 255),
            "parent_run_id": _str_or_none(parent.get("runId"), 36),
            "event_json": json.dumps(doc, sort_keys=True),
        }
        datasets = [
            {
                "direction": direction,
                "namespace": str(ds.get("namespace", ""))[:1024],
                "name": str(ds.get("name", ""))[:1024],
            }
            for direction, key in (("in", "inputs"), ("out", "outputs"))
            for ds in doc.get(key) or []
        ]
        with self.engine.begin() as conn:
            inserted = conn.execute(sa.insert(events_table).values(**row)).inserted_primary_key
            if inserted is None:  # every supported dialect reports it; guard for the type checker
                raise LineageError("lineage store: the database did not return the new event id")
            event_id = int(inserted[0])
            if datasets:
                conn.execute(sa.insert(event_datasets), [{"event_id": event_id, **ds} for ds in datasets])
        return event_id

    # -- querying -----------------------------------------------------------------------------------

    def events(
        self,
        *,
        run_id: str | None = None,
        job_name: str | None = None,
        dataset_name: str | None = None,
        limit: int | None = None,
        parent_run_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Parsed events matching every given filter, oldest first.

        ``dataset_name`` matches events that read or wrote a dataset of that name (any namespace).
        ``limit`` keeps the *newest* ``limit`` matches (still returned oldest first).
        """
        query = sa.select(events_table.c.id, events_table.c.event_json)
        if run_id is not None:
            query = query.where(events_table.c.run_id == run_id)
        if job_name is not None:
            query = query.where(events_table.c.job_name == job_name)
        if parent_run_id is not None:
            query = query.where(events_table.c.parent_run_id == parent_run_id)
        if dataset_name is not None:
            touching = sa.select(event_datasets.c.event_id).where(event_datasets.c.name == dataset_name)
            query = query.where(events_table.c.id.in_(touching))
        query = query.order_by(events_table.c.id.desc())
        if limit is not None:
            query = query.limit(max(limit, 0))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [json.loads(text) for _, text in reversed(rows)]

    def runs_for_dataset(self, name: str, *, namespace: str | None = None) -> list[DatasetRun]:
        """Runs that read or wrote dataset ``name``, oldest first, one entry per run and direction."""
        query = (
            sa.select(
                events_table.c.id,
                events_table.c.run_id,
                events_table.c.job_namespace,
                events_table.c.job_name,
                events_table.c.event_type,
                events_table.c.event_time,
                event_datasets.c.direction,
            )
            .join(event_datasets, event_datasets.c.event_id == events_table.c.id)
            .where(event_datasets.c.name == name, events_table.c.run_id.is_not(None))
            .order_by(events_table.c.id)
        )
        if namespace is not None:
            query = query.where(event_datasets.c.namespace == namespace)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        # Later events of a run overwrite the state of the same (run, direction) but keep its position.
        runs: dict[tuple[str, str], DatasetRun] = {}
        for row in rows:
            runs[(row.run_id, row.direction)] = DatasetRun(
                run_id=row.run_id,
                job_namespace=row.job_namespace,
                job_name=row.job_name,
                direction=row.direction,
                state=row.event_type,
                event_time=_as_utc(row.event_time),
            )
        return list(runs.values())

    def count(self) -> int:
        """Number of recorded events."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(events_table)).scalar_one())

    def run_states(self, run_id: str) -> list[str]:
        """Event types recorded for ``run_id``, in order (e.g. ``["START", "COMPLETE"]``)."""
        query = (
            sa.select(events_table.c.event_type)
            .where(events_table.c.run_id == run_id)
            .order_by(events_table.c.id)
        )
        with self.engine.connect() as conn:
            return [str(t) for t in conn.execute(query).scalars()]

    def __enter__(self) -> LineageStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The SQLAlchemy lineage store on SQLite (always) and PostgreSQL (``postgres`` marker)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clearhouse.errors import LineageError
from clearhouse.lineage.events import DatasetRef, ParentRef, build_run_event, event_to_dict, new_run_id
from clearhouse.lineage.store import LineageStore, metadata

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("CLEARHOUSE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _exercise(store: LineageStore, input_ref: DatasetRef, output_ref: DatasetRef) -> None:
    """The round trip both back-ends must pass."""
    dag_run = new_run_id()
    ingest, minimise = new_run_id(), new_run_id()
    parent = ParentRef("survey_pipeline", dag_run)
    events = [
        build_run_event("START", run_id=ingest, job_name="survey.ingest", outputs=[input_ref], parent=parent),
        build_run_event(
            "COMPLETE", run_id=ingest, job_name="survey.ingest", outputs=[input_ref], parent=parent
        ),
        build_run_event(
            "START", run_id=minimise, job_name="survey.minimise", inputs=[input_ref], parent=parent
        ),
        build_run_event(
            "FAIL", run_id=minimise, job_name="survey.minimise", inputs=[input_ref], error="x", parent=parent
        ),
        build_run_event(
            "COMPLETE", run_id=minimise, job_name="survey.minimise", inputs=[input_ref], outputs=[output_ref]
        ),
    ]
    ids = [store.add(event) for event in events]
    assert ids == sorted(ids)
    assert store.count() == 5

    # Full JSON round trip: what comes back is exactly what the sinks send.
    assert store.events() == [event_to_dict(e) for e in events]
    assert [e["eventType"] for e in store.events(run_id=minimise)] == ["START", "FAIL", "COMPLETE"]
    assert len(store.events(job_name="survey.ingest")) == 2
    assert len(store.events(dataset_name=input_ref.name)) == 5
    assert len(store.events(dataset_name=output_ref.name)) == 1
    assert store.events(dataset_name="no/such/dataset") == []
    assert len(store.events(job_name="survey.minimise", dataset_name=input_ref.name)) == 3
    newest = store.events(limit=2)
    assert [e["eventType"] for e in newest] == ["FAIL", "COMPLETE"]
    assert store.run_states(minimise) == ["START", "FAIL", "COMPLETE"]

    runs = store.runs_for_dataset(input_ref.name)
    assert [(r.run_id, r.direction, r.state, r.job_name) for r in runs] == [
        (ingest, "out", "COMPLETE", "survey.ingest"),
        (minimise, "in", "COMPLETE", "survey.minimise"),
    ]
    assert runs[0].event_time.tzinfo is not None
    assert store.runs_for_dataset(input_ref.name, namespace="other://ns") == []

    with store.engine.connect() as conn:
        parents = conn.execute(sa.text("SELECT DISTINCT parent_run_id FROM lineage_events")).scalars().all()
    assert set(parents) == {dag_run, None}


def test_sqlite_round_trip(tmp_path: Path, input_ref: DatasetRef, output_ref: DatasetRef) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with LineageStore(url) as store:
        _exercise(store, input_ref, output_ref)
    # Re-opening is idempotent and sees the same events.
    with LineageStore(url) as again:
        assert again.count() == 5


def test_in_memory_sqlite_keeps_events(input_ref: DatasetRef) -> None:
    store = LineageStore("sqlite://")
    store.add(build_run_event("START", run_id=new_run_id(), job_name="j", inputs=[input_ref]))
    assert store.count() == 1


def test_store_accepts_event_dicts_and_caller_engine(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    store = LineageStore(engine)
    doc = event_to_dict(build_run_event("START", run_id=new_run_id(), job_name="j"))
    store.add(doc)
    store.close()  # the caller's engine stays usable
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM lineage_event_datasets")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT event_type FROM lineage_events")).scalar_one() == "START"
    engine.dispose()


def test_unusable_url_is_a_lineage_error() -> None:
    with pytest.raises(LineageError, match="unusable database URL"):
        LineageStore("nosuchdialect://x")


def test_unwritable_location_is_a_lineage_error(tmp_path: Path) -> None:
    with pytest.raises(LineageError, match="cannot create tables"):
        LineageStore(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


_WRITER = textwrap.dedent(
    """
    import sys
    from clearhouse.lineage.events import DatasetRef, build_run_event, new_run_id
    from clearhouse.lineage.store import LineageStore

    store = LineageStore(sys.argv[1])
    ref = DatasetRef("file:///z", "shared/dataset", [("a", "int64")], row_count=1)
    for _ in range(int(sys.argv[2])):
        store.add(build_run_event("START", run_id=new_run_id(), job_name=sys.argv[3], outputs=[ref]))
    """
)


def test_two_processes_write_the_same_sqlite_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, url, "30", f"writer{i}"], env=env, cwd=tmp_path)
        for i in range(2)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with LineageStore(url) as store:
        assert store.count() == 60
        assert len(store.runs_for_dataset("shared/dataset")) == 60
        assert len(store.events(job_name="writer1")) == 30


@pytest.fixture
def pg_engine() -> Iterator[sa.Engine]:
    """An engine whose tables live in a fresh schema, dropped afterwards.

    Skips when the server is unreachable, except on CI (``CI`` set), where PostgreSQL is part of the
    contract and its absence must fail loudly.
    """
    admin = sa.create_engine(PG_URL, poolclass=sa.NullPool, connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(
                f"PostgreSQL at {sa.make_url(PG_URL).host} is unreachable on CI: {type(exc).__name__}"
            )
        pytest.skip("PostgreSQL is unreachable")
    schema = f"lineage_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(
        PG_URL, poolclass=sa.NullPool, connect_args={"options": f"-csearch_path={schema}"}
    )
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_round_trip(pg_engine: sa.Engine, input_ref: DatasetRef, output_ref: DatasetRef) -> None:
    store = LineageStore(pg_engine)
    store.create_tables()  # idempotent on PostgreSQL too
    _exercise(store, input_ref, output_ref)
    inspector = sa.inspect(pg_engine)
    assert set(metadata.tables) <= set(inspector.get_table_names())
    id_type: Any = next(c["type"] for c in inspector.get_columns("lineage_events") if c["name"] == "id")
    assert isinstance(id_type, sa.BigInteger)


@pytest.mark.postgres
def test_postgres_rejects_unknown_direction(pg_engine: sa.Engine) -> None:
    store = LineageStore(pg_engine)
    event_id = store.add(build_run_event("START", run_id=new_run_id(), job_name="j"))
    with pytest.raises(sa.exc.IntegrityError), pg_engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO lineage_event_datasets (event_id, direction, namespace, name)"
                " VALUES (:id, 'up', 'n', 'x')"
            ),
            {"id": event_id},
        )

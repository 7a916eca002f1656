from __future__ import annotations

import stat
from pathlib import Path

import pytest

from clearhouse.catalog import Catalog
from clearhouse.errors import IngestError
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings
from clearhouse.stages.context import prepare
from clearhouse.stages.runner import guarded as stage


def _ctx(settings: Settings):  # type: ignore[no-untyped-def]
    src = settings.home / "in.csv"
    write_table(generate_support_tickets(20, seed=1), src)
    return prepare(REPO_ROOT / "datasets" / "support_tickets.yaml", source=src, settings=settings)


def test_unexpected_error_is_recorded_without_its_message(settings: Settings) -> None:
    ctx = _ctx(settings)
    with pytest.raises(ValueError, match=r"ann@example\.org"), stage(ctx, "minimise"):
        raise ValueError("cannot convert ann@example.org")
    info = Catalog(settings.db_url).get(ctx.dataset, ctx.version)
    assert info.state == "quarantined"
    assert info.reasons[0]["stage"] == "minimise"
    assert "ValueError" in info.reasons[0]["message"]
    assert "ann@example.org" not in str(info.reasons)
    trace = ctx.paths.work / "minimise.traceback"
    assert "ann@example.org" in trace.read_text()  # kept for engineers, next to the data it came from
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600


def test_clearhouse_errors_are_recorded_with_their_message(settings: Settings) -> None:
    ctx = _ctx(settings)
    with pytest.raises(IngestError), stage(ctx, "ingest"):
        raise IngestError("x.csv: malformed CSV at line 3")
    info = Catalog(settings.db_url).get(ctx.dataset, ctx.version)
    assert info.reasons == [{"stage": "ingest", "code": "ingest", "message": "x.csv: malformed CSV at line 3"}]
    assert not Path(ctx.paths.work / "ingest.traceback").exists()

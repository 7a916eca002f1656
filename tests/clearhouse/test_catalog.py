from __future__ import annotations

from pathlib import Path

import pytest

from clearhouse.catalog import Catalog
from clearhouse.errors import CatalogError, NotFoundError, ReleaseRefused


def _exercise(catalog: Catalog) -> None:
    catalog.register_dataset(dataset="ds", owner="o", purpose="p", ethics_risk="E2", policy_path="/p.yaml")
    catalog.start_version("ds", "v1", run_id="run-1")
    with pytest.raises(CatalogError, match="already exists"):
        catalog.start_version("ds", "v1")
    with pytest.raises(CatalogError, match="unknown dataset"):
        catalog.start_version("nope", "v1")
    catalog.update("ds", "v1", rows_in=10, info={"a": 1})
    catalog.update("ds", "v1", info={"b": 2})
    catalog.add_reason("ds", "v1", "validate", "balance failed", "validation")
    catalog.set_state("ds", "v1", "quarantined")
    info = catalog.get("ds", "v1")
    assert info.state == "quarantined"
    assert info.rows_in == 10
    assert info.info == {"a": 1, "b": 2}
    assert info.reasons == [{"stage": "validate", "code": "validation", "message": "balance failed"}]
    with pytest.raises(ReleaseRefused, match="no cleared version"):
        catalog.latest_cleared("ds")
    with pytest.raises(NotFoundError, match="unknown dataset"):  # bad input (exit 2), not a refusal
        catalog.latest_cleared("other")
    catalog.start_version("ds", "v2")
    catalog.set_state("ds", "v2", "cleared")
    assert catalog.latest_cleared("ds").version == "v2"
    assert [v.version for v in catalog.versions("ds")] == ["v1", "v2"]
    with pytest.raises(CatalogError, match="unknown state"):
        catalog.set_state("ds", "v2", "published")
    catalog.audit("pull", actor="bob", dataset="ds", version="v2", detail={"rows": 3})
    assert catalog.audit_log("ds")[0]["actor"] == "bob"


def test_catalog_on_sqlite(tmp_path: Path) -> None:
    _exercise(Catalog(f"sqlite:///{tmp_path / 'c.db'}"))


@pytest.mark.postgres
def test_catalog_on_postgres(pg_url: str) -> None:
    _exercise(Catalog(pg_url))

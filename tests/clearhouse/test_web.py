from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from clearhouse.catalog import Catalog
from clearhouse.web import create_app


def test_catalog_api_serves_states_not_values(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    cat = Catalog(url)
    cat.register_dataset(dataset="ds", owner="o", purpose="p", ethics_risk="E2", policy_path="/p")
    cat.start_version("ds", "20261125T101500Z-a1b2c3")
    cat.update(
        "ds",
        "20261125T101500Z-a1b2c3",
        info={"pii_found": {"email": {"EMAIL_ADDRESS": 3}}, "cleared_path": "/secret/path"},
    )
    client = TestClient(create_app(url))
    assert client.get("/datasets").json() == ["ds"]
    body = client.get("/datasets/ds/versions/20261125T101500Z-a1b2c3").json()
    assert body["state"] == "processing"
    assert body["pii_found"] == {"email": {"EMAIL_ADDRESS": 3}}
    assert "cleared_path" not in body
    assert client.get("/datasets/ds/versions/nope").status_code == 404

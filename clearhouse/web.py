"""Read-only catalog API (FastAPI), mounted in Airflow's API server by ``plugins/clearhouse_plugin.py``.

It serves states, reasons and aggregate findings — never data values or key material.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException

from clearhouse.catalog import Catalog
from clearhouse.errors import CatalogError
from clearhouse.settings import load_settings


def create_app(db_url: str | None = None) -> FastAPI:
    app = FastAPI(title="Clearhouse catalog", version="0.1.0")

    def catalog() -> Catalog:
        return Catalog(db_url or load_settings().db_url)

    @app.get("/datasets")
    def datasets() -> list[str]:
        return catalog().datasets()

    @app.get("/datasets/{dataset}/versions")
    def versions(dataset: str) -> list[dict[str, Any]]:
        return [v.to_dict() for v in catalog().versions(dataset)]

    @app.get("/datasets/{dataset}/versions/{version}")
    def version(dataset: str, version: str) -> dict[str, Any]:
        try:
            return catalog().get(dataset, version).to_dict()
        except CatalogError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    return app

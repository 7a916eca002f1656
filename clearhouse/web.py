"""Read-only catalog API (FastAPI), mounted in Airflow's API server by ``plugins/clearhouse_plugin.py``.

It serves states, reasons and aggregate findings — never data values or key material.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.config import load_settings
from clearhouse.errors import CatalogError

_PUBLIC_INFO = ("pii_found", "warnings", "ethics_risk", "source_name")


def _version(v: VersionInfo) -> dict[str, Any]:
    return {
        "dataset": v.dataset,
        "version": v.version,
        "state": v.state,
        "reasons": v.reasons,
        "rows_in": v.rows_in,
        "rows_out": v.rows_out,
        "raw_sha256": v.raw_sha256,
        "created_at": v.created_at.isoformat(),
        "updated_at": v.updated_at.isoformat(),
        **{k: v.info[k] for k in _PUBLIC_INFO if k in v.info},
    }


def create_app(db_url: str | None = None) -> FastAPI:
    app = FastAPI(title="Clearhouse catalog", version="0.1.0")

    def catalog() -> Catalog:
        return Catalog(db_url or load_settings().db_url)

    @app.get("/datasets")
    def datasets() -> list[str]:
        return catalog().datasets()

    @app.get("/datasets/{dataset}/versions")
    def versions(dataset: str) -> list[dict[str, Any]]:
        return [_version(v) for v in catalog().versions(dataset)]

    @app.get("/datasets/{dataset}/versions/{version}")
    def version(dataset: str, version: str) -> dict[str, Any]:
        try:
            return _version(catalog().get(dataset, version))
        except CatalogError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    return app

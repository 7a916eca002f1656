"""Engineers: every run (version) and its state, the stages the ledger recorded, and the catalog as JSON."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from clearhouse.catalog import STATES, Catalog
from clearhouse.errors import ClearhouseError
from clearhouse.governance.trace import trace
from clearhouse.web.deps import DatasetId, VersionId, app_settings, holding
from clearhouse.web.render import page
from clearhouse.web.security import Principal

router = APIRouter(tags=["engineer"])
Engineer = Annotated[Principal, Depends(holding("engineer"))]


def _catalog(request: Request) -> Catalog:
    return Catalog(app_settings(request).db_url)


@router.get("/engineer", response_class=HTMLResponse, name="engineer_runs", summary="Runs and their states (page)")
def runs_page(request: Request, p: Engineer) -> HTMLResponse:
    versions = sorted(_catalog(request).versions(), key=lambda v: v.created_at, reverse=True)
    counts = Counter(v.state for v in versions)
    return page(
        request, "engineer_runs.html", p, versions=versions, counts=[(s, counts[s]) for s in STATES if counts[s]]
    )


@router.get("/engineer/{dataset}/{version}", response_class=HTMLResponse, name="engineer_run", summary="One run (page)")
def run_page(request: Request, dataset: DatasetId, version: VersionId, p: Engineer) -> HTMLResponse:
    info = _catalog(request).get(dataset, version)
    problem = None
    try:
        entries = trace(app_settings(request), dataset, version)["entries"]
    except ClearhouseError as exc:
        entries, problem = [], str(exc)
    return page(request, "engineer_run.html", p, info=info, entries=entries, problem=problem)


@router.get("/api/datasets", name="api_datasets", summary="Datasets (JSON)")
def datasets(request: Request, p: Engineer) -> list[str]:
    return _catalog(request).datasets()


@router.get("/api/datasets/{dataset}/versions", name="api_versions", summary="Versions of a dataset (JSON)")
def versions(request: Request, dataset: DatasetId, p: Engineer) -> list[dict[str, Any]]:
    catalog = _catalog(request)
    catalog.require_dataset(dataset)
    return [v.to_dict() for v in catalog.versions(dataset)]


@router.get("/api/datasets/{dataset}/versions/{version}", name="api_version", summary="One version (JSON)")
def version(request: Request, dataset: DatasetId, version: VersionId, p: Engineer) -> dict[str, Any]:
    return _catalog(request).get(dataset, version).to_dict()

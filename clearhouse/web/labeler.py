"""Labelers: the cleared versions and their downloads (Parquet, CSV, JSON Lines, Label Studio), streamed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from clearhouse.acts.export import FORMATS, download
from clearhouse.acts.labeler import visible_versions
from clearhouse.catalog import VersionInfo
from clearhouse.web.deps import DatasetId, VersionId, app_settings, holding
from clearhouse.web.render import page
from clearhouse.web.security import Principal

router = APIRouter(tags=["labeler"])
Labeler = Annotated[Principal, Depends(holding("labeler"))]


def _cleared(request: Request, p: Principal) -> list[VersionInfo]:
    return visible_versions(app_settings(request), p.user)


@router.get("/labeler", response_class=HTMLResponse, name="labeler_versions", summary="Cleared versions (page)")
def versions_page(request: Request, p: Labeler) -> HTMLResponse:
    return page(request, "labeler_versions.html", p, versions=_cleared(request, p), formats=FORMATS)


@router.get("/api/cleared", name="api_cleared", summary="Cleared versions (JSON)")
def versions_json(request: Request, p: Labeler) -> list[dict[str, Any]]:
    return [
        {"dataset": v.dataset, "version": v.version, "rows": v.rows_out, "formats": list(FORMATS)}
        for v in _cleared(request, p)
    ]


@router.get(
    "/labeler/{dataset}/{version}/download/{fmt}",
    name="labeler_download",
    summary="Download a cleared version",
    description="Checked against the ledger and the release manifest first, recorded under your name, "
    "then streamed. Anything but a cleared version is refused (403).",
    response_class=StreamingResponse,
)
def download_version(
    request: Request, dataset: DatasetId, version: VersionId, fmt: str, p: Labeler
) -> StreamingResponse:
    d = download(app_settings(request), dataset, version, fmt, actor=p.user)
    return StreamingResponse(
        d.chunks,
        media_type=d.format.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{d.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "X-Clearhouse-Rows": str(d.rows),
            "X-Clearhouse-Release-Manifest-Sha256": d.release_manifest_sha256,
        },
    )

"""Privacy officers: each version's privacy report, Data Docs, balance charts, lineage, reasons and
decisions on one page; approve, reject or revoke with a reason, under their own name."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clearhouse.acts import assessment, officer, review
from clearhouse.catalog import Catalog
from clearhouse.errors import NotFoundError, ReleaseRefused
from clearhouse.governance.dossier import dossier, reports_dir
from clearhouse.validation.offline_docs import STYLESHEET, localise, stylesheet_text
from clearhouse.web.deps import DatasetId, VersionId, app_settings, holding
from clearhouse.web.render import SECURITY_HEADERS, page
from clearhouse.web.security import Principal, check_csrf
from clearhouse.zones import VersionPaths

router = APIRouter(tags=["officer"])
Officer = Annotated[Principal, Depends(holding("officer"))]

#: what an officer may decide in each state
ACTIONS = {"awaiting_approval": ("approve", "reject"), "cleared": ("revoke",)}
DONE = {
    "approve": "Approved: the version is cleared.",
    "reject": "Rejected.",
    "revoke": "Revoked: no further pulls.",
    "signed": "Assessment signed.",
    "sampled": "Review sample drawn: read every record and mark those that still show personal data.",
    "reviewed": "Review submitted.",
}
#: report files served to officers (the privacy report, its lineage export and the Data Docs site)
_SERVED = {".html", ".css", ".png", ".gif", ".svg", ".ico", ".otf", ".json"}


@router.get("/officer", response_class=HTMLResponse, name="officer_versions", summary="Versions to review (page)")
def versions_page(request: Request, p: Officer) -> HTMLResponse:
    versions = sorted(Catalog(app_settings(request).db_url).versions(), key=lambda v: v.updated_at, reverse=True)
    groups = [
        ("Awaiting your approval", [v for v in versions if v.state == "awaiting_approval"]),
        ("Cleared", [v for v in versions if v.state == "cleared"]),
        (
            "Quarantined, rejected, revoked or shredded",
            [v for v in versions if v.state not in ACTIONS and v.state != "processing"],
        ),
        ("Processing", [v for v in versions if v.state == "processing"]),
    ]
    return page(request, "officer_versions.html", p, groups=groups)


def _version_page(
    request: Request,
    p: Principal,
    dataset: str,
    version: str,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings = app_settings(request)
    d = dossier(settings, dataset, version)
    drawn = None
    if (
        d.gates is not None
        and d.gates.review.required
        and not d.gates.review.done
        and d.info.state == "awaiting_approval"
        and VersionPaths(settings, dataset, version).review_sample.is_file()
    ):
        drawn = review.sample(settings, dataset, version, actor=p.user)  # the kept sample: nothing is drawn
    return page(
        request,
        "officer_version.html",
        p,
        d=d,
        drawn=drawn,
        actions=ACTIONS.get(d.info.state, ()),
        done=done,
        error=error,
        status_code=status_code,
    )


@router.get(
    "/officer/{dataset}/{version}",
    response_class=HTMLResponse,
    name="officer_version",
    summary="Review one version (page)",
)
def version_page(request: Request, dataset: DatasetId, version: VersionId, p: Officer, done: str = "") -> HTMLResponse:
    return _version_page(request, p, dataset, version, done=DONE.get(done))


@router.post(
    "/officer/{dataset}/{version}/decide",
    name="officer_decide",
    summary="Approve, reject or revoke a version",
    description="Form fields: decision (approve|reject|revoke), reason, reviewed=yes (to approve), csrf_token "
    "(with a session cookie). Recorded with the officer's name in the audit log and the signed ledger.",
    response_model=None,
)
def decide(
    request: Request,
    dataset: DatasetId,
    version: VersionId,
    p: Officer,
    decision: Annotated[str, Form(pattern="^(approve|reject|revoke)$")],
    reason: Annotated[str, Form(max_length=500)] = "",
    reviewed: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    settings = app_settings(request)
    check_csrf(settings, request, p, csrf_token)
    state = Catalog(settings.db_url).get(dataset, version).state
    problem = None
    if decision not in ACTIONS.get(state, ()):
        problem = f"{dataset} {version} is {state.replace('_', ' ')}; it cannot be {decision}d now"
    elif not reason.strip():
        problem = "give a reason: it is recorded with your name"
    elif decision == "approve" and reviewed != "yes":
        problem = "confirm that you reviewed the report, Data Docs, balance and lineage before approving"
    if problem:
        return _version_page(
            request, p, dataset, version, error=problem, status_code=409 if "cannot" in problem else 400
        )
    if decision == "revoke":
        officer.revoke(settings, dataset, version, actor=p.user, reason=reason)
    elif decision == "approve":
        try:
            officer.decide(settings, dataset, version, approve=True, actor=p.user, note=reason.strip())
        except ReleaseRefused as exc:  # a gate before approval is outstanding: say which, keep the page
            return _version_page(request, p, dataset, version, error=str(exc), status_code=409)
    else:
        officer.decide(settings, dataset, version, approve=False, actor=p.user, note=reason.strip())
    target = request.url_for("officer_version", dataset=dataset, version=version).path
    return RedirectResponse(f"{target}?done={decision}", status_code=303)


@router.get(
    "/officer/{dataset}/{version}/files/{path:path}",
    name="officer_report",
    summary="A file of the version's report folder (privacy report, Data Docs)",
    response_model=None,
)
def report_file(request: Request, dataset: DatasetId, version: VersionId, path: str, p: Officer) -> Response:
    base = reports_dir(app_settings(request), dataset, version).resolve()
    target = (base / path).resolve()
    if path == f"data_docs/{STYLESHEET}" and not target.is_file() and (base / "data_docs").is_dir():
        # a site built before Data Docs were made offline has no copy of the stylesheet yet
        return Response(stylesheet_text(), media_type="text/css", headers=SECURITY_HEADERS)
    if not target.is_relative_to(base) or target.suffix.lower() not in _SERVED or not target.is_file():
        raise NotFoundError(f"no report file {path!r} for {dataset} {version}")
    rel = target.relative_to(base)
    if target.suffix.lower() == ".html":
        text = target.read_text(encoding="utf-8")
        if rel.parts[0] == "data_docs":  # docs built before the offline rewrite: rewrite on the way out
            text = localise(text, depth=len(rel.parts) - 2)
        return HTMLResponse(text, headers=SECURITY_HEADERS)
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return Response(target.read_bytes(), media_type=media, headers=SECURITY_HEADERS)


def _back(request: Request, dataset: str, version: str, done: str, anchor: str) -> RedirectResponse:
    target = request.url_for("officer_version", dataset=dataset, version=version).path
    return RedirectResponse(f"{target}?done={done}#{anchor}", status_code=303)


@router.post(
    "/officer/{dataset}/{version}/assessment/sign",
    name="officer_sign_assessment",
    summary="Sign the privacy impact assessment this version ran with",
    description="Form fields: digest (the assessment's digest as shown: refused if it changed since), note, "
    "csrf_token. Recorded with the officer's name in the ledger.",
    response_model=None,
)
def sign_assessment(
    request: Request,
    dataset: DatasetId,
    version: VersionId,
    p: Officer,
    digest: Annotated[str, Form(pattern="^[0-9a-f]{8,64}$")],
    note: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    settings = app_settings(request)
    check_csrf(settings, request, p, csrf_token)
    Catalog(settings.db_url).get(dataset, version)  # an unknown version is a 404, not a signature
    assessment.sign(settings, dataset, actor=p.user, note=note.strip(), expect_digest=digest)
    return _back(request, dataset, version, "signed", "gates")


@router.post(
    "/officer/{dataset}/{version}/review/sample",
    name="officer_review_sample",
    summary="Draw the residual-PII review sample of a waiting version",
    description="Drawn once (the seed and the sample's digest go to the ledger); later calls show the same.",
    response_model=None,
)
def review_sample(
    request: Request,
    dataset: DatasetId,
    version: VersionId,
    p: Officer,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    settings = app_settings(request)
    check_csrf(settings, request, p, csrf_token)
    review.sample(settings, dataset, version, actor=p.user)
    return _back(request, dataset, version, "sampled", "review")


@router.post(
    "/officer/{dataset}/{version}/review/submit",
    name="officer_review_submit",
    summary="Submit the residual-PII review: the sampled records that still show personal data",
    description="Form fields: leak (repeatable: the ref of each record marked), note, csrf_token. Above the "
    "policy's limit the version is quarantined; otherwise marked records are withheld from the release.",
    response_model=None,
)
def review_submit(
    request: Request,
    dataset: DatasetId,
    version: VersionId,
    p: Officer,
    leak: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    settings = app_settings(request)
    check_csrf(settings, request, p, csrf_token)
    review.submit(settings, dataset, version, [x[:200] for x in (leak or [])], actor=p.user, note=note.strip())
    return _back(request, dataset, version, "reviewed", "gates")

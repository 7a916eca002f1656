"""Submitting a run to a deployed Airflow 3 (``clearhouse trigger``) through its authenticated REST API.

Airflow 3's public API (``/api/v2``) takes a JWT bearer token, which the auth manager issues at
``POST /auth/token`` for a user name and password (the simple auth manager's token endpoint; FAB and
Keycloak expose the same one). The run gets our version id as its ``dag_run_id`` so that the catalog entry
it writes can be found. Standard library HTTP only; nothing here imports Airflow, and the token and the
password never reach a log or an error message.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import make_url

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import ClearhouseError, ConfigError
from clearhouse.runs import dag_id_for
from clearhouse.runs.cluster import client_defaults
from clearhouse.settings import Settings
from clearhouse.stages.context import prepare_check
from clearhouse.zones import new_version_id

TERMINAL = {"success", "failed"}
DEFAULT_API_URL = "http://127.0.0.1:8080"


class ApiError(ConfigError):
    """The API server refused a request or could not be reached (exit 2: nothing ran)."""


@dataclass
class AirflowApi:
    """A minimal client of Airflow 3's public REST API."""

    base_url: str
    user: str
    password: str = field(repr=False)
    timeout: float = 30.0
    _token: str | None = field(default=None, repr=False)

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None, *, auth: bool = True) -> Any:
        url = self.base_url.rstrip("/") + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) URL given by the user
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - see above
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = _detail(exc)
            raise ApiError(f"{method} {path} → HTTP {exc.code}{': ' + detail if detail else ''}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ApiError(f"Airflow API at {self.base_url} is not reachable ({type(exc).__name__})") from None
        return json.loads(raw) if raw else None

    def token(self) -> str:
        """A JWT from the auth manager's token endpoint (cached for this client)."""
        if self._token is None:
            try:
                doc = self._request(
                    "POST", "/auth/token", {"username": self.user, "password": self.password}, auth=False
                )
            except ApiError as exc:
                raise ApiError(f"sign-in as {self.user!r} failed ({str(exc).split(' → ', 1)[-1]})") from None
            self._token = str(doc["access_token"])
        return self._token

    def dag(self, dag_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = self._request("GET", f"/api/v2/dags/{quote(dag_id)}")
        return doc

    def unpause(self, dag_id: str) -> None:
        self._request("PATCH", f"/api/v2/dags/{quote(dag_id)}", {"is_paused": False})

    def trigger(self, dag_id: str, run_id: str, conf: Mapping[str, Any]) -> dict[str, Any]:
        body = {"dag_run_id": run_id, "logical_date": None, "conf": dict(conf)}
        doc: dict[str, Any] = self._request("POST", f"/api/v2/dags/{quote(dag_id)}/dagRuns", body)
        return doc

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = self._request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}")
        return doc

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        doc = self._request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances?limit=1000")
        return list(doc.get("task_instances") or [])


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        doc = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return ""
    detail = doc.get("detail") if isinstance(doc, dict) else None
    if isinstance(detail, str):
        return detail[:300]
    return json.dumps(detail)[:300] if detail else ""


@dataclass(frozen=True)
class Submitted:
    dataset: str
    version: str
    dag_id: str
    run_id: str
    api_url: str
    catalog_url: str


@dataclass(frozen=True)
class Outcome:
    """A finished run: its catalog entry, the DAG run's state and its task instances."""

    submitted: Submitted
    run_state: str
    info: VersionInfo
    task_instances: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        tis = [
            {k: ti.get(k) for k in ("task_id", "map_index", "state", "hostname", "try_number")}
            for ti in sorted(self.task_instances, key=lambda t: (t.get("start_date") or "", t.get("task_id") or ""))
        ]
        return {
            **self.info.to_dict(),
            "dag_id": self.submitted.dag_id,
            "dag_run_id": self.submitted.run_id,
            "run_state": self.run_state,
            "api_url": self.submitted.api_url,
            "task_instances": tis,
        }


def connect(settings: Settings, api_url: str | None = None) -> tuple[AirflowApi, str]:
    """A client for ``api_url`` (or ``CLEARHOUSE_API_URL``, or the local cluster's) and the catalog URL
    to read outcomes from (``CLEARHOUSE_DB_URL`` if set to a server database, else the local cluster's)."""
    local_url, local_password, local_catalog = client_defaults(settings)
    url = api_url or settings.api_url or local_url or DEFAULT_API_URL
    if settings.api_password is not None:
        password = settings.api_password.get_secret_value()
    elif local_password and url == local_url:
        password = local_password
    else:
        raise ConfigError(f"no password for the Airflow API at {url}: set CLEARHOUSE_API_PASSWORD")
    catalog = settings.db_url if not settings.db_url.startswith("sqlite") else (local_catalog or settings.db_url)
    return AirflowApi(url, settings.api_user, password), catalog


def submit(settings: Settings, api: AirflowApi, catalog_url: str, policy_path: Path, source: Path | None) -> Submitted:
    """Check the policy, find its DAG on the server (waiting a little for a fresh DAG processor), and
    trigger a run with a new version id."""
    policy, src = prepare_check(policy_path, source, settings, require_source=False)
    dag_id = dag_id_for(policy.id)
    deadline = time.monotonic() + 90
    while True:
        try:
            dag = api.dag(dag_id)
            break
        except ApiError as exc:
            if "HTTP 404" not in str(exc) or time.monotonic() > deadline:
                if "HTTP 404" in str(exc):
                    raise ConfigError(
                        f"the Airflow at {api.base_url} has no DAG {dag_id}; its DAG processor builds one DAG per "
                        "policy in its CLEARHOUSE_DATASETS (or CLEARHOUSE_EXTRA_POLICIES)"
                    ) from None
                raise
            time.sleep(3)
    if dag.get("is_paused"):
        api.unpause(dag_id)
    version = new_version_id()
    run_id = f"clearhouse__{version}"
    api.trigger(dag_id, run_id, {"version": version, "source": str(src)})
    shown = make_url(catalog_url).render_as_string(hide_password=True) if "://" in catalog_url else catalog_url
    return Submitted(policy.id, version, dag_id, run_id, api.base_url, shown)


def wait(
    api: AirflowApi,
    catalog_url: str,
    submitted: Submitted,
    *,
    timeout: float,
    poll: float = 3.0,
    on_tasks: Callable[[list[dict[str, Any]]], None] | None = None,
) -> Outcome:
    """Poll the DAG run until it ends; then read the version from the catalog."""
    deadline = time.monotonic() + timeout
    state = ""
    tis: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        state = str(api.dag_run(submitted.dag_id, submitted.run_id).get("state"))
        tis = api.task_instances(submitted.dag_id, submitted.run_id)
        if on_tasks is not None:
            on_tasks(tis)
        if state in TERMINAL:
            break
        time.sleep(poll)
    else:
        raise ConfigError(
            f"run {submitted.run_id} of {submitted.dag_id} still {state or 'queued'} after {timeout:.0f}s "
            f"(it goes on; see the Airflow UI at {submitted.api_url})"
        )
    try:
        info = Catalog(catalog_url).get(submitted.dataset, submitted.version)
    except ClearhouseError:
        failed = ", ".join(f"{t.get('task_id')}={t.get('state')}" for t in tis) or "no task ran"
        raise ConfigError(
            f"run {submitted.run_id} ended {state} without a catalog entry in {submitted.catalog_url} ({failed})"
        ) from None
    return Outcome(submitted, state, info, tis)

"""Runs that died without finishing (SIGKILL, a lost machine) must not leave their version
``processing`` forever: they are closed as failed — quarantined with reason ``stale``, recorded.

A run submitted here (``clearhouse run``) leaves ``runs/<dataset>-<version>.pid`` while its Airflow child
lives; a processing version whose child is gone on this host is stale. A version with no such file (run
by a scheduler elsewhere) is stale only when nothing touched it for ``CLEARHOUSE_STALE_AFTER_HOURS``.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.files import read_json
from clearhouse.governance.record import record
from clearhouse.settings import Settings


def pid_file(settings: Settings, dataset: str, version: str) -> Path:
    return settings.home / "runs" / f"{dataset}-{version}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    stat = Path(f"/proc/{pid}/stat")
    try:  # a zombie has exited; it only waits for its parent
        return stat.read_text().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def _why_stale(settings: Settings, v: VersionInfo, now: datetime) -> str | None:
    marker = pid_file(settings, v.dataset, v.version)
    if marker.is_file():
        try:
            owner = read_json(marker)
        except (OSError, ValueError):
            return None
        if owner.get("host") == socket.gethostname() and not _alive(int(owner.get("pid", 0))):
            return "its Airflow process ended without finishing the run (killed?)"
        return None
    idle = now - (v.updated_at if v.updated_at.tzinfo else v.updated_at.replace(tzinfo=UTC))
    if idle > timedelta(hours=settings.stale_after_hours):
        return f"no progress for {idle.total_seconds() / 3600:.0f} h (limit {settings.stale_after_hours} h)"
    return None


def close_stale_runs(settings: Settings, dataset: str | None = None) -> list[VersionInfo]:
    """Close every stale ``processing`` version as failed; return the ones closed."""
    catalog = Catalog(settings.db_url)
    now = datetime.now(UTC)
    closed = []
    for v in catalog.versions(dataset):
        if v.state != "processing" or (why := _why_stale(settings, v, now)) is None:
            continue
        message = f"run did not finish: {why}; closed as failed, nothing was released"
        catalog.add_reason(v.dataset, v.version, "run", message, "stale")
        catalog.set_state(v.dataset, v.version, "quarantined")
        record(
            settings,
            "run_closed",
            dataset=v.dataset,
            version=v.version,
            payload={"state": "quarantined", "code": "stale", "why": why},
        )
        pid_file(settings, v.dataset, v.version).unlink(missing_ok=True)
        closed.append(catalog.get(v.dataset, v.version))
    return closed

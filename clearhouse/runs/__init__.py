"""Submitting runs of a dataset policy: :func:`run_policy` runs its DAG through Airflow on the embedded
default (:mod:`~clearhouse.runs.embedded`: ``airflow dags test`` in a child process, SQLite metadata) and
returns the version's catalog entry. Nothing here imports Airflow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clearhouse.catalog import Catalog, VersionInfo
from clearhouse.errors import ClearhouseError, ConfigError
from clearhouse.privacy.crypto.configured import require_keyring
from clearhouse.runs.embedded import run_dag_test
from clearhouse.runs.stale import close_stale_runs, pid_file
from clearhouse.settings import Settings
from clearhouse.stages.context import prepare_check
from clearhouse.zones import VersionPaths, new_version_id

DAG_PREFIX = "clearhouse__"


def dag_id_for(dataset: str) -> str:
    return f"{DAG_PREFIX}{dataset}"


def run_log_path(settings: Settings, dataset: str, version: str) -> Path:
    return VersionPaths(settings, dataset, version).run_log


def run_policy(
    settings: Settings,
    policy_path: Path,
    source: Path | None,
    *,
    on_line: Callable[[str], None] | None = None,
) -> VersionInfo:
    """Run one policy's DAG through Airflow and return the resulting catalog entry.

    Everything that can be checked first (policy, treatments, source file, keyring) is checked before
    Airflow starts, so bad input fails fast with nothing recorded."""
    settings.ensure_dirs()
    policy, src = prepare_check(policy_path, source, settings)
    require_keyring(settings)
    close_stale_runs(settings, policy.id)
    version = new_version_id()
    conf = {"version": version, "source": str(src)}
    log_path = run_log_path(settings, policy.id, version)
    outcome = run_dag_test(
        settings,
        dag_id_for(policy.id),
        conf,
        log_path=log_path,
        extra_policies=[policy_path.resolve()],
        on_line=on_line,
        pid_file=pid_file(settings, policy.id, version),
    )
    catalog = Catalog(settings.db_url)
    try:
        info = catalog.get(policy.id, version)
    except ClearhouseError:
        tail = "\n".join(outcome.log_path.read_text(encoding="utf-8").splitlines()[-20:])
        raise ConfigError(f"the DAG run did not start (exit {outcome.returncode}); log: {log_path}\n{tail}") from None
    return info

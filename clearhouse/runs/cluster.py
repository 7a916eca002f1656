"""A local distributed deployment without Docker: Airflow 3 with the CeleryExecutor on the local
PostgreSQL (Airflow's metadata DB, the Celery result backend and Clearhouse's catalog, each database
created if missing) and Redis (the Celery broker).

``clearhouse cluster up`` starts the API server, scheduler, DAG processor, triggerer and N Celery workers
as background processes. Everything lives under ``CLEARHOUSE_HOME/cluster/``:

``airflow.env``     the one configuration every component reads (mode 0600: it holds the JWT secret,
                    the API secret key and the Fernet key, generated once and kept across restarts)
``passwords.json``  the generated password of the API's admin user (0600; simple auth manager's file)
``cluster.json``    what clients need and nothing secret: API URL, user, catalog URL, components
``logs/NAME.log``   each component's output; ``pids/NAME.pid`` its process id
``airflow/``        AIRFLOW_HOME (task logs under ``airflow/logs``)

Every component listens on 127.0.0.1 only (Celery's and the triggerer's log servers are off: the API
server reads task logs from the shared local folder). Each process is started in its own session, so
stopping its process group also stops what it forked (Celery's pool, task supervisors, API workers).
Nothing here imports Airflow: components run as ``airflow …`` subprocesses.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from clearhouse.catalog import Catalog
from clearhouse.errors import ConfigError
from clearhouse.files import write_json
from clearhouse.runs.embedded import _airflow_bin, airflow_env
from clearhouse.settings import Settings

API_HOST = "127.0.0.1"
ADMIN_USER = "admin"
HOSTNAME_CALLABLE = "clearhouse.orchestration.hostname.worker_hostname"
START_TIMEOUT = 240.0
STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Component:
    """One background process of the cluster."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]


@dataclass(frozen=True)
class Layout:
    """Where a cluster keeps its files (under ``CLEARHOUSE_HOME/cluster``)."""

    root: Path

    @property
    def env_file(self) -> Path:
        return self.root / "airflow.env"

    @property
    def passwords(self) -> Path:
        return self.root / "passwords.json"

    @property
    def info(self) -> Path:
        return self.root / "cluster.json"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def pid(self, name: str) -> Path:
        return self.root / "pids" / f"{name}.pid"


def layout(settings: Settings) -> Layout:
    return Layout(settings.cluster_dir)


# ------------------------------------------------------------------------------------------ configuration
def _database_url(settings: Settings, database: str, *, driver: str = "postgresql") -> str:
    try:
        url = make_url(settings.cluster_pg_url)
    except Exception as exc:
        raise ConfigError(f"CLEARHOUSE_CLUSTER_PG_URL is not a database URL ({type(exc).__name__})") from None
    if url.get_backend_name() != "postgresql":
        raise ConfigError("CLEARHOUSE_CLUSTER_PG_URL must be a postgresql:// URL")
    return url.set(drivername=driver, database=database).render_as_string(hide_password=False)


def database_names(settings: Settings) -> dict[str, str]:
    prefix = settings.cluster_db_prefix
    return {"airflow": f"{prefix}_airflow", "catalog": f"{prefix}_catalog"}


def catalog_url(settings: Settings) -> str:
    """The catalog the cluster's tasks write: ``CLEARHOUSE_DB_URL`` if it names a PostgreSQL database,
    else the cluster's own ``PREFIX_catalog`` (SQLite is no place for several writing workers)."""
    if settings.db_url.startswith("postgresql"):
        return settings.db_url
    return _database_url(settings, database_names(settings)["catalog"])


def api_url(settings: Settings) -> str:
    return f"http://{API_HOST}:{settings.cluster_api_port}"


def _fernet_key() -> str:
    return urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    path.chmod(0o600)


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments); no quoting, no expansion."""
    env: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value
    return env


def cluster_config(settings: Settings, secrets_: Mapping[str, str]) -> dict[str, str]:
    """The shared configuration of every component (Airflow's ``AIRFLOW__…`` variables and ours)."""
    lay = layout(settings)
    airflow_db = _database_url(settings, database_names(settings)["airflow"])
    url = api_url(settings)
    queue = settings.cluster_db_prefix
    return {
        "AIRFLOW_HOME": str(lay.airflow_home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE,
        "AIRFLOW__CORE__FERNET_KEY": secrets_["fernet_key"],
        # the execution API every worker's task supervisor talks to (else workers assume localhost:8080)
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(lay.passwords),
        # Airflow derives the async URL (postgresql+asyncpg) from this one; both drivers are in the lock
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db,
        "AIRFLOW__CELERY__BROKER_URL": settings.cluster_broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{airflow_db}",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__API__HOST": API_HOST,
        "AIRFLOW__API__PORT": str(settings.cluster_api_port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API__WORKERS": "1",
        # one JWT secret for the API server (which signs task tokens) and every worker (which presents them)
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets_["jwt_secret"],
        "AIRFLOW__API__SECRET_KEY": secrets_["api_secret_key"],
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(lay.airflow_home / "logs"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "CLEARHOUSE_DB_URL": catalog_url(settings),
        # A task runs in a child of Celery's prefork pool, which is daemonic, and a daemonic process may
        # not start a process pool ("daemonic processes are not allowed to have children"): detection
        # runs serially in each task, and parallelism comes from the workers.
        "CLEARHOUSE_DETECT_PROCESSES": "1",
    }


def write_config(settings: Settings) -> dict[str, str]:
    """Write ``airflow.env`` and the password file once (0600); later calls keep their secrets."""
    lay = layout(settings)
    lay.root.mkdir(parents=True, exist_ok=True)
    old = read_env_file(lay.env_file) if lay.env_file.exists() else {}
    secrets_ = {
        "fernet_key": old.get("AIRFLOW__CORE__FERNET_KEY") or _fernet_key(),
        "jwt_secret": old.get("AIRFLOW__API_AUTH__JWT_SECRET") or secrets.token_urlsafe(48),
        "api_secret_key": old.get("AIRFLOW__API__SECRET_KEY") or secrets.token_urlsafe(48),
    }
    config = cluster_config(settings, secrets_)
    lines = [
        "# Clearhouse local cluster: the one configuration of every component (`clearhouse cluster up`).",
        "# Holds secrets: keep it 0600, never commit or print it.",
        *(f"{k}={v}" for k, v in config.items()),
    ]
    _write_private(lay.env_file, "\n".join(lines) + "\n")
    if not lay.passwords.exists():
        _write_private(lay.passwords, json.dumps({ADMIN_USER: secrets.token_urlsafe(24)}) + "\n")
    write_json(
        lay.info,
        {
            "api_url": api_url(settings),
            "api_user": ADMIN_USER,
            "password_file": str(lay.passwords),
            "catalog_url": make_url(config["CLEARHOUSE_DB_URL"]).render_as_string(hide_password=True),
            "queue": config["AIRFLOW__OPERATORS__DEFAULT_QUEUE"],
            "components": [c.name for c in components(settings, config)],
        },
    )
    return config


def components(settings: Settings, config: Mapping[str, str]) -> list[Component]:
    airflow = _airflow_bin()
    queue = config["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    port = str(settings.cluster_api_port)
    out = [
        Component("api-server", (airflow, "api-server", "--host", API_HOST, "--port", port, "--workers", "1"), {}),
        Component("scheduler", (airflow, "scheduler"), {}),
        Component("dag-processor", (airflow, "dag-processor"), {}),
        Component("triggerer", (airflow, "triggerer", "--skip-serve-logs"), {}),
    ]
    for i in range(1, settings.cluster_workers + 1):
        name = f"w{i}"
        argv: tuple[str, ...] = (airflow, "celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", queue)
        argv += ("--concurrency", "1", "--skip-serve-logs")
        out.append(Component(f"worker-{name}", argv, {"CLEARHOUSE_WORKER_NAME": name}))
    return out


def process_env(settings: Settings, config: Mapping[str, str]) -> dict[str, str]:
    """A component's environment: the caller's (root key included, never written anywhere), ours, the
    cluster's configuration on top."""
    env = airflow_env(settings)
    env.update(config)
    env.pop("CLEARHOUSE_WORKER_NAME", None)
    return env


# ------------------------------------------------------------------------------------------------ services
def ensure_databases(settings: Settings) -> None:
    """Create the cluster's databases if missing (PostgreSQL at ``CLEARHOUSE_CLUSTER_PG_URL``)."""
    admin_url = settings.cluster_pg_url
    try:
        engine = create_engine(
            make_url(admin_url).set(drivername="postgresql"),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
        )
        with engine.connect() as conn:
            for name in database_names(settings).values():
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except ConfigError:
        raise
    except Exception as exc:
        host = make_url(admin_url).host
        raise ConfigError(f"PostgreSQL at {host} is not reachable or refused ({type(exc).__name__})") from None


def check_broker(settings: Settings) -> None:
    """Fail fast when Redis does not answer PING (the broker is required)."""
    parts = urlsplit(settings.cluster_broker_url)
    if parts.scheme not in {"redis", "rediss"}:
        raise ConfigError("CLEARHOUSE_CLUSTER_BROKER_URL must be a redis:// URL")
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            if parts.password:
                sock.sendall(f"AUTH {parts.password}\r\n".encode())
                sock.recv(64)
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        raise ConfigError(f"Redis at {host}:{port} is not reachable ({type(exc).__name__})") from None
    if not reply.startswith(b"+PONG"):
        raise ConfigError(f"Redis at {host}:{port} did not answer PING")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((API_HOST, port)) != 0


# ------------------------------------------------------------------------------------------------ processes
def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # the command name (field 2) may contain spaces: count fields after its closing parenthesis
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in {"Z", "X"}:  # exited, not yet reaped: not running
        return None
    return fields[19]


def _read_pid(path: Path) -> int | None:
    """The pid in a pid file if that process still runs: a recycled pid (another start time) is not ours."""
    try:
        pid_text, started = path.read_text(encoding="utf-8").split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    return pid if _start_time(pid) == started else None


def running(settings: Settings) -> dict[str, int | None]:
    """Each component of the cluster → its pid if running (components whose pid file exists)."""
    lay = layout(settings)
    out: dict[str, int | None] = {}
    pid_dir = lay.root / "pids"
    for path in sorted(pid_dir.glob("*.pid")) if pid_dir.is_dir() else []:
        out[path.stem] = _read_pid(path)
    return out


def _start(lay: Layout, component: Component, env: Mapping[str, str]) -> int:
    log_path = lay.log(component.name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    lay.pid(component.name).parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own venv's airflow
            list(component.argv),
            env={**env, **component.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole, immune to our Ctrl-C
            cwd=lay.root,
        )
    lay.pid(component.name).write_text(f"{proc.pid} {_start_time(proc.pid)}\n", encoding="utf-8")
    return proc.pid


def migrate(settings: Settings, env: Mapping[str, str]) -> None:
    lay = layout(settings)
    lay.log("migrate").parent.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(  # noqa: S603 - fixed argv
        [_airflow_bin(), "db", "migrate"], env=dict(env), capture_output=True, text=True, check=False
    )
    lay.log("migrate").write_text(out.stdout + out.stderr, encoding="utf-8")
    if out.returncode != 0:
        raise ConfigError(f"airflow db migrate failed (exit {out.returncode}); log: {lay.log('migrate')}")


def health(settings: Settings, timeout: float = 5.0) -> dict[str, Any] | None:
    """The API server's health document (``/api/v2/monitor/health``), or None if it does not answer."""
    try:
        with urllib.request.urlopen(f"{api_url(settings)}/api/v2/monitor/health", timeout=timeout) as resp:  # noqa: S310 - our http URL on loopback
            data: dict[str, Any] = json.loads(resp.read())
            return data
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _healthy(doc: Mapping[str, Any] | None) -> bool:
    if not doc:
        return False
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all((doc.get(p) or {}).get("status") == "healthy" for p in parts)


def _workers_ready(lay: Layout, offsets: Mapping[str, int]) -> bool:
    for name, offset in offsets.items():
        try:
            with lay.log(name).open("rb") as fh:
                fh.seek(offset)
                if b" ready." not in fh.read():
                    return False
        except OSError:
            return False
    return True


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def up(settings: Settings, *, timeout: float = START_TIMEOUT) -> dict[str, int | None]:
    """Start every component not already running and wait until the API reports them healthy and the
    Celery workers are ready. On failure, stop what runs and raise ``ConfigError`` naming the log."""
    settings.ensure_dirs()
    lay = layout(settings)
    check_broker(settings)
    ensure_databases(settings)
    config = write_config(settings)
    env = process_env(settings, config)
    Catalog(config["CLEARHOUSE_DB_URL"])  # creates the catalog's tables once, before workers race to
    alive = {k for k, v in running(settings).items() if v}
    todo = [c for c in components(settings, config) if c.name not in alive]
    if any(c.name == "api-server" for c in todo) and not _port_free(settings.cluster_api_port):
        raise ConfigError(
            f"port {settings.cluster_api_port} on {API_HOST} is in use; set CLEARHOUSE_CLUSTER_API_PORT to another"
        )
    migrate(settings, env)
    workers = [c.name for c in todo if c.name.startswith("worker-")]
    # logs are appended across restarts: a worker is ready when its log says so after this start
    offsets = {name: _size(lay.log(name)) for name in workers}
    try:
        for component in todo:
            _start(lay, component, env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = running(settings)
            dead = [name for name, pid in state.items() if pid is None]
            if dead:
                tails = "\n".join(f"--- {n}: {lay.log(n)}\n{_tail(lay.log(n))}" for n in dead)
                raise ConfigError(f"cluster component(s) exited: {', '.join(dead)}\n{tails}")
            if _healthy(health(settings)) and _workers_ready(lay, offsets):
                return state
            time.sleep(2)
        raise ConfigError(f"the cluster did not become healthy within {timeout:.0f}s; logs in {lay.root / 'logs'}")
    except BaseException:
        # failed or interrupted (Ctrl-C): components run in their own sessions, so stop them here
        down(settings)
        raise


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def down(settings: Settings, *, timeout: float = STOP_TIMEOUT) -> list[str]:
    """Stop every component (SIGTERM to its process group, SIGKILL after ``timeout``); remove pid files.
    Returns the names of the components that were running."""
    lay = layout(settings)
    pids = {name: pid for name, pid in running(settings).items() if pid}
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_group_alive(pid) for pid in pids.values()):
        time.sleep(0.5)
    for pid in pids.values():
        if _group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_group_alive(pid) for pid in pids.values()):
        time.sleep(0.2)
    pid_dir = lay.root / "pids"
    for path in pid_dir.glob("*.pid") if pid_dir.is_dir() else []:
        path.unlink()
    return sorted(pids)


def _group_alive(pgid: int) -> bool:
    """Any process of the group still alive (zombies of ours are reaped first)."""
    try:
        while True:
            reaped, _ = os.waitpid(-pgid, os.WNOHANG)
            if reaped == 0:
                break
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(settings: Settings) -> dict[str, Any]:
    """Components and their pids, the API's health, and where clients find the cluster."""
    lay = layout(settings)
    info: dict[str, Any] = json.loads(lay.info.read_text(encoding="utf-8")) if lay.info.exists() else {}
    return {
        "components": running(settings),
        "health": health(settings) if info else None,
        "api_url": info.get("api_url"),
        "catalog_url": info.get("catalog_url"),
        "logs": str(lay.root / "logs"),
    }


def client_defaults(settings: Settings) -> tuple[str | None, str | None, str | None]:
    """The local cluster's API URL, admin password and catalog URL, if one was set up in this home."""
    lay = layout(settings)
    if not lay.info.exists():
        return None, None, None
    info = json.loads(lay.info.read_text(encoding="utf-8"))
    password = None
    if lay.passwords.exists():
        password = json.loads(lay.passwords.read_text(encoding="utf-8")).get(info.get("api_user", ADMIN_USER))
    catalog = read_env_file(lay.env_file).get("CLEARHOUSE_DB_URL") if lay.env_file.exists() else None
    return info.get("api_url"), password, catalog

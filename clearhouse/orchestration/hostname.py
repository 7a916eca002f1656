"""The hostname Airflow records for a task instance (``[core] hostname_callable``).

Several Celery workers on one machine would all report the machine's name; ``clearhouse cluster up``
names each worker (``CLEARHOUSE_WORKER_NAME``) and points Airflow here, so a task instance says which
worker ran it, in Celery's own node-name form (``w1@HOST``). No Airflow import: Airflow imports this.
"""

from __future__ import annotations

import socket

from clearhouse.settings import load_settings


def worker_hostname() -> str:
    """``NAME@FQDN`` in a named worker, else the machine's fully qualified name (Airflow's default)."""
    fqdn = socket.getfqdn()
    name = load_settings().worker_name
    return f"{name}@{fqdn}" if name else fqdn

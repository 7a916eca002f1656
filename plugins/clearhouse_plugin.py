"""Airflow plugin: mounts the Clearhouse portal (:mod:`clearhouse.web`) in the Airflow 3 API server at
/clearhouse. The portal has its own sign-in (Clearhouse API tokens): nothing under /clearhouse answers
anonymously except its sign-in page and /clearhouse/healthz.

Operators and hooks do not belong here (Airflow 3 rule); the pipeline lives in importable packages.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from clearhouse.web import create_app


class ClearhousePlugin(AirflowPlugin):
    name = "clearhouse"
    # Airflow's plugin API reads this class attribute.
    fastapi_apps = [  # noqa: RUF012
        {"app": create_app(), "url_prefix": "/clearhouse", "name": "Clearhouse portal"},
    ]

"""Airflow DAGs: one clearing DAG per dataset policy in ``datasets/``, and the daily retention DAG.

Thin by design: all logic lives in :mod:`clearhouse.orchestration.dag_factory` and the core it calls.
(Airflow's safe-mode discovery only parses files that mention both "airflow" and "dag".)
"""

from clearhouse.orchestration.dag_factory import build_dags

globals().update(build_dags())

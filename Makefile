# Clearhouse — every target bootstraps its own virtualenv from pyproject.toml + requirements.lock.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.clearhouse-installed
export CLEARHOUSE_HOME ?= $(CURDIR)/.clearhouse
PYTEST_ARGS ?=

.PHONY: venv demo test lint typecheck bench lock clean cluster-up cluster-down cluster-status

venv: $(STAMP)

# The lock is hash-pinned (including the spaCy model), so installs are reproducible and tamper-evident.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/clearhouse demo --rows 5000

# A local distributed deployment, no Docker: Airflow 3 with the CeleryExecutor on the local PostgreSQL
# and Redis (api-server, scheduler, dag-processor, triggerer, two Celery workers) under
# $(CLEARHOUSE_HOME)/cluster. Submit runs with `clearhouse trigger POLICY --source FILE --wait`.
cluster-up: $(STAMP)
	$(VENV)/bin/clearhouse cluster up --dev-master-key

cluster-down: $(STAMP)
	$(VENV)/bin/clearhouse cluster down

cluster-status: $(STAMP)
	$(VENV)/bin/clearhouse cluster status

# Tooling is enforced: lint and strict typing run before the tests.
test: $(STAMP) lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff; the layer contracts of pyproject.toml (import-linter); every third-party import declared (deptry)
lint: $(STAMP)
	$(VENV)/bin/ruff check clearhouse privacy lineage expectations dags plugins tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/deptry .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/accuracy.py
	$(PY) benchmarks/throughput.py

# Regenerate the lock after changing dependencies in pyproject.toml (needs the package index).
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .clearhouse .pytest_cache .mypy_cache .ruff_cache

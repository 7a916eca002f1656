# Clearhouse — every target bootstraps its own virtualenv from pyproject.toml + requirements.lock.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.clearhouse-installed
export CLEARHOUSE_HOME ?= $(CURDIR)/.clearhouse
PYTEST_ARGS ?=

.PHONY: venv demo test lint typecheck bench bench-scale lock clean cluster-up cluster-down cluster-status compose-env compose-test

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

# The containerised deployment (docker/docker-compose.yaml). compose-env writes fresh secrets to
# docker/.env (0600); compose-test builds the images (on a debootstrap base when no registry answers),
# brings the deployment up, clears the sample through its REST API and tears everything down.
compose-env: $(STAMP)
	@test ! -e docker/.env || { echo "docker/.env exists; remove it to make new secrets"; exit 1; }
	@umask 077; $(PY) -c 'import base64, secrets; \
	[print(f"{n}={secrets.token_urlsafe(32)}") for n in ("AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD")]; \
	[print(f"{n}={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}") for n in ("AIRFLOW_FERNET_KEY", "CLEARHOUSE_MASTER_KEY")]' > docker/.env
	@echo "wrote docker/.env (mode 0600)"

compose-test: $(STAMP)
	VENV=$(VENV) docker/compose-test.sh

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

# peak memory and rows/s of whole runs at 100k, 1M and 5M rows (about 30 minutes on 2 cores); add
# SCALE_ARGS="--sizes '' --mixed-rows 2000" for the 1- vs 2-worker speed-up on a local Celery cluster
bench-scale: $(STAMP)
	$(PY) benchmarks/scale.py $(SCALE_ARGS)

# Regenerate the lock after changing dependencies in pyproject.toml (needs the package index).
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock
	# the image's lock: the same pins and hashes without the development tools
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -c requirements.lock -o requirements-runtime.lock

clean:
	rm -rf $(VENV) .clearhouse .pytest_cache .mypy_cache .ruff_cache

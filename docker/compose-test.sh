#!/usr/bin/env bash
# `make compose-test`: build the images, bring docker/docker-compose.yaml up, clear the sample through the
# REST API (`clearhouse trigger --api-url`), check the tasks ran on the Celery worker containers, tear
# everything down. Where no image registry answers, the base image is made with debootstrap (Debian's
# Python 3.11) and PostgreSQL and Redis images are built from Debian's packages (docker/services.Dockerfile).
# Needs: docker (engine running, or dockerd installed: started here and stopped afterwards), docker-compose
# (or `docker compose`), debootstrap when no registry answers, and the project's venv (for `clearhouse`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
WORK=${COMPOSE_TEST_DIR:-$(mktemp -d /tmp/clearhouse-compose.XXXXXX)}
mkdir -p "$WORK"
PROJECT=${COMPOSE_PROJECT:-clearhousetest}
BASE=${BASE_IMAGE:-python:3.11-slim-bookworm}
export CLEARHOUSE_API_PORT=${CLEARHOUSE_API_PORT:-18480} POSTGRES_PORT=${POSTGRES_PORT:-15482}
started_dockerd=""

log() { printf 'compose-test: %s\n' "$*" >&2; }

if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { log "no Docker engine and no dockerd (apt-get install docker.io)"; exit 2; }
  log "starting dockerd (log: $WORK/dockerd.log)"
  dockerd >"$WORK/dockerd.log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi

cleanup() {
  "${COMPOSE[@]}" -p "$PROJECT" --env-file "$WORK/.env" -f docker/docker-compose.yaml down -v --remove-orphans \
    >/dev/null 2>&1 || true
  if [ -n "$started_dockerd" ]; then kill "$started_dockerd" 2>/dev/null || true; wait "$started_dockerd" 2>/dev/null || true; fi
}
trap cleanup EXIT

# Base images: pull the official ones, or make them locally when no registry answers.
if ! docker image inspect "$BASE" >/dev/null 2>&1 && ! docker pull -q "$BASE" >/dev/null 2>&1; then
  BASE=local/debian-python:bookworm
  if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    log "no registry: debootstrap a Debian bookworm base with Python 3.11 (a few minutes)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$WORK/rootfs" \
      >"$WORK/debootstrap.log" 2>&1
    # this machine's trust store (it may include a TLS-intercepting egress proxy's CA), for pip inside builds
    cp /etc/ssl/certs/ca-certificates.crt "$WORK/rootfs/etc/ssl/certs/ca-certificates.crt"
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$WORK/rootfs/etc/pip.conf"
    tar -C "$WORK/rootfs" -c . | docker import - "$BASE" >/dev/null
    rm -rf "$WORK/rootfs"
  fi
fi
export BASE_IMAGE=$BASE CLEARHOUSE_IMAGE=clearhouse:compose-test
if ! docker pull -q postgres:16 >/dev/null 2>&1 || ! docker pull -q redis:7.2-bookworm >/dev/null 2>&1; then
  export POSTGRES_IMAGE=local/clearhouse-postgres:15 REDIS_IMAGE=local/clearhouse-redis:7
  for target in postgres redis; do
    image=$([ "$target" = postgres ] && echo "$POSTGRES_IMAGE" || echo "$REDIS_IMAGE")
    docker build -q --network host --build-arg "BASE_IMAGE=$BASE" \
      --target "$target" -f docker/services.Dockerfile -t "$image" . >/dev/null
  done
fi
log "building $CLEARHOUSE_IMAGE on $BASE_IMAGE (log: $WORK/build.log)"
docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -f docker/Dockerfile -t "$CLEARHOUSE_IMAGE" . \
  >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; exit 1; }

# Fresh secrets, 0600, never printed.
( umask 077; "$VENV/bin/python" - >"$WORK/.env" <<'PY'
import base64, secrets
for name in ("AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD"):
    print(f"{name}={secrets.token_urlsafe(32)}")
print(f"AIRFLOW_FERNET_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}")
print(f"CLEARHOUSE_MASTER_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}")
PY
)
DC=("${COMPOSE[@]}" -p "$PROJECT" --env-file "$WORK/.env" -f docker/docker-compose.yaml)
log "up (log: $WORK/compose.log)"
"${DC[@]}" up -d >"$WORK/compose.log" 2>&1 || {
  tail -30 "$WORK/compose.log" >&2; "${DC[@]}" logs --tail 40 airflow-init >&2; exit 1; }
for _ in $(seq 1 120); do
  healthy=$(docker ps --filter "label=com.docker.compose.project=$PROJECT" --filter health=healthy -q | wc -l)
  [ "$healthy" -ge 8 ] && break
  sleep 5
done
docker ps --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}} {{.Status}}' >&2
[ "$healthy" -ge 8 ] || { "${DC[@]}" logs --tail 30 >&2; exit 1; }

log "clearing the sample through the REST API"
"${DC[@]}" exec -T worker-1 clearhouse sample support-tickets --rows 2000 --seed 11 \
  --out /data/clearhouse/inbox/tickets.csv >&2
set -a; . "$WORK/.env"; set +a
export CLEARHOUSE_API_PASSWORD=$AIRFLOW_ADMIN_PASSWORD
export CLEARHOUSE_DB_URL="postgresql://airflow:${POSTGRES_PASSWORD}@127.0.0.1:${POSTGRES_PORT}/clearhouse"
export CLEARHOUSE_HOME="$WORK/client"
code=0
"$VENV/bin/clearhouse" trigger datasets/support_tickets.yaml --source /data/clearhouse/inbox/tickets.csv \
  --api-url "http://127.0.0.1:${CLEARHOUSE_API_PORT}" --wait --json >"$WORK/result.json" || code=$?
"$VENV/bin/python" - "$WORK/result.json" "$code" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
hosts = sorted({t["hostname"] for t in doc["task_instances"]})
print(f"compose-test: state {doc['state']}, run {doc['run_state']}, exit {sys.argv[2]}, task hosts {hosts}", file=sys.stderr)
assert doc["state"] == "cleared" and sys.argv[2] == "0", doc.get("reasons")
assert set(hosts) <= {"worker-1", "worker-2"}, hosts
PY
log "ok"

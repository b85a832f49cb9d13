#!/usr/bin/env bash
# Installs the real peers the test suite runs against, when they are missing:
# redis-server and PostgreSQL (apt), moto_server and the MLflow server (PyPI, in a venv outside the
# repo), grpcurl (go install). Idempotent; safe to run on every `npm test`.
set -euo pipefail

TRADAI_CACHE="${TRADAI_CACHE:-$HOME/.cache/tradai}"
VENV="$TRADAI_CACHE/venv"
MLFLOW_VERSION="3.17.2"

GRPCURL_VERSION="v1.9.3"
mkdir -p "$TRADAI_CACHE"

log() { printf '[install-test-deps] %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v redis-server >/dev/null 2>&1 || apt_install redis-server
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then apt_install postgresql; fi
# A Docker-compatible engine for the LOCAL/DOCKER executor tests (podman's Docker API service, runc).
if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then apt_install podman runc; fi

if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import mlflow, sys; sys.exit(0 if mlflow.__version__ == '$MLFLOW_VERSION' else 1)" 2>/dev/null; then
  log "pip install mlflow==$MLFLOW_VERSION"
  "$VENV/bin/pip" install -q "mlflow==$MLFLOW_VERSION"
fi
if ! "$VENV/bin/python" -c "import moto, flask_cors" 2>/dev/null; then
  log "pip install moto[server]"
  "$VENV/bin/pip" install -q "moto[server,stepfunctions]>=5.1,<6"
fi

GOBIN_DIR="$(go env GOPATH)/bin"
if [ ! -x "$GOBIN_DIR/grpcurl" ]; then
  log "go install grpcurl@$GRPCURL_VERSION"
  go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
fi
log "ok"

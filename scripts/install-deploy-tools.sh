#!/usr/bin/env bash
# Installs what the deployment tests (infra/test, charts/test) need, when missing:
#   - Docker Compose v2, built from source with Go (the module's go.mod has exclude directives, so
#     `go install ...@version` refuses it; we build it inside a small module instead) into
#     $TRADAI_CACHE/bin/docker-compose and linked as the docker CLI plugin for this user.
# `docker compose config` needs no Docker engine. The Kubernetes schemas come from the
# kubernetes-models npm packages (charts/ devDependencies), so nothing else is downloaded.
# Idempotent; safe to run on every `npm test`.
set -euo pipefail

TRADAI_CACHE="${TRADAI_CACHE:-$HOME/.cache/tradai}"
COMPOSE_VERSION="v2.40.3"
BIN="$TRADAI_CACHE/bin"
COMPOSE="$BIN/docker-compose"

log() { printf '[install-deploy-tools] %s\n' "$*"; }
mkdir -p "$BIN"

if [ ! -x "$COMPOSE" ] || ! "$COMPOSE" version --short >/dev/null 2>&1; then
  command -v go >/dev/null 2>&1 || { log "go: expected the Go toolchain on PATH, got none"; exit 1; }
  build="$TRADAI_CACHE/build/compose-$COMPOSE_VERSION"
  mkdir -p "$build"
  log "building docker compose $COMPOSE_VERSION (first run: a few minutes)"
  (
    cd "$build"
    [ -f go.mod ] || go mod init tradai-compose-build >/dev/null 2>&1
    go get "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION" >/dev/null 2>&1
    go build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      -o "$COMPOSE.tmp" github.com/docker/compose/v2/cmd
  )
  mv "$COMPOSE.tmp" "$COMPOSE"
fi

# Make `docker compose` work too, for people running the commands by hand.
if command -v docker >/dev/null 2>&1; then
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sf "$COMPOSE" "$HOME/.docker/cli-plugins/docker-compose"
fi
log "ok: docker compose $("$COMPOSE" version --short)"

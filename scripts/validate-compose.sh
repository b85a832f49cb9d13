#!/usr/bin/env bash
# Validates docker-compose.yaml + docker-compose.override.yaml with `docker compose config` for
# the base file alone and for every combination of the profiles (spec §6), after checking that they
# (and the Dockerfiles' port lines) match a fresh render of infra/shared/config.ts. No Docker engine needed.
# Uses $TRADAI_DOCKER_COMPOSE, the binary from scripts/install-deploy-tools.sh, or `docker compose`.
set -euo pipefail
cd "$(dirname "$0")/.."

TRADAI_CACHE="${TRADAI_CACHE:-$HOME/.cache/tradai}"
if [ -n "${TRADAI_DOCKER_COMPOSE:-}" ]; then
  compose=("$TRADAI_DOCKER_COMPOSE")
elif [ -x "$TRADAI_CACHE/bin/docker-compose" ]; then
  compose=("$TRADAI_CACHE/bin/docker-compose")
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "validate-compose: expected Docker Compose v2, got none; run scripts/install-deploy-tools.sh" >&2
  exit 1
fi

# The compose files are generated from infra/shared/config.ts (infra/compose/render.ts): stale = invalid.
npx tsx infra/compose/generate.ts --check

profiles=(mlflow localstack redis trading)
"${compose[@]}" -f docker-compose.yaml config --quiet
echo "ok  docker-compose.yaml"
count=$((1 << ${#profiles[@]}))
for ((mask = 0; mask < count; mask++)); do
  args=()
  names=()
  for ((bit = 0; bit < ${#profiles[@]}; bit++)); do
    if (((mask >> bit) & 1)); then
      args+=(--profile "${profiles[bit]}")
      names+=("${profiles[bit]}")
    fi
  done
  "${compose[@]}" -f docker-compose.yaml -f docker-compose.override.yaml "${args[@]}" config --quiet
  echo "ok  base + override, profiles: ${names[*]:-none}"
done
echo "validate-compose: $((count + 1)) configurations valid"

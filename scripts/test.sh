#!/usr/bin/env bash
# `npm test`: everything CI checks, from a clean clone. Installs what is missing (npm packages,
# redis-server, PostgreSQL, moto, MLflow, grpcurl), then lint, format, types, the protobuf contract
# and the whole test suite against real peers on loopback (started and stopped by vitest's global
# setup). Set TRADAI_TEST_SKIP_CHECKS=1 to run only the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

step "test dependencies"
bash scripts/install-test-deps.sh
if [ -f scripts/install-deploy-tools.sh ]; then bash scripts/install-deploy-tools.sh; fi

if [ "${TRADAI_TEST_SKIP_CHECKS:-0}" != "1" ]; then
  step "lint and format"
  npx eslint . --max-warnings 0
  npx prettier --check . --log-level warn
  step "types"
  npx tsc -p tsconfig.json --noEmit
  step "protobuf contract"
  bash scripts/check-generated.sh
fi

step "tests"
results="$(mktemp)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# One plain closing line that any CI log reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results" || true
rm -f "$results"
exit "$status"

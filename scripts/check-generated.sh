#!/usr/bin/env bash
# Fails when packages/proto/src/gen is not what `npm run generate` produces from proto/ (stale or
# hand-edited generated code), runs buf lint, and buf breaking against the latest release tag.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

buf lint

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
buf generate --template "{\"version\":\"v2\",\"plugins\":[{\"local\":\"protoc-gen-es\",\"out\":\"$tmp\",\"opt\":[\"target=ts\",\"import_extension=none\"],\"include_imports\":true}]}"
if ! diff -r "$tmp" packages/proto/src/gen >/dev/null; then
  echo "packages/proto/src/gen is stale: run 'npm run generate' and commit the result" >&2
  diff -r "$tmp" packages/proto/src/gen | head -40 >&2
  exit 1
fi

latest_tag="$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)"
if [ -n "$latest_tag" ]; then
  buf breaking --against ".git#tag=$latest_tag"
  echo "buf breaking: no breaking changes against $latest_tag"
else
  echo "buf breaking: no release tag yet (v*), nothing to compare against"
fi
echo "protobuf contract: lint ok, generated code up to date"

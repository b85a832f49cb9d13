#!/usr/bin/env bash
# Installs Freqtrade (the config validation only: no dependencies beyond jsonschema) into
# ~/.cache/tradai/venv-freqtrade-config, the test peer that checks our exported Freqtrade config.
# Idempotent; prints the venv's python path.
set -euo pipefail
VENV="${HOME}/.cache/tradai/venv-freqtrade-config"
FREQTRADE_VERSION="2026.9"
if ! "${VENV}/bin/python" -c "import freqtrade, jsonschema, typing_extensions" >/dev/null 2>&1 ||
  [ "$("${VENV}/bin/python" -c 'import freqtrade; print(freqtrade.__version__)' 2>/dev/null)" != "${FREQTRADE_VERSION}" ]; then
  python3 -m venv "${VENV}" >&2
  "${VENV}/bin/pip" install --quiet --disable-pip-version-check --no-deps "freqtrade==${FREQTRADE_VERSION}" >&2
  "${VENV}/bin/pip" install --quiet --disable-pip-version-check jsonschema typing_extensions >&2
fi
echo "${VENV}/bin/python"

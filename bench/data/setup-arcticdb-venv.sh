#!/usr/bin/env bash
# Creates the Python venv used only as a benchmark baseline and fixture generator (never part of the
# product): ArcticDB (LMDB backend) for bench/data, pyarrow + pandas to write Freqtrade-format
# feather fixtures the way Freqtrade does. Idempotent.
set -euo pipefail
VENV="${TRADAI_ARCTICDB_VENV:-$HOME/.cache/tradai/venv-arcticdb}"
if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import arcticdb, pyarrow, pandas" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check arcticdb pyarrow pandas
fi
"$VENV/bin/python" -c "import arcticdb, pyarrow, pandas; print('arcticdb', arcticdb.__version__, 'pyarrow', pyarrow.__version__, 'pandas', pandas.__version__)"

#!/usr/bin/env bash
# Regenerates packages/engine/test/golden/*.json.gz from the real TA-Lib (PyPI `ta-lib` wheel,
# which bundles the TA-Lib C library) and ../shared/data/ohlcv. Not run by CI: the golden files are
# committed and the tests only read them. Idempotent: the venv is reused when the pins match.
#
#   bash scripts/golden/make-golden.sh
#
# Env: TRADAI_CACHE (default ~/.cache/tradai), TRADAI_SHARED_DATA (default <repo>/../shared/data/ohlcv).
set -euo pipefail

TALIB_VERSION="0.8.2"
NUMPY_VERSION="2.4.6"
PANDAS_VERSION="3.1.1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TRADAI_CACHE="${TRADAI_CACHE:-$HOME/.cache/tradai}"
VENV="${TALIB_VENV:-$TRADAI_CACHE/venv-talib}"
DATA_DIR="${TRADAI_SHARED_DATA:-$ROOT/../shared/data/ohlcv}"
OUT="$ROOT/packages/engine/test/golden"

log() { printf '[make-golden] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" - "$TALIB_VERSION" "$NUMPY_VERSION" "$PANDAS_VERSION" <<'PY' 2>/dev/null; then
import sys, talib, numpy, pandas
want = sys.argv[1:]
sys.exit(0 if [talib.__version__, numpy.__version__, pandas.__version__] == want else 1)
PY
  log "pip install ta-lib==$TALIB_VERSION numpy==$NUMPY_VERSION pandas==$PANDAS_VERSION"
  # --only-binary: the wheel bundles the C library; never fall back to a source build.
  "$VENV/bin/pip" install -q --only-binary=:all: \
    "ta-lib==$TALIB_VERSION" "numpy==$NUMPY_VERSION" "pandas==$PANDAS_VERSION"
fi

"$VENV/bin/python" "$ROOT/scripts/golden/make_talib_golden.py" --data-dir "$DATA_DIR" --out "$OUT"
log "ok: $OUT"

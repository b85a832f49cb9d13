#!/usr/bin/env bash
# Installs pinned vectorbt (PyPI, numba engine) with the TA-Lib wheel into
# ~/.cache/tradai/venv-vectorbt: the second speed baseline of bench/engine (never part of the product).
# Idempotent: does nothing when the pinned versions are there (marker file written after a check).
#
#   bash bench/engine/setup-vectorbt-venv.sh
#
# Env: TRADAI_VECTORBT_VENV (venv path), VECTORBT_VERSION (default below).
set -euo pipefail

VECTORBT_VERSION="${VECTORBT_VERSION:-1.2.0}"
# The same TA-Lib / numpy / pandas pins as scripts/golden/make-golden.sh (golden vectors).
TALIB_VERSION="0.8.2"
NUMPY_VERSION="2.4.6"
PANDAS_VERSION="3.1.1"
NUMBA_VERSION="0.68.1"

VENV="${TRADAI_VECTORBT_VENV:-$HOME/.cache/tradai/venv-vectorbt}"
MARKER="$VENV/.tradai-vectorbt-$VECTORBT_VERSION"

log() { printf '[setup-vectorbt] %s\n' "$*"; }
fail() {
  printf '[setup-vectorbt] error: %s\n' "$*" >&2
  exit 1
}

if [ -f "$MARKER" ] && [ -x "$VENV/bin/python" ]; then
  log "vectorbt $VECTORBT_VERSION already installed in $VENV"
  exit 0
fi

command -v python3 >/dev/null || fail "expected python3 (3.11) on PATH, got none"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV with $(python3 --version)"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV" || fail "python3 -m venv $VENV failed (is the venv module installed?)"
fi
log "pip install vectorbt==$VECTORBT_VERSION ta-lib==$TALIB_VERSION numba==$NUMBA_VERSION numpy==$NUMPY_VERSION pandas==$PANDAS_VERSION (about 40 s)"
"$VENV/bin/pip" install --quiet --upgrade pip || fail "could not upgrade pip in $VENV"
# --only-binary: the ta-lib wheel bundles the C library; never fall back to a source build.
"$VENV/bin/pip" install --quiet --only-binary=:all: \
  "vectorbt==$VECTORBT_VERSION" "ta-lib==$TALIB_VERSION" "numba==$NUMBA_VERSION" \
  "numpy==$NUMPY_VERSION" "pandas==$PANDAS_VERSION" ||
  fail "pip install failed (PyPI reachable? a wheel for $(python3 --version) on $(uname -m)?)"

"$VENV/bin/python" - "$VECTORBT_VERSION" "$TALIB_VERSION" <<'PY' || fail "installed packages do not import at the pinned versions"
import sys
import numba, numpy, pandas, talib, vectorbt
want_vectorbt, want_talib = sys.argv[1:]
found = {"vectorbt": vectorbt.__version__, "ta-lib": talib.__version__}
if found != {"vectorbt": want_vectorbt, "ta-lib": want_talib}:
    sys.exit(f"expected vectorbt {want_vectorbt} and ta-lib {want_talib}, got {found}")
print(f"[setup-vectorbt] vectorbt {vectorbt.__version__}, numba {numba.__version__}, "
      f"ta-lib {talib.__version__}, numpy {numpy.__version__}, pandas {pandas.__version__}")
PY
touch "$MARKER"
log "ok: $VENV"

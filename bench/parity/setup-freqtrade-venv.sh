#!/usr/bin/env bash
# Installs a pinned Freqtrade release from PyPI into ~/.cache/tradai/venv-freqtrade (the parity and
# speed baseline; never part of the product). Idempotent: does nothing when the pinned version is there.
set -euo pipefail
VERSION="${FREQTRADE_VERSION:-2025.10}"
VENV="${TRADAI_FREQTRADE_VENV:-$HOME/.cache/tradai/venv-freqtrade}"
if [ -x "$VENV/bin/freqtrade" ] && "$VENV/bin/python" -c "import freqtrade,sys; sys.exit(0 if freqtrade.__version__=='$VERSION' else 1)" 2>/dev/null; then
  echo "freqtrade $VERSION already installed in $VENV"
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "freqtrade==$VERSION"
"$VENV/bin/python" -c "import freqtrade, talib; print('freqtrade', freqtrade.__version__, 'talib', talib.__version__)"

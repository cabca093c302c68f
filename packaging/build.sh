#!/usr/bin/env bash
# Build the desktop bundle of the trafficai control center: dist/trafficai/ (one folder).
#
#     packaging/build.sh            # uses .venv (make venv), installs PyInstaller into it if missing
#     PYTHON=/path/to/python packaging/build.sh
#
# Extra arguments go to PyInstaller (e.g. --log-level WARN).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"

if [[ ! -x "$PYTHON" ]]; then
    echo "error: no Python at $PYTHON (run 'make venv' first, or set PYTHON)" >&2
    exit 1
fi

if ! "$PYTHON" -c 'import PyInstaller' 2>/dev/null; then
    echo "installing PyInstaller into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    "$PYTHON" -m pip install --quiet 'pyinstaller>=6.10,<7'
fi

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean \
    --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" \
    "$@" "$ROOT/packaging/trafficai.spec"
elapsed=$(( $(date +%s) - start ))

BUNDLE="$ROOT/dist/trafficai"
if [[ ! -x "$BUNDLE/trafficai" ]]; then
    echo "error: the build did not produce $BUNDLE/trafficai" >&2
    exit 1
fi
size=$(du -sh "$BUNDLE" | cut -f1)
echo
echo "bundle:     $BUNDLE"
echo "executable: $BUNDLE/trafficai"
echo "size:       $size ($(find "$BUNDLE" -type f | wc -l) files)"
echo "build time: ${elapsed} s"

# Sourced by scripts/demo and scripts/test: makes .venv with Plenaria installed.
# Needs Python 3.11+ with venv; on Debian, installs python3-venv when run as root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Plenaria needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing $* with apt-get…" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "Please install: $* (for example: sudo apt-get install -y $*)" >&2
    exit 1
  fi
}

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    apt_install "python3-venv"
  fi
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the dependencies changed.
STAMP=".venv/.plenaria-installed"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)-${PLENARIA_EXTRAS:-test}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[${PLENARIA_EXTRAS:-test}]"
  echo "$WANT" > "$STAMP"
fi

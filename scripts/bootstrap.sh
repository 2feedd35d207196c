# Sourced by scripts/demo and scripts/test: makes .venv with Plenaria installed.
# Needs Python 3.11+ with venv, gcc and Python's headers; on Debian, installs python3-venv,
# gcc and python3-dev when run as root.
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

# The forwarding loop is compiled C (server/media/_fanout.c): it needs a C compiler and
# the headers of the Python that runs it.
has_python_headers() {
  "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'
}
build_tools=()
command -v gcc >/dev/null || build_tools+=(gcc libc6-dev)
has_python_headers || build_tools+=(python3-dev)
if [ ${#build_tools[@]} -gt 0 ]; then
  apt_install "${build_tools[@]}"
fi

# Reinstall only when the dependencies or the compiled forwarding loop changed.
STAMP=".venv/.plenaria-installed"
WANT="$(cat pyproject.toml setup.py server/media/_fanout.c | sha256sum | cut -d' ' -f1)-${PLENARIA_EXTRAS:-test}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[${PLENARIA_EXTRAS:-test}]"
  echo "$WANT" > "$STAMP"
fi

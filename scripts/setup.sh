#!/usr/bin/env bash
# Creates (or refreshes) the two pinned environments:
#   .venv      Python >= 3.11  the service (FastAPI, SQLAlchemy 2, pydantic 2) and the tests
#   .venv-bot  Python 3.10     Rasa 3.6 and the action server
# Nothing is downloaded but packages from the configured package index.
# Re-running with unchanged requirement files takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" "$(command -v python3.10 || true)" \
      "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 /root/.pyenv/versions/3.10*/bin/python3.10 \
      /usr/local/bin/python3.10 /usr/bin/python3.10; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

find_python311plus() {
  local candidate
  for candidate in "${PYTHON311:-}" "$(command -v python3 || true)" "$(command -v python3.12 || true)" \
      "$(command -v python3.11 || true)" "$(command -v python3.13 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

ensure_venv() {  # ensure_venv <dir> <python> <requirements file>
  local dir=$1 python=$2 requirements=$3 stamp
  stamp=$(cat "$requirements" | sha256sum | cut -c1-16)-$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
  if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$stamp" ]; then
    echo "[setup] $dir is up to date"; return 0
  fi
  echo "[setup] installing $requirements into $dir (this takes a minute or two the first time) ..."
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.2" 2>/dev/null || true
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  "$dir/bin/python" -m pip check >/dev/null || { "$dir/bin/python" -m pip check; exit 1; }
  echo "$stamp" > "$dir/.installed"
}

PY310=$(find_python310) || {
  echo "[setup] Python 3.10 is required for Rasa 3.6 but none was found." >&2
  echo "        Install it, e.g. 'pyenv install 3.10.13' or 'apt-get install python3.10 python3.10-venv'," >&2
  echo "        or point PYTHON310 at an existing python3.10 binary, then run this again." >&2
  exit 1
}
PY311=$(find_python311plus) || {
  echo "[setup] Python 3.11 or newer is required for the service but none was found." >&2
  echo "        Install it (e.g. 'pyenv install 3.11.7') or point PYTHON311 at it, then run this again." >&2
  exit 1
}

mkdir -p var
ensure_venv .venv "$PY311" requirements/service.txt
ensure_venv .venv-bot "$PY310" requirements/bot.txt

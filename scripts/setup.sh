#!/usr/bin/env bash
# Create .venv and install rnngraph with its test extra; install Graphviz's `dot` when missing.
# Safe to run again: it only installs what is not there yet.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3.10 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON=$candidate; break; fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "setup: no python3 found; install Python 3.10-3.13 (e.g. apt-get install -y python3 python3-venv)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 13)))'; then
  echo "setup: $("$PYTHON" --version 2>&1) found; rnngraph needs Python 3.10-3.13 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version 2>&1)"
  if ! "$PYTHON" -m venv .venv; then
    echo "setup: could not create a virtual environment; install the venv module (e.g. apt-get install -y python3-venv)" >&2
    exit 1
  fi
fi

# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.rnngraph-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing rnngraph and its dependencies into .venv (TensorFlow is large: a few minutes the first time)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
  echo "$want" > "$stamp"
fi

if ! command -v dot >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Graphviz (dot) with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  else
    if command -v apt-get >/dev/null 2>&1; then hint="sudo apt-get install -y graphviz";
    elif command -v brew >/dev/null 2>&1; then hint="brew install graphviz";
    elif command -v dnf >/dev/null 2>&1; then hint="sudo dnf install -y graphviz";
    else hint="install Graphviz from https://graphviz.org/download/"; fi
    echo "setup: the Graphviz 'dot' program is missing; run: $hint   (then run this command again)" >&2
    exit 1
  fi
fi

#!/usr/bin/env bash
# Install everything cowkg needs on a fresh Debian machine: system packages (when root), a Python
# virtualenv with the package and its test extras, and the browser assets from the npm registry.
# Idempotent: a second run only checks. Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: please install with apt: ${missing[*]}" >&2; return 1
  fi
  echo "setup: apt-get install ${missing[*]}"
  apt-get update -qq
  # Virtuoso's postinst asks for a DBA password; preseed it so the install is non-interactive.
  echo 'virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba
virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba' | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "$WITH_TEST" -eq 1 ]; then
  # cargo (with Debian's rustc) builds the native query-text scanner the tests compare with Python's.
  apt_install chromium virtuoso-opensource-7 curl libapache-jena-java libslf4j-java cargo
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if [ "$WITH_TEST" -eq 1 ]; then
  .venv/bin/python -m pip install -q -e '.[test]' 2>&1 | grep -v -e '^WARNING: Location' -e '^$' || true
else
  .venv/bin/python -m pip install -q -e . 2>&1 | grep -v -e '^WARNING: Location' -e '^$' || true
fi
.venv/bin/python -c 'import cowkg' >/dev/null

if [ -f frontend/package.json ]; then
  (cd frontend && { [ -d node_modules ] && npm ls >/dev/null 2>&1; } || npm install --no-audit --no-fund --loglevel=error)
  (cd frontend && npm run --silent build)
fi
# The native query-text scanner (cowkg.native) and the native HTTP front (cowkg.web.native_front),
# issue 15, standard library only: they build offline wherever cargo is (the tests need both;
# `cowkg serve` uses them when they are there, granian and Python otherwise).
if command -v cargo >/dev/null 2>&1; then
  if ! (cd native/querytext && cargo build --release --offline --quiet); then
    [ "$WITH_TEST" -eq 1 ] && exit 1
    echo "setup: the native query-text scanner did not build; queries are read in Python" >&2
  fi
  if ! (cd native/front && cargo build --release --offline --quiet); then
    [ "$WITH_TEST" -eq 1 ] && exit 1
    echo "setup: the native HTTP front did not build; cowkg serve runs granian" >&2
  fi
elif [ "$WITH_TEST" -eq 1 ]; then
  echo "setup: cargo is missing (apt-get install cargo)" >&2; exit 1
fi
echo "setup: ok"

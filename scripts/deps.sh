#!/usr/bin/env bash
# Installs the system packages Tally builds against, when they are missing; with --test
# also what the tests use (strace, to inject fsync failures into a real process; Python's
# prometheus_client, to parse the metrics exposition; schemathesis, to test the server
# against its OpenAPI document).
# As root it runs apt-get; otherwise it prints the one command to run.
set -euo pipefail
need=()
[ -f /usr/include/lmdb.h ] || need+=(liblmdb-dev)
[ -f /usr/include/xxhash.h ] || need+=(libxxhash-dev)
if [ "${1:-}" = "--test" ]; then
  command -v strace >/dev/null || need+=(strace)
  # The metrics test parses `tally metrics` with the Prometheus project's own Python parser;
  # the audit test runs scripts/verify_export.py, which needs xxhash.
  for module in prometheus_client xxhash; do
    if ! python3 -c "import $module" 2>/dev/null; then
      echo "installing the Python package $module (for the tests) ..." >&2
      python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "$module" 2>/dev/null \
        || python3 -m pip install -q --user "$module" \
        || { echo "Tally's tests need the Python package $module: python3 -m pip install $module" >&2; exit 1; }
    fi
  done
  # The OpenAPI test runs schemathesis (PyPI) against a live server, from its own venv.
  venv="$(cd "$(dirname "$0")/.." && pwd)/.build/schemathesis-venv"
  if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "installing schemathesis into $venv (for the tests) ..." >&2
    python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check schemathesis \
      || { echo "Tally's tests need schemathesis: python3 -m venv $venv && $venv/bin/pip install schemathesis" >&2; exit 1; }
  fi
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ]; then
  echo "installing ${need[*]} ..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "Tally needs ${need[*]}. Run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi

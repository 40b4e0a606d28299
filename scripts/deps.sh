#!/usr/bin/env bash
# Installs the system packages Tally builds against, when they are missing; with --test
# also what the tests use (strace, to inject fsync failures into a real process).
# As root it runs apt-get; otherwise it prints the one command to run.
set -euo pipefail
need=()
[ -f /usr/include/lmdb.h ] || need+=(liblmdb-dev)
[ -f /usr/include/xxhash.h ] || need+=(libxxhash-dev)
if [ "${1:-}" = "--test" ]; then command -v strace >/dev/null || need+=(strace); fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ]; then
  echo "installing ${need[*]} ..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "Tally needs ${need[*]}. Run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi

#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite.
# TALLY_CRASH_KILLS=N sets the crash test's kill count (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
swift build --build-tests
swift test --skip-build "$@"

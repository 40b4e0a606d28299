#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite, then the storage-core tests under
# AddressSanitizer and ThreadSanitizer and each fuzz target for 20 s (docs/reliability.md).
#   scripts/test.sh                      everything (CI runs exactly this)
#   scripts/test.sh --filter Payments    only the plain suite, filtered (no sanitizer runs)
#   TALLY_SANITIZERS=0 scripts/test.sh   the plain suite only
# TALLY_CRASH_KILLS=N sets the crash test's kill count (default 50); TALLY_SOAK_SECONDS the
# soak's length (8); TALLY_FUZZ_SECONDS each fuzz target's time (20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
swift build --build-tests
swift test --skip-build "$@"
if [ $# -eq 0 ] && [ "${TALLY_SANITIZERS:-1}" != 0 ]; then
    echo "== the storage-core tests under AddressSanitizer (.build/address)"
    scripts/sanitize.sh address
    echo "== each fuzz target for ${TALLY_FUZZ_SECONDS:-20} s (same build)"
    scripts/fuzz.sh
    echo "== the storage-core tests under ThreadSanitizer (.build/thread)"
    scripts/sanitize.sh thread
fi

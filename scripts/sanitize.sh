#!/usr/bin/env bash
# The test suite under AddressSanitizer or ThreadSanitizer (issue 9), each in its own build
# directory (.build/address, .build/thread), so the plain build stays as it is.
#
#   scripts/sanitize.sh address            the storage-core tests under ASan (CI runs this)
#   scripts/sanitize.sh thread             the storage-core tests under TSan (CI runs this)
#   scripts/sanitize.sh address --all      the whole suite under ASan
#   scripts/sanitize.sh thread --filter GroupCommit     any `swift test` arguments
#   scripts/sanitize.sh address --build-only
#   TALLY_SANITIZER_DEBUG_INFO=1 scripts/sanitize.sh thread    with file:line in reports
#
# The storage-core tests are TallyLMDBTests, TallyLogTests and TallyChecksumTests: the
# wrapper, the group commit from many tasks, the indexer, recovery and verify; with them
# ProjectionGroupTests (live projections following together, each on its own task) and
# SpeculationFeedTests (a batch's events made while the writer already decides it). The address
# build also records coverage for libFuzzer and links its driver, so scripts/fuzz.sh
# fuzzes with the same binaries. Any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer=${1:-}
case "$sanitizer" in
    address | thread) shift ;;
    *) echo "usage: scripts/sanitize.sh address|thread [--all | --build-only | swift test arguments]" >&2; exit 2 ;;
esac
arguments=(--filter 'TallyLMDBTests|TallyLogTests|TallyChecksumTests|ProjectionGroupTests|SpeculationFeedTests')
build_only=0
case "${1:-}" in
    --all) arguments=(); shift ;;
    --build-only) build_only=1; shift ;;
    "") ;;
    *) arguments=("$@") ;;
esac

flags=(--build-path ".build/$sanitizer" --sanitize="$sanitizer")
# Without debug info the cold build takes 6 minutes instead of 10 on 2 cores; reports still
# name every function. TALLY_SANITIZER_DEBUG_INFO=1 adds file and line numbers.
if [ "${TALLY_SANITIZER_DEBUG_INFO:-0}" != 1 ]; then
    flags+=(-Xswiftc -gnone -Xcc -g0)
fi
if [ "$sanitizer" = address ]; then
    # libFuzzer without its main (tally-fuzz has its own), whole, with the C++ runtime it
    # needs; the driver is exported so tally-fuzz finds it with dlsym.
    resource=$(swiftc -print-target-info | python3 -c 'import json, sys; print(json.load(sys.stdin)["paths"]["runtimeResourcePath"])')
    fuzzer=$(ls "$resource"/../clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1)
    [ -n "$fuzzer" ] || { echo "sanitize.sh: libclang_rt.fuzzer_no_main is not in this toolchain ($resource/../clang)" >&2; exit 1; }
    flags+=(-Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table
        -Xlinker --whole-archive -Xlinker "$fuzzer" -Xlinker --no-whole-archive
        -Xlinker --export-dynamic-symbol=LLVMFuzzerRunDriver -Xlinker -lstdc++)
fi

quiet='^\[|unhandled; explicitly declare|Cannot export local symbol|CMakeLists.txt|^warning: .swift-distributed-tracing'
set +e
swift build --build-tests "${flags[@]}" 2>&1 | grep -Ev "$quiet"
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || { echo "sanitize.sh: the $sanitizer build failed (see above)" >&2; exit 1; }
[ "$build_only" = 1 ] && exit 0

# A report ends the process with an error; the Swift runtime's backtracer is off (it reads
# other threads' stacks, which the sanitizers report themselves); leaks in the toolchain's
# libraries are suppressed by name (scripts/lsan.supp); scripts/tsan.supp is empty (every
# lock in Sources/ is one TSan sees).
export SWIFT_BACKTRACE=enable=no
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
export TSAN_OPTIONS=halt_on_error=1:suppressions=$PWD/scripts/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}
swift test --skip-build "${flags[@]}" "${arguments[@]}"

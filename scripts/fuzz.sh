#!/usr/bin/env bash
# libFuzzer over the readers of untrusted bytes (issue 9). Builds tally-fuzz with
# AddressSanitizer, libFuzzer's coverage and its driver (scripts/sanitize.sh address, in
# .build/address: what -sanitize=fuzzer,address does, but keeping tally-fuzz's own main),
# then fuzzes each TARGET for SECONDS, starting from the seed corpus in fixtures/fuzz/TARGET (new inputs go to .build/fuzz/corpus/TARGET).
# A crash stops the run, leaves crash-* in .build/fuzz/artifacts/ and exits 1: copy it into
# fixtures/fuzz/TARGET/ (the regression run replays every file there) and fix the reader.
#
#   scripts/fuzz.sh                     every target, 20 s each (what the test suite runs)
#   scripts/fuzz.sh request 600         one target for ten minutes
#   scripts/fuzz.sh --build-only        only the instrumented build
#   TALLY_FUZZ_SECONDS=300 scripts/fuzz.sh   every target, five minutes each
#
# Targets: record payload segment manifest export request (`tally-fuzz` lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(record payload segment manifest export request)
seconds=${TALLY_FUZZ_SECONDS:-20}
build_only=0
if [ "${1:-}" = "--build-only" ]; then
    build_only=1
elif [ $# -ge 1 ]; then
    targets=("$1")
    seconds=${2:-$seconds}
fi

scripts/sanitize.sh address --build-only
binary=$(swift build --build-path .build/address --show-bin-path)/tally-fuzz
[ "$build_only" = 1 ] && { echo "built $binary"; exit 0; }

mkdir -p .build/fuzz/artifacts
# A trap is reported by ASan/libFuzzer, not by the Swift runtime's backtracer (which reads
# other threads' stacks and trips ASan itself); leaks in the toolchain's libraries are
# suppressed by name (scripts/lsan.supp).
export SWIFT_BACKTRACE=enable=no
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
status=0
for target in "${targets[@]}"; do
    [ -d "fixtures/fuzz/$target" ] || { echo "fuzz.sh: no target $target (fixtures/fuzz/$target is missing)" >&2; exit 2; }
    corpus=.build/fuzz/corpus/$target
    mkdir -p "$corpus"
    log=.build/fuzz/$target.log
    # -rss_limit_mb: the reader must not need more than 2 GB for any input; -timeout: nor
    # more than 10 s. Both count as crashes.
    if "$binary" fuzz "$target" "$corpus" "fixtures/fuzz/$target" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix=".build/fuzz/artifacts/$target-" >"$log" 2>&1; then
        runs=$(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
        echo "fuzz $target: ${seconds} s, $runs inputs, coverage $cov edges, no crash"
    else
        status=1
        echo "fuzz $target: FAILED; the input is in .build/fuzz/artifacts/$target-*; the last lines of $log:" >&2
        tail -40 "$log" >&2
    fi
done
exit $status

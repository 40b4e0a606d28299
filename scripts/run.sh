#!/usr/bin/env bash
# Builds Tally and runs it on the embedded LMDB default: creates ./data (or $TALLY_DATA),
# fills it with a demo agent fleet, brings the projections up to date and verifies the log.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release --product tally 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
bin=$(swift build -c release --show-bin-path)/tally
data=${TALLY_DATA:-./data}
"$bin" demo --data "$data"

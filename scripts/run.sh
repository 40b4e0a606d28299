#!/usr/bin/env bash
# Builds Tally and runs it on the embedded LMDB default: creates ./data (or $TALLY_DATA),
# fills it with a demo agent fleet (once: a rerun writes nothing), brings the projections up
# to date, verifies the log, makes an admin and a writer key (once, in ./data/*.key), and
# starts the HTTP server on 127.0.0.1:8080 (or $TALLY_LISTEN). Ctrl-C stops it cleanly.
# TALLY_NO_SERVE=1 stops after the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release --product tally 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
bin=$(swift build -c release --show-bin-path)/tally
data=${TALLY_DATA:-./data}
listen=${TALLY_LISTEN:-127.0.0.1:8080}
"$bin" demo --data "$data"
[ "${TALLY_NO_SERVE:-}" = "1" ] && exit 0
for role in admin writer; do
  [ -f "$data/$role.key" ] || "$bin" keys create --data "$data" --role "$role" --name "demo-$role" --output "$data/$role.key" >/dev/null
done
cat <<TEXT

server           http://$listen (Ctrl-C to stop; the log is closed cleanly)
keys             $data/admin.key (admin), $data/writer.key (writer)

try, in another terminal:
  curl -s http://$listen/health
  curl -s -H "Authorization: Bearer \$(cat $data/writer.key)" http://$listen/v1/accounts/treasury
  curl -s -H "Authorization: Bearer \$(cat $data/writer.key)" "http://$listen/v1/events?from_position=1&limit=3"
  python3 docs/examples/tally_client.py --url http://$listen --key "\$(cat $data/writer.key)" --self-test
  more in docs/examples/curl.md; the routes are in docs/openapi.yaml (also served at /openapi.yaml)

TEXT
exec "$bin" serve --data "$data" --listen "$listen" --log-format text --log-level notice

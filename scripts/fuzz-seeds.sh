#!/usr/bin/env bash
# Regenerates the seed corpora in fixtures/fuzz/<target>/ from a real ledger: records and
# payloads of every event type `tally demo` writes, a backup's log segment, the backup,
# views-snapshot and audit-export manifests, audit exports (JSONL with proof, CSV) and the
# request bodies of docs/examples/curl.md. Run it after a format change; commit the result.
#
#   scripts/fuzz-seeds.sh            (uses .build/release/tally, building it if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tally=$root/.build/release/tally
[ -x "$tally" ] || swift build -c release --product tally
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$root/fixtures/fuzz
# Seeds are regenerated; crash-* inputs the fuzzer found stay (they are regression tests).
[ -d "$out" ] && find "$out" -type f ! -name 'crash-*' -delete
mkdir -p "$out"/{record,payload,segment,manifest,export,request}

cd "$work"
"$tally" demo --data d --map-size 1 >/dev/null
"$tally" backup create b-full --data d --map-size 1 >/dev/null
"$tally" append --data d --map-size 1 --stream agent-seed --type note.added \
    --payload '{"text":"caf\u00e9 \"quoted\"","n":[1,-2.5e3,null,true,false],"o":{}}' >/dev/null
"$tally" transfer --data d --map-size 1 --id seed-t1 --from treasury --to wallet-agent-001 --amount 5 --currency APX >/dev/null
"$tally" backup create b-inc --incremental --since b-full --data d --map-size 1 >/dev/null
"$tally" snapshot create --data d --map-size 1 >/dev/null
"$tally" audit export --data d --map-size 1 --format jsonl --output e.jsonl --with-proof --from-position 2400 >/dev/null
"$tally" audit export --data d --map-size 1 --format csv --output e.csv --type transfer.voided --type transfer.expired >/dev/null
"$tally" read --data d --map-size 1 --from-position 1 --limit 10000 --json > events.jsonl
mdb_dump -s log d/log > log.dump

python3 - "$out" <<'PY'
import json, os, re, sys, glob
out = sys.argv[1]
def put(target, name, data):
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)

# Records: the first of each event type (mdb_dump: a key line, then a value line, in hex).
events = [json.loads(line) for line in open("events.jsonl")]
lines = [l.strip() for l in open("log.dump") if l.startswith(" ")]
records = {int(lines[i], 16): bytes.fromhex(lines[i + 1]) for i in range(0, len(lines), 2)}
seen = set()
for event in events:
    if event["type"] in seen:
        continue
    seen.add(event["type"])
    put("record", event["type"] + ".bin", records[event["position"]])

# Payloads: byte 0 picks the type as FuzzTarget.eventTypes does.
payments = sorted(["account.opened", "account.closed", "transfer.posted", "transfer.pending", "transfer.reversed",
                   "transfer.committed", "transfer.voided", "transfer.expired"])
types = payments + ["deployment.started", "deployment.succeeded", "deployment.failed", "deployment.rolled_back",
                    "service.scaled", "config.changed", "migration.applied", "health.checked"]
seen = set()
for event in events:
    if event["type"] in types and event["type"] not in seen:
        seen.add(event["type"])
        payload = json.dumps(event["payload"], separators=(",", ":"), ensure_ascii=False).encode()
        put("payload", event["type"] + ".bin", bytes([types.index(event["type"])]) + payload)

# Request bodies: every -d '...' of the curl examples, plus the shapes the API reads.
text = open(os.path.join(os.path.dirname(out), "..", "docs", "examples", "curl.md")).read()
for index, body in enumerate(re.findall(r"-d '(.*?)'", text, re.S)):
    put("request", "curl-%02d.json" % index, body.encode())
put("request", "appends.json", json.dumps({"appends": [{"stream": "agent-1", "expected_version": "no_stream",
    "events": [{"id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "type": "note.added", "payload": {"a": [1, "\u00e9"]},
                "metadata": {"correlation_id": "c", "x": "y"}}]}]}).encode())
# The command routes' bodies that the curl examples do not show.
for name, body in [("commit", {"amount": "250"}), ("reverse", {"reversal_id": "rev-1", "amount": "100", "memo": "refund"}),
                   ("succeed", {"duration_ms": 84000}), ("fail", {"reason": "health checks failed"}),
                   ("rollback", {"to_version": "42", "reason": "error rate"}), ("scale", {"environment": "prod", "from": 3, "to": 5}),
                   ("config", {"environment": "prod", "key": "pool_size", "old_value": "10", "new_digest": "ab" * 32}),
                   ("migration", {"migration": "0042-add-index"}),
                   ("health", {"component": "db", "status": "healthy", "latency_ms": 3, "detail": "ok \u00e9"})]:
    put("request", "body-" + name + ".json", json.dumps(body, ensure_ascii=False).encode())
put("request", "deep.json", b"[" * 40 + b"]" * 40)
put("request", "escapes.json", b'{"events":[{"type":"t","payload":"\\ud83d\\ude00\\n\\u0000"}],"expected_version":7}')
PY
cp b-inc/log.segment "$out/segment/incremental.segment"
cp b-full/manifest.json "$out/manifest/backup-full.json"
cp b-inc/manifest.json "$out/manifest/backup-incremental.json"
for m in d/snapshots/*/manifest.json; do [ -f "$m" ] && cp "$m" "$out/manifest/views-snapshot.json"; done
cp e.jsonl.manifest.json "$out/manifest/audit-export.json"
# Export inputs: the manifest, a NUL byte, the export.
{ cat e.jsonl.manifest.json; printf '\0'; cat e.jsonl; } > "$out/export/jsonl-with-proof.bin"
{ cat e.csv.manifest.json; printf '\0'; cat e.csv; } > "$out/export/csv.bin"
find "$out" -type f ! -name 'crash-*' | sort | xargs ls -l | awk '{ print $5, $9 }'

"""The workload every peer runs, the same as `tally bench` W1-W4 (see README.md):

W1  EVENTS events (default 200,000) durably, BATCH (1,000) a commit, each event to one of
    10,000 agent streams with its stream version checked (unique (stream, version)).
W2  SINGLE events (default 2,000), one a commit, one client: rate and p50/p99/p99.9.
W3  replay every event in log order, folding per-agent balances from the payloads.
W4  read one stream of 100 events, 2,000 times: p50/p99.

Payloads are ~200-byte JSON payment events. Each peer prints one JSON line per result:
{"peer": ..., "workload": "W1", "events_per_second": ..., ...}.
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid

STREAMS = 10_000
EVENTS = int(os.environ.get("EVENTS", "200000"))
BATCH = int(os.environ.get("BATCH", "1000"))
SINGLE = int(os.environ.get("SINGLE", "2000"))
READS = 2_000


def events(count: int, seed: int = 7):
    """(stream, payload) pairs: stream i*7919 % 10,000 (as tally bench), ~200-byte JSON."""
    rng = random.Random(seed)
    for i in range(count):
        stream = f"agent-{i * 7919 % STREAMS}"
        payload = json.dumps({
            "type": "payment.transferred", "from": stream, "to": f"agent-{rng.randrange(STREAMS)}",
            "amount": rng.randint(1, 99_999), "currency": "APX", "memo": f"task {rng.randrange(10_000_000):07d}",
            "ref": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        }, separators=(",", ":"))
        yield stream, payload


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def fold(balances, payload: str):
    event = json.loads(payload)
    balances[event["from"]] = balances.get(event["from"], 0) - event["amount"]
    balances[event["to"]] = balances.get(event["to"], 0) + event["amount"]


def report(peer: str, workload: str, **fields):
    print(json.dumps({"peer": peer, "workload": workload, **fields}), flush=True)


def timed_singles(append_one, count: int):
    """Runs append_one(i) count times; returns (rate, p50_ms, p99_ms, p999_ms)."""
    latencies = []
    start = time.perf_counter()
    for i in range(count):
        began = time.perf_counter()
        append_one(i)
        latencies.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - start
    latencies.sort()
    return count / elapsed, percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3, percentile(latencies, 0.999) * 1e3


def timed_reads(read_one):
    latencies = []
    for _ in range(READS):
        began = time.perf_counter()
        got = read_one()
        latencies.append(time.perf_counter() - began)
        if got != 100:
            sys.exit(f"read {got} events, not 100")
    latencies.sort()
    return percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3

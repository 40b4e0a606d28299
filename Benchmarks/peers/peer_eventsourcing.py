"""The Python `eventsourcing` library (PyPI), W1-W4 of common.py through its application
recorder: the event store the library gives an application (`insert_events` of
`StoredEvent`s, with its optimistic-concurrency check on (originator_id, originator_version);
`select_notifications` for the global log; `select_events` for one aggregate's stream).

usage: peer_eventsourcing.py sqlite DIR         its SQLite module (WAL), synchronous reported
       peer_eventsourcing.py postgres           its PostgreSQL module on 127.0.0.1:$PGPORT (database "postgres", table stored_events)

The payload bytes are the same ~200-byte JSON as the other peers'; each event goes to the
aggregate of its agent stream (a UUID derived from the stream name), versions counted from 1.
"""
import importlib.metadata
import os
import sys
import time
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from common import BATCH, EVENTS, SINGLE, events, fold, report, timed_reads, timed_singles

backend = sys.argv[1]
if backend == "sqlite":
    path = os.path.join(sys.argv[2], "events.db")
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    peer = "eventsourcing-sqlite"
elif backend == "postgres":
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": "postgres", "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": os.environ.get("PGPORT", "55432"), "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "trust",
    }
    peer = "eventsourcing-postgresql"
else:
    sys.exit("usage: peer_eventsourcing.py sqlite DIR | postgres")

application = Application(env=env)
recorder = application.recorder
version = importlib.metadata.version("eventsourcing")
if backend == "sqlite":
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
    settings = {"eventsourcing": version, "sqlite_synchronous": synchronous, "sqlite_journal_mode": journal}
else:
    settings = {"eventsourcing": version}

namespace = uuid5(NAMESPACE_URL, "tally-bench/agents")
ids = {}
versions = {}
TOPIC = "bench:PaymentTransferred"


def stored(pairs):
    out = []
    for stream, payload in pairs:
        if stream not in ids:
            ids[stream] = uuid5(namespace, stream)
        versions[stream] = versions.get(stream, 0) + 1
        out.append(StoredEvent(originator_id=ids[stream], originator_version=versions[stream], topic=TOPIC, state=payload.encode()))
    return out


pairs = list(events(EVENTS))
start = time.perf_counter()
for offset in range(0, len(pairs), BATCH):
    recorder.insert_events(stored(pairs[offset:offset + BATCH]))
elapsed = time.perf_counter() - start
report(peer, "W1", events=EVENTS, batch=BATCH, events_per_second=EVENTS / elapsed, **settings)

singles = list(events(SINGLE, seed=8))
rate, p50, p99, p999 = timed_singles(lambda i: recorder.insert_events(stored([singles[i]])), SINGLE)
report(peer, "W2", clients=1, events=SINGLE, events_per_second=rate, p50_ms=p50, p99_ms=p99, p999_ms=p999)

balances = {}
count = 0
position = 1
start = time.perf_counter()
while True:
    page = recorder.select_notifications(start=position, limit=10_000)
    if not page:
        break
    for notification in page:
        fold(balances, notification.state.decode())
    count += len(page)
    position = page[-1].id + 1
elapsed = time.perf_counter() - start
report(peer, "W3", events=count, events_per_second=count / elapsed)

recorder.insert_events(stored([("read-stream", p) for _, p in events(100, seed=9)]))
stream = ids["read-stream"]
p50, p99 = timed_reads(lambda: len(recorder.select_events(stream)))
report(peer, "W4", events_per_read=100, p50_ms=p50, p99_ms=p99)
application.close()

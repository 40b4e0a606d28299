"""PostgreSQL with an events table, synchronous_commit on (every commit durable): W1-W4 of
common.py. Needs psycopg (pip) and a server at PGHOST/PGPORT (run.sh starts one)."""
import os
import time

import psycopg

from common import BATCH, EVENTS, SINGLE, events, fold, report, timed_reads, timed_singles

db = psycopg.connect(host=os.environ.get("PGHOST", "127.0.0.1"), port=int(os.environ.get("PGPORT", "55432")), user="postgres",
                     dbname="postgres", autocommit=True)
db.execute("DROP TABLE IF EXISTS events")
db.execute("CREATE TABLE events (position BIGSERIAL PRIMARY KEY, stream TEXT NOT NULL, version BIGINT NOT NULL, "
           "id UUID NOT NULL UNIQUE, payload JSONB NOT NULL, UNIQUE (stream, version))")
versions = {}


def rows(pairs):
    for stream, payload in pairs:
        versions[stream] = versions.get(stream, 0) + 1
        yield stream, versions[stream], os.urandom(16).hex(), payload


def append(pairs):
    with db.transaction():
        with db.cursor().copy("COPY events (stream, version, id, payload) FROM STDIN") as copy:
            for row in rows(pairs):
                copy.write_row(row)


pairs = list(events(EVENTS))
start = time.perf_counter()
for offset in range(0, len(pairs), BATCH):
    append(pairs[offset:offset + BATCH])
elapsed = time.perf_counter() - start
size = db.execute("SELECT pg_total_relation_size('events')").fetchone()[0]
report("postgresql", "W1", events=EVENTS, batch=BATCH, events_per_second=EVENTS / elapsed, disk_bytes_per_event=size / EVENTS)

singles = list(events(SINGLE, seed=8))


def append_one(i):
    stream, version, event_id, payload = next(rows([singles[i]]))
    db.execute("INSERT INTO events (stream, version, id, payload) VALUES (%s, %s, %s, %s)", (stream, version, event_id, payload))


rate, p50, p99, p999 = timed_singles(append_one, SINGLE)
report("postgresql", "W2", clients=1, events=SINGLE, events_per_second=rate, p50_ms=p50, p99_ms=p99, p999_ms=p999)

balances = {}
count = 0
start = time.perf_counter()
with db.transaction():
    with db.cursor(name="replay") as cursor:
        cursor.itersize = 10_000
        cursor.execute("SELECT payload::text FROM events ORDER BY position")
        for (payload,) in cursor:
            fold(balances, payload)
            count += 1
elapsed = time.perf_counter() - start
report("postgresql", "W3", events=count, events_per_second=count / elapsed)

append([("read-stream", p) for _, p in events(100, seed=9)])
p50, p99 = timed_reads(lambda: len(db.execute(
    "SELECT position, version, payload::text FROM events WHERE stream = %s ORDER BY version", ("read-stream",)).fetchall()))
report("postgresql", "W4", events_per_read=100, p50_ms=p50, p99_ms=p99)

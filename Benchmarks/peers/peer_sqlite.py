"""SQLite in WAL mode with synchronous=FULL (every commit durable): W1-W4 of common.py."""
import os
import sqlite3
import sys
import time

from common import BATCH, EVENTS, SINGLE, events, fold, report, timed_reads, timed_singles

path = os.path.join(sys.argv[1], "events.db")
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL, "
           "id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, UNIQUE (stream, version))")
versions = {}


def rows(pairs):
    for stream, payload in pairs:
        versions[stream] = versions.get(stream, 0) + 1
        yield stream, versions[stream], os.urandom(16).hex(), payload


pairs = list(events(EVENTS))
start = time.perf_counter()
for offset in range(0, len(pairs), BATCH):
    db.execute("BEGIN")
    db.executemany("INSERT INTO events (stream, version, id, payload) VALUES (?, ?, ?, ?)", rows(pairs[offset:offset + BATCH]))
    db.execute("COMMIT")
elapsed = time.perf_counter() - start
size = os.path.getsize(path) + (os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0)
report("sqlite", "W1", events=EVENTS, batch=BATCH, events_per_second=EVENTS / elapsed, disk_bytes_per_event=size / EVENTS)

singles = list(events(SINGLE, seed=8))


def append_one(i):
    db.execute("BEGIN")
    db.executemany("INSERT INTO events (stream, version, id, payload) VALUES (?, ?, ?, ?)", rows([singles[i]]))
    db.execute("COMMIT")


rate, p50, p99, p999 = timed_singles(append_one, SINGLE)
report("sqlite", "W2", clients=1, events=SINGLE, events_per_second=rate, p50_ms=p50, p99_ms=p99, p999_ms=p999)

balances = {}
start = time.perf_counter()
count = 0
for (payload,) in db.execute("SELECT payload FROM events ORDER BY position"):
    fold(balances, payload)
    count += 1
elapsed = time.perf_counter() - start
report("sqlite", "W3", events=count, events_per_second=count / elapsed)

db.execute("BEGIN")
db.executemany("INSERT INTO events (stream, version, id, payload) VALUES (?, ?, ?, ?)",
               rows([("read-stream", p) for _, p in events(100, seed=9)]))
db.execute("COMMIT")
p50, p99 = timed_reads(lambda: len(db.execute("SELECT position, version, payload FROM events WHERE stream = ? ORDER BY version", ("read-stream",)).fetchall()))
report("sqlite", "W4", events_per_read=100, p50_ms=p50, p99_ms=p99)

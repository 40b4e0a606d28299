/* The raw LMDB limit beside `tally bench`: durable appends of 200-byte records under
 * 8-byte big-endian sequence keys (MDB_APPEND), BATCH records a transaction, optionally with
 * Tally's two random-keyed index puts a record (a 24-byte stream+version key and a 16-byte
 * id key). Also a cursor scan of the records, plain and with XXH3-64 of every value (the
 * floors of W3 and of the verifying scan), and a range read of 100
 * records (W4's floor).
 *
 * usage: lmdb_raw DIR N BATCH INDEXES   prints one JSON line per measurement. */
#include <lmdb.h>
#include <xxhash.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call) do { int rc_ = (call); if (rc_) { fprintf(stderr, "%s: %s\n", #call, mdb_strerror(rc_)); exit(1); } } while (0)

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static void put_be(unsigned char *p, uint64_t v) { for (int i = 7; i >= 0; i--) { p[i] = v & 0xff; v >>= 8; } }
static int cmp_double(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: lmdb_raw DIR N BATCH INDEXES(0-2)\n"); return 2; }
    const char *dir = argv[1];
    long n = atol(argv[2]), batch = atol(argv[3]);
    int indexes = atoi(argv[4]);
    MDB_env *env; MDB_dbi records, streams, ids; MDB_txn *txn;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_mapsize(env, (size_t)16 << 30));
    CHECK(mdb_env_set_maxdbs(env, 4));
    CHECK(mdb_env_open(env, dir, 0, 0644));
    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, "records", MDB_CREATE, &records));
    CHECK(mdb_dbi_open(txn, "streams", MDB_CREATE, &streams));
    CHECK(mdb_dbi_open(txn, "ids", MDB_CREATE, &ids));
    CHECK(mdb_txn_commit(txn));
    unsigned char value[200]; memset(value, 'x', sizeof value);
    double *latency = malloc(sizeof(double) * (n / batch + 1));
    long commits = 0;
    double start = now();
    for (long done = 0; done < n; done += batch) {
        double began = now();
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (long i = done; i < done + batch && i < n; i++) {
            unsigned char key[8]; put_be(key, (uint64_t)i + 1);
            MDB_val k = {8, key}, v = {sizeof value, value};
            CHECK(mdb_put(txn, records, &k, &v, MDB_APPEND));
            if (indexes >= 1) {
                unsigned char skey[24]; put_be(skey, next()); put_be(skey + 8, next()); put_be(skey + 16, (uint64_t)i);
                MDB_val sk = {24, skey}, sv = {8, key};
                CHECK(mdb_put(txn, streams, &sk, &sv, 0));
            }
            if (indexes >= 2) {
                unsigned char ikey[16]; put_be(ikey, next()); put_be(ikey + 8, next());
                MDB_val ik = {16, ikey}, iv = {8, key};
                CHECK(mdb_put(txn, ids, &ik, &iv, 0));
            }
        }
        CHECK(mdb_txn_commit(txn));
        latency[commits++] = now() - began;
    }
    double elapsed = now() - start;
    qsort(latency, commits, sizeof(double), cmp_double);
    printf("{\"peer\":\"lmdb-raw\",\"workload\":\"append\",\"events\":%ld,\"batch\":%ld,\"indexes\":%d,\"events_per_second\":%.1f,"
           "\"commit_p50_ms\":%.3f,\"commit_p99_ms\":%.3f}\n",
           n, batch, indexes, n / elapsed, latency[commits / 2] * 1e3, latency[commits * 99 / 100] * 1e3);

    /* Scan: every record, as a replay reads them. */
    MDB_cursor *cursor; MDB_val k, v; long seen = 0; uint64_t sum = 0;
    start = now();
    CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    CHECK(mdb_cursor_open(txn, records, &cursor));
    while (mdb_cursor_get(cursor, &k, &v, seen ? MDB_NEXT : MDB_FIRST) == 0) { seen++; sum += ((unsigned char *)v.mv_data)[0]; }
    mdb_cursor_close(cursor); mdb_txn_abort(txn);
    elapsed = now() - start;
    printf("{\"peer\":\"lmdb-raw\",\"workload\":\"scan\",\"events\":%ld,\"events_per_second\":%.1f,\"checksum\":%llu}\n", seen, seen / elapsed, (unsigned long long)sum);

    /* Scan with XXH3-64 of every record (the verifying scan's floor). */
    seen = 0; sum = 0;
    start = now();
    CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    CHECK(mdb_cursor_open(txn, records, &cursor));
    while (mdb_cursor_get(cursor, &k, &v, seen ? MDB_NEXT : MDB_FIRST) == 0) { seen++; sum += XXH3_64bits(v.mv_data, v.mv_size); }
    mdb_cursor_close(cursor); mdb_txn_abort(txn);
    elapsed = now() - start;
    printf("{\"peer\":\"lmdb-raw\",\"workload\":\"scan_verify\",\"events\":%ld,\"events_per_second\":%.1f,\"checksum\":%llu}\n", seen, seen / elapsed, (unsigned long long)sum);

    /* Range read of 100 consecutive records, 2,000 times (a stream read's floor). */
    double reads[2000];
    for (int r = 0; r < 2000; r++) {
        double began = now();
        CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
        CHECK(mdb_cursor_open(txn, records, &cursor));
        unsigned char key[8]; put_be(key, 1 + next() % (uint64_t)(n > 100 ? n - 100 : 1)); k.mv_size = 8; k.mv_data = key;
        int got = 0, op = MDB_SET_RANGE;
        while (got < 100 && mdb_cursor_get(cursor, &k, &v, op) == 0) { got++; op = MDB_NEXT; }
        mdb_cursor_close(cursor); mdb_txn_abort(txn);
        reads[r] = now() - began;
    }
    qsort(reads, 2000, sizeof(double), cmp_double);
    printf("{\"peer\":\"lmdb-raw\",\"workload\":\"read\",\"events_per_read\":100,\"p50_ms\":%.4f,\"p99_ms\":%.4f}\n", reads[1000] * 1e3, reads[1980] * 1e3);
    mdb_env_close(env);
    return 0;
}

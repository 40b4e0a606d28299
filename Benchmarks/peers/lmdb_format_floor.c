/* The floor of W1 for Tally's log format v1 (docs/format.md): the least work the format and
 * the append contract require, written as plain C on one thread, beside lmdb_raw's append.
 *
 * Per event, as Tally's W1 does it: check the 200-byte payload is one JSON value; check the
 * event id is new (an open-addressing table of every id written, as Tally's tail holds
 * them); look up and advance the stream's version (10,000 streams, a table keyed by the
 * XXH3 of the id); encode the record (64-byte header, stream id, type, payload, previous
 * checksum, XXH3-64) straight into LMDB's page with MDB_RESERVE | MDB_APPEND; add it to the
 * commit's SHA-256 seal. Per commit of BATCH events: put the seal, commit (LMDB's two
 * syncs). No persisted index (Tally's indexer runs behind the log), no Swift, no
 * concurrency: what is left is what any implementation of the format pays.
 *
 * usage: lmdb_format_floor DIR N BATCH    prints one JSON line: raw appends of 200-byte
 * values (lmdb_raw's W1) in DIR/raw, then the floor in DIR/floor, then the floor without the
 * JSON check in DIR/writer (the part a single writer thread cannot hand to its callers), so
 * all three are measured in the same minute. DIR must not hold earlier results.
 *
 * build: gcc -O2 -o lmdb_format_floor lmdb_format_floor.c -llmdb -lxxhash -lcrypto */
#define _GNU_SOURCE
#include <lmdb.h>
#include <xxhash.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CHECK(call) do { int rc_ = (call); if (rc_) { fprintf(stderr, "%s: %s\n", #call, mdb_strerror(rc_)); exit(1); } } while (0)

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static void put_be(unsigned char *p, uint64_t v) { for (int i = 7; i >= 0; i--) { p[i] = v & 0xff; v >>= 8; } }

/* ---- RFC 8259 validation, as Tally checks a payload at append ---- */
static const unsigned char *ws(const unsigned char *p, const unsigned char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}
static const unsigned char *value(const unsigned char *p, const unsigned char *e, int depth);
static const unsigned char *string(const unsigned char *p, const unsigned char *e) {
    if (p >= e || *p != '"') return NULL;
    for (p++; p < e; p++) {
        if (*p == '"') return p + 1;
        if (*p < 0x20) return NULL;
        if (*p == '\\') {
            if (++p >= e) return NULL;
            if (*p == 'u') { for (int i = 0; i < 4; i++) { if (++p >= e || !((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'f'))) return NULL; } }
            else if (!strchr("\"\\/bfnrt", *p)) return NULL;
        } else if (*p >= 0x80) {
            int n = (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
            if (n < 0) return NULL;
            for (int i = 0; i < n; i++) if (++p >= e || (*p & 0xC0) != 0x80) return NULL;
        }
    }
    return NULL;
}
static const unsigned char *number(const unsigned char *p, const unsigned char *e) {
    if (p < e && *p == '-') p++;
    if (p >= e) return NULL;
    if (*p == '0') p++; else if (*p >= '1' && *p <= '9') { while (p < e && *p >= '0' && *p <= '9') p++; } else return NULL;
    if (p < e && *p == '.') { p++; if (p >= e || *p < '0' || *p > '9') return NULL; while (p < e && *p >= '0' && *p <= '9') p++; }
    if (p < e && (*p | 32) == 'e') {
        p++; if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') return NULL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    return p;
}
static const unsigned char *value(const unsigned char *p, const unsigned char *e, int depth) {
    if (depth > 64 || (p = ws(p, e)) >= e) return NULL;
    if (*p == '{' || *p == '[') {
        unsigned char close = *p == '{' ? '}' : ']';
        int object = *p == '{';
        p = ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (object) { if (!(p = string(ws(p, e), e)) || (p = ws(p, e)) >= e || *p++ != ':') return NULL; }
            if (!(p = value(p, e, depth + 1)) || (p = ws(p, e)) >= e) return NULL;
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    if (*p == '"') return string(p, e);
    if (e - p >= 4 && !memcmp(p, "true", 4)) return p + 4;
    if (e - p >= 5 && !memcmp(p, "false", 5)) return p + 5;
    if (e - p >= 4 && !memcmp(p, "null", 4)) return p + 4;
    return number(p, e);
}
static int is_json(const unsigned char *p, size_t n) {
    const unsigned char *end = value(p, p + n, 0);
    return end && ws(end, p + n) == p + n;
}

/* ---- the tail's tables ---- */
typedef struct { uint64_t hi, lo, position; } IdSlot;
static IdSlot *ids; static uint64_t ids_mask;
static int id_insert(uint64_t hi, uint64_t lo, uint64_t position) {
    uint64_t i = XXH3_64bits_withSeed(&lo, 8, hi) & ids_mask;
    while (ids[i].position) { if (ids[i].hi == hi && ids[i].lo == lo) return 0; i = (i + 1) & ids_mask; }
    ids[i] = (IdSlot){hi, lo, position};
    return 1;
}
typedef struct { uint64_t hash; char id[24]; int64_t version; } StreamSlot;
static StreamSlot streams[1 << 15];
static int64_t *stream_version(const char *id, size_t n) {
    uint64_t hash = XXH3_64bits(id, n) | 1, i = hash & ((1 << 15) - 1);
    while (streams[i].hash && (streams[i].hash != hash || strncmp(streams[i].id, id, sizeof streams[i].id))) i = (i + 1) & ((1 << 15) - 1);
    if (!streams[i].hash) { streams[i].hash = hash; memcpy(streams[i].id, id, n < sizeof streams[i].id ? n : sizeof streams[i].id - 1); streams[i].version = -1; }
    return &streams[i].version;
}

static MDB_env *open_env(const char *dir, MDB_dbi *log, MDB_dbi *seals) {
    MDB_env *env; MDB_txn *txn;
    mkdir(dir, 0755);
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_mapsize(env, (size_t)16 << 30));
    CHECK(mdb_env_set_maxdbs(env, 4));
    CHECK(mdb_env_open(env, dir, 0, 0644));
    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, "log", MDB_CREATE, log));
    CHECK(mdb_dbi_open(txn, "seals", MDB_CREATE, seals));
    CHECK(mdb_txn_commit(txn));
    return env;
}

static const char payload[] = "{\"type\":\"payment.transferred\",\"from\":\"agent-4242\",\"to\":\"agent-7919\",\"amount\":4242,"
    "\"currency\":\"APX\",\"memo\":\"task 0004242, nightly payroll for build agents\",\"ref\":\"6f1c0a52-3b7e-4c1d-9a8e-2d5f7b9c0e13\"}";
static const char type[] = "bench.appended";

static double raw_append(const char *dir, long n, long batch) {
    MDB_dbi log, seals; MDB_env *env = open_env(dir, &log, &seals); MDB_txn *txn;
    unsigned char value[200]; memset(value, 'x', sizeof value);
    double start = now();
    for (long done = 0; done < n; done += batch) {
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (long i = done; i < done + batch && i < n; i++) {
            unsigned char key[8]; put_be(key, (uint64_t)i + 1);
            MDB_val k = {8, key}, v = {sizeof value, value};
            CHECK(mdb_put(txn, log, &k, &v, MDB_APPEND));
        }
        CHECK(mdb_txn_commit(txn));
    }
    double elapsed = now() - start;
    mdb_env_close(env);
    return n / elapsed;
}

static double floor_append(const char *dir, long n, long batch, int check_json) {
    MDB_dbi log, seals; MDB_env *env = open_env(dir, &log, &seals); MDB_txn *txn;
    ids_mask = 1; while (ids_mask < (uint64_t)n * 2) ids_mask <<= 1;
    ids = calloc(ids_mask, sizeof *ids); ids_mask -= 1;
    memset(streams, 0, sizeof streams);
    uint64_t position = 1, previous = 0;
    unsigned char seal[32] = {0};
    size_t payload_bytes = sizeof payload - 1, type_bytes = sizeof type - 1;
    double start = now();
    for (long done = 0; done < n; done += batch) {
        long count = done + batch <= n ? batch : n - done;
        /* The caller's checks: every payload is JSON, every id of the append distinct. */
        for (long i = 0; check_json && i < count; i++) if (!is_json((const unsigned char *)payload, payload_bytes)) { fprintf(stderr, "not JSON\n"); exit(1); }
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        SHA256_CTX sha; SHA256_Init(&sha); SHA256_Update(&sha, seal, 32);
        unsigned char first[8]; memcpy(first, &position, 8); SHA256_Update(&sha, first, 8);
        uint64_t first_position = position;
        uint64_t recorded_at = (uint64_t)(now() * 1e9);
        for (long i = 0; i < count; i++) {
            char stream[24]; int stream_bytes = snprintf(stream, sizeof stream, "bench-%ld", (done + i) * 7919 % 10000);
            uint64_t hi = next(), lo = next();
            if (!id_insert(hi, lo, position)) { fprintf(stderr, "duplicate id\n"); exit(1); }
            int64_t *version = stream_version(stream, (size_t)stream_bytes);
            *version += 1;
            size_t length = 64 + (size_t)stream_bytes + type_bytes + payload_bytes + 16;
            unsigned char key[8]; put_be(key, position);
            MDB_val k = {8, key}, v = {length, NULL};
            CHECK(mdb_put(txn, log, &k, &v, MDB_APPEND | MDB_RESERVE));
            unsigned char *r = v.mv_data;
            uint32_t l32 = (uint32_t)length; uint16_t one = 1, flags = 1, s16 = (uint16_t)stream_bytes, t16 = (uint16_t)type_bytes;
            uint32_t m32 = 0, p32 = (uint32_t)payload_bytes, zero = 0; uint64_t v64 = (uint64_t)*version;
            memcpy(r, &l32, 4); memcpy(r + 4, &one, 2); memcpy(r + 6, &flags, 2); memcpy(r + 8, &position, 8);
            memcpy(r + 16, &v64, 8); memcpy(r + 24, &recorded_at, 8); memcpy(r + 32, &hi, 8); memcpy(r + 40, &lo, 8);
            memcpy(r + 48, &s16, 2); memcpy(r + 50, &t16, 2); memcpy(r + 52, &m32, 4); memcpy(r + 56, &p32, 4); memcpy(r + 60, &zero, 4);
            unsigned char *p = r + 64;
            memcpy(p, stream, (size_t)stream_bytes); p += stream_bytes;
            memcpy(p, type, type_bytes); p += type_bytes;
            memcpy(p, payload, payload_bytes); p += payload_bytes;
            memcpy(p, &previous, 8); p += 8;
            previous = XXH3_64bits(r, length - 8);
            memcpy(p, &previous, 8);
            SHA256_Update(&sha, r, length);
            position++;
        }
        SHA256_Final(seal, &sha);
        unsigned char key[8], value[40]; put_be(key, position - 1);
        memcpy(value, &first_position, 8); memcpy(value + 8, seal, 32);
        MDB_val k = {8, key}, v = {40, value};
        CHECK(mdb_put(txn, seals, &k, &v, MDB_APPEND));
        CHECK(mdb_txn_commit(txn));
    }
    double elapsed = now() - start;
    mdb_env_close(env);
    free(ids);
    return n / elapsed;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: lmdb_format_floor DIR N BATCH\n"); return 2; }
    long n = atol(argv[2]), batch = atol(argv[3]);
    char raw_dir[4096], floor_dir[4096], writer_dir[4096];
    snprintf(raw_dir, sizeof raw_dir, "%s/raw", argv[1]);
    snprintf(floor_dir, sizeof floor_dir, "%s/floor", argv[1]);
    snprintf(writer_dir, sizeof writer_dir, "%s/writer", argv[1]);
    mkdir(argv[1], 0755);
    double raw = raw_append(raw_dir, n, batch);
    double floor = floor_append(floor_dir, n, batch, 1);
    /* The same without the JSON check: what is left on the writer when callers check
       their payloads on other cores first (as Tally's append does). */
    double writer = floor_append(writer_dir, n, batch, 0);
    printf("{\"peer\":\"lmdb-format-floor\",\"workload\":\"append\",\"events\":%ld,\"batch\":%ld,"
           "\"raw_events_per_second\":%.1f,\"floor_events_per_second\":%.1f,\"floor_over_raw\":%.3f,"
           "\"writer_floor_events_per_second\":%.1f,\"writer_floor_over_raw\":%.3f}\n",
           n, batch, raw, floor, floor / raw, writer, writer / raw);
    return 0;
}

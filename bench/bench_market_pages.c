/* bench_market_pages.c: which B-trees a block's commit writes, the market's
 * lifecycles against transfers: a count that does not depend on the disk or
 * the load, unlike bench_market's wall ratio, which a commit's fsync bounds.
 *
 * bench_market's lifecycles (market_plan.h) are submitted directly with
 * CLIENTS client threads (default 1: one action a block, so the counts are
 * the same on every run), on a fresh ledger whose automatic checkpoint is
 * off, so the WAL keeps every frame each commit wrote. Each frame is then
 * named by the table or index that owns its page now (SQLite's dbstat
 * table; page 1, the file header, is "sqlite_schema"); a page that changed
 * owner within the run is counted for its last owner.
 *
 * usage: bench_market_pages [LIFECYCLES] [CLIENTS]   (defaults 100, 1)
 * Prints, for transfers and market actions, pages a block and each B-tree's
 * share, then `market pages/block: X.XX`. */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_impl.h"
#include "ledger/ledger_impl.h"
#include "market_plan.h"

#define MAX_TREES 128

typedef struct tree_count {
    char name[64];
    uint64_t frames;
} tree_count;

typedef struct client_arg {
    gt_ledger *l;
    const plan *p;
} client_arg;

/* One client thread: submits its plan in order, one action at a time;
 * exits the process on a refused action (every one must be accepted). */
static void *client(void *arg) {
    client_arg *c = arg;
    for (size_t i = 0; i < c->p->n; i++) {
        gt_action a = c->p->acts[i];
        gt_result r;
        gt_ledger_submit(c->l, &a, 1, &r);
        if (r.code) {
            fprintf(stderr, "bench_market_pages: action %zu: %s\n", i, r.msg);
            exit(1);
        }
    }
    return NULL;
}

/* Big-endian 32-bit word at p (the WAL's byte order). */
static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The owner of every page of the database at path (read through its WAL):
 * owner[pgno] an index into names (n_names of them), -1 for no B-tree page
 * (free, or past the file). Returns the number of pages covered. */
static uint32_t page_owners(const char *path, int **owner, tree_count *names, int *n_names) {
    sqlite3 *db;
    sqlite3_stmt *q;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ||
        sqlite3_prepare_v2(db, "SELECT name, pageno FROM dbstat", -1, &q, NULL)) {
        fprintf(stderr, "bench_market_pages: dbstat: %s (SQLite built without SQLITE_ENABLE_DBSTAT_VTAB?)\n",
                sqlite3_errmsg(db));
        exit(1);
    }
    uint32_t cap = 1024;
    int *own = gt_malloc(cap * sizeof *own);
    if (!own) abort();
    for (uint32_t i = 0; i < cap; i++) own[i] = -1;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        uint32_t pg = (uint32_t)sqlite3_column_int64(q, 1);
        int k = 0;
        while (k < *n_names && strcmp(names[k].name, name)) k++;
        if (k == *n_names) {
            if (k == MAX_TREES) abort();
            snprintf(names[k].name, sizeof names[k].name, "%s", name);
            names[k].frames = 0;
            (*n_names)++;
        }
        if (pg >= cap) {
            uint32_t ncap = pg * 2;
            own = gt_realloc(own, ncap * sizeof *own);
            if (!own) abort();
            for (uint32_t i = cap; i < ncap; i++) own[i] = -1;
            cap = ncap;
        }
        own[pg] = k;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    *owner = own;
    return cap;
}

/* Counts the frames of the WAL at wal_path from byte offset `from` on (the
 * run's commits) against their pages' owners; returns the commits seen. */
static uint64_t count_frames(const char *wal_path, long from, const int *owner, uint32_t n_owned, tree_count *names,
                             uint64_t *unowned) {
    FILE *f = fopen(wal_path, "rb");
    uint8_t hdr[32];
    if (!f || fread(hdr, 1, 32, f) != 32) {
        fprintf(stderr, "bench_market_pages: cannot read %s\n", wal_path);
        exit(1);
    }
    uint32_t page_size = be32(hdr + 8);
    assert(page_size >= 512 && page_size <= 65536);
    uint8_t *frame = gt_malloc(24 + (size_t)page_size);
    if (!frame) abort();
    uint64_t commits = 0;
    if (fseek(f, from, SEEK_SET)) abort();
    while (fread(frame, 1, 24 + (size_t)page_size, f) == 24 + (size_t)page_size) {
        uint32_t pg = be32(frame), commit_size = be32(frame + 4);
        if (pg < n_owned && owner[pg] >= 0) names[owner[pg]].frames++;
        else (*unowned)++;
        if (commit_size) commits++;
    }
    gt_free(frame);
    fclose(f);
    return commits;
}

/* Size of the file at path in bytes, 0 when it does not exist. */
static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Orders tree counts by frames, most first, then by name. */
static int by_frames(const void *a, const void *b) {
    const tree_count *x = a, *y = b;
    if (x->frames != y->frames) return x->frames < y->frames ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* One run of plans p on a fresh ledger with `clients` threads; prints the
 * pages a block by B-tree and returns pages a block (frames / commits). */
static double run(const char *what, const plan *p, int clients) {
    char dir[64], path[128], wal[140];
    setup_home(dir);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    gt_ledger *l = NULL;
    gt_err err = {0};
    if (gt_market_register(&err) || gt_ledger_open(path, 0, &l, &err)) {
        fprintf(stderr, "bench_market_pages: %s\n", err.msg);
        exit(1);
    }
    /* the writer is idle until the first submit: no commit races this */
    sqlite3_wal_autocheckpoint(l->db, 0);
    long from = file_size(wal);
    if (from == 0) from = 32; /* no WAL yet: its header comes with the first commit */
    pthread_t th[THREADS];
    client_arg ca[THREADS];
    for (int t = 0; t < clients; t++) {
        ca[t] = (client_arg){l, &p[t]};
        pthread_create(&th[t], NULL, client, &ca[t]);
    }
    for (int t = 0; t < clients; t++) pthread_join(th[t], NULL);
    gt_ledger_stats st;
    gt_ledger_stats_get(l, &st);
    tree_count names[MAX_TREES];
    int n_names = 0, *owner;
    uint64_t unowned = 0;
    uint32_t n_owned = page_owners(path, &owner, names, &n_names);
    uint64_t commits = count_frames(wal, from, owner, n_owned, names, &unowned);
    gt_ledger_close(l);
    trm(dir);
    gt_free(owner);
    if (commits != st.blocks) {
        fprintf(stderr, "bench_market_pages: %llu commits in the WAL, %llu blocks written\n",
                (unsigned long long)commits, (unsigned long long)st.blocks);
        exit(1);
    }
    uint64_t total = unowned;
    for (int k = 0; k < n_names; k++) total += names[k].frames;
    qsort(names, (size_t)n_names, sizeof names[0], by_frames);
    double blocks = commits ? (double)commits : 1;
    printf("%s: %llu blocks, %.2f pages/block (the ledger's own count %.2f)\n", what, (unsigned long long)commits,
           (double)total / blocks, (double)st.pages_written / blocks);
    for (int k = 0; k < n_names && names[k].frames; k++)
        printf("  %-24s %6.2f\n", names[k].name, (double)names[k].frames / blocks);
    if (unowned) printf("  %-24s %6.2f\n", "(free now)", (double)unowned / blocks);
    return (double)total / blocks;
}

int main(int argc, char **argv) {
    if (argc > 1) L = atoi(argv[1]);
    int clients = argc > 2 ? atoi(argv[2]) : 1;
    if (L < 1 || clients < 1 || clients > THREADS) {
        fprintf(stderr, "usage: bench_market_pages [LIFECYCLES >= 1] [CLIENTS 1..%d]\n", THREADS);
        return 2;
    }
    char dir[64];
    setup_home(dir); /* sets the signing domain the plans need */
    trm(dir);
    for (int t = 0; t < THREADS; t++) make_plans(t);
    printf("bench_market_pages: %d client thread%s x %d lifecycles of 5 actions, WAL frames by B-tree\n", clients,
           clients == 1 ? "" : "s", L);
    double ledger = run("ledger (5 transfers a lifecycle)", transfer_plan, clients);
    double market = run("market (post, claim, submit, verify, settle)", market_plan, clients);
    printf("ledger pages/block: %.2f\nmarket pages/block: %.2f\n", ledger, market);
    return 0;
}

/* test_ledger_backup.c: gt_ledger_backup, a copy of a ledger taken while its
 * writer runs. Backups are taken over and over while a thread applies
 * transfers block after block (and the checkpointer copies the WAL, every
 * 24 frames here so that many cycles land under a backup): each is one
 * snapshot, whole and checked — its blocks are the source's blocks at the
 * same heights, its head at most the source's, a full replay passes, and a
 * writer opens it. A backup is mode 0600, never overwrites a file, leaves
 * no file behind when it fails, and refuses a source edited by hand (its
 * copy fails the open check) without making the file; a file made at its
 * name meanwhile is kept, SIGINT leaves no temp file, and a name SQLite
 * gives a side file (-wal, -shm, -journal) is refused. A copy made for a
 * verifier (GT_BACKUP_NO_SECRET) holds the seed secret's bytes nowhere,
 * verifies, and a writer refuses it saying why. */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "ledger_util.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/file.h"
#include "ledger/ledger_impl.h"

#define SENDERS 4
#define BACKUPS 6

static gt_key K[SENDERS + 1];
static gt_addr A[SENDERS + 1];
static char dir[64], path[128];
static gt_ledger *L;
static _Atomic int stop, sent;

/* Applies transfers one block at a time until stop is set. */
static void *writer(void *arg) {
    (void)arg;
    const gt_domain *d = gt_ledger_domain(L);
    for (uint64_t nonce = 0; !atomic_load(&stop); nonce++) {
        gt_action a[SENDERS];
        gt_result r[SENDERS];
        for (int i = 0; i < SENDERS; i++) tsign(&a[i], &gt_kind_transfer, d, &K[1 + i], nonce, &A[0], 1);
        if (gt_ledger_submit(L, a, SENDERS, r) != SENDERS) break;
        atomic_fetch_add(&sent, SENDERS);
    }
    return NULL;
}

/* The source's block at the backup's height has the backup's head hash. */
static void same_block(const gt_block *head) {
    gt_block b;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_block(L, head->height, &b, &err), 0);
    CHECK(!memcmp(b.hash, head->hash, 32));
}

/* A backup at out is a ledger: a full replay passes, a writer opens it
 * (its open check again), and its head is the one the backup reported. */
static void is_whole(const char *out, const gt_block *head) {
    struct stat st;
    CHECK_EQ_INT(stat(out, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_MSG(gt_ledger_verify(out, &rep, NULL, NULL, &err) == 0, "verify %s: %s", out, err.msg);
    CHECK(!memcmp(rep.head_hash, head->hash, 32));
    gt_ledger *c = NULL;
    CHECK_MSG(gt_ledger_open(out, 0, &c, &err) == 0, "open %s: %s", out, err.msg);
    gt_ledger_close(c);
}

static void test_backups_under_writes(void) {
    L = tledger_fresh(dir, path, &A[0], 1700000000);
    if (!L) return;
    gt_ledger_set_ckpt_frames(L, 24);
    const gt_domain *d = gt_ledger_domain(L);
    gt_action a;
    gt_result r;
    for (int i = 0; i < SENDERS; i++) {
        tsign(&a, &gt_kind_mint, d, &K[0], (uint64_t)i, &A[1 + i], 1000000 * GT_AMOUNT_UNIT);
        CHECK_EQ_INT(tsubmit(L, &a, &r), 0);
    }
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, writer, NULL), 0);
    uint64_t last = 0;
    for (int b = 0; b < BACKUPS; b++) {
        while (atomic_load(&sent) < 40 * SENDERS * (b + 1)) usleep(1000); /* blocks in between */
        char out[160];
        snprintf(out, sizeof out, "%s/b%d.db", dir, b);
        gt_block head;
        gt_err err = {0};
        CHECK_MSG(gt_ledger_backup(path, out, 0, &head, &err) == 0, "backup %d: %s", b, err.msg);
        CHECK(head.height >= last);
        last = head.height;
        same_block(&head);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    fprintf(stderr, "  %d backups taken while %d transfers were applied, the last at block %llu\n", BACKUPS,
            atomic_load(&sent), (unsigned long long)last);
    for (int b = 0; b < BACKUPS; b++) {
        char out[160];
        snprintf(out, sizeof out, "%s/b%d.db", dir, b);
        gt_block head;
        gt_err err = {0};
        gt_ledger *c = NULL;
        CHECK_EQ_INT(gt_ledger_open(out, GT_LEDGER_READONLY, &c, &err), 0);
        CHECK_EQ_INT(gt_ledger_head(c, &head, &err), 0);
        gt_ledger_close(c);
        is_whole(out, &head);
    }
}

/* No temp file of a backup to out is left. */
static void no_tmp_left(const char *out) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s.tmp-* >/dev/null 2>&1", out);
    CHECK(system(cmd) != 0);
}

/* No file at out, nor its temp file, after a failed backup. */
static void nothing_left(const char *out) {
    CHECK(!gt_file_exists(out));
    no_tmp_left(out);
}

static void test_refusals(void) {
    char out[160], bad[160];
    gt_block head;
    gt_err err = {0};
    snprintf(out, sizeof out, "%s/b0.db", dir);
    CHECK_EQ_INT(gt_ledger_backup(path, out, 0, &head, &err), GT_EEXIST);
    CHECK_CONTAINS(err.msg, "never overwrites");
    snprintf(out, sizeof out, "%s/missing.db", dir);
    snprintf(bad, sizeof bad, "%s/none/ledger.db", dir);
    CHECK_EQ_INT(gt_ledger_backup(bad, out, 0, &head, &err), GT_ENOTFOUND);
    nothing_left(out);
    gt_ledger_close(L); /* the source edited by hand: a balance raised */
    L = NULL;
    snprintf(bad, sizeof bad, "%s/edited.db", dir);
    CHECK_EQ_INT(tledger_copy(path, bad), 0);
    CHECK_EQ_INT(tledger_exec(bad, "UPDATE accounts SET balance = balance + 1 WHERE addr = (SELECT min(addr) FROM accounts)"), 0);
    snprintf(out, sizeof out, "%s/of-edited.db", dir);
    err = (gt_err){0};
    CHECK(gt_ledger_backup(bad, out, 0, &head, &err) != 0);
    CHECK_CONTAINS(err.msg, "the backup did not pass the ledger's open check");
    nothing_left(out);
}

/* A ledger no connection has open has no -wal file (b0.db, a backup a
 * writer last opened and closed): a backup at that name would be deleted by
 * the ledger's next open (the old code made it, said it was whole, and the
 * next writer removed it). The same for -shm and -journal. */
static void test_sidecar_names(void) {
    static const char *const ends[] = {"-wal", "-shm", "-journal"};
    char out[200];
    gt_block head;
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        gt_err err = {0};
        snprintf(out, sizeof out, "%s/b0.db%s", dir, ends[i]);
        CHECK_EQ_INT(gt_ledger_backup(path, out, 0, &head, &err), GT_EINVAL);
        CHECK_CONTAINS(err.msg, "side file");
        nothing_left(out);
    }
}

/* gt_ledger_backup_before_name: makes a file at the backup's name after
 * the check at its start, as another program could while the copy is made. */
static void make_out_meanwhile(const char *out) {
    FILE *f = fopen(out, "wx");
    CHECK(f != NULL);
    if (f) fputs("precious", f), fclose(f);
}

/* A file made at out while the copy is made is kept, and the backup fails
 * (the old code's rename replaced it). */
static void test_no_replace_race(void) {
    char out[160], tmp[200];
    snprintf(out, sizeof out, "%s/raced.db", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
    gt_ledger_backup_before_name = make_out_meanwhile;
    gt_block head;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_backup(path, out, 0, &head, &err), GT_EEXIST);
    gt_ledger_backup_before_name = NULL;
    uint8_t *got = NULL;
    size_t n = 0;
    CHECK_EQ_INT(gt_file_read(out, 64, &got, &n, &err), 0);
    CHECK_MSG(got && n == 8 && !memcmp(got, "precious", 8), "the file made meanwhile was replaced (%zu bytes)", n);
    free(got);
    CHECK(!gt_file_exists(tmp));
}

/* SIGINT while the copy is made: the process ends as it would have, and no
 * temp file (a copy of the draw seed secret) is left. Tried until the signal
 * lands while the temp file exists (a small ledger's copy is quick). */
static void test_interrupted(void) {
    int landed = 0;
    for (int t = 0; t < 20 && !landed; t++) {
        char out[160], tmp[200];
        snprintf(out, sizeof out, "%s/int%d.db", dir, t);
        pid_t pid = fork();
        if (pid == 0) {
            gt_block head;
            gt_err err = {0};
            _exit(gt_ledger_backup(path, out, 0, &head, &err) ? 1 : 0);
        }
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)pid);
        int status = 0, done = 0;
        for (int i = 0; i < 2000000 && !gt_file_exists(tmp) && !done; i++) done = waitpid(pid, &status, WNOHANG) == pid;
        if (!done && gt_file_exists(tmp)) kill(pid, SIGINT);
        if (!done) CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
        CHECK_MSG(!gt_file_exists(tmp), "%s left after SIGINT", tmp);
        landed = WIFSIGNALED(status) && WTERMSIG(status) == SIGINT && !gt_file_exists(out); /* else it had ended */
    }
    CHECK_MSG(landed, "no SIGINT landed during a backup in 20 tries");
}

/* Mode 0600 under any umask: 0277 made the old copy 0400 (and, not as
 * root, a copy SQLite could not write). */
static void test_umask(void) {
    char out[160];
    snprintf(out, sizeof out, "%s/masked.db", dir);
    mode_t was = umask(0277);
    gt_block head;
    gt_err err = {0};
    CHECK_MSG(gt_ledger_backup(path, out, 0, &head, &err) == 0, "%s", err.msg);
    umask(was);
    struct stat st;
    CHECK_EQ_INT(stat(out, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
}

/* Whether the file at p holds the 32 bytes of s anywhere. */
static int holds(const char *p, const uint8_t s[32]) {
    FILE *f = fopen(p, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    int found = b && fread(b, 1, (size_t)n, f) == (size_t)n ? memmem(b, (size_t)n, s, 32) != NULL : -1;
    free(b);
    fclose(f);
    return found;
}

/* --no-secret: the copy verifies to the same head, a reader opens it, a
 * writer refuses it naming the reason, and the secret's 32 bytes (which a
 * plain backup holds, so the search can find them) are nowhere in it. */
static void test_no_secret(void) {
    char out[160], plain[160];
    snprintf(out, sizeof out, "%s/for-verify.db", dir);
    snprintf(plain, sizeof plain, "%s/with-secret.db", dir);
    gt_block head, head2;
    gt_err err = {0};
    uint8_t secret[32];
    gt_ledger *c = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &c, &err), 0);
    CHECK_EQ_INT(gt_ledger_meta_get(c, "seed_secret", NULL, secret, 32, &err), 0);
    gt_ledger_close(c);
    CHECK_MSG(gt_ledger_backup(path, plain, 0, &head, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(holds(plain, secret), 1);
    CHECK_MSG(gt_ledger_backup(path, out, GT_BACKUP_NO_SECRET, &head2, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(holds(out, secret), 0);
    CHECK(!memcmp(head.hash, head2.hash, 32));
    no_tmp_left(out);
    gt_verify_report rep;
    CHECK_MSG(gt_ledger_verify(out, &rep, NULL, NULL, &err) == 0, "verify %s: %s", out, err.msg);
    CHECK(!memcmp(rep.head_hash, head2.hash, 32));
    CHECK_EQ_INT(rep.secret_absent, 1);
    CHECK_EQ_INT(gt_ledger_verify(plain, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_INT(rep.secret_absent, 0);
    c = NULL;
    CHECK_EQ_INT(gt_ledger_open(out, GT_LEDGER_READONLY, &c, &err), 0);
    gt_ledger_close(c);
    c = NULL;
    uint8_t *before = NULL, *after = NULL;
    size_t n_before = 0, n_after = 0;
    CHECK_EQ_INT(gt_file_read(out, 1u << 26, &before, &n_before, &err), 0);
    CHECK_EQ_INT(gt_ledger_open(out, 0, &c, &err), GT_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "has no draw seed secret");
    CHECK_CONTAINS(err.msg, "--no-secret");
    CHECK(c == NULL);
    /* Refused before anything was written: the copy is byte for byte the
     * one made (a writer's open had turned it to WAL mode first). */
    CHECK_EQ_INT(gt_file_read(out, 1u << 26, &after, &n_after, &err), 0);
    CHECK(n_before == n_after && before && after && !memcmp(before, after, n_before));
    char wal[200];
    snprintf(wal, sizeof wal, "%s-wal", out);
    CHECK_EQ_INT(gt_file_exists(wal), 0);
    gt_free(before);
    gt_free(after);
}

/* A ledger path that is a FIFO: an open fails at once, writer or reader.
 * The writer's read-only look for a --no-secret copy (refuse_verify_copy)
 * opened it O_RDONLY, which blocks until some process opens the FIFO for
 * writing: `gotong node` hung where it had failed with an I/O error (a
 * reader's open hung too). Run in a child under alarm, so a hang fails. */
static void test_fifo_path(void) {
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo.db", dir);
    CHECK_EQ_INT(mkfifo(fifo, 0600), 0);
    for (int ro = 0; ro < 2; ro++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10);
            gt_ledger *c = NULL;
            gt_err err = {0};
            int rc = gt_ledger_open(fifo, ro ? GT_LEDGER_READONLY : 0, &c, &err);
            _exit(rc == GT_EINVAL && c == NULL && strstr(err.msg, "not a regular file") ? 0 : 1);
        }
        int status = 0;
        CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s open of a FIFO: %s",
                  ro ? "a reader's" : "a writer's",
                  WIFSIGNALED(status) ? "hung (killed by the alarm)" : "not refused as not a regular file");
    }
    unlink(fifo);
}

int main(void) {
    for (int i = 0; i <= SENDERS; i++) tkey(i, &K[i], &A[i]);
    RUN(test_backups_under_writes);
    RUN(test_refusals); /* closes L: no writer's threads are running when test_interrupted forks */
    RUN(test_no_replace_race);
    RUN(test_interrupted);
    RUN(test_umask);
    RUN(test_sidecar_names);
    RUN(test_no_secret);
    RUN(test_fifo_path);
    gt_ledger_close(L);
    trm(dir);
    return gt_test_finish();
}

/* agent_kept.c: the worker's kept result on disk. A result made for a
 * claimed slot is kept until it is submitted or refused for good
 * (agent_worker.c); with a kept_dir (gotong agent: its home, under the key's
 * lock HOME/agent-ADDR.lock, so one process writes them) it is also written
 * there, so an agent restarted between its work and its submit sends it
 * instead of working the slot again (a train task's steps: the retry could
 * outlast the submit window the first run met).
 *
 * One file, KEPT_DIR/agent-ADDR.kept-TASK-SLOT-ATTEMPT (TASK: 64 hex), written
 * atomically (base/file.h): a header, then the result's bytes. Header:
 * "GTKEPT01", task id, slot and attempt (8 bytes each, big-endian), the
 * spec's hash, the model's hash (zeros: none), the result's sha256. Loaded
 * only for the slot it names, with the same spec and model, and bytes whose
 * sha256 is the header's, from a regular file of the agent's own user (not
 * a link); anything else is removed and the work runs again.
 * Writing one removes the agent's others (a slot that expired while the
 * agent was down): at most one is left behind. */
#include <assert.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "crypto/sha256.h"
#include "store/blob.h"

#define KEPT_MAGIC "GTKEPT01"
#define KEPT_HEADER (8 + 32 + 8 + 8 + 32 + 32 + 32)

/* The file name prefix of this agent's kept results: "agent-ADDR.kept-". */
static void kept_prefix(const gt_agent *a, char out[64]) { snprintf(out, 64, "agent-%s.kept-", a->addr_s); }

/* The path of the kept result of (task, slot, attempt); GT_ELIMIT when too long. */
static int kept_path(const gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, char *out,
                     size_t cap, gt_err *err) {
    char pre[64], hex[65];
    kept_prefix(a, pre);
    gt_hex_encode(task, 32, hex);
    int n = snprintf(out, cap, "%s/%s%s-%llu-%llu", a->kept_dir, pre, hex, (unsigned long long)slot,
                     (unsigned long long)attempt);
    return n < 0 || (size_t)n >= cap ? gt_err_set(err, GT_ELIMIT, "kept result path too long") : 0;
}

/* v as 8 big-endian bytes at p. */
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) p[i] = (uint8_t)v, v >>= 8;
}

/* The 8 big-endian bytes at p. */
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

/* The header a kept result of job (attempt) with bytes' sha256 carries:
 * what a loaded file must match, but for the hash. */
static int kept_header(const gt_agent *a, const gt_job *job, uint64_t attempt, const uint8_t sha[32],
                       uint8_t h[KEPT_HEADER], gt_err *err) {
    uint8_t *p = h;
    memcpy(p, KEPT_MAGIC, 8), p += 8;
    memcpy(p, job->task_id, 32), p += 32;
    put_u64(p, job->slot), p += 8;
    put_u64(p, attempt), p += 8;
    int rc = gt_blob_id_parse(job->spec_id, p, err);
    p += 32;
    if (a->model) memcpy(p, gt_agent_model_hash(a->model), 32);
    else memset(p, 0, 32);
    p += 32;
    memcpy(p, sha, 32);
    assert(p + 32 == h + KEPT_HEADER);
    return rc;
}

/* Removes this agent's kept files other than `keep` (a file name, or NULL:
 * all of them), and their atomic writes' leftovers (the same prefix). */
static void kept_sweep(const gt_agent *a, const char *keep) {
    char pre[64], p[1400];
    kept_prefix(a, pre);
    DIR *d = opendir(a->kept_dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, pre, strlen(pre)) || (keep && !strcmp(e->d_name, keep))) continue;
        if (snprintf(p, sizeof p, "%s/%s", a->kept_dir, e->d_name) < (int)sizeof p) unlink(p);
    }
    closedir(d);
}

/* Writes a->kept (made for job's slot at attempt) to its file, then removes
 * the agent's other kept files (agent_impl.h). Nothing without a kept_dir. */
int ag_kept_save(gt_agent *a, const gt_job *job, uint64_t attempt, gt_err *err) {
    const ag_kept_result *k = &a->kept;
    uint8_t h[KEPT_HEADER], sha[32];
    char path[1400];
    if (!a->kept_dir[0] || !k->set) return 0;
    assert(!memcmp(k->task, job->task_id, 32) && k->slot == job->slot && k->attempt == attempt);
    gt_sha256(k->bytes.data ? k->bytes.data : (const uint8_t *)"", k->bytes.len, sha);
    int rc = kept_header(a, job, attempt, sha, h, err);
    if (!rc) rc = kept_path(a, job->task_id, job->slot, attempt, path, sizeof path, err);
    uint8_t *buf = rc ? NULL : gt_malloc(KEPT_HEADER + k->bytes.len);
    if (!rc && !buf) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) {
        memcpy(buf, h, KEPT_HEADER);
        if (k->bytes.len) memcpy(buf + KEPT_HEADER, k->bytes.data, k->bytes.len);
        rc = gt_file_write_atomic(path, buf, KEPT_HEADER + k->bytes.len, 0600, err);
    }
    gt_free(buf);
    if (!rc) kept_sweep(a, strrchr(path, '/') + 1);
    return rc;
}

/* Why the file's bytes b[0..n) are not the kept result of job (attempt), or
 * NULL when they are. */
static const char *kept_mismatch(const gt_agent *a, const gt_job *job, uint64_t attempt, const uint8_t *b, size_t n) {
    uint8_t want[KEPT_HEADER], sha[32];
    gt_err e = {0};
    if (n < KEPT_HEADER || memcmp(b, KEPT_MAGIC, 8)) return "not a kept result";
    gt_sha256(b + KEPT_HEADER, n - KEPT_HEADER, sha);
    if (kept_header(a, job, attempt, sha, want, &e)) return "the task's spec id cannot be read";
    if (memcmp(b, want, KEPT_HEADER - 64)) return "made for another task, slot, attempt or spec";
    if (memcmp(b + KEPT_HEADER - 64, want + KEPT_HEADER - 64, 32)) return "made with another model";
    if (memcmp(b + KEPT_HEADER - 32, sha, 32)) return "its bytes do not hash to the sha256 it was written with";
    assert(get_u64(b + 40) == job->slot && get_u64(b + 48) == attempt);
    return NULL;
}

/* Why the name path is not one this agent wrote (a link, not a regular
 * file, another user's), or NULL when it is; "" when there is none. The
 * header proves nothing of who wrote it (its sha256 is of the bytes
 * themselves): a link, or a file a co-tenant of a shared home left under a
 * name it can compute, had the agent submit that file's bytes. */
static const char *kept_foreign(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return "";
    if (S_ISLNK(st.st_mode)) return "a symbolic link";
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    return st.st_uid != geteuid() ? "written by another user" : NULL;
}

/* Fills a->kept from the file of job's slot at attempt when it matches
 * (kept_mismatch); a file that does not is removed (agent_impl.h). */
int ag_kept_load(gt_agent *a, const gt_job *job, uint64_t attempt) {
    ag_kept_result *k = &a->kept;
    char path[1400], h[16];
    uint8_t *b = NULL;
    size_t n = 0;
    gt_err e = {0};
    if (!a->kept_dir[0] || kept_path(a, job->task_id, job->slot, attempt, path, sizeof path, &e)) return 0;
    const char *foreign = kept_foreign(path);
    if (foreign && !*foreign) return 0; /* none kept */
    if (foreign) {
        gt_agent_logf(a, "ignores its kept result %s (%s): removed; works the slot again", path, foreign);
        unlink(path);
        return 0;
    }
    if (gt_file_read(path, GT_AGENT_RESULT_MAX_BYTES + KEPT_HEADER, &b, &n, &e)) {
        gt_agent_logf(a, "cannot read its kept result %s: %s; works the slot again", path, e.msg);
        unlink(path);
        return 0;
    }
    const char *why = kept_mismatch(a, job, attempt, b, n);
    if (why) {
        gt_agent_logf(a, "ignores its kept result %s (%s): removed; works the slot again", path, why);
        unlink(path);
        gt_free(b);
        return 0;
    }
    gt_buf_free(&k->bytes);
    memset(k, 0, sizeof *k);
    int rc = gt_buf_append(&k->bytes, b + KEPT_HEADER, n - KEPT_HEADER);
    gt_free(b);
    if (rc) return gt_buf_free(&k->bytes), 0;
    memcpy(k->task, job->task_id, 32);
    k->slot = job->slot, k->attempt = attempt, k->set = 1; /* its blob id: uploaded again (the same bytes) */
    gt_agent_logf(a, "resumes the result it kept for task %s slot %llu (%zu bytes): not worked again",
                  ag_short_id(job->task_id, h), (unsigned long long)job->slot, k->bytes.len);
    return 1;
}

/* Forgets a->kept and removes its file (agent_impl.h). */
void ag_kept_drop(gt_agent *a) {
    ag_kept_result *k = &a->kept;
    char path[1400];
    if (a->kept_dir[0] && k->set && !kept_path(a, k->task, k->slot, k->attempt, path, sizeof path, NULL))
        unlink(path);
    gt_buf_free(&k->bytes);
    memset(k, 0, sizeof *k);
}

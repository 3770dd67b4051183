/* test_cli_data_verify.c: `gotong data verify` driving the binary against a
 * real `gotong node` child. The ledger is prepared in process first (a
 * generate task of the job's spec worked, accepted by its poster and paid,
 * then dataset_publish with the root, row count and manifest of an export
 * of 7 rows made here with gt_dataset_export), then the node takes it over.
 * An honest copy verifies (--job in its three spellings and as a prefix of a
 * job in the home, and --root with --manifest); a copy with one row changed,
 * one whose provenance.json is not the published one, a job with nothing
 * published, a record whose row count is not the copy's, an unreachable
 * node and a wrong root or manifest given by hand are refused, each with
 * its message and exit 1; --root without --manifest, both forms at once and
 * no DIR are usage errors (exit 2). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "../fund/fund_util.h"
#include "cli_util.h"
#include "../node_child.h"
#include "base/alloc.h"
#include "base/file.h"
#include "store/blob.h"
#include "work/data/export.h"

static char url[160];

/* A job spec of `samples` rows of the sort family (seed: another job). */
static void spec_text(char *out, size_t cap, int seed) {
    snprintf(out, cap,
             "{\"version\":2,\"name\":\"sort-traces\",\"family\":\"sort\",\"template\":\"{question}\\nAnswer:\","
             "\"seed\":%d,\"samples\":7,\"batch\":7,\"reward\":\"0.02\",\"stake\":\"0.01\",\"license\":\"cc-by-4.0\"}",
             seed);
}

/* Exports spec's 7 samples (made up, all accepted) to out: root, and the
 * sha256 of its provenance.json (the manifest dataset_publish records). */
static void export_job(const gt_job_spec *s, const char *out, uint8_t root[32], uint8_t manifest[32]) {
    gt_err err = {0};
    gt_sample smp[7];
    memset(smp, 0, sizeof smp);
    for (int i = 0; i < 7; i++) {
        gt_family_item it;
        gt_buf pr = GT_BUF_INIT;
        CHECK_EQ_INT(gt_job_render(s, (uint64_t)i, &pr, &it, &err), 0);
        memcpy(smp[i].job, s->id, 32);
        smp[i].index = (uint64_t)i, smp[i].seed = gt_job_sample_seed(s, (uint64_t)i);
        smp[i].contributor.b[19] = (uint8_t)(i + 1), smp[i].model[0] = 0x42;
        smp[i].prompt = (char *)gt_buf_take(&pr, NULL);
        smp[i].output = gt_strdup(it.answer);
        memset(smp[i].verdict, GT_VERDICT_PASS, sizeof smp[i].verdict);
        smp[i].judge_score = -1, smp[i].accepted = 1;
    }
    CHECK_EQ_INT(gt_dataset_export(s, smp, 7, out, root, &err), 0);
    for (int i = 0; i < 7; i++) gt_sample_clear(&smp[i]);
    char p[512];
    uint8_t *prov;
    size_t plen;
    snprintf(p, sizeof p, "%s/provenance.json", out);
    CHECK_EQ_INT(gt_file_read(p, 1 << 20, &prov, &plen, &err), 0);
    gt_sha256(prov, plen, manifest);
    gt_free(prov);
}

/* ALICE posts a generate task of job (one batch of 7), BOB works it, ALICE
 * accepts it and BOB settles (paid), then ALICE publishes root, rows and
 * manifest for the job. */
static void publish(gt_ledger *l, const uint8_t job[32], const uint8_t root[32], uint64_t rows,
                    const uint8_t manifest[32]) {
    uint8_t task[32];
    CHECK_EQ_INT(fa(l, ALICE, task, NULL, "task_post",
                    "{\"kind\":\"generate\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                    "\"batchItems\":7,\"claimSeconds\":50,\"submitSeconds\":50,\"verifySeconds\":50}",
                    hx(job), 3 * TOKEN, 1 * TOKEN),
                 0);
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(task)), 0);
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}", hx(task),
                    blob("batch")),
                 0);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "task_verify",
                    "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":90}", hx(task), blob("batch")),
                 0);
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "task_settle", "{\"task\":\"%s\",\"slot\":0}", hx(task)), 0);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "dataset_publish",
                    "{\"task\":\"%s\",\"job\":\"%s\",\"root\":\"%s\",\"rows\":%llu,\"manifest\":\"%s\"}", hx(task),
                    hx(job), hx(root), (unsigned long long)rows, hx(manifest)),
                 0);
}

/* Runs `gotong data verify ARGS` (with --home, cli_util.h); its exit code. */
static int verify(const char *fmt, ...) {
    char args[2048], cmd[2200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "data verify %s", args);
    int rc = gotong(cmd);
    if (getenv("VERIFY_TEST_VERBOSE")) fprintf(stderr, "$ gotong %s -> %d\n%s%s", cmd, rc, out_s, err_s);
    return rc;
}

/* Writes text as file (one of the copy under test). */
static void put(const char *file, const char *text) {
    CHECK_EQ_INT(gt_file_write_atomic(file, text, strlen(text), 0644, NULL), 0);
}

/* Copies of ds refused against the ledger's record of job (j: "sha256:<hex>"):
 * one row changed; provenance.json not the published bytes (one
 * contributor changed, the rows' hashes untouched). */
static void refused_copies(const char *ds, const char *j) {
    char copy[400], p[512], cmd[1024];
    uint8_t *data;
    size_t len;
    snprintf(copy, sizeof copy, "%s/copy", cli_tmp);
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", copy, ds, copy);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(p, sizeof p, "%s/data.jsonl", copy);
    CHECK_EQ_INT(gt_file_read(p, 1 << 20, &data, &len, NULL), 0);
    char *row3 = (char *)data; /* the third line; its first key is "completion" */
    for (int k = 0; k < 2 && row3; k++) row3 = strchr(row3, '\n'), row3 = row3 ? row3 + 1 : NULL;
    char *c = row3 ? strstr(row3, "\"completion\":\"") : NULL;
    CHECK(c != NULL);
    if (c) c[14] = c[14] == '1' ? '2' : '1'; /* the completion's first byte */
    CHECK_EQ_INT(gt_file_write_atomic(p, data, len, 0644, NULL), 0);
    gt_free(data);
    CHECK_EQ_INT(verify("%s --job %s --node %s", copy, j, url), 1);
    CHECK_CONTAINS(err_s, "refused against the ledger's record: data.jsonl does not match provenance.json's Merkle root");
    CHECK(!strstr(out_s, "ok"));
    /* the rows as published, provenance.json crediting row 1 to another contributor */
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", copy, ds, copy);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(p, sizeof p, "%s/provenance.json", copy);
    json_t *o = json_load_file(p, 0, NULL);
    CHECK(o != NULL);
    json_object_set_new(json_array_get(json_object_get(o, "samples"), 0), "contributor",
                        json_string("0x00000000000000000000000000000000000000ff"));
    char *text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
    put(p, text);
    free(text);
    json_decref(o);
    CHECK_EQ_INT(verify("%s --job %s --node %s", copy, j, url), 1);
    CHECK_CONTAINS(err_s, "provenance.json is not the manifest the ledger records for this dataset");
}

/* A node of one answer: a child that takes one connection on 127.0.0.1,
 * reads its request's headers and answers 200 with body (JSON). Its URL
 * into u; returns its pid (gt_test_node_stop-free: it exits by itself). */
static pid_t canned_node(const char *body, char *u, size_t cap) {
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4) ||
        getsockname(ls, (struct sockaddr *)&a, &alen))
        abort();
    snprintf(u, cap, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    pid_t pid = fork();
    if (pid) {
        close(ls);
        return pid;
    }
    int fd = accept(ls, NULL, NULL);
    char req[4096];
    size_t got = 0;
    ssize_t k;
    while (fd >= 0 && got < sizeof req - 1 && (k = read(fd, req + got, sizeof req - 1 - got)) > 0) {
        req[got += (size_t)k] = 0;
        if (strstr(req, "\r\n\r\n")) break;
    }
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", strlen(body));
    if (fd < 0 || write(fd, head, (size_t)n) != n || write(fd, body, strlen(body)) != (ssize_t)strlen(body)) _exit(1);
    _exit(0);
}

/* A node whose record of job is another job's (a wrong route, a proxy's
 * cache): refused, though the root, manifest and rows are the copy's. */
static void wrong_job_answer(const char *ds, const uint8_t job[32], const char *other_job, const uint8_t root[32],
                             const uint8_t manifest[32]) {
    char body[600], u[80], m[72] = "sha256:";
    gt_hex_encode(manifest, 32, m + 7);
    snprintf(body, sizeof body, "{\"job\":\"%s\",\"root\":\"%s\",\"manifest\":\"%s\",\"rows\":7,\"height\":3}",
             other_job, hx(root), m);
    pid_t pid = canned_node(body, u, sizeof u);
    CHECK_EQ_INT(verify("%s --job %s --node %s", ds, hx(job), u), 1);
    CHECK_CONTAINS(err_s, "the node's record of job");
    CHECK_CONTAINS(err_s, "is job");
    CHECK(!strstr(out_s, "ok"));
    CHECK_EQ_INT(waitpid(pid, NULL, 0), pid);
}

/* Refusals that are not about the copy: no dataset published for the job,
 * the ledger's row count not the copy's, an unreachable node, a root or a
 * manifest given by hand that are not the copy's, and the usage errors. */
static void refusals(const char *ds, const char *other_ds, const char *other_job, const uint8_t root[32],
                     const uint8_t manifest[32]) {
    CHECK_EQ_INT(verify("%s --job %s --node %s", ds, blob("no such job"), url), 1);
    CHECK_CONTAINS(err_s, "no dataset published for job");
    CHECK_EQ_INT(verify("%s --job %s --node %s", other_ds, other_job, url), 1); /* published as 6 rows */
    CHECK_CONTAINS(err_s, "has 7 rows; the ledger records 6 for job");
    CHECK_EQ_INT(verify("%s --job %s --node http://127.0.0.1:1", ds, other_job), 1);
    CHECK_CONTAINS(err_s, "http://127.0.0.1:1");
    CHECK_EQ_INT(verify("%s --root %s --manifest %s", ds, hx(manifest), hx(manifest)), 1);
    CHECK_CONTAINS(err_s, "data.jsonl does not match the expected Merkle root");
    CHECK_EQ_INT(verify("%s --root %s --manifest %s", ds, hx(root), hx(root)), 1);
    CHECK_CONTAINS(err_s, "provenance.json is not the manifest the ledger records");
    CHECK_EQ_INT(verify("%s --root %s", ds, hx(root)), 2);
    CHECK_CONTAINS(err_s, "--manifest is missing");
    CHECK_EQ_INT(verify("%s --manifest %s", ds, hx(manifest)), 2);
    CHECK_CONTAINS(err_s, "--root is missing");
    CHECK_EQ_INT(verify("%s", ds), 2);
    CHECK_EQ_INT(verify("%s --job %s --root %s --manifest %s", ds, other_job, hx(root), hx(manifest)), 2);
    CHECK_CONTAINS(err_s, "not both");
    CHECK_EQ_INT(verify("%s --root %s --manifest %s --node %s", ds, hx(root), hx(manifest), url), 2);
    CHECK_CONTAINS(err_s, "--node goes with --job"); /* was ignored */
    CHECK_EQ_INT(verify("--job %s --node %s", other_job, url), 2);
    CHECK_CONTAINS(err_s, "verify needs DIR");
    CHECK_EQ_INT(verify("%s --root 0x12 --manifest %s", ds, hx(manifest)), 2);
    CHECK_CONTAINS(err_s, "--root: expected 0x or sha256: and 64 hex digits");
}

/* The honest copy: --job as sha256:, 0x and bare hex, as a prefix of a job
 * of the home (`data job new` of the same spec), --json; and --root with
 * --manifest (0x and sha256: forms). */
static void honest(const char *ds, const char *spec_path, const uint8_t job[32], const uint8_t root[32],
                   const uint8_t manifest[32]) {
    char j[72] = "sha256:", want[160];
    gt_hex_encode(job, 32, j + 7);
    snprintf(want, sizeof want, "ok: 7 rows, Merkle root %s, provenance.json sha256:", hx(root));
    CHECK_EQ_INT(verify("%s --job %s --node %s", ds, j, url), 0);
    CHECK_CONTAINS(out_s, want);
    CHECK_CONTAINS(out_s, "published at height");
    CHECK_EQ_INT(verify("%s --job %s --node %s", ds, hx(job), url), 0);
    CHECK_EQ_INT(verify("%s --job %s --node %s --json", ds, j + 7, url), 0);
    CHECK_CONTAINS(out_s, "\"ok\":true");
    CHECK_CONTAINS(out_s, "\"rows\":7");
    CHECK_CONTAINS(out_s, hx(root));
    char args[600];
    snprintf(args, sizeof args, "data job new %s", spec_path);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_EQ_INT(verify("%s --job %.16s --node %s", ds, j + 7, url), 0);
    CHECK_CONTAINS(out_s, want);
    char m[72] = "sha256:";
    gt_hex_encode(manifest, 32, m + 7);
    CHECK_EQ_INT(verify("%s --root %s --manifest %s", ds, hx(root), m), 0);
    CHECK_CONTAINS(out_s, want);
    CHECK_EQ_INT(verify("%s --root %s --manifest %s --json", ds, hx(root), hx(manifest)), 0);
    CHECK_CONTAINS(out_s, "\"job\":null");
    refused_copies(ds, j);
}

/* A copy of ds without provenance.json, checked with --job: refused while
 * the node lacks the published file; once the node holds it (the blob its
 * publisher uploaded: put straight into the node's store here), the file is
 * written into the copy and the copy verifies. */
static void fetched_provenance(const char *ds, const uint8_t job[32]) {
    char copy[400], p[512], cmd[2048], blobs[200], id[GT_BLOB_ID_BYTES], j[72] = "sha256:";
    uint8_t *prov = NULL;
    size_t plen = 0;
    gt_hex_encode(job, 32, j + 7);
    snprintf(copy, sizeof copy, "%s/bare", cli_tmp);
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s && rm %s/provenance.json", copy, ds, copy, copy);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_EQ_INT(verify("%s --job %s --node %s", copy, j, url), 1);
    CHECK_CONTAINS(err_s, "has no provenance.json, and the published one");
    snprintf(p, sizeof p, "%s/bare/provenance.json", cli_tmp);
    CHECK(!gt_file_exists(p));
    snprintf(p, sizeof p, "%s/provenance.json", ds);
    CHECK_EQ_INT(gt_file_read(p, 1 << 20, &prov, &plen, NULL), 0);
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    CHECK_EQ_INT(gt_blob_put(blobs, prov, plen, id, NULL), 0);
    /* a directory without data.jsonl (named by mistake) gets nothing written */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/not-a-copy", cli_tmp);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/not-a-copy", cli_tmp);
    CHECK_EQ_INT(verify("%s --job %s --node %s", cmd, j, url), 1);
    snprintf(p, sizeof p, "%s/not-a-copy/provenance.json", cli_tmp);
    CHECK_MSG(!gt_file_exists(p), "%s written into a directory that is no dataset's copy", p);
    CHECK_EQ_INT(verify("%s --job %s --node %s", copy, j, url), 0);
    CHECK_CONTAINS(err_s, "had no provenance.json: wrote the published one");
    CHECK_CONTAINS(out_s, "ok: 7 rows");
    gt_free(prov);
}

static void test_verify(void) {
    char spec[1024], spec_path[400], ds[400], other_ds[400], other_job[72] = "sha256:";
    gt_job_spec s, t;
    gt_err err = {0};
    uint8_t root[32], manifest[32], root2[32], manifest2[32];
    spec_text(spec, sizeof spec, 11);
    snprintf(spec_path, sizeof spec_path, "%s/spec.json", cli_tmp);
    put(spec_path, spec);
    CHECK_EQ_INT(gt_job_spec_parse(spec, strlen(spec), &s, &err), 0);
    snprintf(ds, sizeof ds, "%s/ds", cli_tmp);
    export_job(&s, ds, root, manifest);
    spec_text(spec, sizeof spec, 12);
    CHECK_EQ_INT(gt_job_spec_parse(spec, strlen(spec), &t, &err), 0);
    snprintf(other_ds, sizeof other_ds, "%s/other", cli_tmp);
    export_job(&t, other_ds, root2, manifest2);
    gt_hex_encode(t.id, 32, other_job + 7);
    gt_ledger *l = fresh();
    for (int who = ALICE; who <= BOB; who++)
        CHECK_EQ_INT(fa(l, AUTH, NULL, NULL, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(who), 100 * TOKEN), 0);
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "agent_register", "{\"name\":\"bob\",\"skills\":\"generate\"}"), 0);
    publish(l, s.id, root, 7, manifest);
    publish(l, t.id, root2, 6, manifest2); /* a claim of 6 rows for a copy of 7 */
    gt_ledger_close(l);
    pid_t node = gt_test_node_start(dir, "200", url, sizeof url);
    CHECK(node > 0);
    if (node > 0) {
        honest(ds, spec_path, s.id, root, manifest);
        fetched_provenance(ds, s.id);
        refusals(ds, other_ds, other_job, root, manifest);
        wrong_job_answer(ds, s.id, other_job, root, manifest);
    }
    gt_test_node_stop(node);
    gt_job_spec_free(&s);
    gt_job_spec_free(&t);
}

int main(void) {
    make_keys();
    extra_keys();
    gt_err err = {0};
    if (gt_fund_register(&err) || cli_setup("gt-cli-verify")) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    RUN(test_verify);
    if (cli_cleanup()) return 1;
    return gt_test_finish();
}

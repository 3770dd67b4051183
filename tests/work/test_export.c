/* test_export.c: dataset export round trip: write data.jsonl, README.md and
 * provenance.json, re-read the JSONL, recompute the Merkle root, check every
 * row's proof from provenance.json, see a one-byte change detected, and
 * copies made to share the root (a 64-byte line standing for a subtree,
 * sibling rows swapped, provenance.json rewritten to match) refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "work/data/export.h"

/* Writes len bytes as dir's data.jsonl. */
static void put_data(const char *dir, const void *bytes, size_t len) {
    char path[512];
    gt_err err = {0};
    snprintf(path, sizeof path, "%s/data.jsonl", dir);
    CHECK_EQ_INT(gt_file_write_atomic(path, bytes, len, 0644, &err), 0);
}

/* Copies of dir's 7 rows (data[0..len), root `root`) that differ from them
 * under the same Merkle root, each refused by gt_dataset_verify:
 *  - the second preimage: the tree hashes a node from its children's 64
 *    bytes with no prefix, so the line "min(L,R) ‖ max(L,R)" of the root's
 *    two children L, R hashes to the root: a data.jsonl of that one line
 *    (binary, none of the rows) has the rows' root; or two such lines, the
 *    children's own children (if a line would hold a newline byte, the
 *    other form serves). Before, gt_dataset_verify took it (1 or 2 rows).
 *  - sibling rows swapped (sorted pairs): rows 1 and 2 exchanged keep the
 *    root. Before, taken; now provenance.json's leaf hashes pin the order.
 * A row repeated is no forgery: the tree promotes a lone node, never
 * duplicates it, so the root differs. */
static void forgeries(const char *dir, const uint8_t *data, size_t len, const uint8_t root[32]) {
    uint8_t leaves[8][32], got[32], l4[32], r3[32], ll[32], lr[32], rl[32];
    size_t n = 0, rows = 0;
    gt_err err = {0};
    for (size_t a = 0; a < len && n < 8; n++) {
        const uint8_t *nl = memchr(data + a, '\n', len - a);
        size_t b = nl ? (size_t)(nl - data) : len;
        gt_keccak256(data + a, b - a, leaves[n]);
        a = b + 1;
    }
    CHECK_EQ_INT(n, 7);
    /* 7 leaves: root = pair(pair(pair(0,1), pair(2,3)), pair(pair(4,5), 6)). */
    gt_merkle_hash_pair(leaves[0], leaves[1], ll);
    gt_merkle_hash_pair(leaves[2], leaves[3], lr);
    gt_merkle_hash_pair(leaves[4], leaves[5], rl);
    gt_merkle_hash_pair(ll, lr, l4);
    gt_merkle_hash_pair(rl, leaves[6], r3);
    uint8_t one[64], two[129];
    memcpy(one, memcmp(l4, r3, 32) <= 0 ? l4 : r3, 32), memcpy(one + 32, memcmp(l4, r3, 32) <= 0 ? r3 : l4, 32);
    memcpy(two, memcmp(ll, lr, 32) <= 0 ? ll : lr, 32), memcpy(two + 32, memcmp(ll, lr, 32) <= 0 ? lr : ll, 32);
    two[64] = '\n';
    memcpy(two + 65, memcmp(rl, leaves[6], 32) <= 0 ? rl : leaves[6], 32);
    memcpy(two + 97, memcmp(rl, leaves[6], 32) <= 0 ? leaves[6] : rl, 32);
    int one_ok = !memchr(one, '\n', 64), two_ok = !memchr(two, '\n', 64) && !memchr(two + 65, '\n', 64);
    CHECK(one_ok || two_ok);
    uint8_t leaf_one[32], forged[2][32];
    gt_keccak256(one, 64, leaf_one);
    gt_keccak256(two, 64, forged[0]);
    gt_keccak256(two + 65, 64, forged[1]);
    gt_merkle_root((const uint8_t(*)[32])forged, 2, got);
    CHECK(!memcmp(leaf_one, root, 32) && !memcmp(got, root, 32)); /* the same root, none of the rows */
    put_data(dir, one_ok ? one : two, one_ok ? 64 : 129);
    CHECK_EQ_INT(gt_dataset_verify(dir, root, NULL, got, &rows, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "line 1 is 64 bytes, the length of a Merkle node's two hashes");
    /* Rows 1 and 2 swapped: the same root, another order. */
    const uint8_t *nl = memchr(data, '\n', len), *nl2 = memchr(nl + 1, '\n', len - (size_t)(nl + 1 - data));
    size_t r1 = (size_t)(nl - data) + 1, r2 = (size_t)(nl2 - nl);
    uint8_t *swapped = gt_malloc(len);
    memcpy(swapped, nl + 1, r2), memcpy(swapped + r2, data, r1), memcpy(swapped + r1 + r2, nl2 + 1, len - r1 - r2);
    uint8_t sl[8][32];
    memcpy(sl, leaves, sizeof sl);
    memcpy(sl[0], leaves[1], 32), memcpy(sl[1], leaves[0], 32);
    gt_merkle_root((const uint8_t(*)[32])sl, 7, got);
    CHECK(!memcmp(got, root, 32));
    put_data(dir, swapped, len);
    CHECK_EQ_INT(gt_dataset_verify(dir, root, NULL, got, &rows, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "data.jsonl row 1 is not the row provenance.json lists there");
    gt_free(swapped);
    /* The last row repeated: another root (a lone node is promoted, not paired with itself). */
    memcpy(sl, leaves, sizeof sl);
    memcpy(sl[7], leaves[6], 32);
    gt_merkle_root((const uint8_t(*)[32])sl, 8, got);
    CHECK(memcmp(got, root, 32) != 0);
    put_data(dir, data, len);
    CHECK_EQ_INT(gt_dataset_verify(dir, root, NULL, got, &rows, &err), 0);
    CHECK_EQ_INT(rows, 7);
}

/* data[0..len) with its first two lines exchanged (caller frees). */
static uint8_t *first_rows_swapped(const uint8_t *data, size_t len) {
    const uint8_t *nl = memchr(data, '\n', len), *nl2 = memchr(nl + 1, '\n', len - (size_t)(nl + 1 - data));
    size_t r1 = (size_t)(nl - data) + 1, r2 = (size_t)(nl2 - nl);
    uint8_t *out = gt_malloc(len);
    CHECK(out != NULL && r1 + r2 <= len);
    memcpy(out, nl + 1, r2), memcpy(out + r2, data, r1), memcpy(out + r1 + r2, nl2 + 1, len - r1 - r2);
    return out;
}

/* Writes o as dir's provenance.json, as the export lays it out. */
static void put_provenance(const char *dir, const json_t *o) {
    char path[512], *text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
    gt_err err = {0};
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    CHECK(text != NULL);
    CHECK_EQ_INT(gt_file_write_atomic(path, text, strlen(text), 0644, &err), 0);
    free(text);
}

/* provenance.json is the copy's own file, so the order check and the rows'
 * provenance hold only when it is the one published: its sha256 is the
 * ledger's manifest (dataset_publish). Forged copies under the same root:
 *  - rows 1 and 2 swapped (sibling leaves: the same root) and provenance.json
 *    listing their hashes swapped to match;
 *  - data.jsonl as published, provenance.json crediting row 1 to another
 *    contributor.
 * Each passes a check against the root alone (the copy vouches for itself)
 * and is refused against the root and the manifest; before, a check could
 * not name the manifest, and the swapped copy verified against the ledger. */
static void forged_provenance(const char *dir, const uint8_t *data, size_t len, const uint8_t root[32]) {
    char path[512];
    uint8_t *prov, manifest[32], got[32];
    size_t plen, rows = 0;
    gt_err err = {0};
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    CHECK_EQ_INT(gt_file_read(path, 1 << 20, &prov, &plen, &err), 0);
    gt_sha256(prov, plen, manifest);
    CHECK_EQ_INT(gt_dataset_verify(dir, root, manifest, got, &rows, &err), 0); /* the published copy */
    json_t *o = json_loadb((const char *)prov, plen, 0, NULL), *smp = json_object_get(o, "samples");
    CHECK(o != NULL && json_array_size(smp) == 7);
    json_t *h0 = json_deep_copy(json_object_get(json_array_get(smp, 0), "hash"));
    json_object_set(json_array_get(smp, 0), "hash", json_object_get(json_array_get(smp, 1), "hash"));
    json_object_set_new(json_array_get(smp, 1), "hash", h0);
    uint8_t *swapped = first_rows_swapped(data, len);
    put_data(dir, swapped, len);
    put_provenance(dir, o);
    CHECK_EQ_INT(gt_dataset_verify(dir, root, NULL, got, &rows, &err), 0); /* the copy vouches for itself */
    CHECK_EQ_INT(rows, 7);
    CHECK_EQ_INT(gt_dataset_verify(dir, root, manifest, got, &rows, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "provenance.json is not the manifest the ledger records");
    gt_free(swapped);
    json_decref(o);
    /* The rows as published, another contributor credited for row 1. */
    o = json_loadb((const char *)prov, plen, 0, NULL);
    json_object_set_new(json_array_get(json_object_get(o, "samples"), 0), "contributor",
                        json_string("0x00000000000000000000000000000000000000ff"));
    put_data(dir, data, len);
    put_provenance(dir, o);
    json_decref(o);
    CHECK_EQ_INT(gt_dataset_verify(dir, root, NULL, got, &rows, &err), 0);
    CHECK_EQ_INT(gt_dataset_verify(dir, root, manifest, got, &rows, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "provenance.json is not the manifest the ledger records");
    CHECK_EQ_INT(gt_file_write_atomic(path, prov, plen, 0644, &err), 0); /* as published again */
    CHECK_EQ_INT(gt_dataset_verify(dir, root, manifest, got, &rows, &err), 0);
    gt_free(prov);
}

static void test_round_trip(void) {
    gt_err err = {0};
    const char *spec =
        "{\"version\":2,\"name\":\"sort-traces\",\"family\":\"sort\",\"template\":\"{question}\\nAnswer:\","
        "\"seed\":11,\"samples\":7,\"batch\":7,\"reward\":\"0.02\",\"stake\":\"0.01\",\"license\":\"cc-by-4.0\"}";
    gt_job_spec s;
    CHECK_EQ_INT(gt_job_spec_parse(spec, strlen(spec), &s, &err), 0);
    gt_sample smp[7];
    memset(smp, 0, sizeof smp);
    for (int i = 0; i < 7; i++) {
        gt_family_item it;
        gt_buf pr = GT_BUF_INIT;
        CHECK_EQ_INT(gt_job_render(&s, (uint64_t)i, &pr, &it, &err), 0);
        memcpy(smp[i].job, s.id, 32);
        smp[i].index = (uint64_t)i;
        smp[i].seed = gt_job_sample_seed(&s, (uint64_t)i);
        smp[i].contributor.b[19] = (uint8_t)(i + 1);
        smp[i].model[0] = 0x42;
        smp[i].prompt = (char *)gt_buf_take(&pr, NULL);
        char out[1024];
        snprintf(out, sizeof out, "Sorted: %s\nAnswer: %s \"quoted\" \xc3\xa9", it.answer, it.answer);
        smp[i].output = gt_strdup(out);
        memset(smp[i].verdict, GT_VERDICT_PASS, sizeof smp[i].verdict);
        smp[i].judge_score = -1;
        smp[i].accepted = 1;
    }
    char dir[] = "/tmp/gt-export-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/ds", dir);
    uint8_t root[32], root2[32];
    CHECK_EQ_INT(gt_dataset_export(&s, smp, 7, sub, root, &err), 0);
    size_t rows = 0;
    CHECK_EQ_INT(gt_dataset_verify(sub, root, NULL, root2, &rows, &err), 0);
    CHECK_EQ_INT(rows, 7);
    CHECK(!memcmp(root, root2, 32));

    /* Re-read data.jsonl: each line is the row of its sample, and its
     * keccak with the proof in provenance.json folds to the root. */
    char path[512];
    uint8_t *data, *prov;
    size_t len, plen;
    snprintf(path, sizeof path, "%s/data.jsonl", sub);
    CHECK_EQ_INT(gt_file_read(path, 1 << 20, &data, &len, &err), 0);
    snprintf(path, sizeof path, "%s/provenance.json", sub);
    CHECK_EQ_INT(gt_file_read(path, 1 << 20, &prov, &plen, &err), 0);
    json_t *pj = json_loadb((const char *)prov, plen, 0, NULL);
    CHECK(pj != NULL);
    json_t *samples = json_object_get(pj, "samples");
    CHECK_EQ_INT(json_array_size(samples), 7);
    size_t a = 0;
    for (int i = 0; i < 7; i++) {
        size_t b = a;
        while (b < len && data[b] != '\n') b++;
        json_t *row = json_loadb((const char *)data + a, b - a, 0, NULL);
        CHECK(row != NULL);
        CHECK_EQ_INT(json_integer_value(json_object_get(row, "id")), i);
        CHECK_STR(json_string_value(json_object_get(row, "completion")), smp[i].output);
        CHECK_STR(json_string_value(json_object_get(row, "family")), "sort");
        char *want = gt_dataset_row(&s, &smp[i]);
        CHECK(want && strlen(want) == b - a && !memcmp(want, data + a, b - a));
        free(want);
        uint8_t leaf[32];
        gt_keccak256(data + a, b - a, leaf);
        json_t *ps = json_array_get(samples, (size_t)i);
        uint8_t hash[32];
        CHECK_EQ_INT(gt_hex_decode(json_string_value(json_object_get(ps, "hash")), hash, 32, "hash", &err), 0);
        CHECK(!memcmp(hash, leaf, 32));
        json_t *pa = json_object_get(ps, "proof");
        uint8_t proof[32][32];
        size_t pn = json_array_size(pa);
        CHECK(pn > 0 && pn <= 32);
        for (size_t k = 0; k < pn && k < 32; k++)
            CHECK_EQ_INT(gt_hex_decode(json_string_value(json_array_get(pa, k)), proof[k], 32, "proof", &err), 0);
        CHECK(gt_merkle_verify(leaf, (const uint8_t(*)[32])proof, pn, root));
        CHECK_STR(json_string_value(json_object_get(json_object_get(ps, "verdicts"), "verify")), "pass");
        json_decref(row);
        a = b + 1;
    }
    json_decref(pj);
    gt_free(prov);

    /* The card carries the hub's YAML header. */
    uint8_t *card;
    size_t clen;
    snprintf(path, sizeof path, "%s/README.md", sub);
    CHECK_EQ_INT(gt_file_read(path, 1 << 20, &card, &clen, &err), 0);
    CHECK(!strncmp((const char *)card, "---\nlicense: cc-by-4.0\n", 23));
    CHECK_CONTAINS((const char *)card, "size_categories:\n- n<1K\n");
    CHECK_CONTAINS((const char *)card, "task_categories:\n- question-answering\n");
    CHECK_CONTAINS((const char *)card, "path: data.jsonl");
    CHECK_CONTAINS((const char *)card, "num_examples: 7\n---\n");
    CHECK_CONTAINS((const char *)card, "  - name: reference\n    dtype: string\n");
    gt_free(card);

    forgeries(sub, data, len, root);
    forged_provenance(sub, data, len, root);

    /* One byte changed in data.jsonl: the root no longer matches. */
    data[10] ^= 1;
    snprintf(path, sizeof path, "%s/data.jsonl", sub);
    CHECK_EQ_INT(gt_file_write_atomic(path, data, len, 0644, &err), 0);
    CHECK(gt_dataset_verify(sub, NULL, NULL, root2, &rows, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "does not match");
    CHECK(memcmp(root, root2, 32) != 0);
    gt_free(data);

    /* Records keep the verdicts. */
    json_t *rec = gt_sample_record(&smp[0]);
    gt_sample back;
    memset(&back, 0, sizeof back);
    CHECK_EQ_INT(gt_sample_record_verdicts(rec, &back, &err), 0);
    CHECK(back.accepted && back.verdict[GT_STAGE_DEDUP] == GT_VERDICT_PASS);
    json_decref(rec);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    for (int i = 0; i < 7; i++) gt_sample_clear(&smp[i]);
    gt_job_spec_free(&s);
}

/* A copy of more lines than a dataset may have rows is refused before its
 * lines are hashed (before, 2^24 + 1 empty lines took 512 MiB of leaves and
 * 2^24 hashes, then failed on provenance.json for another reason). */
static void test_too_many_lines(void) {
    char dir[] = "/tmp/gt-export-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    size_t len = (size_t)GT_DATASET_MAX_ROWS + 1;
    uint8_t *nl = gt_malloc(len), root[32];
    CHECK(nl != NULL);
    memset(nl, '\n', len);
    put_data(dir, nl, len);
    gt_free(nl);
    char path[512];
    gt_err err = {0};
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    CHECK_EQ_INT(gt_file_write_atomic(path, "{}", 2, 0644, &err), 0);
    size_t rows = 0;
    CHECK_EQ_INT(gt_dataset_verify(dir, NULL, NULL, root, &rows, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "data.jsonl has 16777217 lines; a dataset has at most 16777216 rows");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* Writes dir's provenance.json as an export would list data[0..len)'s
 * lines (root, row count, each row's leaf hash), from the whole buffer
 * hashed at once, as gt_dataset_verify hashed it before it read in pieces;
 * root gets that root, *n the rows. */
static void put_provenance_of(const char *dir, const uint8_t *data, size_t len, uint8_t root[32], size_t *n) {
    size_t k = 0, cap = 16;
    uint8_t (*leaves)[32] = gt_malloc(cap * 32);
    json_t *samples = json_array();
    for (size_t a = 0; a < len; k++) {
        const uint8_t *nl = memchr(data + a, '\n', len - a);
        size_t b = nl ? (size_t)(nl - data) : len;
        if (k == cap) leaves = gt_realloc(leaves, (cap *= 2) * 32);
        gt_keccak256(data + a, b - a, leaves[k]);
        char h[67] = "0x";
        gt_hex_encode(leaves[k], 32, h + 2);
        json_array_append_new(samples, json_pack("{s:s}", "hash", h));
        a = b + 1;
    }
    gt_merkle_root((const uint8_t(*)[32])leaves, k, root);
    char r[67] = "0x";
    gt_hex_encode(root, 32, r + 2);
    json_t *o = json_pack("{s:s,s:I,s:o}", "merkle_root", r, "rows", (json_int_t)k, "samples", samples);
    put_provenance(dir, o);
    json_decref(o);
    gt_free(leaves);
    *n = k;
}

/* Checks dir holding data[0..len) as data.jsonl: gt_dataset_verify takes
 * it with the rows and root of the buffer hashed whole (the old reading). */
static void same_as_whole(const char *dir, const uint8_t *data, size_t len) {
    uint8_t want[32], got[32];
    size_t n = 0, rows = 0;
    gt_err err = {0};
    put_data(dir, data, len);
    put_provenance_of(dir, data, len, want, &n);
    CHECK_MSG(gt_dataset_verify(dir, want, NULL, got, &rows, &err) == 0, "%zu bytes: %s", len, err.msg);
    CHECK_EQ_INT(rows, n);
    CHECK(!memcmp(got, want, 32));
}

/* data.jsonl is read in pieces of GT_DATASET_READ_BYTES with no bound on
 * a line: lines one byte under, at and over a piece, one of two pieces and
 * more, empty lines, a last line without its newline, a file of exactly a
 * piece with and without its newline: the same rows and root as the whole
 * buffer hashed at once; and a 64-byte line across a piece's end is still
 * refused, by its number. */
static void test_pieces(void) {
    char dir[] = "/tmp/gt-export-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    const size_t R = GT_DATASET_READ_BYTES, sizes[] = {R - 1, R, R + 1, 0, 2 * R + 1, 5, 0, 3 * R, 100};
    size_t cap = 9 * R, len = 0;
    uint8_t *data = gt_malloc(cap);
    CHECK(data != NULL);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t j = 0; j < sizes[i]; j++) data[len++] = (uint8_t)('a' + (i + j) % 26);
        data[len++] = '\n';
    }
    same_as_whole(dir, data, len);
    same_as_whole(dir, data, len - 1);            /* the last line without its newline */
    same_as_whole(dir, data, R);                  /* exactly one piece, ending in a newline */
    same_as_whole(dir, data + 1, R);              /* a piece and one byte: a last line of one byte */
    same_as_whole(dir, data + 1, R - 1);          /* one byte short of a piece, ending in a newline */
    same_as_whole(dir, (const uint8_t *)"", 0);   /* no row */
    same_as_whole(dir, (const uint8_t *)"\n\n", 2); /* two empty rows */
    /* A 64-byte third line that starts 10 bytes before the first piece ends. */
    len = 0;
    memset(data, 'x', R - 100), data[R - 101] = '\n', len = R - 100;
    memset(data + len, 'y', 89), len += 89, data[len++] = '\n';
    CHECK_EQ_INT(len, R - 10);
    memset(data + len, 'z', 64), len += 64, data[len++] = '\n';
    memcpy(data + len, "{}\n", 3), len += 3;
    put_data(dir, data, len);
    uint8_t got[32];
    size_t rows = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_dataset_verify(dir, NULL, NULL, got, &rows, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "data.jsonl line 3 is 64 bytes, the length of a Merkle node's two hashes");
    gt_free(data);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* A field of /proc/self/status in kB ("VmHWM": the peak resident set). */
static long self_kb(const char *field) {
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') kb = atol(line + n + 1);
    if (f) fclose(f);
    return kb;
}

/* Memory of a check is the leaves and one piece, not the file: a 32 MiB
 * data.jsonl of 32 rows (written in pieces, never held here) raises the
 * peak resident set by less than 8 MiB. Before, data.jsonl was read whole
 * (up to 2^34 bytes): the peak rose by the file's size. Run first, while
 * the process's peak is its start's. */
static void test_memory(void) {
    char dir[] = "/tmp/gt-export-XXXXXX", path[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/data.jsonl", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    static uint8_t row[1 << 20];
    memset(row, 'r', sizeof row - 1), row[sizeof row - 1] = '\n';
    for (int i = 0; f && i < 32; i++) CHECK_EQ_INT(fwrite(row, 1, sizeof row, f), sizeof row);
    if (f) CHECK_EQ_INT(fclose(f), 0);
    gt_err err = {0};
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    CHECK_EQ_INT(gt_file_write_atomic(path, "{}", 2, 0644, &err), 0);
    long before = self_kb("VmHWM");
    uint8_t root[32];
    size_t rows = 0;
    CHECK_EQ_INT(gt_dataset_verify(dir, NULL, NULL, root, &rows, &err), GT_EINVAL); /* "{}" lists no root */
    CHECK_CONTAINS(err.msg, "provenance.json: no merkle_root");
    CHECK_EQ_INT(rows, 32);
    long after = self_kb("VmHWM");
    CHECK(before > 0 && after > 0);
    CHECK_MSG(after - before < 8 * 1024, "the peak rose by %ld kB reading a 32 MiB data.jsonl", after - before);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* A provenance.json that is not the published one is refused from its
 * hash, read in pieces, before it is held whole or parsed: a copy's 48 MiB
 * of padding costs the verifier no 48 MiB. */
static void test_wrong_manifest_streamed(void) {
    char dir[] = "/tmp/gt-export-XXXXXX", path[512];
    CHECK(mkdtemp(dir) != NULL);
    gt_err err = {0};
    snprintf(path, sizeof path, "%s/data.jsonl", dir);
    CHECK_EQ_INT(gt_file_write_atomic(path, "{\"a\":1}\n", 8, 0644, &err), 0);
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    static uint8_t pad[1 << 20];
    memset(pad, ' ', sizeof pad);
    for (int i = 0; f && i < 48; i++) CHECK_EQ_INT(fwrite(pad, 1, sizeof pad, f), sizeof pad);
    if (f) CHECK_EQ_INT(fclose(f), 0);
    uint8_t manifest[32] = {1}, root[32];
    size_t rows = 0;
    long before = self_kb("VmHWM");
    CHECK_EQ_INT(gt_dataset_verify(dir, NULL, manifest, root, &rows, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "is not the manifest the ledger records");
    long after = self_kb("VmHWM");
    CHECK(before > 0 && after > 0);
    CHECK_MSG(after - before < 8 * 1024, "the peak rose by %ld kB refusing a 48 MiB provenance.json", after - before);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* 0 when gt_dataset_verify(dir) fails within 10 s saying a file is not a
 * regular one; run in a child, so a hang fails the check instead of
 * stalling the test. */
static int refused_soon(const char *dir) {
    pid_t pid = fork();
    if (pid == 0) {
        uint8_t root[32];
        size_t rows = 0;
        gt_err err = {0};
        int rc = gt_dataset_verify(dir, NULL, NULL, root, &rows, &err);
        _exit(rc == GT_EIO && strstr(err.msg, "is not a regular file") ? 0 : 1);
    }
    int st = -1, waited = 0;
    for (; waited < 1000 && waitpid(pid, &st, WNOHANG) == 0; waited++) usleep(10 * 1000);
    if (waited == 1000) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -1;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* A data.jsonl or provenance.json that is a FIFO is refused at once, never
 * waited on: opening a FIFO to read waits for a writer, which a copy under
 * check never has (the command hung). */
static void test_fifo_refused(void) {
    char dir[] = "/tmp/gt-export-XXXXXX", path[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/data.jsonl", dir);
    CHECK_EQ_INT(mkfifo(path, 0600), 0);
    CHECK_EQ_INT(refused_soon(dir), 0);
    CHECK_EQ_INT(unlink(path), 0);
    put_data(dir, "{}\n", 3);
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    CHECK_EQ_INT(mkfifo(path, 0600), 0);
    CHECK_EQ_INT(refused_soon(dir), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
    RUN(test_memory);
    RUN(test_wrong_manifest_streamed);
    RUN(test_round_trip);
    RUN(test_pieces);
    RUN(test_too_many_lines);
    RUN(test_fifo_refused);
    return gt_test_finish();
}

/* export.c: dataset directories (data.jsonl, README.md card, provenance.json)
 * and their verification by Merkle root (see export.h). */
#include "work/data/export.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"

char *gt_dataset_row(const gt_job_spec *spec, const gt_sample *s) {
    char model[72], addr[43];
    gt_llm_id_str(s->model, model);
    gt_addr_to_str(&s->contributor, addr);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)s->index, "prompt", s->prompt, "completion",
                          s->output, "contributor", addr, "model", model);
    if (!o) return NULL;
    if (spec->family) {
        gt_family_item it;
        if (gt_job_item(spec, s->index, &it, NULL)) { /* such a sample was refused when validated */
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "family", json_string(spec->family->name));
        json_object_set_new(o, "question", json_string(it.question));
        json_object_set_new(o, "reference", json_string(it.answer));
    }
    char *line = gt_json_dump(o);
    json_decref(o);
    return line;
}

static const char *verdict_name(int v) { return v == GT_VERDICT_PASS ? "pass" : v == GT_VERDICT_FAIL ? "fail" : "skipped"; }

json_t *gt_sample_record(const gt_sample *s) {
    json_t *o = gt_sample_to_json(s), *v = json_object();
    if (!o || !v) {
        json_decref(o);
        json_decref(v);
        return NULL;
    }
    for (int i = 0; i < GT_STAGE_COUNT; i++) json_object_set_new(v, gt_stage_name(i), json_string(verdict_name(s->verdict[i])));
    json_object_set_new(o, "verdicts", v);
    json_object_set_new(o, "judge_score", json_real(s->judge_score));
    json_object_set_new(o, "accepted", json_boolean(s->accepted));
    if (s->reason[0]) json_object_set_new(o, "reason", json_string(s->reason));
    return o;
}

int gt_sample_record_verdicts(const json_t *rec, gt_sample *s, gt_err *err) {
    json_t *v = json_object_get(rec, "verdicts");
    if (!json_is_object(v)) return gt_err_set(err, GT_EINVAL, "record: \"verdicts\" missing");
    for (int i = 0; i < GT_STAGE_COUNT; i++) {
        const char *x = json_string_value(json_object_get(v, gt_stage_name(i)));
        if (!x) return gt_err_set(err, GT_EINVAL, "record: verdict \"%s\" missing", gt_stage_name(i));
        s->verdict[i] = !strcmp(x, "pass") ? GT_VERDICT_PASS : !strcmp(x, "fail") ? GT_VERDICT_FAIL : GT_VERDICT_SKIPPED;
    }
    json_t *js = json_object_get(rec, "judge_score");
    s->judge_score = json_is_number(js) ? json_number_value(js) : -1;
    s->accepted = json_is_true(json_object_get(rec, "accepted"));
    return 0;
}

static const char *size_category(size_t n) {
    if (n < 1000) return "n<1K";
    if (n < 10000) return "1K<n<10K";
    if (n < 100000) return "10K<n<100K";
    if (n < 1000000) return "100K<n<1M";
    return "1M<n<10M";
}

static int write_card(const gt_job_spec *spec, size_t n, const uint8_t root[32], const char *dir, gt_err *err) {
    char jobid[72], rhex[67] = "0x";
    gt_llm_id_str(spec->id, jobid);
    gt_hex_encode(root, 32, rhex + 2);
    gt_buf b = GT_BUF_INIT;
    gt_buf_printf(&b,
                  "---\nlicense: %s\npretty_name: %s\nsize_categories:\n- %s\ntask_categories:\n- %s\n"
                  "tags:\n- synthetic\n- gotong\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n"
                  "    path: data.jsonl\ndataset_info:\n  features:\n  - name: id\n    dtype: int64\n"
                  "  - name: prompt\n    dtype: string\n  - name: completion\n    dtype: string\n"
                  "  - name: contributor\n    dtype: string\n  - name: model\n    dtype: string\n",
                  spec->license, spec->name, size_category(n), spec->family ? "question-answering" : "text-generation");
    if (spec->family)
        gt_buf_printf(&b, "  - name: family\n    dtype: string\n  - name: question\n    dtype: string\n"
                          "  - name: reference\n    dtype: string\n");
    gt_buf_printf(&b, "  splits:\n  - name: train\n    num_examples: %zu\n---\n\n# %s\n\n", n, spec->name);
    gt_buf_printf(&b,
                  "Synthetic data generated on gotong by agents running local models, validated and paid per "
                  "accepted sample.\n\n- job: `%s`\n- rows: %zu\n- licence: %s\n- Merkle root (keccak256 leaves of "
                  "data.jsonl lines, sorted-pair tree): `%s`\n",
                  jobid, n, spec->license, rhex);
    if (spec->family)
        gt_buf_printf(&b, "- task family: `%s` (%s); every row's completion passed the family's checker against "
                          "`reference`\n", spec->family->name, spec->family->summary);
    gt_buf_printf(&b, "\n## Validation\n\nStages run on every batch: %s%s%s%s%s%s.\n",
                  spec->spot_fraction > 0 ? "re-execution spot checks, " : "", spec->schema ? "schema and provenance, " : "",
                  spec->verify ? "procedural verification, " : "", spec->dedup ? "exact dedup, " : "",
                  spec->near_dedup ? "MinHash near-dedup, " : "", spec->judge ? "LLM judge" : "end");
    gt_buf_printf(&b, "\n## Provenance\n\n`provenance.json` lists, per row, the contributor, the model "
                      "(sha256 of its GGUF file), the sampling seed, the validators' verdicts, the row's leaf hash "
                      "and its Merkle proof. Each row can be re-generated from its prompt, seed and model.\n");
    char path[4096];
    gt_path_join(path, sizeof path, dir, "README.md");
    int rc = b.data ? gt_file_write_atomic(path, b.data, b.len, 0644, err) : gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_buf_free(&b);
    return rc;
}

static json_t *hex32(const uint8_t h[32]) {
    char s[67] = "0x";
    gt_hex_encode(h, 32, s + 2);
    return json_string(s);
}

int gt_dataset_export(const gt_job_spec *spec, const gt_sample *samples, size_t n, const char *dir,
                      uint8_t root[32], gt_err *err) {
    if (n > GT_DATASET_MAX_ROWS) return gt_err_set(err, GT_ELIMIT, "%zu rows; at most %u", n, GT_DATASET_MAX_ROWS);
    if (gt_mkdir_p(dir, 0755, err)) return err->code;
    uint8_t (*leaves)[32] = gt_malloc(sizeof *leaves * (n ? n : 1));
    gt_buf data = GT_BUF_INIT;
    json_t *prov = NULL, *rows = NULL;
    char *text = NULL;
    int rc = 0;
    if (!leaves) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        char *line = gt_dataset_row(spec, &samples[i]);
        if (!line || gt_buf_append_str(&data, line) || gt_buf_putc(&data, '\n')) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        else if (strlen(line) == GT_DATASET_NODE_BYTES) /* a row names a 42-character address: never this short */
            rc = gt_err_set(err, GT_EINVAL, "row %zu is %d bytes, which no dataset row may be", i + 1,
                            GT_DATASET_NODE_BYTES);
        else gt_keccak256(line, strlen(line), leaves[i]);
        free(line);
    }
    if (rc) goto out;
    gt_merkle_root((const uint8_t(*)[32])leaves, n, root);
    char path[4096], jobid[72];
    gt_path_join(path, sizeof path, dir, "data.jsonl");
    if ((rc = gt_file_write_atomic(path, data.data ? data.data : (const uint8_t *)"", data.len, 0644, err))) goto out;
    gt_llm_id_str(spec->id, jobid);
    prov = json_pack("{s:s,s:s,s:s,s:o,s:I,s:s}", "job", jobid, "name", spec->name, "license", spec->license,
                     "merkle_root", hex32(root), "rows", (json_int_t)n, "leaf",
                     "keccak256(data.jsonl line without its newline); sorted-pair keccak tree");
    rows = json_array();
    if (!prov || !rows) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        const gt_sample *s = &samples[i];
        uint8_t (*proof)[32] = NULL;
        size_t plen = 0;
        if ((rc = gt_merkle_proof((const uint8_t(*)[32])leaves, n, i, &proof, &plen, err))) break;
        json_t *pa = json_array();
        for (size_t k = 0; k < plen; k++) json_array_append_new(pa, hex32(proof[k]));
        gt_free(proof);
        char model[72], addr[43], seed[24];
        gt_llm_id_str(s->model, model);
        gt_addr_to_str(&s->contributor, addr);
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
        json_t *v = json_object();
        for (int st = 0; st < GT_STAGE_COUNT; st++)
            json_object_set_new(v, gt_stage_name(st), json_string(verdict_name(s->verdict[st])));
        json_t *row = json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:o}", "row", (json_int_t)i, "index", (json_int_t)s->index,
                                "contributor", addr, "model", model, "seed", seed, "verdicts", v, "hash", hex32(leaves[i]),
                                "proof", pa);
        if (s->judge_score >= 0) json_object_set_new(row, "judge_score", json_real(s->judge_score));
        json_array_append_new(rows, row);
    }
    if (rc) goto out;
    json_object_set(prov, "samples", rows);
    text = json_dumps(prov, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!text) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto out;
    }
    gt_path_join(path, sizeof path, dir, "provenance.json");
    if ((rc = gt_file_write_atomic(path, text, strlen(text), 0644, err))) goto out;
    rc = write_card(spec, n, root, dir, err);
out:
    free(text);
    json_decref(rows);
    json_decref(prov);
    gt_buf_free(&data);
    gt_free(leaves);
    return rc;
}

/* data.jsonl open for reading in pieces of GT_DATASET_READ_BYTES (buf),
 * with its path for messages. */
typedef struct line_reader {
    FILE *f;
    const char *path;
    uint8_t *buf;
} line_reader;

/* Opens path as gt_file_read does (the same refusals and messages: a
 * missing file is GT_ENOTFOUND, anything but a regular file GT_EIO) with a
 * read buffer; on an error nothing is left open. */
static int reader_open(line_reader *r, const char *path, gt_err *err) {
    memset(r, 0, sizeof *r);
    r->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO is refused below, not waited on */
    if (fd < 0)
        return gt_err_set(err, errno == ENOENT ? GT_ENOTFOUND : GT_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gt_err_set(err, GT_EIO, "%s is not a regular file", path);
    }
    if (!(r->f = fdopen(fd, "rb"))) {
        close(fd);
        return gt_err_set(err, GT_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    if (!(r->buf = gt_malloc(GT_DATASET_READ_BYTES))) {
        fclose(r->f);
        return gt_err_set(err, GT_ENOMEM, "out of memory reading %s", path);
    }
    return 0;
}

static void reader_close(line_reader *r) {
    if (r->f) fclose(r->f);
    gt_free(r->buf);
    memset(r, 0, sizeof *r);
}

/* The next piece of the file into r->buf: its length, 0 at the end, -1
 * (err set) when reading failed. */
static long reader_next(line_reader *r, gt_err *err) {
    size_t got = fread(r->buf, 1, GT_DATASET_READ_BYTES, r->f);
    if (!got && ferror(r->f)) return gt_err_set(err, GT_EIO, "read %s: %s", r->path, strerror(errno)), -1;
    assert(got <= GT_DATASET_READ_BYTES);
    return (long)got;
}

/* The file's number of lines (a last line without a newline counts), read
 * through once without hashing or keeping any. */
static int count_lines(line_reader *r, size_t *lines, gt_err *err) {
    size_t n = 0;
    uint8_t last = '\n'; /* an empty file has no line */
    long got;
    while ((got = reader_next(r, err)) > 0) {
        const uint8_t *p = r->buf, *end = r->buf + got;
        while ((p = memchr(p, '\n', (size_t)(end - p)))) n++, p++;
        last = r->buf[got - 1];
    }
    if (got < 0) return err->code;
    *lines = n + (last != '\n');
    return 0;
}

/* Ends line k (0-based; len bytes, absorbed into h) as leaves[k] and starts
 * the next hash. Refuses a line of GT_DATASET_NODE_BYTES (export.h): it
 * could stand for a subtree of other rows; and a line past the count the
 * first pass found (the file grew while it was read: leaves has no room). */
static int end_line(gt_keccak *h, size_t len, size_t k, size_t lines, uint8_t (*leaves)[32], gt_err *err) {
    if (len == GT_DATASET_NODE_BYTES)
        return gt_err_set(err, GT_EINVAL, "data.jsonl line %zu is %d bytes, the length of a Merkle node's two "
                          "hashes: such a line could stand for other rows under the same root, so no dataset "
                          "row has it", k + 1, GT_DATASET_NODE_BYTES);
    if (k >= lines) return gt_err_set(err, GT_EIO, "data.jsonl changed while it was read (it had %zu lines)", lines);
    gt_keccak_final(h, leaves[k]);
    gt_keccak_init(h);
    return 0;
}

/* Hashes the file's lines from its start into leaves[0..lines), each piece
 * absorbed as it comes: no line is held whole, however long it is. */
static int hash_lines(line_reader *r, size_t lines, uint8_t (*leaves)[32], gt_err *err) {
    gt_keccak h;
    size_t k = 0, len = 0; /* the line being hashed, and its bytes so far */
    long got = 0;
    int rc = 0;
    rewind(r->f);
    gt_keccak_init(&h);
    while (!rc && (got = reader_next(r, err)) > 0) {
        for (size_t a = 0; !rc && a < (size_t)got;) {
            const uint8_t *nl = memchr(r->buf + a, '\n', (size_t)got - a);
            size_t b = nl ? (size_t)(nl - r->buf) : (size_t)got;
            gt_keccak_update(&h, r->buf + a, b - a);
            len += b - a;
            if (nl) rc = end_line(&h, len, k++, lines, leaves, err), len = 0;
            a = b + 1;
        }
    }
    if (!rc && got < 0) rc = err->code;
    if (!rc && len) rc = end_line(&h, len, k++, lines, leaves, err); /* a last line without its newline */
    if (!rc && k != lines)
        rc = gt_err_set(err, GT_EIO, "data.jsonl changed while it was read (%zu lines, then %zu)", lines, k);
    return rc;
}

/* The keccak256 leaves of path's lines (data.jsonl) into *out (caller frees
 * with gt_free), *n of them, read in pieces: memory is the leaves and one
 * piece, not the file. The lines are counted first, so more than a dataset
 * may have rows are refused before any is hashed or allocated for (a copy
 * of 2^30 empty lines would otherwise ask for 32 GiB of leaves, for a tree
 * no ledger records); then hashed (hash_lines). */
static int line_leaves(const char *path, uint8_t (**out)[32], size_t *n, gt_err *err) {
    line_reader r;
    size_t lines = 0;
    uint8_t (*leaves)[32] = NULL;
    int rc = reader_open(&r, path, err);
    if (rc) return rc;
    rc = count_lines(&r, &lines, err);
    if (!rc && lines > GT_DATASET_MAX_ROWS)
        rc = gt_err_set(err, GT_ELIMIT, "data.jsonl has %zu lines; a dataset has at most %u rows", lines,
                        GT_DATASET_MAX_ROWS);
    if (!rc && !(leaves = gt_malloc(sizeof *leaves * (lines ? lines : 1))))
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) rc = hash_lines(&r, lines, leaves, err);
    reader_close(&r);
    if (rc) {
        gt_free(leaves);
        return rc;
    }
    *out = leaves, *n = lines;
    return 0;
}

/* Checks provenance.json (parsed: o) against the n leaves of data.jsonl and
 * their root: its merkle_root, its row count, and each sample's leaf hash
 * in file order (the sorted-pair tree would take sibling rows swapped). */
static int provenance_matches(const json_t *o, const uint8_t (*leaves)[32], size_t n, const uint8_t root[32],
                              gt_err *err) {
    uint8_t recorded[32];
    const char *r = json_string_value(json_object_get(o, "merkle_root"));
    int rc = r ? gt_hex_decode(r, recorded, 32, "provenance.json merkle_root", err)
               : gt_err_set(err, GT_EINVAL, "provenance.json: no merkle_root");
    if (rc) return rc;
    if (memcmp(recorded, root, 32)) return gt_err_set(err, GT_EINVAL, "data.jsonl does not match provenance.json's Merkle root");
    const json_t *rows = json_object_get(o, "rows"), *samples = json_object_get(o, "samples");
    if (!json_is_integer(rows) || json_integer_value(rows) != (json_int_t)n || json_array_size(samples) != n)
        return gt_err_set(err, GT_EINVAL, "data.jsonl has %zu rows; provenance.json says %lld and lists %zu samples",
                          n, json_is_integer(rows) ? (long long)json_integer_value(rows) : -1LL,
                          json_array_size(samples));
    for (size_t i = 0; i < n; i++) {
        uint8_t h[32];
        const char *hs = json_string_value(json_object_get(json_array_get(samples, i), "hash"));
        if (!hs || gt_hex_decode(hs, h, 32, "provenance.json sample hash", NULL) || memcmp(h, leaves[i], 32))
            return gt_err_set(err, GT_EINVAL, "data.jsonl row %zu is not the row provenance.json lists there", i + 1);
    }
    return 0;
}

/* 0 when prov[0..len) (or the file whose sha256 is hashed, when not NULL)
 * is the provenance.json whose sha256 the ledger records (manifest; NULL:
 * no record to compare with). The file is the
 * copy's, so only this ties its per-row hashes (the order check) and its
 * contributors and verdicts to what was published. */
static int manifest_matches(const uint8_t *prov, size_t len, const uint8_t *hashed, const uint8_t *manifest,
                            gt_err *err) {
    if (!manifest) return 0;
    uint8_t h[32];
    if (hashed) memcpy(h, hashed, 32);
    else gt_sha256(prov, len, h);
    if (!memcmp(h, manifest, 32)) return 0;
    return gt_err_set(err, GT_EINVAL, "provenance.json is not the manifest the ledger records for this dataset (its "
                      "sha256 differs): the rows' order and provenance it lists are not the published ones");
}

/* The SHA-256 of the file at path, read through in pieces (no more of it
 * in memory than one piece). */
static int file_sha256(const char *path, uint8_t out[32], gt_err *err) {
    line_reader r;
    gt_sha256_ctx h;
    int rc = reader_open(&r, path, err);
    if (rc) return rc;
    if (gt_sha256_init(&h) != 0) {
        reader_close(&r);
        return gt_err_set(err, GT_ENOMEM, "out of memory hashing %s", path);
    }
    long got;
    while ((got = reader_next(&r, err)) > 0) gt_sha256_update(&h, r.buf, (size_t)got);
    if (got < 0) gt_sha256_free(&h);
    else gt_sha256_final(&h, out);
    reader_close(&r);
    return got < 0 ? err->code : 0;
}

int gt_dataset_verify(const char *dir, const uint8_t *expect, const uint8_t *manifest, uint8_t root[32], size_t *rows,
                      gt_err *err) {
    char path[4096];
    uint8_t *prov = NULL, ph[32];
    uint8_t (*leaves)[32] = NULL;
    size_t plen = 0, n = 0;
    int rc;
    /* The manifest first, hashed as it is read: a provenance.json that is not
     * the published one is refused before it is held or parsed whole. */
    gt_path_join(path, sizeof path, dir, "provenance.json");
    if (manifest && ((rc = file_sha256(path, ph, err)) || (rc = manifest_matches(NULL, 0, ph, manifest, err))))
        return rc;
    gt_path_join(path, sizeof path, dir, "data.jsonl");
    rc = line_leaves(path, &leaves, &n, err);
    if (rc) return rc;
    gt_merkle_root((const uint8_t(*)[32])leaves, n, root);
    *rows = n;
    gt_path_join(path, sizeof path, dir, "provenance.json");
    rc = gt_file_read(path, (size_t)1 << 34, &prov, &plen, err);
    if (!rc) rc = manifest_matches(prov, plen, NULL, manifest, err); /* again: the bytes parsed are the ones hashed */
    json_t *o = rc ? NULL : json_loadb((const char *)prov, plen, 0, NULL);
    gt_free(prov);
    if (!rc) rc = provenance_matches(o, (const uint8_t(*)[32])leaves, n, root, err);
    json_decref(o);
    gt_free(leaves);
    if (rc) return rc;
    if (expect && memcmp(expect, root, 32)) return gt_err_set(err, GT_EINVAL, "data.jsonl does not match the expected Merkle root");
    return 0;
}

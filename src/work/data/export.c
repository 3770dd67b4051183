/* export.c: dataset directories (data.jsonl, README.md card, provenance.json)
 * and their verification by Merkle root (see export.h). */
#include "work/data/export.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The keccak256 leaves of data[0..len)'s lines (a last line without a
 * newline counts) into *out (caller frees with gt_free), *n of them.
 * Refuses a line of GT_DATASET_NODE_BYTES (export.h): it could stand for a
 * subtree of other rows; and more lines than a dataset may have rows,
 * before hashing or allocating for them (a copy of 2^30 empty lines would
 * otherwise ask for 32 GiB of leaves, for a tree no ledger records). */
static int line_leaves(const uint8_t *data, size_t len, uint8_t (**out)[32], size_t *n, gt_err *err) {
    size_t k = 0, lines = 0;
    for (size_t i = 0; i < len; i++) lines += data[i] == '\n';
    if (len && data[len - 1] != '\n') lines++;
    if (lines > GT_DATASET_MAX_ROWS)
        return gt_err_set(err, GT_ELIMIT, "data.jsonl has %zu lines; a dataset has at most %u rows", lines,
                          GT_DATASET_MAX_ROWS);
    uint8_t (*leaves)[32] = gt_malloc(sizeof *leaves * (lines ? lines : 1));
    if (!leaves) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t a = 0; a < len; k++) {
        size_t b = a;
        while (b < len && data[b] != '\n') b++;
        if (b - a == GT_DATASET_NODE_BYTES) {
            gt_free(leaves);
            return gt_err_set(err, GT_EINVAL, "data.jsonl line %zu is %d bytes, the length of a Merkle node's two "
                              "hashes: such a line could stand for other rows under the same root, so no dataset "
                              "row has it", k + 1, GT_DATASET_NODE_BYTES);
        }
        gt_keccak256(data + a, b - a, leaves[k]);
        a = b + 1;
    }
    assert(k == lines);
    *out = leaves, *n = k;
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

/* 0 when prov[0..len) is the provenance.json whose sha256 the ledger
 * records (manifest; NULL: no record to compare with). The file is the
 * copy's, so only this ties its per-row hashes (the order check) and its
 * contributors and verdicts to what was published. */
static int manifest_matches(const uint8_t *prov, size_t len, const uint8_t *manifest, gt_err *err) {
    if (!manifest) return 0;
    uint8_t h[32];
    gt_sha256(prov, len, h);
    if (!memcmp(h, manifest, 32)) return 0;
    return gt_err_set(err, GT_EINVAL, "provenance.json is not the manifest the ledger records for this dataset (its "
                      "sha256 differs): the rows' order and provenance it lists are not the published ones");
}

int gt_dataset_verify(const char *dir, const uint8_t *expect, const uint8_t *manifest, uint8_t root[32], size_t *rows,
                      gt_err *err) {
    char path[4096];
    uint8_t *data = NULL, *prov = NULL;
    uint8_t (*leaves)[32] = NULL;
    size_t len = 0, plen = 0, n = 0;
    gt_path_join(path, sizeof path, dir, "data.jsonl");
    int rc = gt_file_read(path, (size_t)1 << 34, &data, &len, err);
    if (!rc) rc = line_leaves(data, len, &leaves, &n, err);
    gt_free(data);
    if (rc) return rc;
    gt_merkle_root((const uint8_t(*)[32])leaves, n, root);
    *rows = n;
    gt_path_join(path, sizeof path, dir, "provenance.json");
    rc = gt_file_read(path, (size_t)1 << 34, &prov, &plen, err);
    if (!rc) rc = manifest_matches(prov, plen, manifest, err);
    json_t *o = rc ? NULL : json_loadb((const char *)prov, plen, 0, NULL);
    gt_free(prov);
    if (!rc) rc = provenance_matches(o, (const uint8_t(*)[32])leaves, n, root, err);
    json_decref(o);
    gt_free(leaves);
    if (rc) return rc;
    if (expect && memcmp(expect, root, 32)) return gt_err_set(err, GT_EINVAL, "data.jsonl does not match the expected Merkle root");
    return 0;
}

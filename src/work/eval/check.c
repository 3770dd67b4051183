/* check.c: the agent side of evaluation as market work (check.h): eval task
 * specs, an evaluator's attestation of its run, and a validator's check of an
 * attestation. The validator's check is where a forged attestation is
 * caught: everything it can recompute from the results bytes (line count,
 * Merkle root, score) it recomputes, and the rest (that each line is what the
 * model really produces) it samples by re-executing random items, which
 * inference's determinism makes a byte-for-byte comparison. */
#include "work/eval/check.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "work/data/rng.h"
#include "work/eval/eval.h"

/* "sha256:<hex>" or "0x<hex>" into 32 bytes. */
static int parse_sha(const char *s, uint8_t out[32], const char *what, gt_err *err) {
    if (!strncmp(s, "sha256:", 7)) s += 7;
    else if (!strncmp(s, "0x", 2)) s += 2;
    char buf[2 + 64 + 1];
    if (strlen(s) != 64) return gt_err_set(err, GT_EINVAL, "%s: expected sha256:<64 hex digits>", what);
    snprintf(buf, sizeof buf, "0x%s", s);
    return gt_hex_decode(buf, out, 32, what, err);
}

static void sha_str(const uint8_t h[32], char out[72]) {
    memcpy(out, "sha256:", 7);
    gt_hex_encode(h, 32, out + 7);
}

int gt_work_eval_spec_parse(const char *text, size_t len, gt_work_eval_spec *out, gt_err *err) {
    static const char *const allowed[] = {"type", "version", "model", "bench", "benchHash", "limit", "check", NULL};
    memset(out, 0, sizeof *out);
    json_t *o = NULL;
    int rc = gt_json_parse(text, len, GT_WORK_EVAL_SPEC_MAX_BYTES, &o, err);
    if (rc) return gt_err_wrap(err, "eval spec");
    const char *type, *model, *bench, *bh;
    uint64_t version;
    if (!json_is_object(o)) rc = gt_err_set(err, GT_EINVAL, "eval spec: expected a JSON object");
    if (!rc) rc = gt_json_only_fields(o, allowed, "eval spec", err);
    if (!rc) rc = gt_json_get_str(o, "type", 16, &type, err);
    if (!rc && strcmp(type, "eval")) rc = gt_err_set(err, GT_EINVAL, "eval spec.type: expected \"eval\", got \"%s\"", type);
    if (!rc) rc = gt_json_get_u64(o, "version", &version, err);
    if (!rc && version != 1) rc = gt_err_set(err, GT_EUNSUPPORTED, "eval spec.version: only version 1 is known, got %llu",
                                             (unsigned long long)version);
    if (!rc) rc = gt_json_get_str(o, "model", 80, &model, err);
    if (!rc) rc = parse_sha(model, out->model, "eval spec.model", err);
    if (!rc) rc = gt_json_get_str(o, "bench", GT_BENCH_NAME_MAX, &bench, err);
    if (!rc && !bench[0]) rc = gt_err_set(err, GT_EINVAL, "eval spec.bench: expected a benchmark name");
    if (!rc) snprintf(out->bench, sizeof out->bench, "%s", bench);
    if (!rc) rc = gt_json_get_str(o, "benchHash", 80, &bh, err);
    if (!rc) rc = parse_sha(bh, out->bench_hash, "eval spec.benchHash", err);
    out->check = GT_WORK_EVAL_DEFAULT_CHECK;
    if (!rc && json_object_get(o, "limit")) rc = gt_json_get_u64(o, "limit", &out->limit, err);
    if (!rc && out->limit > GT_BENCH_MAX_ITEMS)
        rc = gt_err_set(err, GT_EINVAL, "eval spec.limit: expected 0 to %d, got %llu", GT_BENCH_MAX_ITEMS,
                        (unsigned long long)out->limit);
    if (!rc && json_object_get(o, "check")) rc = gt_json_get_u64(o, "check", &out->check, err);
    if (!rc && (out->check < 1 || out->check > GT_WORK_EVAL_MAX_CHECK))
        rc = gt_err_set(err, GT_EINVAL, "eval spec.check: expected 1 to %d, got %llu", GT_WORK_EVAL_MAX_CHECK,
                        (unsigned long long)out->check);
    json_decref(o);
    return rc;
}

char *gt_work_eval_spec_json(const gt_work_eval_spec *s) {
    char m[72], b[72];
    sha_str(s->model, m);
    sha_str(s->bench_hash, b);
    json_t *o = json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:I}", "type", "eval", "version", 1, "model", m, "bench", s->bench,
                          "benchHash", b, "limit", (json_int_t)s->limit, "check", (json_int_t)s->check);
    char *t = o ? gt_json_dump(o) : NULL;
    json_decref(o);
    return t;
}

int gt_work_eval_spec_floor_ok(const gt_work_eval_spec *s, gt_err *err) {
    const gt_bench_ref *reg = gt_bench_registry_find(s->bench);
    uint64_t items = s->limit ? s->limit : reg ? reg->items : GT_WORK_EVAL_CHECK_FLOOR;
    if (reg && items > reg->items) items = reg->items;
    uint64_t floor_n = gt_work_eval_check_floor(items);
    if (s->check >= floor_n) return 0;
    return gt_err_set(err, GT_EINVAL,
                      "eval spec.check: expected at least min(items,%d)=%llu (the items each judge re-executes; the "
                      "leaderboard ranks no score checked by fewer), got %llu",
                      GT_WORK_EVAL_CHECK_FLOOR, (unsigned long long)floor_n, (unsigned long long)s->check);
}

int gt_work_eval_attest(const gt_work_eval_spec *spec, const gt_bench *b, gt_llm *llm, gt_buf *results,
                        gt_work_attestation *att, gt_err *err) {
    char want[72], have[72];
    if (memcmp(b->hash, spec->bench_hash, 32)) {
        sha_str(spec->bench_hash, want), sha_str(b->hash, have);
        return gt_err_set(err, GT_EINVAL, "the task asks for bench %s (%s); this bench file is %s", spec->bench, want, have);
    }
    if (memcmp(llm->id, spec->model, 32)) {
        sha_str(spec->model, want), sha_str(llm->id, have);
        return gt_err_set(err, GT_EINVAL, "the task asks for model %s; this model file is %s", want, have);
    }
    size_t start = results->len;
    gt_eval_summary sum;
    int rc = gt_eval_run(b, llm, (size_t)spec->limit, NULL, NULL, results, &sum, err);
    if (rc) return rc;
    memset(att, 0, sizeof *att);
    memcpy(att->model, llm->id, 32);
    memcpy(att->bench_hash, b->hash, 32);
    memcpy(att->root, sum.root, 32);
    gt_sha256(results->data + start, results->len - start, att->results);
    snprintf(att->bench, sizeof att->bench, "%s", b->name);
    att->score_ppm = gt_eval_score_ppm(sum.score);
    att->items = sum.n;
    return 0;
}

void gt_work_attest_fill(gt_action *a, const uint8_t task[32], uint64_t slot, const gt_work_attestation *att) {
    gt_action_set_b32(a, "task", task);
    gt_action_set_u64(a, "slot", slot);
    gt_action_set_b32(a, "model", att->model);
    /* bench fits: GT_BENCH_NAME_MAX == the field's limit */
    int rc = gt_action_set_str(a, "bench", att->bench, strlen(att->bench), NULL);
    assert(rc == 0);
    (void)rc;
    gt_action_set_b32(a, "benchHash", att->bench_hash);
    gt_action_set_b32(a, "resultsRoot", att->root);
    gt_action_set_u64(a, "scorePpm", att->score_ppm);
    gt_action_set_u64(a, "items", att->items);
    gt_action_set_b32(a, "results", att->results);
}

void gt_work_cosign_fill(gt_action *a, const uint8_t attestation[32], uint64_t items_checked, int agree,
                         const uint8_t evidence[32]) {
    gt_action_set_b32(a, "attestation", attestation);
    gt_action_set_u64(a, "itemsChecked", items_checked);
    gt_action_set_u64(a, "agree", agree ? 1 : 0);
    gt_action_set_b32(a, "evidence", evidence);
}

int gt_work_attestation_from_json(const json_t *v, gt_work_attestation *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    const char *model, *bh, *root, *res, *bench;
    int rc = gt_json_get_str(v, "model", 80, &model, err);
    if (!rc) rc = parse_sha(model, out->model, "attestation.model", err);
    if (!rc) rc = gt_json_get_str(v, "benchHash", 80, &bh, err);
    if (!rc) rc = parse_sha(bh, out->bench_hash, "attestation.benchHash", err);
    if (!rc) rc = gt_json_get_str(v, "resultsRoot", 80, &root, err);
    if (!rc) rc = parse_sha(root, out->root, "attestation.resultsRoot", err);
    if (!rc) rc = gt_json_get_str(v, "results", 80, &res, err);
    if (!rc) rc = parse_sha(res, out->results, "attestation.results", err);
    if (!rc) rc = gt_json_get_str(v, "bench", GT_BENCH_NAME_MAX, &bench, err);
    if (!rc) snprintf(out->bench, sizeof out->bench, "%s", bench);
    if (!rc) rc = gt_json_get_u64(v, "scorePpm", &out->score_ppm, err);
    if (!rc) rc = gt_json_get_u64(v, "items", &out->items, err);
    return rc;
}

/* Disagreement: records why (printf-style) and the item, returns 0. */
__attribute__((format(printf, 3, 4))) static int disagree(gt_work_check *out, int64_t item, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why, sizeof out->why, fmt, ap);
    va_end(ap);
    out->agree = 0;
    out->item = item;
    return 0;
}

/* The checks that need no model: model/bench named by the spec, line count,
 * Merkle root, score. Lines are split into (off, len) pairs (without "\n"). */
static int check_static(const gt_work_eval_spec *spec, const gt_bench *b, const gt_work_attestation *att, const char *text,
                        size_t len, size_t *offs, size_t *lens, size_t n_lines, gt_work_check *out, gt_err *err) {
    if (memcmp(att->model, spec->model, 32)) return disagree(out, -1, "the attestation names another model than the task's spec");
    if (memcmp(att->bench_hash, spec->bench_hash, 32) || strcmp(att->bench, spec->bench))
        return disagree(out, -1, "the attestation names another benchmark than the task's spec");
    size_t want = spec->limit && spec->limit < b->n_items ? (size_t)spec->limit : b->n_items;
    if (att->items != want)
        return disagree(out, -1, "the attestation covers %llu items; the task asks for %zu", (unsigned long long)att->items, want);
    if (n_lines != att->items)
        return disagree(out, -1, "the results have %zu lines; the attestation says %llu items", n_lines,
                        (unsigned long long)att->items);
    uint8_t(*leaves)[32] = gt_malloc(sizeof *leaves * (n_lines ? n_lines : 1));
    if (!leaves) return gt_err_set(err, GT_ENOMEM, "out of memory");
    uint64_t correct = 0;
    int bad_line = -1;
    for (size_t i = 0; i < n_lines; i++) {
        gt_keccak256(text + offs[i], lens[i], leaves[i]);
        json_t *o = json_loadb(text + offs[i], lens[i], 0, NULL);
        json_t *m = json_object_get(o, gt_bench_metric(b->type));
        if (!json_is_integer(m) || (json_integer_value(m) != 0 && json_integer_value(m) != 1)) bad_line = (int)i;
        else correct += (uint64_t)json_integer_value(m);
        json_decref(o);
        if (bad_line >= 0) break;
    }
    uint8_t root[32];
    if (bad_line < 0) gt_merkle_root((const uint8_t(*)[32])leaves, n_lines, root);
    gt_free(leaves);
    (void)len;
    if (bad_line >= 0) return disagree(out, bad_line, "results line %d is not a scored result", bad_line);
    if (memcmp(root, att->root, 32)) return disagree(out, -1, "the results' Merkle root is not the attested root");
    uint64_t ppm = gt_eval_score_ppm((double)correct / (double)n_lines);
    if (ppm != att->score_ppm)
        return disagree(out, -1, "the results score %llu ppm (%llu of %zu correct); the attestation says %llu ppm",
                        (unsigned long long)ppm, (unsigned long long)correct, n_lines, (unsigned long long)att->score_ppm);
    out->agree = 1;
    return 0;
}

int gt_work_eval_check(const gt_work_eval_spec *spec, const gt_bench *b, gt_llm *llm, const gt_work_attestation *att,
                       const void *results, size_t len, uint64_t seed, gt_work_check *out, gt_buf *evidence, gt_err *err) {
    memset(out, 0, sizeof *out);
    out->item = -1;
    char want[72], have[72];
    if (memcmp(llm->id, att->model, 32) && !memcmp(att->model, spec->model, 32)) {
        sha_str(att->model, want), sha_str(llm->id, have);
        return gt_err_set(err, GT_EINVAL, "cannot re-execute: the attested model is %s, this validator has %s", want, have);
    }
    if (memcmp(b->hash, spec->bench_hash, 32)) {
        sha_str(spec->bench_hash, want), sha_str(b->hash, have);
        return gt_err_set(err, GT_EINVAL, "cannot re-execute: the task's bench is %s, this validator has %s", want, have);
    }
    /* The spec alone has no items (the draw's hash is the spec's): judged
     * against it every honest attestation would read as covering too many. */
    if (b->drawn && !b->seeded)
        return gt_err_set(err, GT_EINVAL, "cannot check: %s is a drawn benchmark and this is its spec, not its draw "
                                          "(gt_bench_draw)", b->name);
    if (len > GT_WORK_RESULTS_MAX_BYTES)
        return gt_err_set(err, GT_ELIMIT, "results of %zu bytes are over the limit of %d", len, GT_WORK_RESULTS_MAX_BYTES);
    uint8_t h[32];
    gt_sha256(results, len, h);
    if (memcmp(h, att->results, 32)) return gt_err_set(err, GT_EINVAL, "the results blob is not the attested one (sha256 differs)");
    const char *text = results;
    size_t n_lines = 0;
    for (size_t i = 0; i < len; i++) n_lines += text[i] == '\n';
    if (len && text[len - 1] != '\n') n_lines++;
    size_t *offs = gt_malloc(sizeof *offs * (n_lines + 1)), *lens = gt_malloc(sizeof *lens * (n_lines + 1));
    uint8_t *picked = NULL;
    json_t *ev = json_object(), *checked = json_array();
    int rc = 0;
    if (!offs || !lens || !ev || !checked) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t i = 0, k = 0; !rc && i < len; k++) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        offs[k] = i, lens[k] = e - i;
        i = e + 1;
    }
    if (!rc) rc = check_static(spec, b, att, text, len, offs, lens, n_lines, out, err);
    /* A failed recomputation judged every line (a co-sign counts at least one). */
    if (!rc && !out->agree) out->items_checked = att->items ? att->items : 1;
    /* Re-execute distinct random items chosen by the validator's seed. */
    if (!rc && out->agree) {
        uint64_t m = spec->check < n_lines ? spec->check : n_lines;
        picked = gt_calloc(n_lines ? n_lines : 1, 1);
        if (!picked) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        gt_rng r;
        gt_rng_seed(&r, seed, 0x65766131 /* "eva1" */);
        for (uint64_t j = 0; !rc && j < m && out->agree; j++) {
            size_t i;
            do i = (size_t)gt_rng_below(&r, n_lines);
            while (picked[i]);
            picked[i] = 1;
            gt_buf line = GT_BUF_INIT;
            int c1, c2;
            rc = gt_eval_item(b, i, llm, &line, &c1, &c2, err);
            if (!rc) {
                out->items_checked++;
                json_array_append_new(checked, json_integer((json_int_t)i));
                if (line.len != lens[i] || memcmp(line.data, text + offs[i], lens[i])) {
                    disagree(out, (int64_t)i, "item %zu: the re-executed line differs from the attested one", i);
                    json_object_set_new(ev, "attested", json_stringn(text + offs[i], lens[i]));
                    json_object_set_new(ev, "reexecuted", json_stringn((const char *)line.data, line.len));
                }
            }
            gt_buf_free(&line);
        }
    }
    if (!rc) {
        char s[72];
        sha_str(att->results, s);
        json_object_set_new(ev, "results", json_string(s));
        sha_str(att->model, s);
        json_object_set_new(ev, "model", json_string(s));
        json_object_set_new(ev, "bench", json_string(att->bench));
        json_object_set_new(ev, "seed", json_integer((json_int_t)(seed & 0x7fffffffffffffffull)));
        json_object_set_new(ev, "checked", json_incref(checked));
        json_object_set_new(ev, "agree", json_boolean(out->agree));
        if (!out->agree) {
            json_object_set_new(ev, "reason", json_string(out->why));
            json_object_set_new(ev, "item", out->item >= 0 ? json_integer(out->item) : json_null());
        }
        char *t = gt_json_dump(ev);
        if (!t || gt_buf_append_str(evidence, t)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        free(t);
    }
    json_decref(checked);
    json_decref(ev);
    gt_free(picked);
    gt_free(offs);
    gt_free(lens);
    return rc;
}

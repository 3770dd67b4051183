/* job.c: parsing and checking data job specs, rendering their prompts (see
 * job.h for the format). Every refusal names the field and what was expected,
 * and a refused spec leaves nothing allocated. */
#include "work/data/job.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/amount.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/sha256.h"
#include "work/data/rng.h"
#include "work/eval/bench.h"

const char gt_job_default_judge_prompt[] =
    "You review synthetic training data.\nTask given to the writer:\n{prompt}\nWriter's response:\n{output}\n"
    "Is the response correct, relevant and well written? Answer Yes or No.\nAnswer:";

static int name_ok(const char *s) {
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')) return 0;
    return 1;
}

static int var_name_ok(const char *s) {
    if (!*s || strlen(s) > GT_JOB_VAR_NAME_MAX) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
    return 1;
}

/* A number field in [lo, hi] (integers accepted); missing keeps *out. */
static int get_real(const json_t *obj, const char *what, const char *field, double lo, double hi, double *out,
                    gt_err *err) {
    json_t *v = json_object_get(obj, field);
    if (!v) return 0;
    if (!json_is_number(v)) return gt_err_set(err, GT_EINVAL, "%s.%s: expected a number", what, field);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return gt_err_set(err, GT_EINVAL, "%s.%s: %g is out of range; expected %g..%g", what, field, x, lo, hi);
    *out = x;
    return 0;
}

/* An integer field in [lo, hi]; missing keeps *out unless required. */
static int get_int(const json_t *obj, const char *what, const char *field, uint64_t lo, uint64_t hi, int required,
                   uint64_t *out, gt_err *err) {
    json_t *v = json_object_get(obj, field);
    if (!v) return required ? gt_err_set(err, GT_EINVAL, "%s.%s is missing", what, field) : 0;
    uint64_t x;
    if (json_is_integer(v) && json_integer_value(v) >= 0) x = (uint64_t)json_integer_value(v);
    else if (gt_json_get_u64(obj, field, &x, NULL))
        return gt_err_set(err, GT_EINVAL, "%s.%s: expected a whole number %llu..%llu", what, field,
                          (unsigned long long)lo, (unsigned long long)hi);
    if (x < lo || x > hi)
        return gt_err_set(err, GT_EINVAL, "%s.%s: %llu is out of range; expected %llu..%llu", what, field,
                          (unsigned long long)x, (unsigned long long)lo, (unsigned long long)hi);
    *out = x;
    return 0;
}

static int get_bool(const json_t *obj, const char *what, const char *field, int *out, gt_err *err) {
    json_t *v = json_object_get(obj, field);
    if (!v) return 0;
    if (!json_is_boolean(v)) return gt_err_set(err, GT_EINVAL, "%s.%s: expected true or false", what, field);
    *out = json_is_true(v);
    return 0;
}

/* An amount: a token string ("0.01") or an integer of base units. */
static int get_amount(const json_t *obj, const char *field, uint64_t *out, gt_err *err) {
    json_t *v = json_object_get(obj, field);
    if (!v) return gt_err_set(err, GT_EINVAL, "job.%s is missing (an amount such as \"0.01\")", field);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return gt_err_set(err, GT_EINVAL, "job.%s: expected an amount such as \"0.01\" or base units", field);
    gt_err e2 = {0};
    if (gt_amount_parse(json_string_value(v), out, &e2))
        return gt_err_set(err, GT_EINVAL, "job.%s: %s", field, e2.msg);
    return 0;
}

/* Checks the {names} of a template against the known ones. */
static int check_template(const char *t, const gt_job_spec *s, int judge, gt_err *err) {
    for (const char *p = t; *p; p++) {
        if (p[0] == '{' && p[1] == '{') { p++; continue; }
        if (p[0] == '}' && p[1] == '}') { p++; continue; }
        if (*p == '}') return gt_err_set(err, GT_EINVAL, "%s: unmatched '}' (write }} for a literal brace)", judge ? "job.pipeline.judge.prompt" : "job.template");
        if (*p != '{') continue;
        const char *e = strpbrk(p + 1, "{}");
        if (!e || *e == '{') return gt_err_set(err, GT_EINVAL, "%s: unclosed '{' (write {{ for a literal brace)", judge ? "job.pipeline.judge.prompt" : "job.template");
        size_t n = (size_t)(e - p - 1);
        const char *name = p + 1;
        int known = 0;
        if (judge) {
            known = (n == 6 && !memcmp(name, "prompt", 6)) || (n == 6 && !memcmp(name, "output", 6));
        } else {
            known = (n == 5 && !memcmp(name, "index", 5));
            if ((n == 8 && !memcmp(name, "question", 8)) || (n == 11 && !memcmp(name, "answer_hint", 11))) {
                if (!s->family)
                    return gt_err_set(err, GT_EINVAL, "job.template: {%.*s} needs a \"family\"", (int)n, name);
                known = 1;
            }
            for (int i = 0; i < s->n_vars && !known; i++)
                known = strlen(s->vars[i].name) == n && !memcmp(s->vars[i].name, name, n);
        }
        if (!known)
            return gt_err_set(err, GT_EINVAL, "%s: unknown variable {%.*s}", judge ? "job.pipeline.judge.prompt" : "job.template",
                              (int)(n < 40 ? n : 40), name);
        p = e;
    }
    return 0;
}

static int parse_vars(const json_t *v, gt_job_spec *s, gt_err *err) {
    if (!json_is_object(v)) return gt_err_set(err, GT_EINVAL, "job.variables: expected an object of name: [values]");
    if (json_object_size(v) > GT_JOB_MAX_VARS)
        return gt_err_set(err, GT_ELIMIT, "job.variables: %zu variables; at most %d", json_object_size(v), GT_JOB_MAX_VARS);
    /* Sorted by name so the draw order does not depend on the JSON's key order. */
    const char *names[GT_JOB_MAX_VARS];
    int n = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) names[n++] = key;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        const char *name = names[i];
        json_t *arr = json_object_get(v, name);
        if (!var_name_ok(name))
            return gt_err_set(err, GT_EINVAL, "job.variables: name \"%.40s\": expected 1..%d of [A-Za-z0-9_]", name,
                              GT_JOB_VAR_NAME_MAX);
        if (!strcmp(name, "question") || !strcmp(name, "answer_hint") || !strcmp(name, "index"))
            return gt_err_set(err, GT_EINVAL, "job.variables.%s: the name is reserved", name);
        if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > GT_JOB_MAX_VALUES)
            return gt_err_set(err, GT_EINVAL, "job.variables.%s: expected an array of 1..%d strings", name,
                              GT_JOB_MAX_VALUES);
        gt_job_var *jv = &s->vars[s->n_vars];
        jv->name = name;
        jv->n_values = json_array_size(arr);
        jv->values = gt_malloc(sizeof(char *) * jv->n_values);
        if (!jv->values) return gt_err_set(err, GT_ENOMEM, "out of memory");
        s->n_vars++;
        for (size_t k = 0; k < jv->n_values; k++) {
            json_t *x = json_array_get(arr, k);
            if (!json_is_string(x) || json_string_length(x) > GT_JOB_VALUE_MAX ||
                strlen(json_string_value(x)) != json_string_length(x))
                return gt_err_set(err, GT_EINVAL, "job.variables.%s[%zu]: expected a string of at most %d bytes", name,
                                  k, GT_JOB_VALUE_MAX);
            jv->values[k] = json_string_value(x);
        }
    }
    return 0;
}

static int parse_output(const json_t *o, gt_job_spec *s, gt_err *err) {
    static const char *const keys[] = {"type", "fields", NULL};
    if (gt_json_only_fields(o, keys, "job.output", err)) return GT_EINVAL;
    const char *type;
    if (gt_json_get_str(o, "type", 16, &type, err)) return gt_err_wrap(err, "job.output");
    if (!strcmp(type, "text")) {
        if (json_object_get(o, "fields")) return gt_err_set(err, GT_EINVAL, "job.output.fields: only for type \"json\"");
        return 0;
    }
    if (strcmp(type, "json")) return gt_err_set(err, GT_EINVAL, "job.output.type \"%s\": expected \"text\" or \"json\"", type);
    s->output_json = 1;
    json_t *f = json_object_get(o, "fields");
    if (!json_is_array(f) || json_array_size(f) == 0 || json_array_size(f) > GT_JOB_MAX_FIELDS)
        return gt_err_set(err, GT_EINVAL, "job.output.fields: expected an array of 1..%d field names", GT_JOB_MAX_FIELDS);
    for (size_t i = 0; i < json_array_size(f); i++) {
        json_t *x = json_array_get(f, i);
        if (!json_is_string(x) || !var_name_ok(json_string_value(x)))
            return gt_err_set(err, GT_EINVAL, "job.output.fields[%zu]: expected a name of [A-Za-z0-9_]", i);
        s->fields[s->n_fields++] = json_string_value(x);
    }
    return 0;
}

static int parse_generation(const json_t *g, gt_job_spec *s, gt_err *err) {
    static const char *const keys[] = {"max_tokens", "temp", "top_k", "top_p", "min_p", NULL};
    if (gt_json_only_fields(g, keys, "job.generation", err)) return GT_EINVAL;
    uint64_t mt = (uint64_t)s->max_tokens, tk = (uint64_t)s->top_k;
    double temp = s->temp, tp = s->top_p, mp = s->min_p;
    if (get_int(g, "job.generation", "max_tokens", 1, GT_JOB_MAX_TOKENS, 0, &mt, err) ||
        get_int(g, "job.generation", "top_k", 0, 100000, 0, &tk, err) ||
        get_real(g, "job.generation", "temp", 0, 10, &temp, err) ||
        get_real(g, "job.generation", "top_p", 0, 1, &tp, err) ||
        get_real(g, "job.generation", "min_p", 0, 1, &mp, err))
        return GT_EINVAL;
    s->max_tokens = (int)mt, s->top_k = (int)tk;
    s->temp = (float)temp, s->top_p = (float)tp, s->min_p = (float)mp;
    return 0;
}

static int parse_pipeline(const json_t *p, gt_job_spec *s, gt_err *err) {
    static const char *const keys[] = {"schema", "verify", "dedup", "near_dedup", "judge", "spot_check", NULL};
    if (gt_json_only_fields(p, keys, "job.pipeline", err)) return GT_EINVAL;
    if (get_bool(p, "job.pipeline", "schema", &s->schema, err) || get_bool(p, "job.pipeline", "verify", &s->verify, err) ||
        get_bool(p, "job.pipeline", "dedup", &s->dedup, err) ||
        get_real(p, "job.pipeline", "spot_check", GT_JOB_SPOT_CHECK_MIN, 1, &s->spot_fraction, err))
        return GT_EINVAL;
    json_t *nd = json_object_get(p, "near_dedup");
    if (nd && json_is_boolean(nd)) {
        s->near_dedup = json_is_true(nd);
    } else if (nd) {
        static const char *const nkeys[] = {"threshold", "hashes", "shingle", "size", NULL};
        if (gt_json_only_fields(nd, nkeys, "job.pipeline.near_dedup", err)) return GT_EINVAL;
        uint64_t h = (uint64_t)s->near.n_hashes, sz = (uint64_t)s->near.shingle_size;
        if (get_real(nd, "job.pipeline.near_dedup", "threshold", 0.01, 1, &s->near_threshold, err) ||
            get_int(nd, "job.pipeline.near_dedup", "hashes", 8, GT_MINHASH_MAX_HASHES, 0, &h, err) ||
            get_int(nd, "job.pipeline.near_dedup", "size", 1, GT_MINHASH_MAX_SHINGLE, 0, &sz, err))
            return GT_EINVAL;
        s->near.n_hashes = (int)h, s->near.shingle_size = (int)sz;
        json_t *sh = json_object_get(nd, "shingle");
        if (sh) {
            const char *v = json_is_string(sh) ? json_string_value(sh) : "";
            if (!strcmp(v, "words")) s->near.kind = GT_SHINGLE_WORDS;
            else if (!strcmp(v, "chars")) s->near.kind = GT_SHINGLE_CHARS;
            else return gt_err_set(err, GT_EINVAL, "job.pipeline.near_dedup.shingle: expected \"words\" or \"chars\"");
        }
        s->near_dedup = 1;
    }
    json_t *j = json_object_get(p, "judge");
    if (j && json_is_boolean(j)) {
        s->judge = json_is_true(j);
    } else if (j) {
        static const char *const jkeys[] = {"threshold", "prompt", NULL};
        if (gt_json_only_fields(j, jkeys, "job.pipeline.judge", err)) return GT_EINVAL;
        if (get_real(j, "job.pipeline.judge", "threshold", 0, 1, &s->judge_threshold, err)) return GT_EINVAL;
        if (json_object_get(j, "prompt") &&
            gt_json_get_str(j, "prompt", GT_JOB_TEMPLATE_MAX, &s->judge_prompt, err))
            return gt_err_wrap(err, "job.pipeline.judge");
        s->judge = 1;
    }
    return 0;
}

int gt_job_spec_parse(const char *text, size_t len, gt_job_spec *s, gt_err *err) {
    static const char *const keys[] = {"version", "name", "family", "template", "variables", "seed", "samples",
                                       "batch", "reward", "stake", "license", "model", "output", "generation",
                                       "pipeline", NULL};
    memset(s, 0, sizeof *s);
    /* Defaults (job.h). */
    s->max_tokens = 128, s->top_k = 40, s->temp = 0.8f, s->top_p = 0.95f, s->min_p = 0.05f;
    s->schema = s->dedup = s->near_dedup = 1;
    s->near = gt_minhash_defaults();
    s->near_threshold = GT_DEDUP_DEFAULT_THRESHOLD;
    s->judge_threshold = 0.5;
    s->judge_prompt = gt_job_default_judge_prompt;
    s->spot_fraction = 0.1;
    s->batch = 16;
    int rc = gt_json_parse(text, len, GT_JOB_SPEC_MAX_BYTES, &s->json, err);
    if (rc) return gt_err_wrap(err, "job spec");
    gt_sha256(text, len, s->id);
    const json_t *o = s->json;
    uint64_t version = 0;
    const char *fam = NULL;
    if (gt_json_only_fields(o, keys, "job", err)) goto bad;
    if (get_int(o, "job", "version", 1, GT_JOB_VERSION, 1, &version, err)) goto bad;
    s->version = (int)version;
    if (gt_json_get_str(o, "name", GT_JOB_NAME_MAX, &s->name, NULL) || !name_ok(s->name)) {
        gt_err_set(err, GT_EINVAL, "job.name: expected a string of 1..%d bytes of [a-z0-9._-]", GT_JOB_NAME_MAX);
        goto bad;
    }
    if (json_object_get(o, "family")) {
        if (gt_json_get_str(o, "family", 32, &fam, err)) goto wrap;
        s->family = gt_family_by_name(fam);
        if (!s->family) {
            char list[128] = "";
            size_t off = 0;
            for (int i = 0; i < gt_family_count(); i++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", gt_family_at(i)->name);
            gt_err_set(err, GT_EINVAL, "job.family \"%s\": no such family (built in: %s)", fam, list);
            goto bad;
        }
        s->verify = 1;
        if (version < 2) {
            gt_err_set(err, GT_EINVAL, "job.version 1 with a \"family\": its items came from the seed as given, so a "
                                       "job could render a built-in benchmark's (seed 1: arith-v1); write "
                                       "\"version\": %d", GT_JOB_VERSION);
            goto bad;
        }
    }
    if (gt_json_get_str(o, "template", GT_JOB_TEMPLATE_MAX, &s->tmpl, err)) goto wrap;
    if (!*s->tmpl) {
        gt_err_set(err, GT_EINVAL, "job.template: must not be empty");
        goto bad;
    }
    if (json_object_get(o, "variables") && parse_vars(json_object_get(o, "variables"), s, err)) goto bad;
    if (get_int(o, "job", "seed", 0, UINT64_MAX, 1, &s->seed, err) ||
        get_int(o, "job", "samples", 1, GT_JOB_MAX_SAMPLES, 1, &s->samples, err) ||
        get_int(o, "job", "batch", 1, GT_JOB_MAX_BATCH, 0, &s->batch, err))
        goto bad;
    if (get_amount(o, "reward", &s->reward_units, err) || get_amount(o, "stake", &s->stake_units, err)) goto bad;
    uint64_t total;
    if (gt_mul_u64(s->reward_units, s->samples, &total) || gt_mul_u64(s->stake_units, s->batch, &total)) {
        gt_err_set(err, GT_EOVERFLOW, "job: reward x samples or stake x batch overflows 64 bits");
        goto bad;
    }
    if (gt_json_get_str(o, "license", GT_JOB_LICENSE_MAX, &s->license, err)) goto wrap;
    for (const char *p = s->license; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '-' || *p == '+')) {
            gt_err_set(err, GT_EINVAL, "job.license \"%s\": expected an SPDX-style id such as cc-by-4.0", s->license);
            goto bad;
        }
    if (!*s->license) {
        gt_err_set(err, GT_EINVAL, "job.license: must not be empty (e.g. \"cc-by-4.0\")");
        goto bad;
    }
    if (json_object_get(o, "model")) {
        const char *m;
        if (gt_json_get_str(o, "model", 80, &m, err)) goto wrap;
        const char *hex = !strncmp(m, "sha256:", 7) ? m + 7 : m;
        if (gt_hex_decode(hex, s->model, 32, "job.model (sha256:<64 hex> of the GGUF file)", err)) goto bad;
        s->has_model = 1;
    }
    if (json_object_get(o, "output") && parse_output(json_object_get(o, "output"), s, err)) goto bad;
    if (json_object_get(o, "generation") && parse_generation(json_object_get(o, "generation"), s, err)) goto bad;
    if (json_object_get(o, "pipeline") && parse_pipeline(json_object_get(o, "pipeline"), s, err)) goto bad;
    if (s->verify && !s->family) {
        gt_err_set(err, GT_EINVAL, "job.pipeline.verify: needs a \"family\" whose answers can be checked");
        goto bad;
    }
    if (s->near_dedup) {
        gt_minhash mh;
        if (gt_minhash_init(&mh, &s->near, err)) goto wrap;
        gt_minhash_free(&mh);
    }
    if (check_template(s->tmpl, s, 0, err) || (s->judge && check_template(s->judge_prompt, s, 1, err))) goto bad;
    return 0;
wrap:
    gt_err_wrap(err, "job");
bad:
    gt_job_spec_free(s);
    return err && err->code ? err->code : GT_EINVAL;
}

void gt_job_spec_free(gt_job_spec *s) {
    if (!s) return;
    for (int i = 0; i < s->n_vars; i++) gt_free((void *)s->vars[i].values);
    if (s->json) json_decref(s->json);
    memset(s, 0, sizeof *s);
}

uint64_t gt_job_sample_seed(const gt_job_spec *s, uint64_t index) {
    return gt_mix64(gt_mix64(s->seed ^ 0x73616d706c65ull /* "sample" */) + index);
}

const char *const gt_job_v2_benches[] = {"arith-v1",        "units-v1",        "sort-v1",
                                         "logic-v1",        "strings-v1",      "worker-arith-v1",
                                         "worker-logic-v1", "worker-sort-v1", NULL};

/* The family seed of draw `draw` of a version-2 job: 64 bits of
 * SHA-256(label, seed, draw), each number as 8 bytes little-endian so every
 * machine derives the same. The hash puts the job's items on streams of their
 * own: no seed a poster may write is a benchmark's seed, and none can be
 * found that is (it would take a preimage). */
static uint64_t item_seed(uint64_t seed, uint64_t draw) {
    static const char label[] = "gotong data job items v2";
    uint8_t msg[sizeof label + 16];
    memcpy(msg, label, sizeof label); /* with its NUL: the label ends where the numbers begin */
    for (int i = 0; i < 8; i++) {
        msg[sizeof label + i] = (uint8_t)(seed >> (8 * i));
        msg[sizeof label + 8 + i] = (uint8_t)(draw >> (8 * i));
    }
    return gt_sha256_u64(msg, sizeof msg);
}

int gt_job_item(const gt_job_spec *s, uint64_t index, gt_family_item *out, gt_err *err) {
    assert(s->family && s->version >= 2); /* parsing refuses a version-1 job with a family */
    /* Families with few items (logic, strings) ask a benchmark's question in
     * a quarter of their draws at most; GT_JOB_ITEM_DRAWS of them all asked
     * is beyond any chance, so running out means something is wrong: the
     * sample cannot be made or checked, rather than be one of theirs. */
    for (uint64_t d = 0; d < GT_JOB_ITEM_DRAWS; d++) {
        gt_family_generate(s->family, item_seed(s->seed, d), index, out);
        if (!gt_bench_builtins_ask(gt_job_v2_benches, out->question)) return 0;
    }
    return gt_err_set(err, GT_ELIMIT, "job item %llu: %d draws of %s were all built-in benchmark items",
                      (unsigned long long)index, GT_JOB_ITEM_DRAWS, s->family->name);
}

uint64_t gt_job_batches(const gt_job_spec *s) { return (s->samples + s->batch - 1) / s->batch; }

/* Expands {name} from a lookup; the template was checked at parse time. */
typedef const char *(*lookup_fn)(void *arg, const char *name, size_t n);

static int expand(const char *t, lookup_fn fn, void *arg, gt_buf *out, gt_err *err) {
    size_t start = out->len;
    for (const char *p = t; *p; p++) {
        int rc;
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            rc = gt_buf_putc(out, (uint8_t)*p++);
        } else if (*p == '{') {
            const char *e = strchr(p, '}');
            assert(e);
            const char *v = fn(arg, p + 1, (size_t)(e - p - 1));
            assert(v);
            rc = gt_buf_append_str(out, v);
            p = e;
        } else {
            rc = gt_buf_putc(out, (uint8_t)*p);
        }
        if (rc) return gt_err_set(err, GT_ENOMEM, "out of memory");
        if (out->len - start > GT_JOB_PROMPT_MAX)
            return gt_err_set(err, GT_ELIMIT, "rendered prompt is over %d bytes", GT_JOB_PROMPT_MAX);
    }
    return 0;
}

typedef struct render_arg {
    const gt_job_spec *s;
    uint64_t index;
    const gt_family_item *item;
    char index_str[24];
    const char *prompt, *output;
} render_arg;

static const char *render_lookup(void *arg, const char *name, size_t n) {
    render_arg *r = arg;
    if (n == 5 && !memcmp(name, "index", 5)) return r->index_str;
    if (n == 8 && !memcmp(name, "question", 8)) return r->item->question;
    if (n == 11 && !memcmp(name, "answer_hint", 11)) return r->s->family->answer_hint;
    for (int i = 0; i < r->s->n_vars; i++) {
        const gt_job_var *v = &r->s->vars[i];
        if (strlen(v->name) == n && !memcmp(v->name, name, n)) {
            gt_rng g;
            gt_rng_seed(&g, r->s->seed ^ 0x7661726961626c65ull /* "variable" */, r->index * GT_JOB_MAX_VARS + (uint64_t)i);
            return v->values[gt_rng_below(&g, v->n_values)];
        }
    }
    return NULL;
}

int gt_job_render(const gt_job_spec *s, uint64_t index, gt_buf *out, gt_family_item *item, gt_err *err) {
    gt_family_item local;
    render_arg r = {.s = s, .index = index, .item = item ? item : &local};
    snprintf(r.index_str, sizeof r.index_str, "%llu", (unsigned long long)index);
    int rc = s->family ? gt_job_item(s, index, item ? item : &local, err) : 0;
    if (rc) return rc;
    return expand(s->tmpl, render_lookup, &r, out, err);
}

static const char *judge_lookup(void *arg, const char *name, size_t n) {
    render_arg *r = arg;
    if (n == 6 && !memcmp(name, "prompt", 6)) return r->prompt;
    if (n == 6 && !memcmp(name, "output", 6)) return r->output;
    return NULL;
}

int gt_job_render_judge(const gt_job_spec *s, const char *prompt, const char *output, gt_buf *out, gt_err *err) {
    render_arg r = {.s = s, .prompt = prompt, .output = output};
    return expand(s->judge_prompt, judge_lookup, &r, out, err);
}

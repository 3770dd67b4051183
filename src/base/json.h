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

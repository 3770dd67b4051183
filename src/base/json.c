/* json.c: checked JSON helpers (see json.h). */
#include "base/json.h"
#include "base/amount.h"
#include "base/buf.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gt_json_parse(const char *text, size_t len, size_t max_bytes, json_t **out, gt_err *err) {
    *out = NULL;
    if (len > max_bytes)
        return gt_err_set(err, GT_ELIMIT, "JSON is %zu bytes; at most %zu accepted", len,
                          max_bytes);
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!v)
        return gt_err_set(err, GT_EINVAL, "malformed JSON at line %d column %d: %s", je.line,
                          je.column, je.text);
    *out = v;
    return 0;
}

int gt_json_only_fields(const json_t *obj, const char *const *allowed, const char *what,
                        gt_err *err) {
    if (!json_is_object(obj)) return gt_err_set(err, GT_EINVAL, "%s: expected a JSON object", what);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (!strcmp(key, allowed[i])) { ok = 1; break; }
        if (!ok) {
            char list[256] = "";
            size_t off = 0;
            for (size_t i = 0; allowed[i] && off < sizeof list - 1; i++) {
                int n = snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", allowed[i]);
                if (n < 0) break;
                off += (size_t)n;
            }
            return gt_err_set(err, GT_EINVAL, "%s: unknown field \"%.64s\" (expected: %s)", what,
                              key, list);
        }
    }
    return 0;
}

int gt_json_get_str(const json_t *obj, const char *field, size_t max_len, const char **out,
                    gt_err *err) {
    json_t *v = json_object_get(obj, field);
    if (!v) return gt_err_set(err, GT_EINVAL, "field \"%s\" is missing", field);
    if (!json_is_string(v))
        return gt_err_set(err, GT_EINVAL, "field \"%s\": expected a string", field);
    size_t n = json_string_length(v);
    if (n > max_len)
        return gt_err_set(err, GT_ELIMIT, "field \"%s\" is %zu bytes; at most %zu accepted", field,
                          n, max_len);
    if (strlen(json_string_value(v)) != n)
        return gt_err_set(err, GT_EINVAL, "field \"%s\" contains a NUL character", field);
    *out = json_string_value(v);
    return 0;
}

int gt_json_get_u64(const json_t *obj, const char *field, uint64_t *out, gt_err *err) {
    json_t *v = json_object_get(obj, field);
    if (!v) return gt_err_set(err, GT_EINVAL, "field \"%s\" is missing", field);
    /* Numbers above 2^53 lose precision in most JSON tools, so a u64 may also
     * come as a decimal string. */
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0) return gt_err_set(err, GT_EINVAL, "field \"%s\": must not be negative", field);
        *out = (uint64_t)i;
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!*s || strlen(s) > 20) goto bad;
        for (const char *p = s; *p; p++)
            if (*p < '0' || *p > '9') goto bad;
        errno = 0;
        unsigned long long x = strtoull(s, NULL, 10);
        if (errno == ERANGE)
            return gt_err_set(err, GT_EOVERFLOW, "field \"%s\": %s does not fit in 64 bits", field, s);
        *out = x;
        return 0;
    }
bad:
    return gt_err_set(err, GT_EINVAL, "field \"%s\": expected a non-negative integer", field);
}

int gt_json_get_bool(const json_t *obj, const char *field, int *out, gt_err *err) {
    json_t *v = json_object_get(obj, field);
    if (!v) return gt_err_set(err, GT_EINVAL, "field \"%s\" is missing", field);
    if (!json_is_boolean(v)) return gt_err_set(err, GT_EINVAL, "field \"%s\": expected true or false", field);
    *out = json_is_true(v);
    return 0;
}

char *gt_json_dump(const json_t *v) { return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS); }

const char *gt_json_tokens(const json_t *o, const char *field, char *out) {
    uint64_t units;
    gt_err err = {0};
    if (!json_is_string(json_object_get(o, field)) || gt_json_get_u64(o, field, &units, &err))
        return snprintf(out, GT_AMOUNT_TOKENS_MAX, "-"), out;
    return gt_amount_tokens(units, out);
}

json_t *gt_json_units(uint64_t units) {
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)units);
    return json_string(s);
}

/* Length of the valid UTF-8 sequence at p (1..4, at most left bytes), or 0
 * when it is not one: truncated, a stray continuation byte, overlong, a
 * surrogate, or past U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t left) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || c > 0xF4 || c == 0xC0 || c == 0xC1 || n > left) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (n == 3 && c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
    if (n == 3 && c == 0xED && p[1] >= 0xA0) return 0; /* surrogate */
    if (n == 4 && c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
    if (n == 4 && c == 0xF4 && p[1] >= 0x90) return 0; /* past U+10FFFF */
    return n;
}

json_t *gt_json_text_lossy(const void *bytes, size_t len) {
    const unsigned char *p = bytes;
    gt_buf b = GT_BUF_INIT;
    int oom = 0;
    for (size_t i = 0; i < len && !oom;) {
        size_t n = utf8_seq(p + i, len - i);
        if (n) oom = gt_buf_append(&b, p + i, n), i += n;
        else oom = gt_buf_append(&b, "\xEF\xBF\xBD", 3), i++; /* U+FFFD */
    }
    json_t *j = oom ? NULL : json_stringn(b.data ? (const char *)b.data : "", b.len);
    assert(j || oom); /* valid UTF-8 by construction: only memory can fail */
    gt_buf_free(&b);
    return j;
}

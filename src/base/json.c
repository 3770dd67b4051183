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

/* An integer while jansson can hold it; past INT64_MAX, the decimal string gt_json_get_u64 also takes. */
json_t *gt_json_u64(uint64_t v) {
    return v <= INT64_MAX ? json_integer((json_int_t)v) : gt_json_units(v);
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

/* ---- The narrow form (json.h) ---- */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Skips JSON whitespace from *i. */
static void skip_ws(const char *t, size_t len, size_t *i) {
    while (*i < len && is_ws(t[*i])) (*i)++;
}

/* A string at t[*i] == '"' with no escapes, no control characters and valid
 * UTF-8: its span, and *i past the closing quote. 0 when it is not one. */
static int flat_string(const char *t, size_t len, size_t *i, const char **s, size_t *n) {
    assert(*i < len && t[*i] == '"');
    size_t j = *i + 1;
    while (j < len) {
        unsigned char c = (unsigned char)t[j];
        if (c == '"') break;
        if (c == '\\' || c < 0x20) return 0;
        size_t k = utf8_seq((const unsigned char *)t + j, len - j);
        if (!k) return 0;
        j += k;
    }
    if (j >= len) return 0;
    *s = t + *i + 1;
    *n = j - *i - 1;
    *i = j + 1;
    return 1;
}

/* An integer 0..INT64_MAX at t[*i] (a digit), written as JSON writes one
 * (no leading zero), not followed by a fraction or an exponent. */
static int flat_int(const char *t, size_t len, size_t *i, uint64_t *v) {
    size_t j = *i;
    uint64_t x = 0;
    if (t[j] == '0' && j + 1 < len && t[j + 1] >= '0' && t[j + 1] <= '9') return 0;
    for (; j < len && t[j] >= '0' && t[j] <= '9'; j++) {
        unsigned d = (unsigned)(t[j] - '0');
        if (x > ((uint64_t)INT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
    }
    if (j < len && (t[j] == '.' || t[j] == 'e' || t[j] == 'E')) return 0;
    *v = x;
    *i = j;
    return 1;
}

/* One value at t[*i] into it (kind and value); 0 when outside the form. */
static int flat_value(const char *t, size_t len, size_t *i, gt_json_flat_item *it) {
    if (*i >= len) return 0;
    char c = t[*i];
    if (c == '"') return it->kind = GT_JF_STRING, flat_string(t, len, i, &it->str, &it->str_len);
    if (c >= '0' && c <= '9') return it->kind = GT_JF_INT, flat_int(t, len, i, &it->num);
    if (len - *i >= 4 && !memcmp(t + *i, "true", 4)) return it->kind = GT_JF_TRUE, *i += 4, 1;
    if (len - *i >= 5 && !memcmp(t + *i, "false", 5)) return it->kind = GT_JF_FALSE, *i += 5, 1;
    return 0;
}

int gt_json_flat_scan(const char *text, size_t len, gt_json_flat *out) {
    size_t i = 0;
    out->n = 0;
    skip_ws(text, len, &i);
    if (i >= len || text[i++] != '{') return 0;
    skip_ws(text, len, &i);
    if (i < len && text[i] == '}') return 0; /* an empty object: not an action, let the full parser say so */
    for (;;) {
        if (out->n == GT_JSON_FLAT_MAX_KEYS || i >= len || text[i] != '"') return 0;
        gt_json_flat_item *it = &out->item[out->n];
        if (!flat_string(text, len, &i, &it->key, &it->key_len)) return 0;
        for (int k = 0; k < out->n; k++) /* a duplicate key: gt_json_parse refuses it */
            if (out->item[k].key_len == it->key_len && !memcmp(out->item[k].key, it->key, it->key_len)) return 0;
        skip_ws(text, len, &i);
        if (i >= len || text[i++] != ':') return 0;
        skip_ws(text, len, &i);
        if (!flat_value(text, len, &i, it)) return 0;
        out->n++;
        skip_ws(text, len, &i);
        if (i >= len) return 0;
        if (text[i] == '}') break;
        if (text[i++] != ',') return 0;
        skip_ws(text, len, &i);
    }
    i++;
    skip_ws(text, len, &i);
    return i == len;
}

const gt_json_flat_item *gt_json_flat_get(const gt_json_flat *f, const char *key) {
    size_t n = strlen(key);
    for (int k = 0; k < f->n; k++)
        if (f->item[k].key_len == n && !memcmp(f->item[k].key, key, n)) return &f->item[k];
    return NULL;
}

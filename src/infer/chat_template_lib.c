/* chat_template_lib.c: what a chat template can call: filters, tests,
 * string and dict methods, the global functions, and how values print
 * (Python's str() and json.dumps, as Hugging Face's renderer does). */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "infer/chat_template_impl.h"

/* Out of memory, unless a limit was hit on the way (as_list, as_string set
 * ev->over with their own message). */
static int oom(gt_ct_ev *ev) {
    if (ev->over) return GT_ELIMIT;
    return gt_err_set(ev->err, GT_ENOMEM, "out of memory rendering the chat template");
}

/* ---- values ---- */

int gt_ct_truthy(const json_t *v) {
    if (!v || json_is_null(v) || json_is_false(v)) return 0;
    if (json_is_integer(v)) return json_integer_value(v) != 0;
    if (json_is_real(v)) return json_real_value(v) != 0;
    if (json_is_string(v)) return json_string_length(v) > 0;
    if (json_is_array(v)) return json_array_size(v) > 0;
    if (json_is_object(v)) return json_object_size(v) > 0;
    return 1;
}

/* Deep equality below a (for gt_ct_equal): every pair of elements compared
 * is charged; 0 once the work is over its limit (the render fails then). */
static int equal_walk(gt_ct_ev *ev, const json_t *a, const json_t *b, int level) {
    if (!a || !b) return a == b;
    ev->work += GT_CHAT_TMPL_ELEM_WORK;
    if (ev->work > GT_CHAT_TMPL_MAX_WORK || level > GT_CT_MAX_WALK) return ev->work = GT_CHAT_TMPL_MAX_WORK + 1, 0;
    if ((json_is_integer(a) || json_is_real(a)) && (json_is_integer(b) || json_is_real(b))) {
        if (json_is_integer(a) && json_is_integer(b)) return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!equal_walk(ev, json_array_get(a, i), json_array_get(b, i), level + 1)) return 0;
        return 1;
    }
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *x;
        if (json_object_size(a) != json_object_size(b)) return 0;
        json_object_foreach((json_t *)a, k, x) if (!equal_walk(ev, x, json_object_get(b, k), level + 1)) return 0;
        return 1;
    }
    if (json_is_string(a) && json_is_string(b)) ev->work += json_string_length(a);
    return json_equal(a, b); /* scalars: strings, booleans, null */
}

int gt_ct_equal(gt_ct_ev *ev, const json_t *a, const json_t *b) { return equal_walk(ev, a, b, 0); }

size_t gt_ct_utf8_len(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

json_t *gt_ct_arg(const gt_ct_args *a, size_t i, const char *name) {
    size_t pos = 0;
    for (size_t k = 0; k < a->n; k++) {
        if (!a->kw[k] && pos++ == i) return a->v[k];
        if (a->kw[k] && name && !strcmp(a->kw[k], name)) return a->v[k];
    }
    return NULL;
}

/* The shortest decimal that reads back as d, as Python's repr. */
static int put_real(double d, gt_buf *out) {
    char s[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        if (strtod(s, NULL) == d) break;
    }
    if (!strpbrk(s, ".eni")) strcat(s, ".0");
    return gt_buf_append_str(out, s);
}

/* Python's repr() of a string: single quotes unless it holds one and no double. */
static int put_repr_str(const char *s, size_t n, gt_buf *out) {
    char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    int rc = gt_buf_putc(out, (uint8_t)q);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char c = s[i];
        if (c == '\\' || c == q) rc = gt_buf_putc(out, '\\') || gt_buf_putc(out, (uint8_t)c);
        else if (c == '\n') rc = gt_buf_append_str(out, "\\n");
        else if (c == '\t') rc = gt_buf_append_str(out, "\\t");
        else if (c == '\r') rc = gt_buf_append_str(out, "\\r");
        else rc = gt_buf_putc(out, (uint8_t)c);
    }
    return rc || gt_buf_putc(out, (uint8_t)q);
}

/* Python's str() (repr for strings inside containers when repr is set);
 * nonzero on failure, GT_ELIMIT over the output or walk limit. */
static int put_value(const json_t *v, int repr, int level, gt_buf *out) {
    if (!v) return 0;
    if (out->len > GT_CHAT_TMPL_MAX_OUTPUT || level > GT_CT_MAX_WALK) return GT_ELIMIT;
    if (json_is_string(v))
        return repr ? put_repr_str(json_string_value(v), json_string_length(v), out)
                    : gt_buf_append(out, json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) return gt_buf_printf(out, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v)) return put_real(json_real_value(v), out);
    if (json_is_boolean(v)) return gt_buf_append_str(out, json_is_true(v) ? "True" : "False");
    if (json_is_null(v)) return gt_buf_append_str(out, "None");
    int rc = gt_buf_putc(out, json_is_array(v) ? '[' : '{');
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v) && rc == 0; i++)
            if (!(rc = i ? gt_buf_append_str(out, ", ") : 0)) rc = put_value(json_array_get(v, i), 1, level + 1, out);
    } else {
        const char *k;
        json_t *e;
        size_t i = 0;
        json_object_foreach((json_t *)v, k, e) {
            if (rc == 0) rc = (i++ && gt_buf_append_str(out, ", ")) || put_repr_str(k, strlen(k), out) ||
                              gt_buf_append_str(out, ": ");
            if (rc == 0) rc = put_value(e, 1, level + 1, out);
        }
    }
    if (rc) return rc;
    return gt_buf_putc(out, json_is_array(v) ? ']' : '}');
}

int gt_ct_str(const json_t *v, gt_buf *out) {
    int rc = put_value(v, 0, 0, out);
    if (rc == 0 && out->len > GT_CHAT_TMPL_MAX_OUTPUT) rc = GT_ELIMIT;
    return rc == 0 || rc == GT_ELIMIT ? rc : GT_ENOMEM;
}

int gt_ct_text_fail(gt_ct_ev *ev, const gt_ct_node *at, int rc) {
    if (rc != GT_ELIMIT) return oom(ev);
    return gt_ct_fail(ev, at, GT_ELIMIT, "a value's text is over the limit of %u bytes, or nests deeper than %d",
                      GT_CHAT_TMPL_MAX_OUTPUT, GT_CT_MAX_WALK);
}

/* A JSON string as json.dumps writes it with ensure_ascii=False. */
static int put_json_str(const char *s, size_t n, gt_buf *out) {
    int rc = gt_buf_putc(out, '"');
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        if (esc) rc = gt_buf_append_str(out, esc);
        else if (c < 0x20) rc = gt_buf_printf(out, "\\u%04x", c);
        else rc = gt_buf_putc(out, c);
    }
    return rc || gt_buf_putc(out, '"');
}

static int newline_indent(int indent, int level, gt_buf *out) {
    if (indent < 0) return 0;
    int rc = gt_buf_putc(out, '\n');
    for (int i = 0; i < indent * level && rc == 0; i++) rc = gt_buf_putc(out, ' ');
    return rc;
}

int gt_ct_tojson(const json_t *v, int indent, int level, gt_buf *out) {
    if (out->len > GT_CHAT_TMPL_MAX_OUTPUT || level > GT_CT_MAX_WALK) return GT_ELIMIT;
    if (!v || json_is_null(v)) return gt_buf_append_str(out, "null") ? GT_ENOMEM : 0;
    if (json_is_boolean(v)) return gt_buf_append_str(out, json_is_true(v) ? "true" : "false") ? GT_ENOMEM : 0;
    if (json_is_string(v)) return put_json_str(json_string_value(v), json_string_length(v), out) ? GT_ENOMEM : 0;
    if (!json_is_array(v) && !json_is_object(v)) return put_value(v, 0, level, out) ? GT_ENOMEM : 0;
    size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v), i = 0;
    const char *sep = indent < 0 ? ", " : ",";
    int rc = gt_buf_putc(out, json_is_array(v) ? '[' : '{');
    if (json_is_array(v)) {
        for (i = 0; i < n && rc == 0; i++) {
            rc = (i && gt_buf_append_str(out, sep)) || newline_indent(indent, level + 1, out) ? GT_ENOMEM : 0;
            if (rc == 0) rc = gt_ct_tojson(json_array_get(v, i), indent, level + 1, out);
        }
    } else {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            if (rc == 0 && ((i++ && gt_buf_append_str(out, sep)) || newline_indent(indent, level + 1, out) ||
                            put_json_str(k, strlen(k), out) || gt_buf_append_str(out, ": ")))
                rc = GT_ENOMEM;
            if (rc == 0) rc = gt_ct_tojson(e, indent, level + 1, out);
        }
    }
    if (rc == 0 && n) rc = newline_indent(indent, level, out) ? GT_ENOMEM : 0;
    if (rc) return rc;
    return gt_buf_putc(out, json_is_array(v) ? ']' : '}') ? GT_ENOMEM : 0;
}

/* ---- strings ---- */

static json_t *str_new(const char *s, size_t n) { return json_stringn(s, n); }

/* s with chars (default: whitespace) stripped at the left and/or right. */
static json_t *strip(const json_t *v, const json_t *chars, int left, int right) {
    const char *s = json_string_value(v), *set = json_is_string(chars) ? json_string_value(chars) : " \t\n\r\v\f";
    size_t a = 0, b = json_string_length(v);
    while (left && a < b && strchr(set, s[a]) && s[a]) a++;
    while (right && b > a && strchr(set, s[b - 1]) && s[b - 1]) b--;
    return str_new(s + a, b - a);
}

/* A copy of v with each byte through f (ASCII case mapping). */
static json_t *map_case(const json_t *v, int mode) {
    size_t n = json_string_length(v);
    char *s = gt_malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, json_string_value(v), n);
    for (size_t i = 0; i < n; i++) {
        int start = i == 0 || !isalpha((unsigned char)s[i - 1]);
        int up = mode == 0 || (mode == 2 && i == 0) || (mode == 3 && start);
        s[i] = (char)(up ? toupper((unsigned char)s[i]) : tolower((unsigned char)s[i]));
    }
    json_t *r = str_new(s, n);
    gt_free(s);
    return r;
}

/* Python's str.split(sep, maxsplit): on runs of whitespace when sep is None. */
static int split(gt_ct_ev *ev, const gt_ct_node *at, const json_t *v, const json_t *sep, json_int_t max, json_t **out) {
    const char *s = json_string_value(v), *d = json_is_string(sep) ? json_string_value(sep) : NULL;
    size_t n = json_string_length(v), dl = d ? json_string_length(sep) : 0, i = 0, start = 0;
    json_t *arr = json_array();
    if (!arr) return oom(ev);
    if (d && dl == 0) return json_decref(arr), gt_ct_fail(ev, at, GT_EINVAL, "split: empty separator");
    while (i <= n) {
        if (json_array_size(arr) >= GT_CHAT_TMPL_MAX_LIST)
            return json_decref(arr), gt_ct_fail(ev, at, GT_ELIMIT, "split: over %d pieces", GT_CHAT_TMPL_MAX_LIST);
        int room = max < 0 || (json_int_t)json_array_size(arr) < max;
        if (d) {
            const char *hit = room ? memmem(s + i, n - i, d, dl) : NULL; /* linear: a naive scan is n * dl */
            size_t end = hit ? (size_t)(hit - s) : n;
            json_array_append_new(arr, str_new(s + i, end - i));
            i = hit ? end + dl : n + 1;
        } else {
            while (i < n && isspace((unsigned char)s[i])) i++;
            if (i == n) break;
            start = i;
            while (i < n && (!room || !isspace((unsigned char)s[i]))) i++;
            json_array_append_new(arr, str_new(s + start, i - start));
        }
    }
    *out = arr;
    return 0;
}

static int str_method(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    const char *m = at->name, *s = json_string_value(v);
    json_t *x = gt_ct_arg(a, 0, NULL), *y = gt_ct_arg(a, 1, NULL);
    size_t n = json_string_length(v);
    if (!strcmp(m, "strip") || !strcmp(m, "lstrip") || !strcmp(m, "rstrip"))
        *out = strip(v, x, m[0] != 'r', m[0] != 'l');
    else if (!strcmp(m, "upper") || !strcmp(m, "lower") || !strcmp(m, "capitalize") || !strcmp(m, "title"))
        *out = map_case(v, m[0] == 'u' ? 0 : m[0] == 'l' ? 1 : m[0] == 'c' ? 2 : 3);
    else if (!strcmp(m, "split") || !strcmp(m, "rsplit"))
        return split(ev, at, v, x ? x : gt_ct_arg(a, 99, "sep"),
                     json_is_integer(y) ? json_integer_value(y) : -1, out);
    else if (!strcmp(m, "startswith") || !strcmp(m, "endswith")) {
        int hit = 0;
        for (size_t i = 0; i < (json_is_array(x) ? json_array_size(x) : 1) && !hit; i++) {
            json_t *p = json_is_array(x) ? json_array_get(x, i) : x;
            size_t pl = json_string_length(p);
            if (!json_is_string(p)) return gt_ct_fail(ev, at, GT_EINVAL, "%s needs a string", m);
            hit = pl <= n && !memcmp(m[0] == 's' ? s : s + n - pl, json_string_value(p), pl);
        }
        *out = json_boolean(hit);
    } else if (!strcmp(m, "find")) {
        const char *hit = json_is_string(x) ? memmem(s, n, json_string_value(x), json_string_length(x)) : NULL;
        *out = json_integer(hit ? (json_int_t)gt_ct_utf8_len(s, (size_t)(hit - s)) : -1);
    } else if (!strcmp(m, "replace")) {
        gt_ct_node f = *at;
        f.name = (char *)"replace";
        return gt_ct_filter(ev, &f, v, a, out);
    } else if (!strcmp(m, "join")) {
        gt_ct_node f = *at;
        gt_ct_args sep = {.n = 1};
        f.name = (char *)"join", sep.v[0] = v;
        if (!json_is_array(x)) return gt_ct_fail(ev, at, GT_EINVAL, "join needs a list");
        return gt_ct_filter(ev, &f, x, &sep, out);
    } else
        return gt_ct_fail(ev, at, GT_EUNSUPPORTED, "unsupported string method '%s'", m);
    return *out ? 0 : oom(ev);
}

static int dict_method(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    const char *m = at->name, *k;
    json_t *e;
    if (!strcmp(m, "get")) {
        json_t *key = gt_ct_arg(a, 0, NULL), *def = gt_ct_arg(a, 1, NULL);
        json_t *hit = json_is_string(key) ? json_object_get(v, json_string_value(key)) : NULL;
        *out = json_incref(hit ? hit : def ? def : json_null());
        return 0;
    }
    int which = !strcmp(m, "items") ? 0 : !strcmp(m, "keys") ? 1 : !strcmp(m, "values") ? 2 : -1;
    if (which < 0) return gt_ct_fail(ev, at, GT_EUNSUPPORTED, "unsupported dict method '%s'", m);
    if (!(*out = json_array())) return oom(ev);
    json_object_foreach(v, k, e) {
        json_t *item = which == 0 ? json_pack("[sO]", k, e) : which == 1 ? json_string(k) : json_incref(e);
        if (json_array_append_new(*out, item)) return oom(ev);
    }
    return 0;
}

int gt_ct_method(gt_ct_ev *ev, const gt_ct_node *at, json_t *obj, const gt_ct_args *a, json_t **out) {
    *out = NULL;
    if (json_is_string(obj)) return str_method(ev, at, obj, a, out);
    if (json_is_object(obj)) return dict_method(ev, at, obj, a, out);
    if (!obj) return gt_ct_fail(ev, at, GT_EINVAL, "'%s' called on an undefined value", at->name);
    return gt_ct_fail(ev, at, GT_EUNSUPPORTED, "unsupported method '%s' (the template may not change a list)",
                      at->name);
}

/* ---- tests ---- */

/* x in c for the "in" test. */
static int test_in(gt_ct_ev *ev, const json_t *x, const json_t *c) {
    if (json_is_string(c) && json_is_string(x))
        return memmem(json_string_value(c), json_string_length(c), json_string_value(x), json_string_length(x)) != NULL;
    if (json_is_object(c)) return json_is_string(x) && json_object_get(c, json_string_value(x)) != NULL;
    for (size_t i = 0; i < json_array_size(c); i++)
        if (gt_ct_equal(ev, json_array_get(c, i), x)) return 1;
    return 0;
}

int gt_ct_known_test(const char *name) {
    static const char *const tests[] = {"defined", "undefined", "none", "string", "number", "integer", "float",
                                        "boolean", "mapping", "iterable", "sequence", "true", "false", "odd",
                                        "even", "divisibleby", "eq", "equalto", "sameas", "ne", "in"};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!strcmp(tests[i], name)) return 1;
    return 0;
}

int gt_ct_test(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, int *r) {
    const char *t = at->name;
    json_t *x = gt_ct_arg(a, 0, NULL);
    if (!strcmp(t, "defined")) *r = v != NULL;
    else if (!strcmp(t, "undefined")) *r = v == NULL;
    else if (!strcmp(t, "none")) *r = json_is_null(v);
    else if (!strcmp(t, "string")) *r = json_is_string(v);
    else if (!strcmp(t, "number")) *r = json_is_integer(v) || json_is_real(v);
    else if (!strcmp(t, "integer")) *r = json_is_integer(v);
    else if (!strcmp(t, "float")) *r = json_is_real(v);
    else if (!strcmp(t, "boolean")) *r = json_is_boolean(v);
    else if (!strcmp(t, "mapping")) *r = json_is_object(v);
    else if (!strcmp(t, "iterable")) *r = json_is_array(v) || json_is_object(v) || json_is_string(v);
    else if (!strcmp(t, "sequence")) *r = json_is_array(v) || json_is_object(v) || json_is_string(v);
    else if (!strcmp(t, "true")) *r = json_is_true(v);
    else if (!strcmp(t, "false")) *r = json_is_false(v);
    else if (!strcmp(t, "odd") || !strcmp(t, "even") || !strcmp(t, "divisibleby")) {
        json_int_t d = t[0] == 'd' ? (json_is_integer(x) ? json_integer_value(x) : 0) : 2;
        if (!json_is_integer(v) || d == 0) return gt_ct_fail(ev, at, GT_EINVAL, "test '%s' needs integers (not 0)", t);
        *r = (json_integer_value(v) % d == 0) == (t[0] != 'o');
    } else if (!strcmp(t, "eq") || !strcmp(t, "equalto") || !strcmp(t, "sameas")) *r = gt_ct_equal(ev, v, x);
    else if (!strcmp(t, "ne")) *r = !gt_ct_equal(ev, v, x);
    else if (!strcmp(t, "in")) *r = test_in(ev, v, x);
    else return gt_ct_fail(ev, at, GT_EUNSUPPORTED, "unsupported test '%s'", t);
    return 0;
}

/* ---- filters ---- */

typedef int (*filter_fn)(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out);

/* str(v) as a new string value. */
static json_t *as_string(gt_ct_ev *ev, const gt_ct_node *at, const json_t *v) {
    if (json_is_string(v)) return json_incref((json_t *)v);
    gt_buf b = GT_BUF_INIT;
    int rc = gt_ct_str(v, &b);
    json_t *r = rc ? NULL : str_new(b.data ? (const char *)b.data : "", b.len);
    if (rc == GT_ELIMIT) gt_ct_text_fail(ev, at, rc), ev->over = 1;
    gt_buf_free(&b);
    return r;
}

/* A list of what iterating v gives (list items, dict keys, characters). */
static json_t *as_list(gt_ct_ev *ev, const gt_ct_node *at, const json_t *v) {
    if (json_is_array(v)) return json_incref((json_t *)v);
    if (json_is_string(v) && gt_ct_utf8_len(json_string_value(v), json_string_length(v)) > GT_CHAT_TMPL_MAX_LIST) {
        gt_ct_fail(ev, at, GT_ELIMIT, "a string of more than %d characters cannot be made a list",
                   GT_CHAT_TMPL_MAX_LIST);
        ev->over = 1;
        return NULL;
    }
    json_t *l = json_array();
    const char *k;
    json_t *e;
    if (l && json_is_object(v)) json_object_foreach((json_t *)v, k, e) json_array_append_new(l, json_string(k));
    if (l && json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
            json_array_append_new(l, str_new(s + i, j - i));
            i = j;
        }
    }
    return l;
}

static int f_trim(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *s = as_string(ev, at, v);
    (void)at;
    *out = s ? strip(s, gt_ct_arg(a, 0, "chars"), 1, 1) : NULL;
    json_decref(s);
    return *out ? 0 : oom(ev);
}

static int f_tojson(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *ind = gt_ct_arg(a, 0, "indent");
    int indent = json_is_integer(ind) ? (int)json_integer_value(ind) : -1;
    if (indent > 16) return gt_ct_fail(ev, at, GT_ELIMIT, "tojson: indent over 16");
    gt_buf b = GT_BUF_INIT;
    int rc = gt_ct_tojson(v, indent, 0, &b);
    if (rc == 0 && b.len > GT_CHAT_TMPL_MAX_OUTPUT) rc = GT_ELIMIT;
    if (rc) rc = gt_ct_text_fail(ev, at, rc);
    if (rc == 0 && !(*out = str_new(b.data ? (const char *)b.data : "", b.len))) rc = oom(ev);
    gt_buf_free(&b);
    return rc;
}

static int f_length(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    (void)a;
    size_t n = 0;
    if (json_is_string(v)) n = gt_ct_utf8_len(json_string_value(v), json_string_length(v));
    else if (json_is_array(v)) n = json_array_size(v);
    else if (json_is_object(v)) n = json_object_size(v);
    else if (v) return gt_ct_fail(ev, at, GT_EINVAL, "length of a value that has none");
    *out = json_integer((json_int_t)n);
    return *out ? 0 : oom(ev);
}

static int f_items(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    gt_ct_node m = *at;
    m.name = (char *)"items";
    if (!v) return (*out = json_array()) ? 0 : oom(ev);
    if (!json_is_object(v)) return gt_ct_fail(ev, at, GT_EINVAL, "items needs a dict");
    return dict_method(ev, &m, v, a, out);
}

static int f_default(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *def = gt_ct_arg(a, 0, "default_value"), *boolean = gt_ct_arg(a, 1, "boolean");
    (void)at, (void)ev;
    int use_def = !v || (gt_ct_truthy(boolean) && !gt_ct_truthy(v));
    *out = use_def ? (def ? json_incref(def) : json_string("")) : json_incref(v);
    return 0;
}

static int f_case(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *s = as_string(ev, at, v);
    const char *m = at->name;
    (void)a;
    *out = s ? map_case(s, m[0] == 'u' ? 0 : m[0] == 'l' ? 1 : m[0] == 'c' ? 2 : 3) : NULL;
    json_decref(s);
    return *out ? 0 : oom(ev);
}

static int f_first_last(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *l = as_list(ev, at, v);
    size_t n = json_array_size(l);
    (void)a;
    if (!l) return oom(ev);
    *out = n ? json_incref(json_array_get(l, at->name[0] == 'f' ? 0 : n - 1)) : NULL;
    json_decref(l);
    return 0;
}

static int f_join(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *sep = gt_ct_arg(a, 0, "d"), *attr = gt_ct_arg(a, 1, "attribute"), *l = as_list(ev, at, v);
    gt_buf b = GT_BUF_INIT;
    int rc = l ? 0 : oom(ev);
    for (size_t i = 0; rc == 0 && i < json_array_size(l); i++) {
        json_t *e = json_array_get(l, i);
        if (json_is_string(attr)) e = json_object_get(e, json_string_value(attr));
        if (i && json_is_string(sep) && gt_buf_append(&b, json_string_value(sep), json_string_length(sep)))
            rc = oom(ev);
        else if ((rc = gt_ct_str(e, &b))) rc = gt_ct_text_fail(ev, at, rc);
    }
    if (rc == 0 && !(*out = str_new(b.data ? (const char *)b.data : "", b.len))) rc = oom(ev);
    gt_buf_free(&b);
    json_decref(l);
    return rc;
}

static int f_list(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    (void)at, (void)a;
    *out = as_list(ev, at, v);
    return *out ? 0 : oom(ev);
}

static int f_string(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    (void)at, (void)a;
    *out = as_string(ev, at, v);
    return *out ? 0 : oom(ev);
}

static int f_int(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *def = gt_ct_arg(a, 0, "default");
    json_int_t r = json_is_integer(def) ? json_integer_value(def) : 0;
    (void)at;
    if (json_is_integer(v)) r = json_integer_value(v);
    else if (json_is_real(v)) r = (json_int_t)json_real_value(v);
    else if (json_is_boolean(v)) r = json_is_true(v);
    else if (json_is_string(v)) {
        char *end;
        long long x = strtoll(json_string_value(v), &end, 10);
        if (end != json_string_value(v) && !*end) r = x;
    }
    *out = json_integer(r);
    return *out ? 0 : oom(ev);
}

static int f_abs(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    (void)a;
    if (json_is_integer(v)) *out = json_integer(llabs(json_integer_value(v)));
    else if (json_is_real(v)) *out = json_real(json_real_value(v) < 0 ? -json_real_value(v) : json_real_value(v));
    else return gt_ct_fail(ev, at, GT_EINVAL, "abs needs a number");
    return *out ? 0 : oom(ev);
}

static int f_replace(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *old = gt_ct_arg(a, 0, "old"), *new = gt_ct_arg(a, 1, "new"), *cnt = gt_ct_arg(a, 2, "count");
    json_t *s = as_string(ev, at, v);
    if (!s) return oom(ev);
    if (!json_is_string(old) || !json_is_string(new) || !json_string_length(old)) {
        json_decref(s);
        return gt_ct_fail(ev, at, GT_EINVAL, "replace needs two strings (the first not empty)");
    }
    const char *p = json_string_value(s), *o = json_string_value(old);
    size_t n = json_string_length(s), ol = json_string_length(old);
    json_int_t left = json_is_integer(cnt) ? json_integer_value(cnt) : -1;
    gt_buf b = GT_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) { /* memmem: linear, where a compare at every byte is n * ol */
        const char *hit = left != 0 ? memmem(p + i, n - i, o, ol) : NULL;
        size_t end = hit ? (size_t)(hit - p) : n;
        rc = gt_buf_append(&b, p + i, end - i);
        if (rc == 0 && hit) rc = gt_buf_append(&b, json_string_value(new), json_string_length(new));
        i = hit ? end + ol : n, left -= hit && left > 0;
        if (rc == 0 && b.len > GT_CHAT_TMPL_MAX_OUTPUT) rc = GT_ELIMIT;
    }
    if (rc == 0) *out = str_new(b.data ? (const char *)b.data : "", b.len);
    gt_buf_free(&b);
    json_decref(s);
    if (rc == GT_ELIMIT) return gt_ct_fail(ev, at, GT_ELIMIT, "replace: over the output limit");
    return rc == 0 && *out ? 0 : oom(ev);
}

static int f_reverse(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *l = as_list(ev, at, v), *r = l ? json_array() : NULL;
    (void)a;
    for (size_t i = json_array_size(l); r && i-- > 0;) json_array_append(r, json_array_get(l, i));
    json_decref(l);
    if (r && json_is_string(v)) {
        gt_buf b = GT_BUF_INIT;
        for (size_t i = 0; i < json_array_size(r); i++) gt_ct_str(json_array_get(r, i), &b);
        json_decref(r);
        r = str_new(b.data ? (const char *)b.data : "", b.len);
        gt_buf_free(&b);
    }
    *out = r;
    return r ? 0 : oom(ev);
}

static int f_unique(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *l = as_list(ev, at, v), *r = l ? json_array() : NULL;
    (void)a;
    for (size_t i = 0; l && r && i < json_array_size(l); i++)
        if (!test_in(ev, json_array_get(l, i), r)) json_array_append(r, json_array_get(l, i));
    json_decref(l);
    *out = r;
    return r ? 0 : oom(ev);
}

/* select/reject (test on items) and selectattr/rejectattr (test on an
 * attribute of items; no test: truthiness). */
static int f_select(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    int by_attr = strstr(at->name, "attr") != NULL, keep = at->name[0] == 's';
    json_t *attr = by_attr ? gt_ct_arg(a, 0, NULL) : NULL, *test = gt_ct_arg(a, by_attr, NULL), *l = as_list(ev, at, v);
    gt_ct_node tn = *at;
    gt_ct_args targs = {.n = 0};
    int rc = l && (*out = json_array()) ? 0 : oom(ev);
    if (rc == 0 && ((by_attr && !json_is_string(attr)) || (test && !json_is_string(test))))
        rc = gt_ct_fail(ev, at, GT_EINVAL, "%s needs names as strings", at->name);
    for (size_t i = (size_t)by_attr + 1; rc == 0 && i < a->n && targs.n < GT_CT_MAX_ARGS; i++)
        targs.v[targs.n] = a->v[i], targs.kw[targs.n++] = a->kw[i];
    tn.name = test ? (char *)json_string_value(test) : NULL;
    for (size_t i = 0; rc == 0 && i < json_array_size(l); i++) {
        json_t *e = json_array_get(l, i), *x = by_attr ? json_object_get(e, json_string_value(attr)) : e;
        int r = 0;
        if (tn.name) rc = gt_ct_test(ev, &tn, x, &targs, &r);
        else r = gt_ct_truthy(x);
        if (rc == 0 && r == keep && json_array_append(*out, e)) rc = oom(ev);
    }
    json_decref(l);
    if (rc) json_decref(*out), *out = NULL;
    return rc;
}

static int f_safe(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    (void)ev, (void)at, (void)a;
    *out = json_incref(v);
    return 0;
}

static int f_map(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out);

static const struct {
    const char *name;
    filter_fn fn;
} filters[] = {
    {"trim", f_trim}, {"tojson", f_tojson}, {"length", f_length}, {"count", f_length}, {"items", f_items},
    {"default", f_default}, {"d", f_default}, {"upper", f_case}, {"lower", f_case}, {"capitalize", f_case},
    {"title", f_case}, {"first", f_first_last}, {"last", f_first_last}, {"join", f_join}, {"list", f_list},
    {"string", f_string}, {"int", f_int}, {"abs", f_abs}, {"replace", f_replace}, {"reverse", f_reverse},
    {"unique", f_unique}, {"select", f_select}, {"reject", f_select}, {"selectattr", f_select},
    {"rejectattr", f_select}, {"map", f_map}, {"safe", f_safe},
};

static filter_fn find_filter(const char *name) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (!strcmp(filters[i].name, name)) return filters[i].fn;
    return NULL;
}

/* map(attribute="x") or map("filter"). */
static int f_map(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    json_t *attr = gt_ct_arg(a, 99, "attribute"), *fname = gt_ct_arg(a, 0, NULL), *l = as_list(ev, at, v);
    filter_fn fn = json_is_string(fname) ? find_filter(json_string_value(fname)) : NULL;
    gt_ct_node fn_node = *at;
    gt_ct_args none = {.n = 0};
    int rc = l && (*out = json_array()) ? 0 : oom(ev);
    if (rc == 0 && !json_is_string(attr) && !fn)
        rc = gt_ct_fail(ev, at, GT_EINVAL, "map needs attribute= or a filter name");
    fn_node.name = fn ? (char *)json_string_value(fname) : NULL;
    for (size_t i = 0; rc == 0 && i < json_array_size(l); i++) {
        json_t *e = json_array_get(l, i), *r = NULL;
        if (json_is_string(attr)) r = json_incref(json_object_get(e, json_string_value(attr)));
        else rc = fn(ev, &fn_node, e, &none, &r);
        if (rc == 0 && json_array_append_new(*out, r ? r : json_null())) rc = oom(ev);
    }
    json_decref(l);
    if (rc) json_decref(*out), *out = NULL;
    return rc;
}

int gt_ct_known_filter(const char *name) { return find_filter(name) != NULL; }

int gt_ct_filter(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out) {
    filter_fn fn = find_filter(at->name);
    *out = NULL;
    if (!fn) return gt_ct_fail(ev, at, GT_EUNSUPPORTED, "unsupported filter '%s'", at->name);
    return fn(ev, at, v, a, out);
}

/* ---- global functions ---- */

static int g_namespace(gt_ct_ev *ev, const gt_ct_node *at, const gt_ct_args *a, json_t **out) {
    json_t *ns = json_object();
    json_t **list = gt_realloc(ev->namespaces, (ev->n_namespaces + 1) * sizeof *list);
    if (!ns || !list) return json_decref(ns), oom(ev);
    ev->namespaces = list;
    for (size_t i = 0; i < a->n; i++) {
        int rc = a->v[i] ? gt_ct_check_nest(ev, at, a->v[i], 1) : 0; /* no namespace in a namespace: no cycle */
        if (rc) return json_decref(ns), rc;
        if (a->kw[i]) json_object_set(ns, a->kw[i], a->v[i] ? a->v[i] : json_null());
        else if (json_is_object(a->v[i])) json_object_update(ns, a->v[i]);
        else return json_decref(ns), gt_ct_fail(ev, at, GT_EINVAL, "namespace() takes name=value arguments");
    }
    char key[32];
    snprintf(key, sizeof key, "%p", (void *)ns);
    if (!ev->ns_index && !(ev->ns_index = json_object())) return json_decref(ns), oom(ev);
    if (json_object_set_new(ev->ns_index, key, json_true())) return json_decref(ns), oom(ev);
    list[ev->n_namespaces++] = json_incref(ns);
    *out = ns;
    return 0;
}

static int g_range(gt_ct_ev *ev, const gt_ct_node *at, const gt_ct_args *a, json_t **out) {
    json_int_t p[3] = {0, 0, 1};
    if (a->n < 1 || a->n > 3) return gt_ct_fail(ev, at, GT_EINVAL, "range takes 1 to 3 integers");
    for (size_t i = 0; i < a->n; i++) {
        if (!json_is_integer(a->v[i])) return gt_ct_fail(ev, at, GT_EINVAL, "range takes integers");
        p[a->n == 1 ? 1 : i] = json_integer_value(a->v[i]);
    }
    if (p[2] == 0) return gt_ct_fail(ev, at, GT_EINVAL, "range step of 0");
    if (!(*out = json_array())) return oom(ev);
    for (json_int_t x = p[0]; p[2] > 0 ? x < p[1] : x > p[1]; x += p[2]) {
        if (json_array_size(*out) >= GT_CHAT_TMPL_MAX_LIST)
            return gt_ct_fail(ev, at, GT_ELIMIT, "range over the limit of %d elements", GT_CHAT_TMPL_MAX_LIST);
        if (json_array_append_new(*out, json_integer(x))) return oom(ev);
    }
    return 0;
}

static int g_strftime(gt_ct_ev *ev, const gt_ct_node *at, const gt_ct_args *a, json_t **out) {
    json_t *fmt = gt_ct_arg(a, 0, NULL);
    time_t t = (time_t)ev->now_unix;
    struct tm tm;
    char s[256];
    if (!json_is_string(fmt)) return gt_ct_fail(ev, at, GT_EINVAL, "strftime_now needs a format string");
    if (!gmtime_r(&t, &tm)) return gt_ct_fail(ev, at, GT_EINVAL, "strftime_now: time out of range");
    size_t n = strftime(s, sizeof s, json_string_value(fmt), &tm);
    *out = str_new(s, n);
    return *out ? 0 : oom(ev);
}

int gt_ct_global(gt_ct_ev *ev, const gt_ct_node *at, const gt_ct_args *a, json_t **out) {
    const char *f = at->a->name;
    *out = NULL;
    if (!strcmp(f, "namespace")) return g_namespace(ev, at, a, out);
    if (!strcmp(f, "range")) return g_range(ev, at, a, out);
    if (!strcmp(f, "strftime_now")) return g_strftime(ev, at, a, out);
    if (!strcmp(f, "raise_exception")) {
        gt_buf b = GT_BUF_INIT;
        gt_ct_str(gt_ct_arg(a, 0, NULL), &b);
        gt_buf_putc(&b, 0);
        int rc = gt_ct_fail(ev, at, GT_EINVAL, "the template refused the conversation: %s",
                            b.data ? (const char *)b.data : "");
        gt_buf_free(&b);
        return rc;
    }
    return gt_ct_fail(ev, at, GT_EUNSUPPORTED, "unsupported function '%s'", f);
}

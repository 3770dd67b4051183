/* chat_template_eval.c: renders a parsed chat template (see chat_template.h):
 * statements, scopes, loops, macros and the operators. Values are jansson
 * references; NULL stands for Jinja's undefined. Every function that yields
 * a value hands out a new reference the caller releases. */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/chat_template_impl.h"

int gt_ct_fail(gt_ct_ev *ev, const gt_ct_node *at, int code, const char *fmt, ...) {
    char msg[GT_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!at) return gt_err_set(ev->err, code, "chat template: %s", msg);
    return gt_err_set(ev->err, code, "chat template %d:%d: %s", at->line, at->col, msg);
}

static int oom(gt_ct_ev *ev) { return gt_err_set(ev->err, GT_ENOMEM, "out of memory rendering the chat template"); }

/* ---- work and nesting ---- */

int gt_ct_charge(gt_ct_ev *ev, const gt_ct_node *at, size_t units) {
    ev->work += units;
    if (ev->over) return GT_ELIMIT; /* the error is set already */
    if (ev->work <= GT_CHAT_TMPL_MAX_WORK) return 0;
    ev->over = 1;
    return gt_ct_fail(ev, at, GT_ELIMIT, "over the limit of %u units of work in one render (GT_CHAT_TMPL_MAX_WORK: "
                      "expressions evaluated, bytes and elements made or scanned)", GT_CHAT_TMPL_MAX_WORK);
}

/* Charges the making of *out; over the limit, *out is released. */
static int charge_made(gt_ct_ev *ev, const gt_ct_node *at, json_t **out) {
    int rc = gt_ct_charge(ev, at, gt_ct_work_of(*out));
    if (rc) json_decref(*out), *out = NULL;
    return rc;
}

size_t gt_ct_work_of(const json_t *v) {
    if (json_is_string(v)) return json_string_length(v);
    if (json_is_array(v)) return json_array_size(v) * GT_CHAT_TMPL_ELEM_WORK;
    if (json_is_object(v)) return json_object_size(v) * GT_CHAT_TMPL_ELEM_WORK;
    return 1;
}

/* The nesting of v (0 for a scalar) up to a cap past the limit, noting
 * whether a namespace() is in it; each element walked is charged. */
static int nest_walk(gt_ct_ev *ev, const json_t *v, int level, int *has_ns) {
    if (!json_is_array(v) && !json_is_object(v)) return 0;
    char key[32];
    snprintf(key, sizeof key, "%p", (const void *)v);
    if (ev->ns_index && json_object_get(ev->ns_index, key)) *has_ns = 1;
    ev->work += gt_ct_work_of(v);
    if (level > GT_CHAT_TMPL_MAX_NESTING || ev->work > GT_CHAT_TMPL_MAX_WORK) return 1; /* deep enough to refuse */
    int deepest = 0;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int d = nest_walk(ev, json_array_get(v, i), level + 1, has_ns);
            deepest = d > deepest ? d : deepest;
        }
    } else {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            int d = nest_walk(ev, e, level + 1, has_ns);
            deepest = d > deepest ? d : deepest;
        }
    }
    return deepest + 1;
}

int gt_ct_check_nest(gt_ct_ev *ev, const gt_ct_node *at, const json_t *v, int no_namespace) {
    int has_ns = 0, depth = nest_walk(ev, v, 0, &has_ns);
    if (gt_ct_charge(ev, at, 0)) return GT_ELIMIT;
    if (depth >= GT_CHAT_TMPL_MAX_NESTING)
        return gt_ct_fail(ev, at, GT_ELIMIT, "a list or dict nested deeper than the limit of %d",
                          GT_CHAT_TMPL_MAX_NESTING);
    if (no_namespace && has_ns)
        return gt_ct_fail(ev, at, GT_EINVAL, "a namespace() cannot hold a namespace(), nor a list or dict holding one");
    return 0;
}

/* ---- scopes ---- */

/* The variable name as the innermost scope sees it, else the caller's; a
 * new reference or NULL (undefined). */
static json_t *lookup(const gt_ct_ev *ev, const gt_ct_scope *sc, const char *name) {
    for (; sc; sc = sc->up) {
        json_t *v = json_object_get(sc->vars, name);
        if (v) return json_incref(v);
    }
    return json_incref(json_object_get(ev->globals, name));
}

static const gt_ct_node *find_macro(const gt_ct_ev *ev, const char *name) {
    for (size_t i = ev->n_macros; i-- > 0;)
        if (!strcmp(ev->macros[i]->name, name)) return ev->macros[i];
    return NULL;
}

static int eval(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t **out);
static int exec_block(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *blk, gt_buf *out);

static void free_args(gt_ct_args *a) {
    for (size_t i = 0; i < a->n; i++) json_decref(a->v[i]);
    a->n = 0;
}

/* Evaluates node n's kids (arguments) into a. */
static int eval_args(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, gt_ct_args *a) {
    a->n = 0;
    if (n->n_kids > GT_CT_MAX_ARGS) return gt_ct_fail(ev, n, GT_ELIMIT, "more than %d arguments", GT_CT_MAX_ARGS);
    for (size_t i = 0; i < n->n_kids; i++) {
        int rc = eval(ev, sc, n->kids[i], &a->v[i]);
        if (rc) return free_args(a), rc;
        a->kw[i] = n->kwnames[i];
        a->n = i + 1;
    }
    return 0;
}

/* ---- macros ---- */

/* Calls macro m with a: binds its parameters (positional, then by name,
 * then defaults) in a scope over the template's own, renders its body. */
static int call_macro(gt_ct_ev *ev, const gt_ct_node *at, const gt_ct_node *m, const gt_ct_args *a, json_t **out) {
    if (ev->depth >= GT_CHAT_TMPL_MAX_DEPTH)
        return gt_ct_fail(ev, at, GT_ELIMIT, "macro calls nested deeper than the limit of %d", GT_CHAT_TMPL_MAX_DEPTH);
    int rc = gt_ct_charge(ev, at, 4 * GT_CHAT_TMPL_ELEM_WORK); /* its scope and its output's string */
    if (rc) return rc;
    gt_ct_scope sc = {json_object(), ev->top};
    if (!sc.vars) return oom(ev);
    for (size_t i = 0; i < a->n && rc == 0; i++)
        if (!a->kw[i] && i >= m->n_kids)
            rc = gt_ct_fail(ev, at, GT_EINVAL, "too many arguments to macro '%s'", m->name);
    for (size_t p = 0; p < m->n_kids && rc == 0; p++) {
        json_t *v = gt_ct_arg(a, p, m->kwnames[p]);
        if (v) rc = json_object_set(sc.vars, m->kwnames[p], v) ? oom(ev) : 0;
        else if (m->kids[p] && (rc = eval(ev, &sc, m->kids[p], &v)) == 0 && v)
            rc = json_object_set_new(sc.vars, m->kwnames[p], v) ? oom(ev) : 0;
    }
    gt_buf b = GT_BUF_INIT;
    ev->depth++;
    if (rc == 0) rc = exec_block(ev, &sc, m->b, &b);
    ev->depth--;
    ev->ctl = 0;
    if (rc == 0 && !(*out = json_stringn(b.data ? (const char *)b.data : "", b.len))) rc = oom(ev);
    gt_buf_free(&b);
    json_decref(sc.vars);
    return rc;
}

/* A call: a method (obj.name(...)), a macro or a global function. */
static int eval_call(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t **out) {
    gt_ct_args a;
    json_t *obj = NULL;
    int rc = 0;
    *out = NULL;
    if (n->a->kind == CT_ATTR) rc = eval(ev, sc, n->a->a, &obj);
    else if (n->a->kind != CT_NAME) return gt_ct_fail(ev, n, GT_EUNSUPPORTED, "unsupported call of an expression");
    if (rc || (rc = eval_args(ev, sc, n, &a))) return json_decref(obj), rc;
    size_t in_work = gt_ct_work_of(obj);
    for (size_t i = 0; i < a.n; i++) in_work += gt_ct_work_of(a.v[i]);
    if ((rc = gt_ct_charge(ev, n, in_work))) {
    } else if (n->a->kind == CT_ATTR) {
        rc = gt_ct_method(ev, n->a, obj, &a, out);
    } else {
        const gt_ct_node *m = find_macro(ev, n->a->name);
        rc = m ? call_macro(ev, n, m, &a, out) : gt_ct_global(ev, n, &a, out);
    }
    if (rc == 0) rc = charge_made(ev, n, out);
    free_args(&a);
    json_decref(obj);
    return rc;
}

/* ---- operators ---- */

static int is_num(const json_t *v) { return json_is_integer(v) || json_is_real(v); }
static double num(const json_t *v) { return json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v); }

/* Python's ordering of numbers or of strings; *cmp <0, 0, >0. */
static int compare(gt_ct_ev *ev, const gt_ct_node *at, const json_t *a, const json_t *b, int *cmp) {
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return *cmp = (x > y) - (x < y), 0;
    }
    if (is_num(a) && is_num(b)) return *cmp = (num(a) > num(b)) - (num(a) < num(b)), 0;
    if (json_is_string(a) && json_is_string(b)) {
        size_t la = json_string_length(a), lb = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
        return *cmp = c ? c : (la > lb) - (la < lb), 0;
    }
    return gt_ct_fail(ev, at, GT_EINVAL, "cannot order these two values (numbers or strings expected)");
}

/* x in container: a substring, a list element or a dict key. */
static int contains(gt_ct_ev *ev, const gt_ct_node *at, const json_t *x, const json_t *c, int *res) {
    if (json_is_string(c)) {
        if (!json_is_string(x)) return gt_ct_fail(ev, at, GT_EINVAL, "'in <string>' needs a string on the left");
        const char *h = json_string_value(c), *nd = json_string_value(x);
        size_t hl = json_string_length(c), nl = json_string_length(x);
        *res = memmem(h, hl, nd, nl) != NULL; /* linear; a compare at every byte is hl * nl */
        return 0;
    }
    *res = 0;
    if (json_is_array(c)) {
        for (size_t i = 0; i < json_array_size(c) && !*res; i++) *res = gt_ct_equal(ev, json_array_get(c, i), x);
        return 0;
    }
    if (json_is_object(c)) return *res = json_is_string(x) && json_object_get(c, json_string_value(x)), 0;
    if (!c) return 0; /* in undefined: false, as Jinja's lenient undefined iterates as empty */
    return gt_ct_fail(ev, at, GT_EINVAL, "'in' needs a string, list or dict on the right");
}

/* A new string of a + b, within the output limit. */
static json_t *concat2(const char *a, size_t la, const char *b, size_t lb) {
    if (la + lb > GT_CHAT_TMPL_MAX_OUTPUT) return NULL;
    char *s = gt_malloc(la + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la), memcpy(s + la, b, lb);
    json_t *v = json_stringn(s, la + lb);
    gt_free(s);
    return v;
}

static int op_add(gt_ct_ev *ev, const gt_ct_node *at, json_t *a, json_t *b, json_t **out) {
    if (json_is_integer(a) && json_is_integer(b)) *out = json_integer(json_integer_value(a) + json_integer_value(b));
    else if (is_num(a) && is_num(b)) *out = json_real(num(a) + num(b));
    else if (json_is_string(a) && json_is_string(b))
        *out = concat2(json_string_value(a), json_string_length(a), json_string_value(b), json_string_length(b));
    else if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) + json_array_size(b) > GT_CHAT_TMPL_MAX_LIST)
            return gt_ct_fail(ev, at, GT_ELIMIT, "list over the limit of %d elements", GT_CHAT_TMPL_MAX_LIST);
        *out = json_array();
        if (*out && (json_array_extend(*out, a) || json_array_extend(*out, b))) json_decref(*out), *out = NULL;
    } else
        return gt_ct_fail(ev, at, GT_EINVAL, "'+' needs two numbers, two strings or two lists (use '~' to join text)");
    return *out ? 0 : gt_ct_fail(ev, at, GT_ELIMIT, "out of memory or over the string limit adding");
}

/* Integer * / // % - (Python's floor semantics; / gives a float). */
static int op_arith(gt_ct_ev *ev, const gt_ct_node *at, json_t *a, json_t *b, json_t **out) {
    if (at->op == OP_MUL && json_is_string(a) && json_is_integer(b)) {
        json_int_t k = json_integer_value(b);
        size_t len = json_string_length(a);
        if (k > 0 && len && (size_t)k > GT_CHAT_TMPL_MAX_OUTPUT / len)
            return gt_ct_fail(ev, at, GT_ELIMIT, "string repetition over the limit of %u bytes",
                              GT_CHAT_TMPL_MAX_OUTPUT);
        gt_buf r = GT_BUF_INIT;
        for (json_int_t i = 0; i < k; i++)
            if (gt_buf_append(&r, json_string_value(a), len)) return gt_buf_free(&r), oom(ev);
        *out = json_stringn(r.data ? (const char *)r.data : "", r.len);
        gt_buf_free(&r);
        return *out ? 0 : oom(ev);
    }
    if (!is_num(a) || !is_num(b)) return gt_ct_fail(ev, at, GT_EINVAL, "arithmetic needs two numbers");
    if (!json_is_integer(a) || !json_is_integer(b) || at->op == OP_DIV) {
        double x = num(a), y = num(b);
        if (at->op != OP_MUL && at->op != OP_SUB && y == 0) return gt_ct_fail(ev, at, GT_EINVAL, "division by zero");
        *out = json_real(at->op == OP_MUL ? x * y : at->op == OP_SUB ? x - y : x / y);
        return *out ? 0 : oom(ev);
    }
    json_int_t x = json_integer_value(a), y = json_integer_value(b), r;
    if (at->op == OP_MUL) r = x * y;
    else if (at->op == OP_SUB) r = x - y;
    else if (y == 0) return gt_ct_fail(ev, at, GT_EINVAL, "division by zero");
    else if (at->op == OP_FLOORDIV) r = x / y - ((x % y != 0) && ((x < 0) != (y < 0)));
    else r = ((x % y) + y) % y;
    *out = json_integer(r);
    return *out ? 0 : oom(ev);
}

/* a ~ b: both as text. */
static int op_concat(gt_ct_ev *ev, const gt_ct_node *at, json_t *a, json_t *b, json_t **out) {
    gt_buf s = GT_BUF_INIT;
    int rc = gt_ct_str(a, &s);
    if (rc == 0) rc = gt_ct_str(b, &s);
    if (rc) rc = gt_ct_text_fail(ev, at, rc);
    if (rc == 0 && !(*out = json_stringn(s.data ? (const char *)s.data : "", s.len))) rc = oom(ev);
    gt_buf_free(&s);
    return rc;
}

static int eval_bin(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t **out) {
    json_t *a = NULL, *b = NULL;
    int rc = eval(ev, sc, n->a, &a), r = 0, cmp = 0;
    if (rc == 0) rc = eval(ev, sc, n->b, &b);
    *out = NULL;
    if (rc == 0) rc = gt_ct_charge(ev, n, gt_ct_work_of(a) + gt_ct_work_of(b)); /* read, copied or compared */
    if (rc == 0) switch (n->op) {
        case OP_ADD: rc = op_add(ev, n, a, b, out); break;
        case OP_SUB: case OP_MUL: case OP_DIV: case OP_FLOORDIV: case OP_MOD: rc = op_arith(ev, n, a, b, out); break;
        case OP_CONCAT: rc = op_concat(ev, n, a, b, out); break;
        case OP_EQ: case OP_NE:
            r = gt_ct_equal(ev, a, b) == (n->op == OP_EQ);
            break;
        case OP_IN: case OP_NOTIN:
            if ((rc = contains(ev, n, a, b, &r)) == 0) r = r == (n->op == OP_IN);
            break;
        default:
            if ((rc = compare(ev, n, a, b, &cmp)) == 0)
                r = n->op == OP_LT ? cmp < 0 : n->op == OP_LE ? cmp <= 0 : n->op == OP_GT ? cmp > 0 : cmp >= 0;
    }
    if (rc == 0 && !*out) *out = json_boolean(r);
    if (rc == 0) rc = charge_made(ev, n, out);
    json_decref(a), json_decref(b);
    return rc;
}

/* ---- subscripts ---- */

/* The byte offset of each code point of s[0..n), and n after the last (a
 * new array; NULL out of memory). */
static size_t *cp_starts(const char *s, size_t n) {
    size_t *r = gt_malloc((gt_ct_utf8_len(s, n) + 1) * sizeof *r), k = 0;
    for (size_t i = 0; r && i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) r[k++] = i;
    if (r) r[k] = n;
    return r;
}

/* Byte offset of code point k of s[0..n) (n when k is past the end). */
static size_t cp_offset(const char *s, size_t n, size_t k) {
    size_t cps = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && cps++ == k) return i;
    return n;
}

static int eval_index(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t **out) {
    json_t *a = NULL, *k = NULL;
    int rc = eval(ev, sc, n->a, &a);
    if (rc == 0) rc = eval(ev, sc, n->b, &k);
    *out = NULL;
    if (rc == 0 && json_is_object(a) && json_is_string(k)) {
        *out = json_incref(json_object_get(a, json_string_value(k)));
    } else if (rc == 0 && (json_is_array(a) || json_is_string(a)) && json_is_integer(k)) {
        size_t len = json_is_array(a) ? json_array_size(a)
                                      : gt_ct_utf8_len(json_string_value(a), json_string_length(a));
        json_int_t i = json_integer_value(k);
        if (i < 0) i += (json_int_t)len;
        if (i >= 0 && (size_t)i < len && json_is_array(a)) *out = json_incref(json_array_get(a, (size_t)i));
        else if (i >= 0 && (size_t)i < len && (rc = gt_ct_charge(ev, n, json_string_length(a))) == 0) {
            const char *s = json_string_value(a);
            size_t l = json_string_length(a), from = cp_offset(s, l, (size_t)i), to = cp_offset(s, l, (size_t)i + 1);
            if (!(*out = json_stringn(s + from, to - from))) rc = oom(ev);
        }
    } else if (rc == 0 && a && k && !json_is_object(a)) {
        rc = gt_ct_fail(ev, n, GT_EINVAL, "cannot index this value (a list or string needs an integer)");
    }
    json_decref(a), json_decref(k);
    return rc;
}

/* Python's slice bounds for len elements: start, stop, step (step != 0). */
static void slice_bounds(json_int_t len, const json_t *s0, const json_t *s1, json_int_t step, json_int_t *lo,
                         json_int_t *hi) {
    json_int_t def_lo = step > 0 ? 0 : len - 1, def_hi = step > 0 ? len : -1;
    json_int_t v[2] = {def_lo, def_hi};
    const json_t *src[2] = {s0, s1};
    for (int i = 0; i < 2; i++) {
        if (!json_is_integer(src[i])) continue;
        json_int_t x = json_integer_value(src[i]);
        if (x < 0) x += len;
        if (step > 0) x = x < 0 ? 0 : x > len ? len : x;
        else x = x < -1 ? -1 : x > len - 1 ? len - 1 : x;
        v[i] = x;
    }
    *lo = v[0], *hi = v[1];
}

static int eval_slice(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t **out) {
    json_t *a = NULL, *p[3] = {NULL, NULL, NULL};
    int rc = eval(ev, sc, n->a, &a);
    for (int i = 0; i < 3 && rc == 0; i++)
        if (n->kids[i]) rc = eval(ev, sc, n->kids[i], &p[i]);
    json_int_t step = json_is_integer(p[2]) ? json_integer_value(p[2]) : 1, lo, hi;
    int is_str = json_is_string(a);
    if (rc == 0 && (step == 0 || !(is_str || json_is_array(a))))
        rc = gt_ct_fail(ev, n, GT_EINVAL, step ? "only lists and strings can be sliced" : "slice step of 0");
    if (rc == 0) rc = gt_ct_charge(ev, n, gt_ct_work_of(a));
    if (rc == 0) {
        const char *s = is_str ? json_string_value(a) : NULL;
        size_t sl = is_str ? json_string_length(a) : 0;
        size_t *cp = is_str ? cp_starts(s, sl) : NULL; /* each code point's offset: the slice is linear */
        json_int_t len = (json_int_t)(is_str ? gt_ct_utf8_len(s, sl) : json_array_size(a));
        slice_bounds(len, p[0], p[1], step, &lo, &hi);
        json_t *arr = json_array();
        gt_buf b = GT_BUF_INIT;
        if (is_str && !cp) rc = oom(ev);
        for (json_int_t i = lo; rc == 0 && arr && (step > 0 ? i < hi : i > hi); i += step) {
            if (!is_str) json_array_append(arr, json_array_get(a, (size_t)i));
            else if (gt_buf_append(&b, s + cp[i], cp[i + 1] - cp[i])) rc = oom(ev);
        }
        if (rc == 0) *out = is_str ? json_stringn(b.data ? (const char *)b.data : "", b.len) : json_incref(arr);
        if (rc == 0 && !*out) rc = oom(ev);
        gt_free(cp);
        json_decref(arr);
        gt_buf_free(&b);
    }
    json_decref(a);
    for (int i = 0; i < 3; i++) json_decref(p[i]);
    return rc;
}

/* ---- expressions ---- */

static int eval_collection(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t **out) {
    json_t *c = n->kind == CT_LIST ? json_array() : json_object();
    if (!c) return oom(ev);
    for (size_t i = 0; i < n->n_kids; i++) {
        json_t *v = NULL, *k = NULL;
        int rc = 0;
        if (n->kind == CT_DICT && (rc = eval(ev, sc, n->kids[i++], &k)) == 0 && !json_is_string(k))
            rc = gt_ct_fail(ev, n->kids[i - 1], GT_EUNSUPPORTED, "dict keys must be strings");
        if (rc == 0) rc = eval(ev, sc, n->kids[i], &v);
        if (rc == 0 && v) rc = gt_ct_check_nest(ev, n, v, 0);
        if (rc == 0 && !v) v = json_null();
        if (rc == 0) {
            int bad = n->kind == CT_LIST ? json_array_append_new(c, v)
                                         : json_object_set_new(c, json_string_value(k), v);
            v = NULL; /* stolen, even when it failed */
            if (bad) rc = oom(ev);
        }
        json_decref(k);
        if (rc) return json_decref(v), json_decref(c), rc;
    }
    *out = c;
    return charge_made(ev, n, out);
}

static int eval_filter_or_test(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t **out) {
    json_t *v = NULL;
    gt_ct_args a;
    int rc = eval(ev, sc, n->a, &v), r = 0;
    if (rc == 0 && (rc = eval_args(ev, sc, n, &a)) == 0) {
        size_t in_work = gt_ct_work_of(v);
        for (size_t i = 0; i < a.n; i++) in_work += gt_ct_work_of(a.v[i]);
        if ((rc = gt_ct_charge(ev, n, in_work))) {
        } else if (n->kind == CT_FILTER) rc = gt_ct_filter(ev, n, v, &a, out);
        else if ((rc = gt_ct_test(ev, n, v, &a, &r)) == 0) *out = json_boolean(r != n->negate);
        if (rc == 0) rc = charge_made(ev, n, out);
        free_args(&a);
    }
    json_decref(v);
    return rc;
}

static int eval(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t **out) {
    json_t *a = NULL;
    int rc;
    *out = NULL;
    if ((rc = gt_ct_charge(ev, n, 1))) return rc;
    switch (n->kind) {
    case CT_LIT: *out = json_incref(n->lit); return 0;
    case CT_NAME: *out = lookup(ev, sc, n->name); return 0;
    case CT_LIST: case CT_DICT: return eval_collection(ev, sc, n, out);
    case CT_ATTR:
        if ((rc = eval(ev, sc, n->a, &a)) == 0 && json_is_object(a)) *out = json_incref(json_object_get(a, n->name));
        json_decref(a);
        return rc;
    case CT_INDEX: return eval_index(ev, sc, n, out);
    case CT_SLICE: return eval_slice(ev, sc, n, out);
    case CT_CALL: return eval_call(ev, sc, n, out);
    case CT_FILTER: case CT_TEST: return eval_filter_or_test(ev, sc, n, out);
    case CT_NOT:
        if ((rc = eval(ev, sc, n->a, &a)) == 0) *out = json_boolean(!gt_ct_truthy(a));
        json_decref(a);
        return rc;
    case CT_NEG:
        if ((rc = eval(ev, sc, n->a, &a)) == 0 && !is_num(a)) rc = gt_ct_fail(ev, n, GT_EINVAL, "'-' needs a number");
        if (rc == 0) *out = json_is_integer(a) ? json_integer(-json_integer_value(a)) : json_real(-json_real_value(a));
        json_decref(a);
        return rc;
    case CT_BIN: return eval_bin(ev, sc, n, out);
    case CT_AND: case CT_OR:
        if ((rc = eval(ev, sc, n->a, &a))) return rc;
        if (gt_ct_truthy(a) == (n->kind == CT_OR)) return *out = a, 0;
        json_decref(a);
        return eval(ev, sc, n->b, out);
    case CT_COND:
        if ((rc = eval(ev, sc, n->b, &a))) return rc;
        rc = gt_ct_truthy(a) ? eval(ev, sc, n->a, out) : n->c ? eval(ev, sc, n->c, out) : 0;
        json_decref(a);
        return rc;
    default: return gt_ct_fail(ev, n, GT_EINVAL, "internal: a statement where an expression belongs");
    }
}

/* ---- statements ---- */

static int emit(gt_ct_ev *ev, const gt_ct_node *at, gt_buf *out, const json_t *v) {
    size_t before = out->len;
    int rc = gt_ct_str(v, out);
    if (rc == GT_ELIMIT || (rc == 0 && out->len > GT_CHAT_TMPL_MAX_OUTPUT))
        return gt_ct_fail(ev, at, GT_ELIMIT, "output over the limit of %u bytes", GT_CHAT_TMPL_MAX_OUTPUT);
    if (rc) return oom(ev);
    return gt_ct_charge(ev, at, out->len - before); /* a {% set %} block or a macro may write it many times */
}

/* {% set %}: a variable of the innermost scope, or an attribute of a
 * namespace() object (the caller's data cannot be changed). */
static int exec_set(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n) {
    json_t *v = NULL;
    int rc;
    if (n->b) {
        gt_buf b = GT_BUF_INIT;
        if ((rc = exec_block(ev, sc, n->b, &b)) == 0 && !(v = json_stringn(b.data ? (const char *)b.data : "", b.len)))
            rc = oom(ev);
        gt_buf_free(&b);
    } else {
        rc = eval(ev, sc, n->a, &v);
    }
    if (rc) return rc;
    if (!v) v = json_null(); /* set x = undefined: keep it falsy and printable */
    if (!n->name2) return json_object_set_new(sc->vars, n->name, v) ? oom(ev) : 0;
    if ((rc = gt_ct_check_nest(ev, n, v, 1))) return json_decref(v), rc; /* no cycle through namespaces */
    json_t *ns = lookup(ev, sc, n->name);
    size_t i = 0;
    while (i < ev->n_namespaces && ev->namespaces[i] != ns) i++;
    if (!ns || i == ev->n_namespaces) rc = gt_ct_fail(ev, n, GT_EINVAL, "'%s' is not a namespace(): cannot set '%s.%s'",
                                                      n->name, n->name, n->name2);
    else if (json_object_set(ns, n->name2, v)) rc = oom(ev);
    json_decref(ns);
    json_decref(v);
    return rc;
}

/* The loop object for item i of items (length len). */
static json_t *loop_object(const json_t *items, size_t i, size_t len) {
    json_t *l = json_pack("{s:I,s:I,s:I,s:I,s:b,s:b,s:I}", "index", (json_int_t)i + 1, "index0", (json_int_t)i,
                          "revindex", (json_int_t)(len - i), "revindex0", (json_int_t)(len - i - 1), "first", i == 0,
                          "last", i + 1 == len, "length", (json_int_t)len);
    if (l && i > 0) json_object_set(l, "previtem", json_array_get(items, i - 1));
    if (l && i + 1 < len) json_object_set(l, "nextitem", json_array_get(items, i + 1));
    return l;
}

/* The sequence a for-loop walks: a list as it is, a dict's keys, a
 * string's characters; with "if", only the items that pass. */
static int loop_items(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t *seq, json_t **out);

static int exec_for(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, gt_buf *out) {
    json_t *seq = NULL, *items = NULL;
    int rc = eval(ev, sc, n->a, &seq);
    if (rc == 0) rc = loop_items(ev, sc, n, seq, &items);
    json_decref(seq);
    if (rc) return rc;
    size_t len = json_array_size(items);
    gt_ct_scope inner = {NULL, sc};
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (++ev->iterations > GT_CHAT_TMPL_MAX_ITERATIONS) {
            rc = gt_ct_fail(ev, n, GT_ELIMIT, "over the limit of %d loop iterations", GT_CHAT_TMPL_MAX_ITERATIONS);
            break;
        }
        if ((rc = gt_ct_charge(ev, n, GT_CHAT_TMPL_ELEM_WORK))) break; /* its scope and loop object */
        json_t *item = json_array_get(items, i);
        if (!(inner.vars = json_object())) rc = oom(ev);
        else if (json_object_set_new(inner.vars, "loop", loop_object(items, i, len))) rc = oom(ev);
        else if (!n->name2) rc = json_object_set(inner.vars, n->name, item) ? oom(ev) : 0;
        else if (!json_is_array(item) || json_array_size(item) != 2)
            rc = gt_ct_fail(ev, n, GT_EINVAL, "cannot unpack this item into '%s, %s' (a pair expected)", n->name,
                            n->name2);
        else if (json_object_set(inner.vars, n->name, json_array_get(item, 0)) ||
                 json_object_set(inner.vars, n->name2, json_array_get(item, 1)))
            rc = oom(ev);
        if (rc == 0) rc = exec_block(ev, &inner, n->b, out);
        json_decref(inner.vars);
        inner.vars = NULL;
        int ctl = ev->ctl;
        ev->ctl = 0;
        if (ctl == 1) break;
    }
    if (rc == 0 && len == 0 && n->c) rc = exec_block(ev, sc, n->c, out);
    json_decref(items);
    return rc;
}

static int exec_stmt(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, gt_buf *out) {
    json_t *v = NULL;
    int rc;
    if ((rc = gt_ct_charge(ev, n, 1))) return rc;
    switch (n->kind) {
    case CT_TEXT: return emit(ev, n, out, n->lit);
    case CT_OUT:
        if ((rc = eval(ev, sc, n->a, &v)) == 0) rc = emit(ev, n, out, v);
        json_decref(v);
        return rc;
    case CT_IF:
        for (const gt_ct_node *c = n; c;) {
            if ((rc = eval(ev, sc, c->a, &v))) return rc;
            int t = gt_ct_truthy(v);
            json_decref(v);
            if (t) return exec_block(ev, sc, c->b, out);
            if (c->c && c->c->kind == CT_IF) c = c->c;
            else return c->c ? exec_block(ev, sc, c->c, out) : 0;
        }
        return 0;
    case CT_FOR: return exec_for(ev, sc, n, out);
    case CT_SET: return exec_set(ev, sc, n);
    case CT_MACRO: {
        const gt_ct_node **m = gt_realloc(ev->macros, (ev->n_macros + 1) * sizeof *m);
        if (!m) return oom(ev);
        ev->macros = m, m[ev->n_macros++] = n;
        return 0;
    }
    case CT_BREAK: ev->ctl = 1; return 0;
    case CT_CONTINUE: ev->ctl = 2; return 0;
    case CT_BLOCK: return exec_block(ev, sc, n, out);
    default: return gt_ct_fail(ev, n, GT_EINVAL, "internal: an expression where a statement belongs");
    }
}

/* Runs the statements of blk in order, stopping at break/continue. */
static int exec_block(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *blk, gt_buf *out) {
    assert(blk->kind == CT_BLOCK);
    for (size_t i = 0; i < blk->n_kids && ev->ctl == 0; i++) {
        int rc = exec_stmt(ev, sc, blk->kids[i], out);
        if (rc) return rc;
    }
    return 0;
}

static int loop_items(gt_ct_ev *ev, gt_ct_scope *sc, const gt_ct_node *n, json_t *seq, json_t **out) {
    json_t *all = NULL;
    if (!seq || json_is_null(seq)) all = json_array(); /* an undefined or none sequence loops zero times */
    else if (json_is_array(seq)) all = json_incref(seq);
    else if (json_is_object(seq)) {
        const char *k;
        json_t *v;
        all = json_array();
        json_object_foreach(seq, k, v) if (all) json_array_append_new(all, json_string(k));
    } else if (json_is_string(seq)) { /* a list of its characters, made in one pass and bounded as lists are */
        const char *s = json_string_value(seq);
        size_t len = json_string_length(seq);
        if (gt_ct_utf8_len(s, len) > GT_CHAT_TMPL_MAX_LIST)
            return gt_ct_fail(ev, n, GT_ELIMIT, "a loop over a string of more than %d characters",
                              GT_CHAT_TMPL_MAX_LIST);
        all = json_array();
        for (size_t i = 0, j; all && i < len; i = j) {
            for (j = i + 1; j < len && ((unsigned char)s[j] & 0xC0) == 0x80; j++) {}
            json_array_append_new(all, json_stringn(s + i, j - i));
        }
    } else {
        return gt_ct_fail(ev, n, GT_EINVAL, "cannot loop over this value (a list, dict or string expected)");
    }
    if (!all) return oom(ev);
    if (!n->d) return *out = all, 0;
    json_t *kept = json_array();
    gt_ct_scope inner = {json_object(), sc};
    int rc = kept && inner.vars ? 0 : oom(ev);
    for (size_t i = 0; rc == 0 && i < json_array_size(all); i++) {
        json_t *item = json_array_get(all, i), *c = NULL;
        if (++ev->iterations > GT_CHAT_TMPL_MAX_ITERATIONS)
            rc = gt_ct_fail(ev, n, GT_ELIMIT, "over the limit of %d loop iterations", GT_CHAT_TMPL_MAX_ITERATIONS);
        else if (json_object_set(inner.vars, n->name, item)) rc = oom(ev);
        else if ((rc = eval(ev, &inner, n->d, &c)) == 0 && gt_ct_truthy(c)) json_array_append(kept, item);
        json_decref(c);
    }
    json_decref(inner.vars);
    json_decref(all);
    if (rc) return json_decref(kept), rc;
    return *out = kept, 0;
}

int gt_chat_tmpl_render(const gt_chat_tmpl *t, const json_t *vars, int64_t now_unix, gt_buf *out, gt_err *err) {
    if (!json_is_object(vars)) return gt_err_set(err, GT_EINVAL, "chat template variables must be a JSON object");
    gt_ct_scope top = {json_object(), NULL};
    gt_ct_ev ev = {.t = t, .globals = vars, .top = &top, .now_unix = now_unix, .err = err};
    size_t start = out->len;
    int rc = top.vars ? exec_block(&ev, &top, t->root, out) : oom(&ev);
    if (rc == 0) rc = gt_ct_charge(&ev, NULL, 0); /* a comparison cut short by the work limit answered 0 */
    for (size_t i = 0; i < ev.n_namespaces; i++) json_decref(ev.namespaces[i]);
    json_decref(ev.ns_index);
    gt_free(ev.namespaces);
    gt_free(ev.macros);
    json_decref(top.vars);
    if (rc) out->len = start; /* nothing half-rendered */
    return rc;
}

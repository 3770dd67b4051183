/* chat_template.c: the chat template's parser (Jinja subset, see
 * chat_template.h): the lexer's tokens (chat_template_lex.c) into the tree of
 * chat_template_impl.h. The evaluator is chat_template_eval.c. */
#include "infer/chat_template.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/chat_template_impl.h"
#include "infer/chat_template_lex.h"

/* ---- parser ---- */

typedef struct parser {
    token *t;
    size_t n, p;
    int depth;
    gt_chat_tmpl *tmpl;
    gt_err *err;
} parser;

static const token *peek(const parser *ps) { return &ps->t[ps->p]; }
static int is_op(const token *t, const char *op) { return t->kind == TK_OP && !strcmp(t->op, op); }
static int is_name(const token *t, const char *name) { return t->kind == TK_NAME && !strcmp(t->s, name); }

static int fail_at(parser *ps, const token *t, const char *fmt, const char *what) {
    char msg[200];
    snprintf(msg, sizeof msg, fmt, what);
    return gt_err_set(ps->err, GT_EINVAL, "chat template %d:%d: %s", t->line, t->col, msg);
}

static const char *tok_text(const token *t) {
    switch (t->kind) {
    case TK_NAME: case TK_STR: case TK_TEXT: return t->s;
    case TK_OP: return t->op;
    case TK_VAR_END: return "}}";
    case TK_BLOCK_END: return "%}";
    case TK_EOF: return "the end of the template";
    default: return "a number";
    }
}

/* A new node of kind at token t, owned by the template. NULL out of memory. */
static gt_ct_node *new_node(parser *ps, gt_ct_kind kind, const token *t) {
    gt_chat_tmpl *tm = ps->tmpl;
    if (tm->n_nodes == tm->cap_nodes) {
        size_t cap = tm->cap_nodes ? tm->cap_nodes * 2 : 64;
        gt_ct_node **n = gt_realloc(tm->nodes, cap * sizeof *n);
        if (!n) return NULL;
        tm->nodes = n, tm->cap_nodes = cap;
    }
    gt_ct_node *nd = gt_calloc(1, sizeof *nd);
    if (!nd) return NULL;
    nd->kind = kind, nd->line = t->line, nd->col = t->col;
    tm->nodes[tm->n_nodes++] = nd;
    return nd;
}

/* Appends kid (and its keyword name, which the node takes over) to nd. */
static int add_kid(gt_ct_node *nd, gt_ct_node *kid, char *kwname) {
    size_t n = nd->n_kids + 1;
    gt_ct_node **k = gt_realloc(nd->kids, n * sizeof *k);
    if (k) nd->kids = k;
    char **kw = k ? gt_realloc(nd->kwnames, n * sizeof *kw) : NULL;
    if (!kw) {
        gt_free(kwname);
        return GT_ENOMEM;
    }
    nd->kwnames = kw;
    nd->kids[nd->n_kids] = kid, nd->kwnames[nd->n_kids] = kwname;
    nd->n_kids = n;
    return 0;
}

static int expect_op(parser *ps, const char *op) {
    if (!is_op(peek(ps), op)) {
        char what[64];
        snprintf(what, sizeof what, "expected '%s', found '%%s'", op);
        return fail_at(ps, peek(ps), what, tok_text(peek(ps)));
    }
    ps->p++;
    return 0;
}

static int expect_kind(parser *ps, tk_kind kind) {
    if (peek(ps)->kind != kind)
        return fail_at(ps, peek(ps), kind == TK_BLOCK_END ? "expected '%%}', found '%s'" : "expected '}}', found '%s'",
                       tok_text(peek(ps)));
    ps->p++;
    return 0;
}

static int parse_expr(parser *ps, gt_ct_node **out);
static int parse_or(parser *ps, gt_ct_node **out);
static int parse_unary(parser *ps, gt_ct_node **out);

/* Arguments up to ')' (the '(' is consumed): positional, then name=value. */
static int parse_args(parser *ps, gt_ct_node *call) {
    while (!is_op(peek(ps), ")")) {
        char *kw = NULL;
        const token *t = peek(ps);
        if (t->kind == TK_NAME && is_op(&ps->t[ps->p + 1], "=")) {
            if (!(kw = gt_strdup(t->s))) return GT_ENOMEM;
            ps->p += 2;
        }
        gt_ct_node *arg;
        int rc = parse_expr(ps, &arg);
        if (rc) {
            gt_free(kw);
            return rc;
        }
        if ((rc = add_kid(call, arg, kw))) return rc;
        if (!is_op(peek(ps), ",")) break;
        ps->p++;
    }
    return expect_op(ps, ")");
}

/* [a, b, ...] or (a, b) up to close (the opener consumed) into a CT_LIST. */
static int parse_list(parser *ps, const token *at, const char *close, gt_ct_node **out) {
    gt_ct_node *l = new_node(ps, CT_LIST, at);
    if (!l) return GT_ENOMEM;
    while (!is_op(peek(ps), close)) {
        gt_ct_node *e;
        int rc = parse_expr(ps, &e);
        if (rc || (rc = add_kid(l, e, NULL))) return rc;
        if (!is_op(peek(ps), ",")) break;
        ps->p++;
    }
    *out = l;
    return expect_op(ps, close);
}

/* {k: v, ...} (the '{' consumed) into a CT_DICT. */
static int parse_dict(parser *ps, const token *at, gt_ct_node **out) {
    gt_ct_node *d = new_node(ps, CT_DICT, at);
    if (!d) return GT_ENOMEM;
    while (!is_op(peek(ps), "}")) {
        gt_ct_node *k, *v;
        int rc = parse_expr(ps, &k);
        if (rc || (rc = expect_op(ps, ":")) || (rc = parse_expr(ps, &v)) || (rc = add_kid(d, k, NULL)) ||
            (rc = add_kid(d, v, NULL)))
            return rc;
        if (!is_op(peek(ps), ",")) break;
        ps->p++;
    }
    *out = d;
    return expect_op(ps, "}");
}

/* A literal node holding v (taken over). */
static int lit_node(parser *ps, const token *t, json_t *v, gt_ct_node **out) {
    gt_ct_node *n = v ? new_node(ps, CT_LIT, t) : NULL;
    if (!n) {
        json_decref(v);
        return GT_ENOMEM;
    }
    n->lit = v;
    *out = n;
    return 0;
}

/* Adjacent string literals, joined ("a" "b" is "ab"). */
static int parse_strings(parser *ps, gt_ct_node **out) {
    const token *t = peek(ps);
    gt_buf b = GT_BUF_INIT;
    while (peek(ps)->kind == TK_STR) {
        if (gt_buf_append(&b, peek(ps)->s, peek(ps)->len)) {
            gt_buf_free(&b);
            return GT_ENOMEM;
        }
        ps->p++;
    }
    json_t *v = json_stringn(b.data ? (const char *)b.data : "", b.len);
    gt_buf_free(&b);
    return lit_node(ps, t, v, out);
}

static int parse_primary(parser *ps, gt_ct_node **out) {
    const token *t = peek(ps);
    if (t->kind == TK_STR) return parse_strings(ps, out);
    ps->p++;
    if (t->kind == TK_INT) return lit_node(ps, t, json_integer(t->i), out);
    if (t->kind == TK_FLOAT) return lit_node(ps, t, json_real(t->f), out);
    if (t->kind == TK_NAME) {
        if (!strcmp(t->s, "true") || !strcmp(t->s, "True")) return lit_node(ps, t, json_true(), out);
        if (!strcmp(t->s, "false") || !strcmp(t->s, "False")) return lit_node(ps, t, json_false(), out);
        if (!strcmp(t->s, "none") || !strcmp(t->s, "None")) return lit_node(ps, t, json_null(), out);
        gt_ct_node *n = new_node(ps, CT_NAME, t);
        if (!n || !(n->name = gt_strdup(t->s))) return GT_ENOMEM;
        *out = n;
        return 0;
    }
    if (is_op(t, "[")) return parse_list(ps, t, "]", out);
    if (is_op(t, "{")) return parse_dict(ps, t, out);
    if (is_op(t, "(")) {
        gt_ct_node *e;
        int rc = parse_expr(ps, &e);
        if (rc) return rc;
        if (!is_op(peek(ps), ",")) return *out = e, expect_op(ps, ")");
        ps->p++; /* a tuple: a list here */
        gt_ct_node *l;
        if ((rc = parse_list(ps, t, ")", &l))) return rc;
        if (add_kid(l, e, NULL)) return GT_ENOMEM;
        memmove(l->kids + 1, l->kids, (l->n_kids - 1) * sizeof *l->kids);
        l->kids[0] = e;
        return *out = l, 0;
    }
    return fail_at(ps, t, "expected an expression, found '%s'", tok_text(t));
}

/* a[...] after the '[': an index or a slice a[start:stop:step]. */
static int parse_subscript(parser *ps, const token *at, gt_ct_node *target, gt_ct_node **out) {
    gt_ct_node *parts[3] = {NULL, NULL, NULL};
    int n_colons = 0, rc;
    for (int i = 0; i < 3; i++) {
        if (!is_op(peek(ps), ":") && !is_op(peek(ps), "]") && (rc = parse_expr(ps, &parts[i]))) return rc;
        if (i == 2 || !is_op(peek(ps), ":")) break;
        ps->p++, n_colons++;
    }
    if ((rc = expect_op(ps, "]"))) return rc;
    gt_ct_node *n = new_node(ps, n_colons ? CT_SLICE : CT_INDEX, at);
    if (!n) return GT_ENOMEM;
    n->a = target;
    if (!n_colons) n->b = parts[0];
    else
        for (int i = 0; i < 3; i++)
            if (add_kid(n, parts[i], NULL)) return GT_ENOMEM;
    if (!n_colons && !parts[0]) return fail_at(ps, at, "%s", "empty subscript '[]'");
    *out = n;
    return 0;
}

/* Attribute, subscript and call suffixes of a primary. */
static int parse_postfix(parser *ps, gt_ct_node **io) {
    for (;;) {
        const token *t = peek(ps);
        int rc;
        if (is_op(t, ".")) {
            ps->p++;
            if (peek(ps)->kind != TK_NAME) return fail_at(ps, peek(ps), "expected a name after '.', found '%s'",
                                                          tok_text(peek(ps)));
            gt_ct_node *n = new_node(ps, CT_ATTR, t);
            if (!n || !(n->name = gt_strdup(peek(ps)->s))) return GT_ENOMEM;
            n->a = *io, *io = n;
            ps->p++;
        } else if (is_op(t, "[")) {
            ps->p++;
            if ((rc = parse_subscript(ps, t, *io, io))) return rc;
        } else if (is_op(t, "(")) {
            ps->p++;
            gt_ct_node *n = new_node(ps, CT_CALL, t);
            if (!n) return GT_ENOMEM;
            n->a = *io, *io = n;
            if ((rc = parse_args(ps, n))) return rc;
        } else {
            return 0;
        }
    }
}

/* Whether t can start a test's single bare argument ("x is divisibleby 3"). */
static int starts_bare_arg(const token *t) {
    static const char *kw[] = {"and", "or", "if", "else", "not", "in", "is"};
    if (t->kind == TK_STR || t->kind == TK_INT || t->kind == TK_FLOAT) return 1;
    if (t->kind != TK_NAME) return 0;
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (!strcmp(t->s, kw[i])) return 0;
    return 1;
}

/* "| filter(args)" and "is [not] test(args)" suffixes. */
static int parse_filters(parser *ps, gt_ct_node **io) {
    for (;;) {
        const token *t = peek(ps);
        int is_test = is_name(t, "is"), rc;
        if (!is_test && !is_op(t, "|")) return 0;
        ps->p++;
        gt_ct_node *n = new_node(ps, is_test ? CT_TEST : CT_FILTER, t);
        if (!n) return GT_ENOMEM;
        if (is_test && is_name(peek(ps), "not")) n->negate = 1, ps->p++;
        if (peek(ps)->kind != TK_NAME)
            return fail_at(ps, peek(ps),
                           is_test ? "expected a test name, found '%s'" : "expected a filter name, found '%s'",
                           tok_text(peek(ps)));
        if (!(is_test ? gt_ct_known_test : gt_ct_known_filter)(peek(ps)->s))
            return fail_at(ps, peek(ps), is_test ? "unsupported test '%s'" : "unsupported filter '%s'", peek(ps)->s);
        if (!(n->name = gt_strdup(peek(ps)->s))) return GT_ENOMEM;
        ps->p++;
        n->a = *io, *io = n;
        if (is_op(peek(ps), "(")) {
            ps->p++;
            if ((rc = parse_args(ps, n))) return rc;
        } else if (is_test && starts_bare_arg(peek(ps)) && strcmp(n->name, "defined") && strcmp(n->name, "none")) {
            gt_ct_node *arg;
            if ((rc = parse_primary(ps, &arg)) || (rc = add_kid(n, arg, NULL))) return rc;
        }
    }
}

static int parse_unary(parser *ps, gt_ct_node **out) {
    const token *t = peek(ps);
    int rc;
    if (++ps->depth > GT_CHAT_TMPL_MAX_DEPTH)
        return fail_at(ps, t, "expressions nested deeper than the limit (%s)", "GT_CHAT_TMPL_MAX_DEPTH");
    if (is_op(t, "-") || is_op(t, "+")) {
        ps->p++;
        gt_ct_node *inner;
        if ((rc = parse_unary(ps, &inner))) return rc;
        if (is_op(t, "+")) *out = inner;
        else {
            gt_ct_node *n = new_node(ps, CT_NEG, t);
            if (!n) return GT_ENOMEM;
            n->a = inner, *out = n;
        }
    } else if ((rc = parse_primary(ps, out)) || (rc = parse_postfix(ps, out))) {
        return rc;
    }
    ps->depth--;
    return parse_filters(ps, out);
}

/* A left-associative binary level: operand parses each side; ops lists the
 * operator spellings and their codes. */
static int parse_binary(parser *ps, int (*operand)(parser *, gt_ct_node **), const char *const *ops,
                        const gt_ct_op *codes, size_t n_ops, gt_ct_node **out) {
    int rc = operand(ps, out);
    while (rc == 0) {
        const token *t = peek(ps);
        size_t i = 0;
        while (i < n_ops && !is_op(t, ops[i])) i++;
        if (i == n_ops) return 0;
        ps->p++;
        gt_ct_node *n = new_node(ps, CT_BIN, t), *rhs;
        if (!n) return GT_ENOMEM;
        if ((rc = operand(ps, &rhs))) return rc;
        n->op = codes[i], n->a = *out, n->b = rhs, *out = n;
    }
    return rc;
}

static int parse_pow(parser *ps, gt_ct_node **out) {
    int rc = parse_unary(ps, out);
    if (rc == 0 && is_op(peek(ps), "**")) return fail_at(ps, peek(ps), "unsupported operator '%s'", "**");
    return rc;
}

static int parse_math2(parser *ps, gt_ct_node **out) {
    static const char *const ops[] = {"*", "/", "//", "%"};
    static const gt_ct_op codes[] = {OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD};
    return parse_binary(ps, parse_pow, ops, codes, 4, out);
}

static int parse_concat(parser *ps, gt_ct_node **out) {
    static const char *const ops[] = {"~"};
    static const gt_ct_op codes[] = {OP_CONCAT};
    return parse_binary(ps, parse_math2, ops, codes, 1, out);
}

static int parse_math1(parser *ps, gt_ct_node **out) {
    static const char *const ops[] = {"+", "-"};
    static const gt_ct_op codes[] = {OP_ADD, OP_SUB};
    return parse_binary(ps, parse_concat, ops, codes, 2, out);
}

/* Comparisons, "in" and "not in" (left-associative, not chained). */
static int parse_compare(parser *ps, gt_ct_node **out) {
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    static const gt_ct_op codes[] = {OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE};
    int rc = parse_math1(ps, out);
    while (rc == 0) {
        const token *t = peek(ps);
        gt_ct_op op;
        size_t i = 0;
        while (i < 6 && !is_op(t, ops[i])) i++;
        if (i < 6) op = codes[i], ps->p++;
        else if (is_name(t, "in")) op = OP_IN, ps->p++;
        else if (is_name(t, "not") && is_name(&ps->t[ps->p + 1], "in")) op = OP_NOTIN, ps->p += 2;
        else return 0;
        gt_ct_node *n = new_node(ps, CT_BIN, t), *rhs;
        if (!n) return GT_ENOMEM;
        if ((rc = parse_math1(ps, &rhs))) return rc;
        n->op = op, n->a = *out, n->b = rhs, *out = n;
    }
    return rc;
}

static int parse_not(parser *ps, gt_ct_node **out) {
    const token *t = peek(ps);
    if (!is_name(t, "not")) return parse_compare(ps, out);
    ps->p++;
    if (++ps->depth > GT_CHAT_TMPL_MAX_DEPTH)
        return fail_at(ps, t, "expressions nested deeper than the limit (%s)", "GT_CHAT_TMPL_MAX_DEPTH");
    gt_ct_node *n = new_node(ps, CT_NOT, t);
    if (!n) return GT_ENOMEM;
    *out = n;
    int rc = parse_not(ps, &n->a);
    ps->depth--;
    return rc;
}

/* and / or chains (kind CT_AND or CT_OR over operand). */
static int parse_logic(parser *ps, const char *word, gt_ct_kind kind, int (*operand)(parser *, gt_ct_node **),
                       gt_ct_node **out) {
    int rc = operand(ps, out);
    while (rc == 0 && is_name(peek(ps), word)) {
        gt_ct_node *n = new_node(ps, kind, peek(ps));
        if (!n) return GT_ENOMEM;
        ps->p++;
        n->a = *out, *out = n;
        rc = operand(ps, &n->b);
    }
    return rc;
}

static int parse_and(parser *ps, gt_ct_node **out) { return parse_logic(ps, "and", CT_AND, parse_not, out); }
static int parse_or(parser *ps, gt_ct_node **out) { return parse_logic(ps, "or", CT_OR, parse_and, out); }

/* A full expression: "a if cond else b" over or-expressions. */
static int parse_expr(parser *ps, gt_ct_node **out) {
    int rc = parse_or(ps, out);
    if (rc || !is_name(peek(ps), "if")) return rc;
    gt_ct_node *n = new_node(ps, CT_COND, peek(ps));
    if (!n) return GT_ENOMEM;
    ps->p++;
    n->a = *out, *out = n;
    if ((rc = parse_or(ps, &n->b))) return rc;
    if (!is_name(peek(ps), "else")) return 0;
    ps->p++;
    return parse_expr(ps, &n->c);
}

/* ---- statements ---- */

static int parse_body(parser *ps, const char *const *stops, gt_ct_node **out, const char **stopped);

/* The keyword after "{%" names one of stops: *stopped gets it. */
static const char *stop_word(const parser *ps, const char *const *stops) {
    const token *t = peek(ps);
    if (!stops || t->kind != TK_BLOCK_BEGIN || ps->t[ps->p + 1].kind != TK_NAME) return NULL;
    for (size_t i = 0; stops[i]; i++)
        if (!strcmp(ps->t[ps->p + 1].s, stops[i])) return stops[i];
    return NULL;
}

/* Reads the end keyword at p (after "{%"), then "%}". */
static int end_tag(parser *ps) {
    ps->p++;
    return expect_kind(ps, TK_BLOCK_END);
}

static int parse_if(parser *ps, const token *at, gt_ct_node **out) {
    static const char *const stops[] = {"elif", "else", "endif", NULL};
    gt_ct_node *n = new_node(ps, CT_IF, at);
    const char *stop;
    int rc;
    if (!n) return GT_ENOMEM;
    *out = n;
    if ((rc = parse_expr(ps, &n->a)) || (rc = expect_kind(ps, TK_BLOCK_END)) ||
        (rc = parse_body(ps, stops, &n->b, &stop)))
        return rc;
    const token *kw = &ps->t[ps->p + 1];
    if (!strcmp(stop, "elif")) {
        ps->p += 2;
        return parse_if(ps, kw, &n->c);
    }
    if (!strcmp(stop, "else")) {
        static const char *const end[] = {"endif", NULL};
        ps->p++;
        if ((rc = end_tag(ps)) || (rc = parse_body(ps, end, &n->c, &stop))) return rc;
    }
    ps->p++;
    return end_tag(ps);
}

static int parse_for(parser *ps, const token *at, gt_ct_node **out) {
    static const char *const stops[] = {"else", "endfor", NULL};
    gt_ct_node *n = new_node(ps, CT_FOR, at);
    const char *stop;
    int rc;
    if (!n) return GT_ENOMEM;
    *out = n;
    for (int i = 0; i < 2; i++) {
        if (peek(ps)->kind != TK_NAME)
            return fail_at(ps, peek(ps), "expected a loop variable, found '%s'", tok_text(peek(ps)));
        if (!(*(i ? &n->name2 : &n->name) = gt_strdup(peek(ps)->s))) return GT_ENOMEM;
        ps->p++;
        if (i == 1 || !is_op(peek(ps), ",")) break;
        ps->p++;
    }
    if (!is_name(peek(ps), "in")) return fail_at(ps, peek(ps), "expected 'in', found '%s'", tok_text(peek(ps)));
    ps->p++;
    if ((rc = parse_or(ps, &n->a))) return rc;
    if (is_name(peek(ps), "if")) {
        ps->p++;
        if ((rc = parse_or(ps, &n->d))) return rc;
    }
    if (is_name(peek(ps), "recursive")) return fail_at(ps, peek(ps), "unsupported loop modifier '%s'", "recursive");
    if ((rc = expect_kind(ps, TK_BLOCK_END)) || (rc = parse_body(ps, stops, &n->b, &stop))) return rc;
    if (!strcmp(stop, "else")) {
        static const char *const end[] = {"endfor", NULL};
        ps->p++;
        if ((rc = end_tag(ps)) || (rc = parse_body(ps, end, &n->c, &stop))) return rc;
    }
    ps->p++;
    return end_tag(ps);
}

static int parse_set(parser *ps, const token *at, gt_ct_node **out) {
    gt_ct_node *n = new_node(ps, CT_SET, at);
    int rc;
    if (!n) return GT_ENOMEM;
    *out = n;
    if (peek(ps)->kind != TK_NAME)
        return fail_at(ps, peek(ps), "expected a name to set, found '%s'", tok_text(peek(ps)));
    if (!(n->name = gt_strdup(peek(ps)->s))) return GT_ENOMEM;
    ps->p++;
    if (is_op(peek(ps), ".")) {
        ps->p++;
        if (peek(ps)->kind != TK_NAME)
            return fail_at(ps, peek(ps), "expected an attribute, found '%s'", tok_text(peek(ps)));
        if (!(n->name2 = gt_strdup(peek(ps)->s))) return GT_ENOMEM;
        ps->p++;
    }
    if (is_op(peek(ps), ",")) return fail_at(ps, peek(ps), "unsupported construct '%s'", "set with several targets");
    if (is_op(peek(ps), "=")) {
        ps->p++;
        if ((rc = parse_expr(ps, &n->a))) return rc;
        return expect_kind(ps, TK_BLOCK_END);
    }
    static const char *const end[] = {"endset", NULL};
    const char *stop;
    if (n->name2) return fail_at(ps, peek(ps), "expected '=', found '%s'", tok_text(peek(ps)));
    if ((rc = expect_kind(ps, TK_BLOCK_END)) || (rc = parse_body(ps, end, &n->b, &stop))) return rc;
    ps->p++;
    return end_tag(ps);
}

static int parse_macro(parser *ps, const token *at, gt_ct_node **out) {
    gt_ct_node *n = new_node(ps, CT_MACRO, at);
    int rc;
    if (!n) return GT_ENOMEM;
    *out = n;
    if (peek(ps)->kind != TK_NAME)
        return fail_at(ps, peek(ps), "expected a macro name, found '%s'", tok_text(peek(ps)));
    if (!(n->name = gt_strdup(peek(ps)->s))) return GT_ENOMEM;
    ps->p++;
    if ((rc = expect_op(ps, "("))) return rc;
    while (peek(ps)->kind == TK_NAME) {
        char *param = gt_strdup(peek(ps)->s);
        gt_ct_node *def = NULL;
        if (!param) return GT_ENOMEM;
        ps->p++;
        if (is_op(peek(ps), "=")) {
            ps->p++;
            if ((rc = parse_expr(ps, &def))) {
                gt_free(param);
                return rc;
            }
        }
        if ((rc = add_kid(n, def, param))) return rc;
        if (!is_op(peek(ps), ",")) break;
        ps->p++;
    }
    static const char *const end[] = {"endmacro", NULL};
    const char *stop;
    if ((rc = expect_op(ps, ")")) || (rc = expect_kind(ps, TK_BLOCK_END)) || (rc = parse_body(ps, end, &n->b, &stop)))
        return rc;
    ps->p++;
    return end_tag(ps);
}

/* One "{% ... %}" statement; the "{%" is consumed, p is at its keyword. */
static int parse_statement(parser *ps, gt_ct_node **out) {
    const token *kw = peek(ps);
    if (kw->kind != TK_NAME) return fail_at(ps, kw, "expected a statement, found '%s'", tok_text(kw));
    ps->p++;
    if (!strcmp(kw->s, "if")) return parse_if(ps, kw, out);
    if (!strcmp(kw->s, "for")) return parse_for(ps, kw, out);
    if (!strcmp(kw->s, "set")) return parse_set(ps, kw, out);
    if (!strcmp(kw->s, "macro")) return parse_macro(ps, kw, out);
    if (!strcmp(kw->s, "break") || !strcmp(kw->s, "continue")) {
        if (!(*out = new_node(ps, !strcmp(kw->s, "break") ? CT_BREAK : CT_CONTINUE, kw))) return GT_ENOMEM;
        return expect_kind(ps, TK_BLOCK_END);
    }
    if (!strcmp(kw->s, "generation")) { /* HF's marker of assistant text: renders its body */
        static const char *const end[] = {"endgeneration", NULL};
        const char *stop;
        int rc = expect_kind(ps, TK_BLOCK_END);
        if (rc || (rc = parse_body(ps, end, out, &stop))) return rc;
        ps->p++;
        return end_tag(ps);
    }
    if (!strncmp(kw->s, "end", 3) || !strcmp(kw->s, "else") || !strcmp(kw->s, "elif"))
        return fail_at(ps, kw, "'%s' without its opening statement", kw->s);
    return fail_at(ps, kw, "unsupported statement '%s'", kw->s);
}

/* Statements up to "{% stop %}" (one of stops; p left at the stop's
 * keyword's "{%") or the end when stops is NULL, into a CT_BLOCK. */
static int parse_body(parser *ps, const char *const *stops, gt_ct_node **out, const char **stopped) {
    gt_ct_node *blk = new_node(ps, CT_BLOCK, peek(ps));
    int rc;
    if (!blk) return GT_ENOMEM;
    *out = blk;
    if (++ps->depth > GT_CHAT_TMPL_MAX_DEPTH)
        return fail_at(ps, peek(ps), "blocks nested deeper than the limit (%s)", "GT_CHAT_TMPL_MAX_DEPTH");
    for (;;) {
        const token *t = peek(ps);
        gt_ct_node *st = NULL;
        if ((*stopped = stop_word(ps, stops))) break;
        if (t->kind == TK_EOF) {
            if (!stops) break;
            size_t last = 0;
            while (stops[last + 1]) last++;
            return fail_at(ps, t, "missing '{%% %s %%}'", stops[last]);
        }
        ps->p++;
        if (t->kind == TK_TEXT) {
            if (!(st = new_node(ps, CT_TEXT, t)) || !(st->lit = json_stringn(t->s, t->len))) return GT_ENOMEM;
        } else if (t->kind == TK_VAR_BEGIN) {
            if (!(st = new_node(ps, CT_OUT, t))) return GT_ENOMEM;
            if ((rc = parse_expr(ps, &st->a)) || (rc = expect_kind(ps, TK_VAR_END))) return rc;
        } else if (t->kind == TK_BLOCK_BEGIN) {
            if ((rc = parse_statement(ps, &st))) return rc;
        } else {
            return fail_at(ps, t, "unexpected '%s'", tok_text(t));
        }
        if ((rc = add_kid(blk, st, NULL))) return rc;
    }
    ps->depth--;
    return 0;
}

static int parse_template(parser *ps) {
    const char *stop;
    int rc = parse_body(ps, NULL, &ps->tmpl->root, &stop);
    if (rc == 0 && peek(ps)->kind != TK_EOF) return fail_at(ps, peek(ps), "unexpected '%s'", tok_text(peek(ps)));
    return rc;
}

/* ---- the API ---- */

const char *gt_chat_tmpl_literal(const gt_chat_tmpl *t, size_t *i, size_t *len) {
    assert(t && i && len);
    for (; *i < t->n_nodes; (*i)++) {
        const json_t *lit = t->nodes[*i]->lit;
        if (!json_is_string(lit)) continue;
        *len = json_string_length(lit);
        return (*i)++, json_string_value(lit);
    }
    return NULL;
}

void gt_chat_tmpl_free(gt_chat_tmpl *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_nodes; i++) {
        gt_ct_node *n = t->nodes[i];
        for (size_t k = 0; k < n->n_kids; k++) gt_free(n->kwnames[k]);
        gt_free(n->kwnames);
        gt_free(n->kids);
        gt_free(n->name);
        gt_free(n->name2);
        json_decref(n->lit);
        gt_free(n);
    }
    gt_free(t->nodes);
    gt_free(t);
}

int gt_chat_tmpl_parse(const char *src, size_t len, gt_chat_tmpl **out, gt_err *err) {
    *out = NULL;
    if (len > GT_CHAT_TMPL_MAX_SOURCE)
        return gt_err_set(err, GT_ELIMIT, "chat template of %zu bytes is over the limit of %u", len,
                          GT_CHAT_TMPL_MAX_SOURCE);
    if (memchr(src, 0, len)) return gt_err_set(err, GT_EINVAL, "chat template holds a NUL byte: not text");
    /* The lexer looks a few bytes ahead and searches with strstr: it reads a
     * NUL-terminated copy (a GGUF's string is not terminated). */
    char *copy = gt_strndup(src, len);
    lexer lx = {.src = copy, .len = len, .err = err};
    gt_chat_tmpl *t = copy ? gt_calloc(1, sizeof *t) : NULL;
    int rc = t ? gt_ct_lex(&lx) : GT_ENOMEM;
    if (rc == 0) {
        parser ps = {.t = lx.toks, .n = lx.n, .tmpl = t, .err = err};
        rc = parse_template(&ps);
    }
    gt_ct_lex_free(&lx);
    gt_free(copy);
    if (rc == GT_ENOMEM) gt_err_set(err, GT_ENOMEM, "out of memory parsing the chat template");
    if (rc) {
        gt_chat_tmpl_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

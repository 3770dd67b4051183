/* chat_template_impl.h: the syntax tree shared by the chat template's parser
 * (chat_template.c) and its evaluator (chat_template_eval.c). */
#ifndef GT_INFER_CHAT_TEMPLATE_IMPL_H
#define GT_INFER_CHAT_TEMPLATE_IMPL_H

#include <jansson.h>
#include <stddef.h>

#include "infer/chat_template.h"

typedef enum gt_ct_kind {
    /* expressions */
    CT_LIT,    /* lit */
    CT_NAME,   /* name */
    CT_LIST,   /* kids */
    CT_DICT,   /* kids: key, value, key, value... */
    CT_ATTR,   /* a.name */
    CT_INDEX,  /* a[b] */
    CT_SLICE,  /* a[kids[0]:kids[1]:kids[2]], each may be NULL */
    CT_CALL,   /* a(kids), kwnames[i] non-NULL for keyword arguments */
    CT_FILTER, /* a | name(kids) */
    CT_TEST,   /* a is [not] name(kids) */
    CT_NOT,    /* not a */
    CT_NEG,    /* -a */
    CT_BIN,    /* a op b */
    CT_AND,
    CT_OR,
    CT_COND,   /* a if b else c (c may be NULL) */
    /* statements */
    CT_BLOCK,  /* kids in order */
    CT_TEXT,   /* lit (a string) */
    CT_OUT,    /* {{ a }} */
    CT_IF,     /* if a: b else c */
    CT_FOR,    /* for name[, name2] in a [if d]: b else c */
    CT_SET,    /* set name[.name2] = a, or = the output of b */
    CT_MACRO,  /* macro name(kwnames = kids defaults): b */
    CT_BREAK,
    CT_CONTINUE
} gt_ct_kind;

typedef enum gt_ct_op { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_CONCAT, OP_EQ, OP_NE, OP_LT,
                        OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN } gt_ct_op;

typedef struct gt_ct_node gt_ct_node;
struct gt_ct_node {
    gt_ct_kind kind;
    gt_ct_op op;
    int line, col;
    int negate;          /* "is not" */
    char *name, *name2;  /* owned */
    json_t *lit;         /* owned reference */
    gt_ct_node *a, *b, *c, *d;
    gt_ct_node **kids;   /* owned array (the nodes are the template's) */
    char **kwnames;      /* owned, parallel to kids (NULL entries: positional) */
    size_t n_kids;
};

struct gt_chat_tmpl {
    gt_ct_node *root;       /* a CT_BLOCK */
    gt_ct_node **nodes;     /* every node, for freeing */
    size_t n_nodes, cap_nodes;
};

/* ---- evaluation (chat_template_eval.c; the library of filters, tests,
 * methods and globals is chat_template_lib.c) ---- */

#define GT_CT_MAX_ARGS 8 /* arguments of one call, filter or test */
/* Nesting a recursive walk of a value follows: a request's JSON nests up to
 * 2048 deep (jansson's parser), a namespace's attribute up to
 * GT_CHAT_TMPL_MAX_NESTING, inside a list that nests as deep. */
#define GT_CT_MAX_WALK (2048 + 2 * GT_CHAT_TMPL_MAX_NESTING + 8)

typedef struct gt_ct_scope {
    json_t *vars; /* an object, owned */
    struct gt_ct_scope *up;
} gt_ct_scope;

typedef struct gt_ct_ev {
    const gt_chat_tmpl *t;
    const json_t *globals;    /* the caller's variables: read, never changed */
    gt_ct_scope *top;         /* the template's own scope (macros see it) */
    const gt_ct_node **macros;
    size_t n_macros;
    json_t **namespaces;      /* objects made by namespace(): the only ones "set a.b" may change */
    size_t n_namespaces;
    int64_t now_unix;
    size_t iterations;
    size_t work;              /* units spent (GT_CHAT_TMPL_MAX_WORK) */
    json_t *ns_index;         /* "%p" of each namespace(): found in O(1) when values are checked */
    int over;                 /* a limit was hit where only NULL could be returned (err says which) */
    int depth;
    int ctl;                  /* 1 after break, 2 after continue, until the loop takes it */
    gt_err *err;
} gt_ct_ev;

/* Evaluated arguments of a call: v[i] NULL when undefined; kw[i] the
 * keyword or NULL. */
typedef struct gt_ct_args {
    json_t *v[GT_CT_MAX_ARGS];
    const char *kw[GT_CT_MAX_ARGS];
    size_t n;
} gt_ct_args;

int gt_ct_fail(gt_ct_ev *ev, const gt_ct_node *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds units to the render's work: 0, or GT_ELIMIT (set in ev->err) once
 * it is over GT_CHAT_TMPL_MAX_WORK. */
int gt_ct_charge(gt_ct_ev *ev, const gt_ct_node *at, size_t units);
/* The work of making or scanning v once: its bytes, or its elements times
 * GT_CHAT_TMPL_ELEM_WORK (1 for a number or undefined). */
size_t gt_ct_work_of(const json_t *v);
/* Checks v before a new list, dict or namespace attribute holds it: it
 * nests less than GT_CHAT_TMPL_MAX_NESTING deep and, with no_namespace, holds
 * no namespace() (so no namespace can reach itself: values stay acyclic).
 * Walking v is charged to the work. 0 or GT_ELIMIT / GT_EINVAL. */
int gt_ct_check_nest(gt_ct_ev *ev, const gt_ct_node *at, const json_t *v, int no_namespace);
/* An error of gt_ct_str / gt_ct_tojson as the template's: GT_ELIMIT (the
 * text is over the output limit, or the value nests too deep) or out of
 * memory. Returns the code. */
int gt_ct_text_fail(gt_ct_ev *ev, const gt_ct_node *at, int rc);
int gt_ct_truthy(const json_t *v);
/* Python's str() of v (undefined: ""), appended. 0, GT_ENOMEM, or GT_ELIMIT
 * when out grows over GT_CHAT_TMPL_MAX_OUTPUT or v nests deeper than
 * GT_CT_MAX_WALK (checked as it goes: a list holding one list many times
 * over is far bigger printed than in memory). */
int gt_ct_str(const json_t *v, gt_buf *out);
/* json.dumps(v, indent=indent (< 0: none), ensure_ascii=False), appended;
 * 0, GT_ENOMEM or GT_ELIMIT as gt_ct_str. */
int gt_ct_tojson(const json_t *v, int indent, int level, gt_buf *out);
size_t gt_ct_utf8_len(const char *s, size_t n); /* code points */
/* The positional argument i, else the keyword argument name, else NULL. */
json_t *gt_ct_arg(const gt_ct_args *a, size_t i, const char *name);
/* Filters, tests, methods and global functions: *out a new reference (NULL:
 * undefined). The value v is borrowed. */
int gt_ct_filter(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, json_t **out);
int gt_ct_test(gt_ct_ev *ev, const gt_ct_node *at, json_t *v, const gt_ct_args *a, int *result);
int gt_ct_method(gt_ct_ev *ev, const gt_ct_node *at, json_t *obj, const gt_ct_args *a, json_t **out);
int gt_ct_global(gt_ct_ev *ev, const gt_ct_node *at, const gt_ct_args *a, json_t **out);
/* Whether a filter / test of that name exists (the parser refuses others). */
int gt_ct_known_filter(const char *name);
int gt_ct_known_test(const char *name);
/* Deep equality as Python's == (1 == 1.0), each element compared charged to
 * ev's work; once the work is over its limit the answer is 0 and the render
 * fails at its next charge or at its end (gt_chat_tmpl_render). */
int gt_ct_equal(gt_ct_ev *ev, const json_t *a, const json_t *b);

#endif

/* grammar.c: JSON schemas compiled into nodes, and the byte matcher over
 * them (grammar.h says what subset and what output form).
 *
 * A reading is a stack of frames, one per open value; a value not begun yet
 * is a VALUE frame, expanded when its first byte comes, forking a reading
 * per alternative (anyOf, enum values, the kinds of "any JSON"). A frame
 * that completes pops and tells its parent; a number completes only on the
 * byte after it, which is then fed to the parent. Readings are bounded
 * (GT_GRAMMAR_ALTS x GT_GRAMMAR_STACK): one that would exceed them is
 * dropped, which can only refuse text, never accept text the schema does
 * not. */
#include "serve/grammar.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "serve/serve_impl.h"

enum { N_OBJ, N_ARR, N_STR, N_INT, N_NUM, N_BOOL, N_NULL, N_ENUM, N_ANYOF, N_ANY, N_ANYOBJ };
enum { F_VALUE, F_OBJ, F_ARR, F_STR, F_NUM, F_LIT, F_GOBJ, F_ENUM, F_KEY };

#define MAX_KIDS (GT_GRAMMAR_MAX_NODES * 4)
#define MAX_NUM_DIGITS 15

typedef struct gnode {
    uint8_t kind;
    int min, max; /* string length or array items; max -1: none */
    int first, n; /* kids[first..first+n): properties, item, alternatives or enum values */
} gnode;

struct gt_grammar {
    int n_nodes, n_kids, root;
    gnode nodes[GT_GRAMMAR_MAX_NODES];
    int kids[MAX_KIDS];    /* node index (objects, arrays, anyOf) */
    char *lits[MAX_KIDS];  /* objects: "\"name\":"; enums: the value as compact JSON */
    uint8_t req[MAX_KIDS]; /* objects: required */
};

static const char *const lit_true = "true", *const lit_false = "false", *const lit_null = "null";

/* ---- compiling ---------------------------------------------------------- */

static int compile_node(gt_grammar *g, const json_t *s, const char *type, int depth, int *out, gt_serve_error *e);

static int new_node(gt_grammar *g, int kind, int *out, gt_serve_error *e) {
    if (g->n_nodes >= GT_GRAMMAR_MAX_NODES)
        return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: over %d schema nodes",
                             GT_GRAMMAR_MAX_NODES);
    gnode *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind, n->max = -1, n->first = g->n_kids;
    *out = g->n_nodes++;
    return 0;
}

/* Reserves k kid slots for node i (contiguous, right after its own). */
static int reserve_kids(gt_grammar *g, int i, int k, gt_serve_error *e) {
    if (g->n_kids + k > MAX_KIDS)
        return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: too large");
    g->nodes[i].first = g->n_kids, g->nodes[i].n = k;
    g->n_kids += k;
    return 0;
}

/* Keywords each kind accepts (besides type, title, description). */
static int keyword_ok(const char *k, const char *type) {
    static const char *const any[] = {"type", "title", "description", "enum", "const", "anyOf", "$schema", NULL};
    static const char *const obj[] = {"properties", "required", "additionalProperties", NULL};
    static const char *const arr[] = {"items", "minItems", "maxItems", NULL};
    static const char *const str[] = {"minLength", "maxLength", NULL};
    for (const char *const *p = any; *p; p++)
        if (!strcmp(k, *p)) return 1;
    const char *const *list = !type                     ? NULL
                              : !strcmp(type, "object") ? obj
                              : !strcmp(type, "array")  ? arr
                              : !strcmp(type, "string") ? str
                                                        : NULL;
    for (; list && *list; list++)
        if (!strcmp(k, *list)) return 1;
    return 0;
}

/* A non-negative integer keyword (absent: def). */
static int get_count(const json_t *s, const char *k, int def, int hi, int *out, gt_serve_error *e) {
    const json_t *v = json_object_get(s, k);
    *out = def;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > hi)
        return gt_serve_fail(e, 400, "response_format", "invalid_value",
                             "json_schema: %s: expected an integer from 0 to %d", k, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

/* Stores text as a literal of kid slot k (owned by g). */
static int set_lit(gt_grammar *g, int k, const char *text, gt_serve_error *e) {
    size_t n = strlen(text);
    if (n == 0 || n > GT_GRAMMAR_MAX_LIT)
        return gt_serve_fail(e, 400, "response_format", "invalid_value",
                             "json_schema: a key or enum value over %d bytes", GT_GRAMMAR_MAX_LIT);
    g->lits[k] = gt_malloc(n + 1);
    if (!g->lits[k]) return gt_serve_fail(e, 500, NULL, NULL, "out of memory");
    memcpy(g->lits[k], text, n + 1);
    return 0;
}

/* Byte order of two literals (qsort). */
static int lit_cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* enum / const: each value as compact JSON, the only texts allowed; sorted,
 * so the values that begin with the bytes matched so far are a run (F_ENUM
 * follows an enum as one reading whatever its size). */
static int compile_enum(gt_grammar *g, const json_t *vals, int *out, gt_serve_error *e) {
    size_t n = json_array_size(vals), i;
    if (n == 0 || n > GT_GRAMMAR_MAX_ENUM)
        return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: enum: expected 1 to %d values",
                             GT_GRAMMAR_MAX_ENUM);
    if (new_node(g, N_ENUM, out, e) || reserve_kids(g, *out, (int)n, e)) return -1;
    const json_t *v;
    json_array_foreach(vals, i, v) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        for (const char *p = s; p && *p; p++)
            if (*p == '\\' && p[1] == 'u') { /* the matcher's strings have no \u */
                free(s);
                return gt_serve_fail(e, 400, "response_format", "invalid_value",
                                     "json_schema: enum values must be printable ASCII");
            }
        int rc =
            s ? set_lit(g, g->nodes[*out].first + (int)i, s, e) : gt_serve_fail(e, 500, NULL, NULL, "out of memory");
        free(s);
        if (rc) return rc;
    }
    qsort(g->lits + g->nodes[*out].first, n, sizeof(char *), lit_cmp);
    return 0;
}

/* A property name: printable ASCII without quote or backslash. */
static int key_lit(gt_grammar *g, int k, const char *name, gt_serve_error *e) {
    char buf[GT_GRAMMAR_MAX_LIT + 8];
    for (const char *p = name; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return gt_serve_fail(e, 400, "response_format", "invalid_value",
                                 "json_schema: property names must be printable ASCII without \" or \\");
    if (strlen(name) > GT_GRAMMAR_MAX_LIT - 3)
        return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: a property name is too long");
    snprintf(buf, sizeof buf, "\"%s\":", name);
    return set_lit(g, k, buf, e);
}

static int compile_object(gt_grammar *g, const json_t *s, int depth, int *out, gt_serve_error *e) {
    const json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
    if (props && !json_is_object(props))
        return gt_serve_fail(e, 400, "response_format", "invalid_value",
                             "json_schema: properties: expected an object");
    if (req && !json_is_array(req))
        return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: required: expected an array");
    size_t n = json_object_size(props);
    if (n > GT_GRAMMAR_MAX_PROPS)
        return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: over %d properties",
                             GT_GRAMMAR_MAX_PROPS);
    if (new_node(g, N_OBJ, out, e) || reserve_kids(g, *out, (int)n, e)) return -1;
    int first = g->nodes[*out].first, i = 0;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)props, k, v) {
        int kid;
        if (key_lit(g, first + i, k, e) || compile_node(g, v, NULL, depth + 1, &kid, e)) return -1;
        g->kids[first + i++] = kid;
    }
    size_t r;
    json_array_foreach(req, r, v) {
        int found = 0;
        for (int j = 0; j < (int)n && json_is_string(v); j++) {
            const char *lit = g->lits[first + j];
            size_t len = json_string_length(v);
            if (strlen(lit) == len + 3 && !memcmp(lit + 1, json_string_value(v), len))
                g->req[first + j] = 1, found = 1;
        }
        if (!found)
            return gt_serve_fail(e, 400, "response_format", "invalid_value",
                                 "json_schema: required[%zu] is not one of the object's properties", r);
    }
    return 0;
}

/* One schema of a given type (type NULL: the schema's own "type"). */
static int compile_typed(gt_grammar *g, const json_t *s, const char *type, int depth, int *out, gt_serve_error *e) {
    if (!strcmp(type, "object")) return compile_object(g, s, depth, out, e);
    if (!strcmp(type, "array")) {
        const json_t *items = json_object_get(s, "items");
        int lo, hi, kid;
        if (!json_is_object(items))
            return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: an array needs \"items\"");
        if (get_count(s, "minItems", 0, GT_GRAMMAR_MAX_ITEMS, &lo, e) ||
            get_count(s, "maxItems", -1, GT_GRAMMAR_MAX_ITEMS, &hi, e))
            return -1;
        if (hi >= 0 && hi < lo)
            return gt_serve_fail(e, 400, "response_format", "invalid_value",
                                 "json_schema: maxItems is below minItems");
        if (compile_node(g, items, NULL, depth + 1, &kid, e) || new_node(g, N_ARR, out, e) ||
            reserve_kids(g, *out, 1, e))
            return -1;
        g->kids[g->nodes[*out].first] = kid;
        g->nodes[*out].min = lo, g->nodes[*out].max = hi;
        return 0;
    }
    if (!strcmp(type, "string")) {
        int lo, hi;
        if (get_count(s, "minLength", 0, GT_GRAMMAR_MAX_LENGTH, &lo, e) ||
            get_count(s, "maxLength", -1, GT_GRAMMAR_MAX_LENGTH, &hi, e) || new_node(g, N_STR, out, e))
            return -1;
        if (hi >= 0 && hi < lo)
            return gt_serve_fail(e, 400, "response_format", "invalid_value",
                                 "json_schema: maxLength is below minLength");
        g->nodes[*out].min = lo, g->nodes[*out].max = hi;
        return 0;
    }
    static const char *const simple[] = {"integer", "number", "boolean", "null"};
    static const int kinds[] = {N_INT, N_NUM, N_BOOL, N_NULL};
    for (int i = 0; i < 4; i++)
        if (!strcmp(type, simple[i])) return new_node(g, kinds[i], out, e);
    return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: unknown type \"%.40s\"", type);
}

/* anyOf over the schemas in alts (or over the types in a type array). */
static int compile_anyof(gt_grammar *g, const json_t *s, const json_t *alts, int types, int depth, int *out,
                         gt_serve_error *e) {
    size_t n = json_array_size(alts), i;
    if (n == 0 || n > GT_GRAMMAR_ALTS)
        return gt_serve_fail(e, 400, "response_format", "invalid_value",
                             "json_schema: anyOf/type: expected 1 to %d choices", GT_GRAMMAR_ALTS);
    if (new_node(g, N_ANYOF, out, e) || reserve_kids(g, *out, (int)n, e)) return -1;
    int first = g->nodes[*out].first;
    const json_t *v;
    json_array_foreach(alts, i, v) {
        int kid;
        if (types && !json_is_string(v))
            return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: type: expected strings");
        if (types ? compile_typed(g, s, json_string_value(v), depth, &kid, e)
                  : compile_node(g, v, NULL, depth + 1, &kid, e))
            return -1;
        g->kids[first + (int)i] = kid;
    }
    return 0;
}

static int compile_node(gt_grammar *g, const json_t *s, const char *type, int depth, int *out, gt_serve_error *e) {
    if (depth > GT_GRAMMAR_MAX_DEPTH)
        return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: nested deeper than %d",
                             GT_GRAMMAR_MAX_DEPTH);
    if (!json_is_object(s))
        return gt_serve_fail(e, 400, "response_format", "invalid_value", "json_schema: a schema must be an object");
    const json_t *t = json_object_get(s, "type");
    const char *ts = type ? type : json_string_value(t);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)s, k, v) {
        if (!keyword_ok(k, ts) && !(json_is_array(t) && keyword_ok(k, "object")) &&
            !(json_is_array(t) && keyword_ok(k, "array")) && !(json_is_array(t) && keyword_ok(k, "string")))
            return gt_serve_fail(
                e, 400, "response_format", "unsupported_parameter",
                "json_schema: keyword \"%.60s\" is not supported (supported: type, properties, required, "
                "additionalProperties, items, minItems, maxItems, minLength, maxLength, enum, const, anyOf)",
                k);
    }
    if (json_object_get(s, "const")) {
        json_t *one = json_pack("[O]", json_object_get(s, "const"));
        int rc = compile_enum(g, one, out, e);
        json_decref(one);
        return rc;
    }
    if (json_object_get(s, "enum")) return compile_enum(g, json_object_get(s, "enum"), out, e);
    if (json_object_get(s, "anyOf")) return compile_anyof(g, s, json_object_get(s, "anyOf"), 0, depth, out, e);
    if (!type && json_is_array(t)) return compile_anyof(g, s, t, 1, depth, out, e);
    if (!ts)
        return gt_serve_fail(e, 400, "response_format", "invalid_value",
                             "json_schema: a schema needs \"type\", \"enum\", \"const\" or \"anyOf\"");
    return compile_typed(g, s, ts, depth, out, e);
}

/* Whether a value of node may begin with byte c. */
static int may_begin(const gt_grammar *g, int node, int c) {
    const gnode *n = &g->nodes[node];
    switch (n->kind) {
    case N_OBJ: return c == '{';
    case N_ARR: return c == '[';
    case N_STR: return c == '"';
    case N_INT:
    case N_NUM: return c == '-' || (c >= '0' && c <= '9');
    case N_BOOL: return c == 't' || c == 'f';
    case N_NULL: return c == 'n';
    case N_ENUM:
    case N_ANYOF:
        for (int k = n->first; k < n->first + n->n; k++)
            if (n->kind == N_ENUM ? (unsigned char)g->lits[k][0] == c : may_begin(g, g->kids[k], c)) return 1;
        return 0;
    default: return 1; /* any value (json_object mode) */
    }
}

static int width(const gt_grammar *g, int node);

/* An anyOf's width: on a value's first byte, the alternatives that may begin
 * with it are followed together (each with its own width), the others are
 * dropped for good; the worst first byte counts. */
static int anyof_width(const gt_grammar *g, const gnode *n) {
    static const char firsts[] = "{[\"-0123456789tfn"; /* every byte a JSON value (compact) begins with */
    int kw[GT_GRAMMAR_ALTS], w = 0;
    assert(n->n <= GT_GRAMMAR_ALTS);
    for (int k = 0; k < n->n; k++) kw[k] = width(g, g->kids[n->first + k]);
    for (const char *c = firsts; *c; c++) {
        int sum = 0;
        for (int k = 0; k < n->n; k++) sum += may_begin(g, g->kids[n->first + k], *c) ? kw[k] : 0;
        if (sum > w) w = sum;
    }
    return w > GT_GRAMMAR_ALTS ? GT_GRAMMAR_ALTS + 1 : w;
}

/* The most readings a value of node is followed by at once (capped past
 * GT_GRAMMAR_ALTS): an anyOf's alternatives that begin alike add up, an
 * object's properties (one after another: their readings meet again, emit)
 * do not, and an enum with a value that prefixes another (1 and 12) forks
 * once. */
static int width(const gt_grammar *g, int node) {
    const gnode *n = &g->nodes[node];
    if (n->kind == N_ANYOF) return anyof_width(g, n);
    int w = 1;
    for (int k = 0; k < n->n; k++) {
        char *const *lit = g->lits + n->first + k; /* an enum's values, sorted */
        if (n->kind == N_ENUM) {
            if (k && !strncmp(lit[-1], lit[0], strlen(lit[-1]))) w = 2;
            continue;
        }
        int kw = width(g, g->kids[n->first + k]); /* object and array kids are nodes */
        w = kw > w ? kw : w;
    }
    return w;
}

int gt_grammar_compile(const json_t *rf, gt_grammar **out, gt_serve_error *e) {
    *out = NULL;
    const char *type = json_string_value(json_object_get(rf, "type"));
    if (!json_is_object(rf) || !type)
        return gt_serve_fail(e, 400, "response_format", "invalid_type", "response_format: expected {\"type\": ...}");
    if (!strcmp(type, "text")) return 0;
    gt_grammar *g = gt_calloc(1, sizeof *g);
    if (!g) return gt_serve_fail(e, 500, NULL, NULL, "out of memory");
    int rc;
    if (!strcmp(type, "json_object")) { /* nodes: 0 the root object, 1 any value, 2 an array of any values */
        int any, arr;
        rc = new_node(g, N_ANYOBJ, &g->root, e) || new_node(g, N_ANY, &any, e) || new_node(g, N_ARR, &arr, e) ||
             reserve_kids(g, arr, 1, e);
        if (!rc) g->kids[g->nodes[arr].first] = any;
        assert(rc || (g->root == 0 && any == 1 && arr == 2));
    } else if (!strcmp(type, "json_schema")) {
        const json_t *js = json_object_get(rf, "json_schema"), *schema = json_object_get(js, "schema");
        const json_t *t = json_object_get(schema, "type");
        if (!json_is_object(schema))
            rc = gt_serve_fail(e, 400, "response_format", "invalid_value",
                               "response_format.json_schema.schema: expected a schema object");
        else if (!json_is_string(t) || strcmp(json_string_value(t), "object"))
            rc = gt_serve_fail(e, 400, "response_format", "invalid_value",
                               "json_schema: the root must be {\"type\": \"object\", ...}");
        else if (!(rc = compile_node(g, schema, NULL, 0, &g->root, e)) && width(g, g->root) > GT_GRAMMAR_ALTS)
            /* else readings past GT_GRAMMAR_ALTS would be dropped: text the schema accepts, refused */
            rc = gt_serve_fail(e, 400, "response_format", "invalid_value",
                               "json_schema: anyOf alternatives (and type arrays) that begin alike, nested ones "
                               "counted in, may be followed %d at once at most: this schema has more", GT_GRAMMAR_ALTS);
    } else {
        rc = gt_serve_fail(e, 400, "response_format", "invalid_value",
                           "response_format.type: expected \"text\", \"json_object\" or \"json_schema\"");
    }
    if (rc) {
        gt_grammar_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void gt_grammar_free(gt_grammar *g) {
    if (!g) return;
    for (int i = 0; i < g->n_kids; i++)
        gt_free(g->lits[i]);
    gt_free(g);
}

/* ---- matching ------------------------------------------------------------ */

#define NODE_ANY_STRING 0xFFFF /* F_STR's node for a string without limits */
enum { NS_START, NS_MINUS, NS_ZERO, NS_INT, NS_DOT, NS_FRAC, NS_E, NS_ESIGN, NS_EXP };

static void step(const gt_grammar *g, gt_gstack *s, int c, gt_gmatch *out);

static gt_gframe frame(int type, int node, int phase) {
    gt_gframe f = {.type = (uint8_t)type, .phase = (uint8_t)phase, .node = (uint16_t)node};
    return f;
}

static int push(gt_gstack *s, gt_gframe f) {
    if (s->depth >= GT_GRAMMAR_STACK) return 0;
    s->f[s->depth++] = f;
    return 1;
}

/* Adds reading s to out, unless out has it already: readings that meet
 * again (an anyOf's alternatives once their value is done) are one, so
 * readings grow with an anyOf's width, never with how many came one after
 * another (gt_grammar_compile bounds the width by GT_GRAMMAR_ALTS). */
static void emit(gt_gmatch *out, const gt_gstack *s) {
    for (int k = 0; k < out->n; k++)
        if (out->s[k].depth == s->depth && !memcmp(out->s[k].f, s->f, (size_t)s->depth * sizeof s->f[0])) return;
    if (out->n >= GT_GRAMMAR_ALTS) return; /* dropped (a schema's width is bounded at compile): refuses only */
    gt_gstack *d = &out->s[out->n++];
    d->depth = s->depth;
    memcpy(d->f, s->f, (size_t)s->depth * sizeof s->f[0]);
}

/* Pops the completed top frame and advances its parent; 0 on overflow. */
static int pop_done(const gt_grammar *g, gt_gstack *s) {
    assert(s->depth > 0);
    s->depth--;
    if (s->depth == 0) return 1; /* the document is complete */
    gt_gframe *p = &s->f[s->depth - 1];
    const gnode *n = &g->nodes[p->node];
    if (p->type == F_OBJ && p->phase == 2) {
        p->phase = 3;
        return push(s, frame(F_VALUE, g->kids[n->first + p->b], 0));
    }
    if (p->type == F_OBJ && p->phase == 3)
        p->a = p->b + 1, p->phase = 4;
    else if (p->type == F_ARR && p->phase == 2)
        p->a++, p->phase = 3;
    else if (p->type == F_GOBJ && (p->phase == 2 || p->phase == 4))
        p->phase++;
    return 1;
}

/* Steps a copy of s whose top frame is replaced by f. */
static void step_as(const gt_grammar *g, const gt_gstack *s, gt_gframe f, int c, gt_gmatch *out) {
    gt_gstack t;
    t.depth = s->depth;
    memcpy(t.f, s->f, (size_t)s->depth * sizeof s->f[0]);
    t.f[t.depth - 1] = f;
    step(g, &t, c, out);
}

/* A VALUE frame: one reading per way its node can begin, each fed c. */
static void step_value(const gt_grammar *g, gt_gstack *s, int node, int c, gt_gmatch *out) {
    const gnode *n = &g->nodes[node];
    gt_gframe f;
    switch (n->kind) {
    case N_OBJ: step_as(g, s, frame(F_OBJ, node, 0), c, out); return;
    case N_ANYOBJ: step_as(g, s, frame(F_GOBJ, node, 0), c, out); return;
    case N_ARR: step_as(g, s, frame(F_ARR, node, 0), c, out); return;
    case N_STR: step_as(g, s, frame(F_STR, node, 0), c, out); return;
    case N_INT:
    case N_NUM:
        f = frame(F_NUM, node, NS_START), f.b = n->kind == N_INT;
        step_as(g, s, f, c, out);
        return;
    case N_BOOL:
    case N_NULL:
        for (int k = n->kind == N_NULL ? 2 : 0; k < (n->kind == N_NULL ? 3 : 2); k++) {
            f = frame(F_LIT, node, 0), f.a = -1 - k;
            step_as(g, s, f, c, out);
        }
        return;
    case N_ENUM:
        f = frame(F_ENUM, node, 0), f.a = n->first;
        step_as(g, s, f, c, out);
        return;
    case N_ANYOF:
        for (int k = 0; k < n->n; k++)
            step_as(g, s, frame(F_VALUE, g->kids[n->first + k], 0), c, out);
        return;
    default: /* N_ANY: any JSON value */
        step_as(g, s, frame(F_STR, NODE_ANY_STRING, 0), c, out);
        step_as(g, s, frame(F_NUM, node, NS_START), c, out);
        for (int k = 0; k < 3; k++) {
            f = frame(F_LIT, node, 0), f.a = -1 - k;
            step_as(g, s, f, c, out);
        }
        step_as(g, s, frame(F_GOBJ, node, 0), c, out);
        step_as(g, s, frame(F_ARR, node + 1, 0), c, out); /* json_object mode: node + 1 is [any...] */
        return;
    }
}

static const char *lit_text(const gt_grammar *g, int a) {
    return a == -1 ? lit_true : a == -2 ? lit_false : a == -3 ? lit_null : g->lits[a];
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* A number's next state on c, or -1 when c cannot continue it. */
static int num_next(gt_gframe *f, int c) {
    int is_int = f->b & 1, exp_digits = f->b >> 1;
    switch (f->phase) {
    case NS_START:
        if (c == '-') return NS_MINUS; /* fall through */
    case NS_MINUS: return c == '0' ? (f->a = 1, NS_ZERO) : c >= '1' && c <= '9' ? (f->a = 1, NS_INT) : -1;
    case NS_INT:
        if (is_digit(c) && f->a < MAX_NUM_DIGITS) return f->a++, NS_INT; /* fall through */
    case NS_ZERO:                                                        /* a '.' needs room for a digit after it */
        return is_int ? -1 : c == '.' && f->a < MAX_NUM_DIGITS ? NS_DOT : c == 'e' || c == 'E' ? NS_E : -1;
    case NS_DOT:
    case NS_FRAC:
        if (is_digit(c) && f->a < MAX_NUM_DIGITS) return f->a++, NS_FRAC;
        return f->phase == NS_FRAC && (c == 'e' || c == 'E') ? NS_E : -1;
    case NS_E:
        if (c == '+' || c == '-') return NS_ESIGN; /* fall through */
    case NS_ESIGN:
    case NS_EXP:
        if (!is_digit(c) || exp_digits >= 2) return -1;
        f->b = (exp_digits + 1) << 1 | is_int;
        return NS_EXP;
    }
    return -1;
}

static void step_num(const gt_grammar *g, gt_gstack *s, gt_gframe *f, int c, gt_gmatch *out) {
    int ph = f->phase, next = num_next(f, c);
    if (next >= 0) {
        f->phase = (uint8_t)next;
        emit(out, s);
    } else if ((ph == NS_ZERO || ph == NS_INT || ph == NS_FRAC || ph == NS_EXP) && pop_done(g, s) && s->depth) {
        step(g, s, c, out); /* the byte after a number belongs to its parent */
    }
}

static void step_str(const gt_grammar *g, gt_gstack *s, gt_gframe *f, int c, gt_gmatch *out) {
    int lim = f->node != NODE_ANY_STRING && g->nodes[f->node].kind == N_STR;
    int min = lim ? g->nodes[f->node].min : 0, max = lim ? g->nodes[f->node].max : -1;
    int room = max < 0 || f->a < max;
    if (f->phase == 0) {
        if (c != '"') return;
        f->phase = 1;
    } else if (f->phase == 2) {
        if (!c || !strchr("\"\\/bfnrt", c)) return;
        f->a++, f->phase = 1;
    } else if (c == '"') {
        if (f->a < min || !pop_done(g, s)) return;
    } else if (c == '\\' && room) {
        f->phase = 2;
    } else if (c >= 0x20 && c <= 0x7e && c != '\\' && room) {
        f->a++;
    } else {
        return;
    }
    emit(out, s);
}

/* Whether the object's properties from index a on are all optional. */
static int rest_optional(const gt_grammar *g, const gnode *n, int a) {
    for (int j = a; j < n->n; j++)
        if (g->req[n->first + j]) return 0;
    return 1;
}

static void step_obj(const gt_grammar *g, gt_gstack *s, gt_gframe *f, int c, gt_gmatch *out) {
    const gnode *n = &g->nodes[f->node];
    if (f->phase == 0) {
        if (c == '{') f->phase = 1, emit(out, s);
    } else if ((f->phase == 1 || f->phase == 4) && c == '}') {
        if (rest_optional(g, n, f->a) && pop_done(g, s)) emit(out, s);
    } else if (f->phase == 4 && c == ',') {
        if (f->a < n->n) f->phase = 5, emit(out, s);
    } else if ((f->phase == 1 || f->phase == 5) && c == '"' && f->a < n->n) {
        /* any property from a on, skipping only optional ones: one reading (step_key) */
        gt_gframe key = frame(F_KEY, f->node, 0);
        key.a = n->first + f->a, key.b = 1;
        f->phase = 2;
        if (push(s, key)) emit(out, s);
    }
}

/* Whether literals x and y share their first n bytes. */
static int same_prefix(const char *x, const char *y, int n) { return !strncmp(x, y, (size_t)n); }

/* An enum's value as one reading, however many values it has (sorted at
 * compile, so those beginning with the bytes so far are a run): a is the
 * first of the run, b the bytes matched. A value complete while a longer
 * one goes on (1 and 12) forks: the value ends, or the longer one goes on.
 * Forking per value instead dropped every value past GT_GRAMMAR_ALTS. */
static void step_enum(const gt_grammar *g, gt_gstack *s, gt_gframe *f, int c, gt_gmatch *out) {
    const gnode *n = &g->nodes[f->node];
    const char *cur = g->lits[f->a];
    int k = f->a, end = n->first + n->n;
    while (k < end && same_prefix(g->lits[k], cur, f->b) && (unsigned char)g->lits[k][f->b] != c) k++;
    if (k == end || !same_prefix(g->lits[k], cur, f->b)) return;
    f->a = k, f->b++;
    if (g->lits[k][f->b]) {
        emit(out, s);
        return;
    }
    int next = k + 1; /* a longer value with this one as its prefix (equal ones skipped) */
    while (next < end && !strcmp(g->lits[next], g->lits[k])) next++;
    if (next < end && same_prefix(g->lits[next], g->lits[k], f->b)) {
        gt_gstack t = *s;
        t.f[t.depth - 1].a = next;
        emit(out, &t);
    }
    if (pop_done(g, s)) emit(out, s);
}

/* A property's key as one reading over every property it may still be
 * (in schema order, from the object's next one to its first required one):
 * a is the first whose key takes the bytes so far, b the bytes matched.
 * No key is a prefix of another (each ends with ":), so on its last byte
 * the object learns which property it is. Forking per property instead
 * dropped every optional property past GT_GRAMMAR_ALTS. */
static void step_key(const gt_grammar *g, gt_gstack *s, gt_gframe *f, int c, gt_gmatch *out) {
    const gnode *n = &g->nodes[f->node];
    const char *cur = g->lits[f->a];
    int k = f->a;
    for (; k < n->first + n->n; k++) {
        if (same_prefix(g->lits[k], cur, f->b) && (unsigned char)g->lits[k][f->b] == c) break;
        if (g->req[k]) return; /* a required property is not skipped */
    }
    if (k == n->first + n->n) return;
    f->a = k, f->b++;
    if (!g->lits[k][f->b]) {
        assert(s->depth >= 2 && s->f[s->depth - 2].type == F_OBJ);
        s->f[s->depth - 2].b = k - n->first;
        if (!pop_done(g, s)) return;
    }
    emit(out, s);
}

static void step_arr(const gt_grammar *g, gt_gstack *s, gt_gframe *f, int c, gt_gmatch *out) {
    const gnode *n = &g->nodes[f->node];
    if (f->phase == 0) {
        if (c == '[') f->phase = 1, emit(out, s);
        return;
    }
    if (c == ']' && (f->phase == 1 || f->phase == 3)) {
        if (f->a >= n->min && pop_done(g, s)) emit(out, s);
        return;
    }
    if (f->phase == 3) {
        if (c == ',' && (n->max < 0 || f->a < n->max)) f->phase = 4, emit(out, s);
        return;
    }
    if ((f->phase == 1 && n->max != 0) || f->phase == 4) {
        f->phase = 2;
        if (push(s, frame(F_VALUE, g->kids[n->first], 0))) step(g, s, c, out);
    }
}

static void step_gobj(const gt_grammar *g, gt_gstack *s, gt_gframe *f, int c, gt_gmatch *out) {
    int ok = 0;
    gt_gframe key = frame(F_STR, NODE_ANY_STRING, 1);
    if (f->phase == 0)
        ok = c == '{' && (f->phase = 1);
    else if ((f->phase == 1 || f->phase == 5) && c == '}')
        ok = pop_done(g, s);
    else if (f->phase == 5 && c == ',')
        ok = (f->phase = 6);
    else if ((f->phase == 1 || f->phase == 6) && c == '"')
        ok = (f->phase = 2) && push(s, key);
    else if (f->phase == 3 && c == ':')
        ok = (f->phase = 4) && push(s, frame(F_VALUE, g->root + 1, 0));
    if (ok) emit(out, s);
}

static void step(const gt_grammar *g, gt_gstack *s, int c, gt_gmatch *out) {
    if (s->depth == 0) return; /* complete: nothing may follow */
    gt_gframe *f = &s->f[s->depth - 1];
    switch (f->type) {
    case F_VALUE: step_value(g, s, f->node, c, out); return;
    case F_LIT: {
        const char *lit = lit_text(g, f->a);
        if (lit[f->b] != c) return;
        f->b++;
        if (!lit[f->b] && !pop_done(g, s)) return;
        emit(out, s);
        return;
    }
    case F_STR: step_str(g, s, f, c, out); return;
    case F_NUM: step_num(g, s, f, c, out); return;
    case F_OBJ: step_obj(g, s, f, c, out); return;
    case F_ARR: step_arr(g, s, f, c, out); return;
    case F_ENUM: step_enum(g, s, f, c, out); return;
    case F_KEY: step_key(g, s, f, c, out); return;
    default: step_gobj(g, s, f, c, out); return;
    }
}

void gt_grammar_start(const gt_grammar *g, gt_gmatch *m) {
    m->n = 1;
    m->s[0].depth = 1;
    m->s[0].f[0] = frame(F_VALUE, g->root, 0);
}

int gt_grammar_feed(const gt_grammar *g, gt_gmatch *m, const char *b, size_t n) {
    gt_gmatch next;
    for (size_t i = 0; i < n && m->n; i++) {
        next.n = 0;
        for (int k = 0; k < m->n; k++)
            step(g, &m->s[k], (unsigned char)b[i], &next);
        m->n = next.n;
        for (int k = 0; k < next.n; k++) {
            m->s[k].depth = next.s[k].depth;
            memcpy(m->s[k].f, next.s[k].f, (size_t)next.s[k].depth * sizeof next.s[k].f[0]);
        }
    }
    return m->n;
}

void gt_grammar_copy(gt_gmatch *dst, const gt_gmatch *src) {
    dst->n = src->n;
    for (int k = 0; k < src->n; k++) {
        dst->s[k].depth = src->s[k].depth;
        memcpy(dst->s[k].f, src->s[k].f, (size_t)src->s[k].depth * sizeof src->s[k].f[0]);
    }
}

int gt_grammar_done(const gt_gmatch *m) {
    for (int k = 0; k < m->n; k++)
        if (m->s[k].depth == 0) return 1;
    return 0;
}

int gt_grammar_next(const gt_grammar *g, const gt_gmatch *m, int c, gt_gmatch *out) {
    gt_gstack t;
    out->n = 0;
    for (int k = 0; k < m->n; k++) {
        t.depth = m->s[k].depth;
        memcpy(t.f, m->s[k].f, (size_t)t.depth * sizeof t.f[0]);
        step(g, &t, c, out);
    }
    return out->n;
}

int gt_grammar_string_room(const gt_grammar *g, const gt_gmatch *m) {
    int best = -1;
    for (int k = 0; k < m->n; k++) {
        const gt_gstack *s = &m->s[k];
        if (s->depth == 0) return -1;
        const gt_gframe *f = &s->f[s->depth - 1];
        if (f->type != F_STR || f->phase != 1) return -1;
        int max = f->node != NODE_ANY_STRING && g->nodes[f->node].kind == N_STR ? g->nodes[f->node].max : -1;
        int room = max < 0 ? INT_MAX : max - f->a;
        if (room > best) best = room;
    }
    return best;
}

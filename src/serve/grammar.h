/* grammar.h: structured output. A JSON schema (a subset) or "any JSON
 * object" compiled into a byte-level matcher that says whether a text is a
 * prefix of a document the schema accepts, fed a byte at a time; the server
 * masks every token whose bytes the matcher refuses, so the output always
 * parses and validates (unless cut by max_tokens).
 *
 *   gt_grammar *g; gt_serve_error e;
 *   if (gt_grammar_compile(response_format, &g, &e)) ...400...;
 *   gt_gmatch m; gt_grammar_start(g, &m);
 *   gt_grammar_feed(g, &m, bytes, n) -> 0 when no reading survives;
 *   gt_grammar_done(&m) -> 1 when the document is complete.
 *
 * Output is compact JSON: no whitespace between tokens; object properties in
 * the schema's order (optional ones may be left out); strings of printable
 * ASCII with the escapes \" \\ \/ \b \f \n \r \t (no \u); numbers of at most
 * 15 significant digits and a two-digit exponent. Schema subset: type
 * (object, array, string, integer, number, boolean, null, or an array of
 * those), properties, required, additionalProperties, items, minItems,
 * maxItems, minLength, maxLength, enum, const, anyOf, title, description.
 * Any other keyword is refused, by name. */
#ifndef GT_SERVE_GRAMMAR_H
#define GT_SERVE_GRAMMAR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define GT_GRAMMAR_MAX_NODES 256    /* schema nodes */
#define GT_GRAMMAR_MAX_DEPTH 8      /* schema nesting (objects in arrays in ...) */
#define GT_GRAMMAR_MAX_PROPS 64     /* properties of one object */
#define GT_GRAMMAR_MAX_ENUM 64      /* values of one enum */
#define GT_GRAMMAR_MAX_LIT 256      /* bytes of one enum value or property key, as JSON */
#define GT_GRAMMAR_MAX_ITEMS 1024   /* maxItems accepted */
#define GT_GRAMMAR_MAX_LENGTH 4096  /* maxLength accepted */
/* Frames of one reading: a container at level L of the answer (the root
 * object is level 1) is frame L, so json_object output nests containers
 * holding values GT_GRAMMAR_STACK - 1 deep; one level deeper a container
 * opens and can only close (no reading dead-ends). 24 held 23 levels; 64
 * costs a reading 772 bytes (a job's mask keeps one gt_gmatch per byte of
 * the longest token). */
#define GT_GRAMMAR_STACK 64
#define GT_GRAMMAR_ALTS 16          /* readings followed at once (anyOf, enums) */

typedef struct gt_grammar gt_grammar;

/* One frame of a reading: what is being matched and how far. */
typedef struct gt_gframe {
    uint8_t type, phase;
    uint16_t node;
    int32_t a, b;                 /* per type: counts, property indexes, literal positions */
} gt_gframe;

typedef struct gt_gstack {
    int depth;
    gt_gframe f[GT_GRAMMAR_STACK];
} gt_gstack;

/* Every reading of the text so far still alive. */
typedef struct gt_gmatch {
    int n;
    gt_gstack s[GT_GRAMMAR_ALTS];
} gt_gmatch;

struct gt_serve_error;
/* Compiles response_format ({"type":"json_object"} or {"type":"json_schema",
 * "json_schema":{"name","schema",...}}); *out NULL for {"type":"text"}. */
int gt_grammar_compile(const json_t *response_format, gt_grammar **out, struct gt_serve_error *e);
void gt_grammar_free(gt_grammar *g); /* accepts NULL */
void gt_grammar_start(const gt_grammar *g, gt_gmatch *m);
/* Feeds n bytes; returns the number of readings left (0: refused; m is then
 * empty). */
int gt_grammar_feed(const gt_grammar *g, gt_gmatch *m, const char *b, size_t n);
/* Copies the live part of src. */
void gt_grammar_copy(gt_gmatch *dst, const gt_gmatch *src);
/* 1 when some reading has matched a whole document. */
int gt_grammar_done(const gt_gmatch *m);
/* out = m fed the one byte c (m unchanged); returns out's readings. */
int gt_grammar_next(const gt_grammar *g, const gt_gmatch *m, int c, gt_gmatch *out);
/* When every reading of m is inside a string's characters (after its
 * opening quote, not in an escape): the most plain characters (printable
 * ASCII but " and \) any of them still takes (INT_MAX: no maxLength), so a
 * text of n plain characters continues m exactly when n <= that. -1 when
 * some reading is elsewhere (or m is empty). */
int gt_grammar_string_room(const gt_grammar *g, const gt_gmatch *m);
/* Whether c is a plain string character (as gt_grammar_string_room counts). */
static inline int gt_grammar_plain(int c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'; }

#endif

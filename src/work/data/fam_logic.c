/* fam_logic.c: the "logic" family: the truth value of a boolean formula over
 * 2..4 named values, with and, or, xor and not, nested up to depth 3 and
 * fully parenthesised (no precedence rules to argue about); difficulty
 * level d (1..3) nests up to depth d. The checker
 * takes the last true/false/yes/no word of the answer (any case). A worked
 * solution restates the values ("A1 B0"), writes the formula with each
 * variable's value after its letter ("(A1 or not B0)"), then reduces it
 * one pass a line (every "not x" and "(x op y)" of single values at once)
 * down to one value: a few short steps instead of a whole formula at once. */
#include <stdio.h>
#include <string.h>

#include "work/data/families_impl.h"

#define LOGIC_MAX_VARS 4

typedef struct logic_gen {
    gt_rng *r;
    int nvars, vals[LOGIC_MAX_VARS];
    char *out;
    size_t cap, off;
} logic_gen;

/* Writes a random formula of at most `depth` levels and returns its value. */
static int formula(logic_gen *g, int depth) {
    uint64_t pick = depth <= 0 ? 0 : gt_rng_below(g->r, 4);
    if (pick == 0) { /* a variable */
        int v = (int)gt_rng_below(g->r, (uint64_t)g->nvars);
        fam_cat(g->out, g->cap, &g->off, "%c", 'A' + v);
        return g->vals[v];
    }
    if (pick == 1) { /* not */
        fam_cat(g->out, g->cap, &g->off, "not ");
        int inner_paren = gt_rng_below(g->r, 2) && depth > 1;
        if (inner_paren) {
            fam_cat(g->out, g->cap, &g->off, "(");
            int a = formula(g, depth - 1);
            int b;
            static const char *ops[] = {"and", "or", "xor"};
            int op = (int)gt_rng_below(g->r, 3);
            fam_cat(g->out, g->cap, &g->off, " %s ", ops[op]);
            b = formula(g, depth - 2);
            fam_cat(g->out, g->cap, &g->off, ")");
            return !(op == 0 ? a && b : op == 1 ? a || b : a != b);
        }
        int v = (int)gt_rng_below(g->r, (uint64_t)g->nvars);
        fam_cat(g->out, g->cap, &g->off, "%c", 'A' + v);
        return !g->vals[v];
    }
    static const char *ops[] = {"and", "or", "xor"};
    int op = (int)(pick - 2 + gt_rng_below(g->r, 2)) % 3; /* 2,3 -> and/or/xor, evenly enough */
    fam_cat(g->out, g->cap, &g->off, "(");
    int a = formula(g, depth - 1);
    fam_cat(g->out, g->cap, &g->off, " %s ", ops[op]);
    int b = formula(g, depth - 1);
    fam_cat(g->out, g->cap, &g->off, ")");
    return op == 0 ? a && b : op == 1 ? a || b : a != b;
}

static void logic_generate(gt_rng *r, gt_family_item *it) {
    logic_gen g = {.r = r, .nvars = (int)gt_rng_range(r, 2, LOGIC_MAX_VARS)};
    char f[GT_FAMILY_QUESTION_MAX / 2];
    g.out = f, g.cap = sizeof f, g.off = 0;
    f[0] = 0;
    for (int i = 0; i < g.nvars; i++) g.vals[i] = (int)gt_rng_below(r, 2);
    int depth = it->level ? it->level : (int)gt_rng_range(r, 2, 3);
    int val = formula(&g, depth);
    size_t off = 0;
    fam_cat(it->question, sizeof it->question, &off, "Let ");
    for (int i = 0; i < g.nvars; i++)
        fam_cat(it->question, sizeof it->question, &off, "%s%c = %s", i ? ", " : "", 'A' + i,
                g.vals[i] ? "true" : "false");
    fam_cat(it->question, sizeof it->question, &off, ". Is %s true or false?", f);
    snprintf(it->answer, sizeof it->answer, "%s", val ? "true" : "false");
    snprintf(it->meta, sizeof it->meta, "{\"vars\":%d,\"depth\":%d}", g.nvars, depth);
}

static void logic_check(const gt_family_item *it, const char *ans, size_t n, int marked, gt_verdict *v) {
    (void)marked;
    int last = -1; /* 1 true, 0 false */
    size_t i = 0;
    while (i < n) {
        int c = (unsigned char)ans[i] | 32;
        if (!(c >= 'a' && c <= 'z')) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && (((unsigned char)ans[j] | 32) >= 'a' && ((unsigned char)ans[j] | 32) <= 'z')) j++;
        char w[8];
        size_t wl = j - i;
        if (wl < sizeof w) {
            for (size_t q = 0; q < wl; q++) w[q] = (char)(ans[i + q] | 32);
            w[wl] = 0;
            if (!strcmp(w, "true") || !strcmp(w, "yes")) last = 1;
            else if (!strcmp(w, "false") || !strcmp(w, "no")) last = 0;
        }
        i = j;
    }
    if (last < 0) return fam_verdict(v, 0, "no true/false in the answer");
    int want = !strcmp(it->answer, "true");
    if (last == want) return fam_verdict(v, 1, "correct");
    fam_verdict(v, 0, "expected %s, got %s", it->answer, last ? "true" : "false");
}

static int logic_distract(const gt_family_item *it, gt_rng *r, char (*out)[GT_FAMILY_ANSWER_MAX], int k) {
    (void)r;
    if (k < 1) return 0;
    snprintf(out[0], GT_FAMILY_ANSWER_MAX, "%s", strcmp(it->answer, "true") ? "true" : "false");
    return 1;
}

/* --- worked solutions: the formula reduced a pass at a time ------------------ */

enum { LT_F, LT_T, LT_NOT, LT_AND, LT_OR, LT_XOR, LT_LP, LT_RP };
#define LOGIC_MAX_TOKENS 128

/* The formula of a question this file wrote ("Let A = true, .... Is F true
 * or false?") as tokens, values substituted; the count, or -1 when it does
 * not read as one (not outside input: the question is regenerated). */
static int logic_tokens(const char *q, int *tok, char *names) {
    int vals[LOGIC_MAX_VARS] = {0}, n = 0;
    const char *is = strstr(q, ". Is "), *end = strstr(q, " true or false?");
    if (!is || !end) return -1;
    for (const char *c = q; c < is; c++)
        if (*c >= 'A' && *c < 'A' + LOGIC_MAX_VARS && c[1] == ' ' && c[2] == '=') vals[*c - 'A'] = c[4] == 't';
    for (const char *c = is + 5; c < end && n < LOGIC_MAX_TOKENS; c++) {
        if (*c == ' ') continue;
        names[n] = 0;
        if (*c >= 'A' && *c < 'A' + LOGIC_MAX_VARS) names[n] = *c, tok[n++] = vals[*c - 'A'];
        else if (*c == '(') tok[n++] = LT_LP;
        else if (*c == ')') tok[n++] = LT_RP;
        else if (!strncmp(c, "not", 3)) tok[n++] = LT_NOT, c += 2;
        else if (!strncmp(c, "and", 3)) tok[n++] = LT_AND, c += 2;
        else if (!strncmp(c, "xor", 3)) tok[n++] = LT_XOR, c += 2;
        else if (!strncmp(c, "or", 2)) tok[n++] = LT_OR, c += 1;
        else return -1;
    }
    return n;
}

/* One pass: every "not v" and "(v op w)" of values becomes its value. */
static int logic_reduce(const int *t, int n, int *out) {
    int m = 0;
    for (int i = 0; i < n;) {
        if (t[i] == LT_NOT && i + 1 < n && t[i + 1] <= LT_T) out[m++] = !t[i + 1], i += 2;
        else if (t[i] == LT_LP && i + 4 < n && t[i + 1] <= LT_T && t[i + 2] >= LT_AND && t[i + 2] <= LT_XOR &&
                 t[i + 3] <= LT_T && t[i + 4] == LT_RP) {
            int a = t[i + 1], b = t[i + 3], op = t[i + 2];
            out[m++] = op == LT_AND ? a && b : op == LT_OR ? a || b : a != b;
            i += 5;
        } else out[m++] = t[i++];
    }
    return m;
}

/* Writes tokens as "not (1 and 0)" and a newline; with names (not NULL),
 * each value after its variable's letter: "not (A1 and B0)". */
static void logic_line(char *out, size_t cap, size_t *off, const int *t, int n, const char *names) {
    static const char *const text[] = {"0", "1", "not", "and", "or", "xor", "(", ")"};
    for (int i = 0; i < n; i++)
        fam_cat(out, cap, off, "%s%.*s%s", i && t[i - 1] != LT_LP && t[i] != LT_RP ? " " : "",
                names && names[i] ? 1 : 0, names ? names + i : "", text[t[i]]);
    fam_cat(out, cap, off, "\n");
}

/* The values of a question this file wrote, restated as "A1 B0 C1" and a
 * newline. The next line writes each variable's letter before its value
 * ("(B1 or A0)"), so the value is what followed that letter here: a lookup
 * of one token back (reading "B = false" out of the question's prose was the
 * earlier format's most common miss). */
static void logic_values(const char *q, char *out, size_t cap, size_t *off) {
    const char *is = strstr(q, ". Is ");
    int first = 1;
    for (const char *c = q; is && c < is; c++)
        if (*c >= 'A' && *c < 'A' + LOGIC_MAX_VARS && c[1] == ' ' && c[2] == '=')
            fam_cat(out, cap, off, "%s%c%d", first ? "" : " ", *c, c[4] == 't'), first = 0;
    fam_cat(out, cap, off, "\n");
}

static int logic_scratchpad(const gt_family_item *it, char *out, size_t cap) {
    int a[LOGIC_MAX_TOKENS], b[LOGIC_MAX_TOKENS];
    char names[LOGIC_MAX_TOKENS];
    int n = logic_tokens(it->question, a, names);
    size_t off = 0;
    out[0] = 0;
    if (n <= 0) return -1;
    logic_values(it->question, out, cap, &off);
    logic_line(out, cap, &off, a, n, names);
    if (n == 1) logic_line(out, cap, &off, a, n, NULL); /* "B1", then its value alone */
    while (n > 1) {
        int m = logic_reduce(a, n, b);
        if (m == n) return -1; /* no progress: not a formula this file writes */
        memcpy(a, b, sizeof(int) * (size_t)m), n = m;
        logic_line(out, cap, &off, a, n, NULL);
    }
    fam_cat(out, cap, &off, "Answer: %s", it->answer);
    return off + 1 >= cap || a[0] != !strcmp(it->answer, "true") ? -1 : 0;
}

const gt_family gt_family_logic = {
    "logic", "truth value of a boolean formula (and, or, xor, not)", "true or false",
    logic_generate, logic_check, logic_distract, 1, 3, logic_scratchpad,
};

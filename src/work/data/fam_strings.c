/* fam_strings.c: the "strings" family: one transformation of a short string:
 * reverse, uppercase, lowercase, rot13, drop the vowels, swap case. The input
 * is a common word or 5..10 random letters, in mixed case for the
 * case-changing operations. The checker compares the extracted answer with
 * the exact result, byte for byte (case matters). */
#include <stdio.h>
#include <string.h>

#include "work/data/families_impl.h"

#define STR_MAX 16

enum { OP_REVERSE, OP_UPPER, OP_LOWER, OP_ROT13, OP_NOVOWELS, OP_SWAPCASE, N_OPS };
static const char *const op_text[N_OPS] = {
    "Reverse the string", "Convert to uppercase the string", "Convert to lowercase the string",
    "Apply rot13 to the string", "Remove every vowel (a, e, i, o, u, either case) from the string",
    "Swap the case of every letter of the string",
};
static const char *const op_name[N_OPS] = {"reverse", "upper", "lower", "rot13", "novowels", "swapcase"};

static int is_vowel(int c) { return strchr("aeiouAEIOU", c) != NULL && c; }

static void apply(int op, const char *in, char *out) {
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        switch (op) {
        case OP_REVERSE: out[o++] = in[n - 1 - i]; break;
        case OP_UPPER: out[o++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c); break;
        case OP_LOWER: out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); break;
        case OP_ROT13:
            if (c >= 'a' && c <= 'z') c = 'a' + (c - 'a' + 13) % 26;
            else if (c >= 'A' && c <= 'Z') c = 'A' + (c - 'A' + 13) % 26;
            out[o++] = (char)c;
            break;
        case OP_NOVOWELS:
            if (!is_vowel(c)) out[o++] = (char)c;
            break;
        default: /* OP_SWAPCASE */
            out[o++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    out[o] = 0;
}

typedef struct str_params {
    int op;
    char in[STR_MAX];
} str_params;

static void draw(gt_rng *r, str_params *p) {
    p->op = (int)gt_rng_below(r, N_OPS);
    if (gt_rng_below(r, 2)) {
        snprintf(p->in, sizeof p->in, "%s", fam_words[gt_rng_below(r, (uint64_t)fam_n_words)]);
    } else {
        int n = (int)gt_rng_range(r, 5, 10);
        for (int i = 0; i < n; i++) p->in[i] = (char)('a' + gt_rng_below(r, 26));
        p->in[n] = 0;
    }
    /* Case-changing operations get mixed-case input, or they would be no-ops. */
    if (p->op == OP_LOWER || p->op == OP_SWAPCASE || p->op == OP_ROT13) {
        int any = 0;
        for (char *c = p->in; *c; c++)
            if (gt_rng_below(r, 2)) *c = (char)(*c - 32), any = 1;
        if (!any || p->op == OP_LOWER) p->in[0] = (char)(p->in[0] >= 'a' ? p->in[0] - 32 : p->in[0]);
    }
    /* Removing vowels from a word with none would be a no-op too. */
    if (p->op == OP_NOVOWELS && !strpbrk(p->in, "aeiou")) p->in[0] = 'a';
    /* ... and one of only vowels would leave nothing. */
    if (p->op == OP_NOVOWELS && !strpbrk(p->in, "bcdfghjklmnpqrstvwxyz")) p->in[1] = 'x';
}

static void strings_generate(gt_rng *r, gt_family_item *it) {
    str_params p;
    draw(r, &p);
    snprintf(it->question, sizeof it->question, "%s \"%s\".", op_text[p.op], p.in);
    apply(p.op, p.in, it->answer);
    snprintf(it->meta, sizeof it->meta, "{\"op\":\"%s\",\"input\":\"%s\"}", op_name[p.op], p.in);
}

static void strings_check(const gt_family_item *it, const char *ans, size_t n, int marked, gt_verdict *v) {
    (void)marked;
    size_t wl = strlen(it->answer);
    if (n == wl && !memcmp(ans, it->answer, n)) return fam_verdict(v, 1, "correct");
    fam_verdict(v, 0, "expected \"%s\", got \"%.*s\"", it->answer, (int)(n < 40 ? n : 40), ans);
}

static int strings_distract(const gt_family_item *it, gt_rng *r, char (*out)[GT_FAMILY_ANSWER_MAX], int k) {
    (void)r; /* the wrong answers are the other operations: no choice to make */
    str_params p;
    gt_rng ir;
    fam_item_rng(it, &ir);
    draw(&ir, &p);
    int got = 0;
    for (int op = 0; op < N_OPS && got < k; op++) {
        char buf[STR_MAX];
        apply((p.op + 1 + op) % N_OPS, p.in, buf);
        int dup = !strcmp(buf, it->answer) || !buf[0];
        for (int j = 0; j < got && !dup; j++) dup = !strcmp(out[j], buf);
        if (!dup) snprintf(out[got++], GT_FAMILY_ANSWER_MAX, "%s", buf);
    }
    return got;
}

/* "spell: a b c\n<step>: x y z\nAnswer: xyz": the input spelt out, then
 * the result letter by letter in the input's places (reverse: from the last;
 * novowels: "-" for each dropped vowel, so every letter keeps its place). */
static int strings_scratchpad(const gt_family_item *it, char *out, size_t cap) {
    static const char *const step[N_OPS] = {"back", "map", "map", "map", "keep", "map"};
    str_params p;
    gt_rng r;
    fam_item_rng(it, &r);
    draw(&r, &p);
    size_t off = 0, n = strlen(p.in);
    out[0] = 0;
    fam_cat(out, cap, &off, "spell:");
    for (size_t i = 0; i < n; i++) fam_cat(out, cap, &off, " %c", p.in[i]);
    fam_cat(out, cap, &off, "\n%s:", step[p.op]);
    for (size_t i = 0; i < n; i++) {
        char one[2] = {p.in[p.op == OP_REVERSE ? n - 1 - i : i], 0}, mapped[2];
        apply(p.op == OP_REVERSE ? OP_LOWER : p.op, one, mapped);
        if (p.op == OP_REVERSE) mapped[0] = one[0]; /* reverse keeps each letter as it is */
        fam_cat(out, cap, &off, " %c", mapped[0] ? mapped[0] : '-');
    }
    fam_cat(out, cap, &off, "\nAnswer: %s", it->answer);
    return off + 1 >= cap ? -1 : 0;
}

const gt_family gt_family_strings = {
    "strings", "string transformations (reverse, case, rot13, drop vowels)", "the resulting string",
    strings_generate, strings_check, strings_distract, 0, 0, strings_scratchpad,
};

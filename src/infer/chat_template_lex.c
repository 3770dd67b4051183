/* chat_template_lex.c: the chat template's lexer: text, {{ }} / {% %} tags
 * with their whitespace control, and comments, into tokens
 * (chat_template_lex.h). */
#include "infer/chat_template_lex.h"

#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

/* Line and column (1-based) of byte offset at, counted on from the last
 * position asked for (lx's memo), or from the start when at is before it. */
static void line_col(lexer *lx, size_t at, int *line, int *col) {
    assert(at <= lx->len);
    if (!lx->lc_line || at < lx->lc_at) lx->lc_at = 0, lx->lc_line = 1, lx->lc_col = 1;
    int l = lx->lc_line, c = lx->lc_col;
    for (size_t i = lx->lc_at; i < at; i++) {
        if (lx->src[i] == '\n') l++, c = 1;
        else c++;
    }
    lx->lc_at = at, lx->lc_line = l, lx->lc_col = c;
    *line = l, *col = c;
}

static int lex_fail(lexer *lx, size_t at, const char *what) {
    int line, col;
    line_col(lx, at, &line, &col);
    return gt_err_set(lx->err, GT_EINVAL, "chat template %d:%d: %s", line, col, what);
}

/* Appends a token of kind at offset at; its string (if any) is s[0..n). */
static token *push_tok(lexer *lx, tk_kind kind, size_t at, const char *s, size_t n) {
    if (lx->n == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 256;
        token *t = gt_realloc(lx->toks, cap * sizeof *t);
        if (!t) return NULL;
        lx->toks = t, lx->cap = cap;
    }
    token *t = &lx->toks[lx->n];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    line_col(lx, at, &t->line, &t->col);
    if (s) {
        if (!(t->s = gt_strndup(s, n))) return NULL;
        t->len = n;
    }
    lx->n++;
    return t;
}

/* Emits the text src[a..b) with the whitespace rules applied: strip_all_left
 * (after a "-" close), trim_nl (trim_blocks: one newline after a block tag);
 * the tag that starts at b, if any, strips the right end ("-", or
 * lstrip_blocks for "{%" and "{#"). */
static int lex_text(lexer *lx, size_t a, size_t b, int strip_all_left, int trim_nl) {
    const char *s = lx->src;
    if (strip_all_left)
        while (a < b && isspace((unsigned char)s[a])) a++;
    else if (trim_nl && a < b && s[a] == '\n') a++;
    else if (trim_nl && a + 1 < b && s[a] == '\r' && s[a + 1] == '\n') a += 2;
    if (b < lx->len) {
        char kind = s[b + 1], ctl = s[b + 2];
        if (ctl == '-') {
            while (b > a && isspace((unsigned char)s[b - 1])) b--;
        } else if ((kind == '%' || kind == '#') && ctl != '+') { /* lstrip_blocks */
            size_t w = b;
            while (w > a && (s[w - 1] == ' ' || s[w - 1] == '\t')) w--;
            if (w == 0 || s[w - 1] == '\n') b = w;
        }
    }
    if (a == b) return 0;
    return push_tok(lx, TK_TEXT, a, s + a, b - a) ? 0 : GT_ENOMEM;
}

/* Reads a quoted string at lx->pos into a TK_STR, with Python's escapes. */
static int lex_string(lexer *lx) {
    size_t start = lx->pos;
    char q = lx->src[lx->pos++];
    gt_buf b = GT_BUF_INIT;
    int rc = 0;
    while (rc == 0) {
        if (lx->pos >= lx->len) {
            gt_buf_free(&b);
            return lex_fail(lx, start, "string not closed");
        }
        char c = lx->src[lx->pos++];
        if (c == q) break;
        if (c == '\\' && lx->pos < lx->len) {
            char e = lx->src[lx->pos++];
            const char *from = "ntr\\'\"bf0", *to = "\n\t\r\\'\"\b\f";
            const char *hit = strchr(from, e);
            if (hit && e != '0') c = to[hit - from];
            else if (e == '0') c = 0;
            else if ((rc = gt_buf_putc(&b, '\\'))) break;
            else c = e;
        }
        rc = gt_buf_putc(&b, (uint8_t)c);
    }
    token *t = rc ? NULL : push_tok(lx, TK_STR, start, b.data ? (const char *)b.data : "", b.len);
    gt_buf_free(&b);
    return t ? 0 : GT_ENOMEM;
}

/* Reads one token inside a tag; *end set when the tag's end (end_mark,
 * maybe after '-') is reached, *strip when it was "-". */
static int lex_one(lexer *lx, const char *end_mark, int *end, int *strip) {
    const char *s = lx->src;
    size_t p = lx->pos;
    if (s[p] == '-' && !strncmp(s + p + 1, end_mark, 2)) return lx->pos = p + 3, *end = 1, *strip = 1, 0;
    if (!strncmp(s + p, end_mark, 2)) return lx->pos = p + 2, *end = 1, *strip = 0, 0;
    if (s[p] == '\'' || s[p] == '"') return lex_string(lx);
    if (isalpha((unsigned char)s[p]) || s[p] == '_') {
        size_t q = p;
        while (q < lx->len && (isalnum((unsigned char)s[q]) || s[q] == '_')) q++;
        lx->pos = q;
        return push_tok(lx, TK_NAME, p, s + p, q - p) ? 0 : GT_ENOMEM;
    }
    if (isdigit((unsigned char)s[p])) {
        char *e;
        long long v = strtoll(s + p, &e, 10);
        token *t;
        if (*e == '.' && isdigit((unsigned char)e[1])) {
            double f = strtod(s + p, &e);
            if (!(t = push_tok(lx, TK_FLOAT, p, NULL, 0))) return GT_ENOMEM;
            t->f = f;
        } else {
            if (!(t = push_tok(lx, TK_INT, p, NULL, 0))) return GT_ENOMEM;
            t->i = v;
        }
        lx->pos = (size_t)(e - s);
        return 0;
    }
    static const char *two[] = {"==", "!=", "<=", ">=", "//", "**"};
    for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
        if (!strncmp(s + p, two[i], 2)) {
            token *t = push_tok(lx, TK_OP, p, NULL, 0);
            if (!t) return GT_ENOMEM;
            memcpy(t->op, two[i], 3);
            lx->pos = p + 2;
            return 0;
        }
    if (!strchr("+-*/%~<>()[]{},.:|=", s[p]) || !s[p]) return lex_fail(lx, p, "unexpected character in a tag");
    token *t = push_tok(lx, TK_OP, p, NULL, 0);
    if (!t) return GT_ENOMEM;
    t->op[0] = s[p];
    lx->pos = p + 1;
    return 0;
}

/* Tokenizes one {{ }} or {% %} tag starting at lx->pos (at its "{").
 * *strip_after: the tag ended with "-". */
static int lex_tag(lexer *lx, int is_block, int *strip_after) {
    size_t open = lx->pos;
    lx->pos += 2;
    if (lx->pos < lx->len && (lx->src[lx->pos] == '-' || lx->src[lx->pos] == '+')) lx->pos++;
    if (!push_tok(lx, is_block ? TK_BLOCK_BEGIN : TK_VAR_BEGIN, open, NULL, 0)) return GT_ENOMEM;
    const char *end_mark = is_block ? "%}" : "}}";
    for (int end = 0; !end;) {
        while (lx->pos < lx->len && isspace((unsigned char)lx->src[lx->pos])) lx->pos++;
        if (lx->pos >= lx->len) return lex_fail(lx, open, is_block ? "'{%' not closed" : "'{{' not closed");
        int rc = lex_one(lx, end_mark, &end, strip_after);
        if (rc) return rc;
    }
    return push_tok(lx, is_block ? TK_BLOCK_END : TK_VAR_END, lx->pos, NULL, 0) ? 0 : GT_ENOMEM;
}

/* Splits the whole source into tokens (text, tags and their contents). */
int gt_ct_lex(lexer *lx) {
    int strip_all = 0, trim_nl = 0;
    while (lx->pos <= lx->len) {
        size_t at = lx->pos;
        while (at + 1 < lx->len && !(lx->src[at] == '{' && strchr("{%#", lx->src[at + 1]))) at++;
        if (at + 1 >= lx->len) at = lx->len;
        int rc = lex_text(lx, lx->pos, at, strip_all, trim_nl);
        if (rc) return rc;
        if (at == lx->len) break;
        char kind = lx->src[at + 1];
        lx->pos = at;
        int strip = 0;
        if (kind == '#') {
            const char *close = strstr(lx->src + at + 2, "#}");
            if (!close) return lex_fail(lx, at, "comment '{#' not closed");
            strip = close > lx->src + at + 2 && close[-1] == '-';
            lx->pos = (size_t)(close - lx->src) + 2;
        } else if ((rc = lex_tag(lx, kind == '%', &strip))) {
            return rc;
        }
        strip_all = strip;
        trim_nl = kind != '{';
    }
    return push_tok(lx, TK_EOF, lx->len, NULL, 0) ? 0 : GT_ENOMEM;
}

/* Frees the tokens' strings and their array. */
void gt_ct_lex_free(lexer *lx) {
    for (size_t i = 0; i < lx->n; i++) gt_free(lx->toks[i].s);
    gt_free(lx->toks);
}

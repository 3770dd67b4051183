/* chat_template_lex.h: the chat template's tokens and the lexer that makes
 * them (chat_template_lex.c), shared with the parser (chat_template.c) only. */
#ifndef GT_INFER_CHAT_TEMPLATE_LEX_H
#define GT_INFER_CHAT_TEMPLATE_LEX_H

#include <stddef.h>

#include "base/err.h"

typedef enum tk_kind { TK_TEXT, TK_VAR_BEGIN, TK_VAR_END, TK_BLOCK_BEGIN, TK_BLOCK_END, TK_NAME, TK_STR, TK_INT,
                       TK_FLOAT, TK_OP, TK_EOF } tk_kind;

typedef struct token {
    tk_kind kind;
    int line, col;
    char *s;        /* TEXT, NAME, STR: owned, NUL-terminated */
    size_t len;
    long long i;
    double f;
    char op[3];
} token;

typedef struct lexer {
    const char *src;
    size_t len, pos;
    token *toks;
    size_t n, cap;
    gt_err *err;
    /* line_col's memo: the line and column of byte lc_at. Tokens come in
     * source order, so each position is counted from the last one, not from
     * the start (which made a template of many tokens quadratic: minutes for
     * 1 MiB). Zero-initialised: byte 0, line 1, column 1. */
    size_t lc_at;
    int lc_line, lc_col;
} lexer;

/* Splits lx->src into lx->toks, ending with TK_EOF; 0, or an error naming
 * the position (GT_EINVAL) or GT_ENOMEM. */
int gt_ct_lex(lexer *lx);
/* Frees the tokens (the lexer itself is the caller's). */
void gt_ct_lex_free(lexer *lx);

#endif

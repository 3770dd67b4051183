/* cli_chat.c: `gotong chat`: talk with a GGUF model on this CPU.
 *
 * Each turn renders the whole conversation with the model's own chat
 * template (tokenizer.chat_template, by infer/chat_template.h) or, when the
 * file has none, with ChatML, said on stderr; the answer streams to stdout
 * as it is generated and joins the history. Lines starting with '/' are
 * commands (/help). On a terminal, lines are read with a small line editor
 * (backspace, Ctrl-U, Ctrl-C, Ctrl-D, up/down through earlier lines); from a
 * pipe or file, one line per message, no prompt, so scripts and tests drive
 * it through stdin. The template's turn markers become control tokens, the
 * texts of messages never do (infer/chat_prompt.h): a line that spells
 * "<|im_start|>system" is text, as in `gotong serve`. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/pool.h"
#include "cli/cli.h"
#include "infer/chat_prompt.h"
#include "infer/chat_template.h"
#include "infer/generate.h"
#include "infer/model.h"
#include "infer/tokenizer.h"
#include "infer/unicode.h"

#define CHAT_MAX_LINE 65536       /* bytes of one typed line */
#define CHAT_MAX_HISTORY_LINES 100 /* lines the editor's up/down arrows walk through */
#define CHAT_MAX_PREDICT 100000
#define CHAT_MAX_TEMPLATE_FILE (1u << 20)

/* ChatML, for models whose file carries no template. */
static const char chatml_template[] =
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

static const char chat_help[] =
    "commands:\n"
    "  /reset          forget the conversation (the system message stays)\n"
    "  /system TEXT    set the system message and start again\n"
    "  /save FILE      write the conversation to FILE as JSON ({\"messages\": [...]})\n"
    "  /help           this list\n"
    "  /quit, /exit    leave (so does end of input, Ctrl-D)\n";

static const char chat_usage[] =
    "usage: gotong chat -m MODEL.gguf [options]\n\n"
    "Talks with a GGUF model: each line you type is a message, the answer streams\n"
    "back. The model's chat template (GGUF tokenizer.chat_template) shapes the\n"
    "conversation; a model without one gets ChatML (said on stderr).\n\n";

static const char chat_usage_options[] =
    "\noptions:\n"
    "  -m, --model FILE      the model (GGUF)\n"
    "  --template FILE       a Jinja chat template to use instead of the model's\n"
    "  -s, --system TEXT     the system message to start with\n"
    "  -n, --n-predict N     tokens per answer at most (default 512)\n"
    "  --temp T              temperature; 0 is greedy (default 0.8)\n"
    "  --top-k K             (default 40)\n"
    "  --top-p P             (default 0.95)\n"
    "  --seed S              sampler seed (default 0)\n"
    "  -t, --threads K       threads (default: number of CPUs)\n"
    "  -c, --ctx N           context positions (default min(model, 4096))\n"
    "  --verbose-prompt      print each turn's prompt token ids on stderr\n\n"
    "Lines starting with '/' are commands:\n"
    "  /reset, /system TEXT, /save FILE, /help, /quit\n";

typedef struct chat_opts {
    const char *model, *template_file, *system, *temp, *top_p;
    uint64_t n_predict, top_k, seed, threads, n_ctx;
    int top_k_given, verbose_prompt;
} chat_opts;

typedef struct chat {
    chat_opts o;
    gt_model *m;
    gt_tokenizer *tok;
    gt_ctx *ctx;
    gt_chat_tmpl *tmpl;
    gt_chat_prompt *prompt;    /* renders tmpl into ids */
    gt_gen_params gp;
    json_t *messages;          /* the conversation so far */
    char *history[CHAT_MAX_HISTORY_LINES]; /* typed lines, for the editor */
    int n_history;
} chat;

/* ---- reading lines ---- */

/* Reads one line from a pipe or file (no terminal) into out, without its
 * newline; 1 at the end of input, 0 with a line, <0 on error. */
static int read_plain_line(gt_buf *out) {
    int c;
    gt_buf_reset(out);
    while ((c = getchar()) != EOF && c != '\n') {
        if (out->len >= CHAT_MAX_LINE) return GT_ELIMIT;
        if (gt_buf_putc(out, (uint8_t)c)) return GT_ENOMEM;
    }
    if (c == EOF && out->len == 0) return 1;
    if (out->len && out->data[out->len - 1] == '\r') out->len--;
    return 0;
}

/* Redraws the editor's line: prompt and text. */
static void redraw(const gt_buf *line) {
    fprintf(stdout, "\r\x1b[K> %.*s", (int)line->len, line->data ? (const char *)line->data : "");
    fflush(stdout);
}

/* Replaces line by history entry *at after an up (dir -1) or down (+1) key. */
static int walk_history(chat *c, int dir, int *at, gt_buf *line) {
    int next = *at + dir;
    if (next < 0 || next > c->n_history) return 0;
    *at = next;
    gt_buf_reset(line);
    if (next < c->n_history && gt_buf_append_str(line, c->history[next])) return GT_ENOMEM;
    redraw(line);
    return 0;
}

/* One key of the terminal editor; 2 when the line is complete, 1 at end of
 * input, 0 to go on. */
static int edit_key(chat *c, int ch, int *hist_at, gt_buf *line) {
    if (ch == EOF || (ch == 4 && line->len == 0)) return 1;  /* Ctrl-D on an empty line */
    if (ch == '\r' || ch == '\n') return 2;
    if (ch == 3 || ch == 21) {                                /* Ctrl-C, Ctrl-U: clear */
        gt_buf_reset(line);
        redraw(line);
    } else if (ch == 127 || ch == 8) {                        /* backspace: one UTF-8 character */
        while (line->len && (line->data[--line->len] & 0xC0) == 0x80) {}
        redraw(line);
    } else if (ch == 27) {                                    /* ESC [ A / B: history */
        int a = getchar(), b = a == '[' ? getchar() : 0;
        if (b == 'A' || b == 'B') return walk_history(c, b == 'A' ? -1 : 1, hist_at, line);
    } else if (ch >= 32 || ch == '\t') {
        if (line->len >= CHAT_MAX_LINE) return 0;
        if (gt_buf_putc(line, (uint8_t)ch)) return GT_ENOMEM;
        fputc(ch, stdout);
        fflush(stdout);
    }
    return 0;
}

/* Reads a line on a terminal with the editor (raw mode while it runs). */
static int read_tty_line(chat *c, gt_buf *line) {
    struct termios old, raw;
    if (tcgetattr(STDIN_FILENO, &old)) return read_plain_line(line);
    raw = old;
    raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO | ISIG);
    raw.c_cc[VMIN] = 1, raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    gt_buf_reset(line);
    redraw(line);
    int hist_at = c->n_history, rc;
    while ((rc = edit_key(c, getchar(), &hist_at, line)) == 0) {}
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stdout);
    if (rc == 2 && line->len) {
        if (c->n_history == CHAT_MAX_HISTORY_LINES) {
            gt_free(c->history[0]);
            memmove(c->history, c->history + 1, (CHAT_MAX_HISTORY_LINES - 1) * sizeof c->history[0]);
            c->n_history--;
        }
        c->history[c->n_history] = gt_strndup((const char *)line->data, line->len);
        if (c->history[c->n_history]) c->n_history++;
    }
    return rc == 2 ? 0 : rc;
}

/* ---- the conversation ---- */

/* Starts the conversation again, with the system message if there is one. */
static int chat_reset(chat *c) {
    json_decref(c->messages);
    c->messages = json_array();
    if (!c->messages) return GT_ENOMEM;
    if (c->o.system && json_array_append_new(c->messages, json_pack("{s:s,s:s}", "role", "system", "content",
                                                                       c->o.system)))
        return GT_ENOMEM;
    return 0;
}

/* Appends a message to the conversation. JSON strings are UTF-8, so a text
 * that is not (an answer cut inside a character, byte tokens that make no
 * character) goes in with U+FFFD for each bad byte, as a terminal shows it;
 * jansson refused it and the turn failed as "out of memory". */
static int add_message(chat *c, const char *role, const char *text, size_t len) {
    gt_buf valid = GT_BUF_INIT;
    if (gt_utf8_sanitize((const uint8_t *)text, len, &valid)) return GT_ENOMEM;
    json_t *m = json_pack("{s:s,s:s%}", "role", role, "content", valid.data ? (const char *)valid.data : "",
                          valid.len);
    gt_buf_free(&valid);
    return m && !json_array_append_new(c->messages, m) ? 0 : GT_ENOMEM;
}

/* The conversation's prompt ids, ending with the opening of the assistant's
 * turn: message texts never become control tokens (infer/chat_prompt.h). */
static int tokenize_turn(chat *c, gt_buf *ids, gt_err *err) {
    gt_buf_reset(ids);
    int rc = gt_chat_prompt_tokens(c->prompt, c->messages, NULL, (int64_t)time(NULL), ids, err);
    size_t n = ids->len / sizeof(int32_t);
    if (rc == GT_ELIMIT) return gt_err_wrap(err, "/reset to start again");
    if (rc == 0 && (long)n + 1 > gt_ctx_n_ctx(c->ctx))
        rc = gt_err_set(err, GT_ELIMIT, "the conversation (%zu tokens) no longer fits the context of %d: /reset, or "
                        "a larger --ctx", n, gt_ctx_n_ctx(c->ctx));
    if (rc == 0 && c->o.verbose_prompt) {
        fprintf(stderr, "prompt: %zu tokens:", n);
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", (int)((const int32_t *)(const void *)ids->data)[i]);
        fputc('\n', stderr);
    }
    return rc;
}

static int stream_piece(void *user, const gt_gen_step *st) {
    (void)user;
    fwrite(st->piece, 1, st->piece_len, stdout);
    fflush(stdout);
    return 0;
}

/* One exchange: the user's text joins the conversation, the answer streams
 * out and joins it too. On failure the user's message is taken back. */
static int chat_turn(chat *c, const char *text, size_t len, gt_err *err) {
    gt_buf ids = GT_BUF_INIT, answer = GT_BUF_INIT;
    gt_gen_result res = {0};
    size_t bad = gt_utf8_first_invalid((const uint8_t *)text, len);
    if (bad < len) /* a terminal in another encoding: say so rather than send U+FFFD */
        return gt_err_set(err, GT_EINVAL, "byte 0x%02x at %zu of the line is not UTF-8: expected UTF-8 text (the "
                          "terminal's encoding?)", (unsigned char)text[bad], bad);
    int rc = add_message(c, "user", text, len) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
    if (rc == 0) rc = tokenize_turn(c, &ids, err);
    if (rc == 0)
        rc = gt_generate(c->ctx, c->tok, (const int32_t *)(void *)ids.data, (int)(ids.len / sizeof(int32_t)), &c->gp,
                         stream_piece, NULL, &res, err);
    if (rc == 0) rc = gt_detokenize(c->tok, res.tokens, (size_t)res.n_tokens, 0, 0, &answer, err);
    if (rc == 0 && add_message(c, "assistant", answer.data ? (const char *)answer.data : "", answer.len))
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (rc) json_array_remove(c->messages, json_array_size(c->messages) - 1);
    else fputc('\n', stdout);
    fflush(stdout);
    gt_gen_result_free(&res);
    gt_buf_free(&ids);
    gt_buf_free(&answer);
    return rc;
}

/* ---- commands ---- */

static int cmd_save(chat *c, const char *path) {
    gt_err err = {0};
    json_t *doc = json_pack("{s:O}", "messages", c->messages);
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!s) return fprintf(stderr, "error: out of memory\n"), 0;
    if (gt_file_write_atomic(path, s, strlen(s), 0600, &err)) fprintf(stderr, "error: %s\n", err.msg);
    else fprintf(stderr, "saved %zu messages to %s\n", json_array_size(c->messages), path);
    free(s);
    return 0;
}

/* A '/' command; returns 1 to leave, 0 to go on, <0 out of memory. */
static int chat_command(chat *c, const char *line) {
    const char *arg = strchr(line, ' ');
    size_t name_len = arg ? (size_t)(arg - line) : strlen(line);
    while (arg && *arg == ' ') arg++;
#define IS(cmd) (name_len == strlen(cmd) && !strncmp(line, cmd, name_len))
    if (IS("/quit") || IS("/exit")) return 1;
    if (IS("/help")) return fputs(chat_help, stderr), 0;
    if (IS("/reset")) return fprintf(stderr, "conversation reset\n"), chat_reset(c);
    if (IS("/system")) {
        if (!arg || !*arg) return fprintf(stderr, "error: /system needs the text of the system message\n"), 0;
        gt_free((char *)c->o.system);
        if (!(c->o.system = gt_strdup(arg))) return GT_ENOMEM;
        fprintf(stderr, "system message set; conversation reset\n");
        return chat_reset(c);
    }
    if (IS("/save")) {
        if (!arg || !*arg) return fprintf(stderr, "error: /save needs a file name\n"), 0;
        return cmd_save(c, arg);
    }
#undef IS
    fprintf(stderr, "error: unknown command %.*s; /help lists them\n", (int)name_len, line);
    return 0;
}

/* Reads lines until the end of input or /quit. */
static int chat_loop(chat *c) {
    int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO), rc = 0;
    gt_buf line = GT_BUF_INIT;
    if (tty) fprintf(stderr, "chatting with %s; /help for commands, Ctrl-D to leave\n", c->o.model);
    while (rc == 0) {
        rc = tty ? read_tty_line(c, &line) : read_plain_line(&line);
        if (rc == GT_ELIMIT) {
            fprintf(stderr, "error: a line over %d bytes\n", CHAT_MAX_LINE);
            break;
        }
        if (rc) break;
        if (!line.len) continue;
        if (gt_buf_putc(&line, 0)) return GT_ENOMEM;
        const char *text = (const char *)line.data;
        if (text[0] == '/') {
            rc = chat_command(c, text);
            continue;
        }
        gt_err err = {0};
        if (chat_turn(c, text, line.len - 1, &err)) fprintf(stderr, "error: %s\n", err.msg);
    }
    gt_buf_free(&line);
    return rc < 0 ? rc : 0;
}

/* ---- setup ---- */

/* The template: --template FILE, else the model's, else ChatML (said). */
static int load_template(chat *c, gt_err *err) {
    const gt_gguf_kv *kv = gt_gguf_find(gt_model_gguf(c->m), "tokenizer.chat_template");
    gt_gguf_str s = {0};
    if (c->o.template_file) {
        uint8_t *text = NULL;
        size_t n = 0;
        int rc = gt_file_read(c->o.template_file, CHAT_MAX_TEMPLATE_FILE, &text, &n, err);
        size_t k = 0;
        while (rc == 0 && k < n && strchr(" \t\r\n", text[k])) k++;
        if (rc == 0 && k == n) /* it renders every conversation as nothing: the messages would vanish */
            rc = gt_err_set(err, GT_EINVAL, "the file is empty: expected a Jinja chat template");
        if (rc == 0) rc = gt_chat_tmpl_parse((const char *)text, n, &c->tmpl, err);
        gt_free(text);
        if (rc) gt_err_wrap(err, "%s", c->o.template_file);
        return rc;
    }
    if (kv && gt_gguf_get_str(gt_model_gguf(c->m), "tokenizer.chat_template", &s, err) == 0) {
        int rc = gt_chat_tmpl_parse(s.ptr, (size_t)s.len, &c->tmpl, err);
        if (rc) gt_err_wrap(err, "the model's tokenizer.chat_template (use --template FILE instead)");
        return rc;
    }
    fprintf(stderr, "note: %s has no chat template (tokenizer.chat_template); using ChatML\n", c->o.model);
    return gt_chat_tmpl_parse(chatml_template, sizeof chatml_template - 1, &c->tmpl, err);
}

static int chat_open(chat *c, gt_err *err) {
    if (gt_model_load(c->o.model, &c->m, err) || gt_tokenizer_load(gt_model_gguf(c->m), &c->tok, err)) return -1;
    gt_ctx_params cp = {.n_ctx = (int)c->o.n_ctx, .n_threads = (int)c->o.threads};
    if (gt_ctx_new(c->m, &cp, &c->ctx, err) || load_template(c, err)) return -1;
    if (gt_chat_prompt_new(c->tmpl, c->tok, &c->prompt, err)) return -1;
    if (chat_reset(c)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static void chat_close(chat *c) {
    for (int i = 0; i < c->n_history; i++) gt_free(c->history[i]);
    json_decref(c->messages);
    gt_free((char *)c->o.system);
    gt_chat_prompt_free(c->prompt); /* borrows tmpl */
    gt_chat_tmpl_free(c->tmpl);
    gt_ctx_free(c->ctx);
    gt_tokenizer_free(c->tok);
    gt_model_free(c->m);
}

static int parse_unit_float(const char *what, const char *s, float lo, float hi, float *out) {
    char *end;
    errno = 0;
    float v = s ? strtof(s, &end) : 0;
    if (!s) return 0;
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return gt_cli_usage_error("chat", "%s: expected a number in [%g, %g], got \"%s\"", what, (double)lo, (double)hi,
                                  s);
    *out = v;
    return 0;
}

/* The usage: what it does, what the engine runs, the options. */
static void usage_chat(FILE *f) {
    fputs(chat_usage, f);
    gt_cli_engine_help(f);
    fputs(chat_usage_options, f);
}

/* Options into c; -1 to go on, else the exit code. */
static int chat_parse(int argc, char **argv, chat *c) {
    chat_opts *o = &c->o;
    o->n_predict = 512, o->threads = (uint64_t)gt_cpu_count(), o->n_ctx = 4096;
    gt_cli_opt opts[] = {
        {"--model", "-m", GT_CLI_OPT_STR, &o->model, 0, 0, NULL},
        {"--template", NULL, GT_CLI_OPT_STR, &o->template_file, 0, 0, NULL},
        {"--system", "-s", GT_CLI_OPT_STR, &o->system, 0, 0, NULL},
        {"--n-predict", "-n", GT_CLI_OPT_U64, &o->n_predict, 1, CHAT_MAX_PREDICT, NULL},
        {"--temp", NULL, GT_CLI_OPT_STR, &o->temp, 0, 0, NULL},
        {"--top-k", NULL, GT_CLI_OPT_U64, &o->top_k, 0, 100000, &o->top_k_given},
        {"--top-p", NULL, GT_CLI_OPT_STR, &o->top_p, 0, 0, NULL},
        {"--seed", NULL, GT_CLI_OPT_U64, &o->seed, 0, UINT64_MAX, NULL},
        {"--threads", "-t", GT_CLI_OPT_U64, &o->threads, 1, GT_POOL_MAX_THREADS, NULL},
        {"--ctx", "-c", GT_CLI_OPT_U64, &o->n_ctx, 16, GT_CTX_MAX_POSITIONS, NULL},
        {"--verbose-prompt", NULL, GT_CLI_OPT_FLAG, &o->verbose_prompt, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL},
    };
    int n_pos = 0, rc = gt_cli_parse("chat", argc, argv, 1, opts, NULL, 0, &n_pos, usage_chat);
    if (rc >= 0) return rc;
    if (!o->model) return gt_cli_usage_error("chat", "no model: give -m MODEL.gguf");
    c->gp = gt_gen_defaults();
    c->gp.n_predict = (int)o->n_predict;
    c->gp.sampling.seed = o->seed;
    if (o->top_k_given) c->gp.sampling.top_k = (int)o->top_k;
    if ((rc = parse_unit_float("--temp", o->temp, 0, 100, &c->gp.sampling.temp)) ||
        (rc = parse_unit_float("--top-p", o->top_p, 0, 1, &c->gp.sampling.top_p)))
        return rc;
    if (o->system && !(o->system = gt_strdup(o->system))) return gt_cli_usage_error("chat", "out of memory");
    return -1;
}

static int cmd_chat(int argc, char **argv) {
    chat c = {0};
    int rc = chat_parse(argc, argv, &c);
    if (rc >= 0) return rc;
    gt_err err = {0};
    if (chat_open(&c, &err)) rc = gt_cli_fail(&err);
    else if (chat_loop(&c)) rc = gt_cli_fail(&(gt_err){GT_ENOMEM, "out of memory"});
    else rc = GT_CLI_EXIT_OK;
    chat_close(&c);
    return rc;
}

GT_CLI_COMMAND(cmd_chat_def, "chat", "talk with a GGUF model: its chat template, streaming, history", cmd_chat)

/* cli_common.c: helpers every subcommand shares (home dir, passwords, errors). */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/amount.h"
#include "base/buf.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/log.h"
#include "base/file.h"
#include "base/limits.h"
#include "base/num.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"

int gt_cli_home(const char *opt_home, char *out, size_t cap, gt_err *err) {
    const char *global_home = gt_cli_global_home(); /* --home anywhere on the line (main.c) */
    const char *h = opt_home ? opt_home : global_home ? global_home : getenv("GOTONG_HOME");
    if (!h || !*h) h = "~/.gotong";
    return gt_path_expand(h, out, cap, err);
}

const char *gt_cli_node(const char *opt_node) {
    if (opt_node) return opt_node;
    const char *e = getenv("GOTONG_NODE");
    return e && *e ? e : NULL; /* an empty one is unset, as GOTONG_HOME */
}

/* Reads one line from the terminal with echo off. */
static int prompt_line(const char *prompt, char *out, size_t cap, gt_err *err) {
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return gt_err_set(err, GT_EINVAL,
                          "no terminal to ask for a password; pass --password-file FILE");
    struct termios old, noecho;
    int fd = fileno(tty);
    int have_term = tcgetattr(fd, &old) == 0;
    if (have_term) {
        noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &noecho);
    }
    fprintf(tty, "%s", prompt);
    fflush(tty);
    char *r = fgets(out, (int)cap, tty);
    if (have_term) tcsetattr(fd, TCSAFLUSH, &old);
    fprintf(tty, "\n");
    fclose(tty);
    if (!r) return gt_err_set(err, GT_EIO, "no password entered");
    out[strcspn(out, "\r\n")] = 0;
    return 0;
}

int gt_cli_password(const char *file, const char *prompt, int confirm, char *out, size_t cap,
                    gt_err *err) {
    if (file) {
        uint8_t *data;
        size_t len;
        int rc = gt_file_read(file, GT_LIMIT_PASSWORD_BYTES, &data, &len, err);
        if (rc) return gt_err_wrap(err, "password file");
        size_t n = strcspn((char *)data, "\r\n");
        if (n >= cap) {
            gt_free(data);
            return gt_err_set(err, GT_ELIMIT, "password in %s is too long", file);
        }
        memcpy(out, data, n);
        out[n] = 0;
        memset(data, 0, len);
        gt_free(data);
        return 0;
    }
    int rc = prompt_line(prompt, out, cap, err);
    if (rc || !confirm) return rc;
    char again[GT_LIMIT_PASSWORD_BYTES];
    rc = prompt_line("Repeat password: ", again, sizeof again, err);
    if (rc) return rc;
    int same = strcmp(out, again) == 0;
    memset(again, 0, sizeof again);
    if (!same) return gt_err_set(err, GT_EINVAL, "the two passwords differ");
    return 0;
}

int gt_cli_fail(const gt_err *err) {
    fprintf(stderr, "error: %s\n", err && err->msg[0] ? err->msg : "failed");
    return 1;
}

int gt_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "; see gotong %s%s--help\n", GT_CLI_SEE(cmd));
    va_end(ap);
    return 2;
}

int gt_cli_load_key(const char *opt_home, const char *from, const char *password_file, gt_key *key, gt_addr *addr,
                    gt_err *err) {
    char home[4096], pw[GT_LIMIT_PASSWORD_BYTES], as[43], prompt[96];
    gt_addr a;
    int rc = gt_cli_home(opt_home, home, sizeof home, err);
    if (rc) return rc;
    if (from) {
        if ((rc = gt_addr_parse(from, &a, err))) return gt_err_wrap(err, "--from");
    } else {
        gt_addr *addrs = NULL;
        size_t n = 0;
        if ((rc = gt_keystore_list(home, &addrs, &n, err))) return rc;
        if (n != 1) {
            gt_free(addrs);
            return gt_err_set(err, GT_EINVAL, "%s/keystore %s; pass --from ADDRESS", home,
                              n ? "holds several keys" : "holds no key (gotong wallet new)");
        }
        a = addrs[0];
        gt_free(addrs);
    }
    gt_addr_to_str(&a, as);
    snprintf(prompt, sizeof prompt, "Password for %s: ", as);
    rc = gt_cli_password(password_file, prompt, 0, pw, sizeof pw, err);
    if (!rc) rc = gt_keystore_load(home, &a, pw, key, err);
    memset(pw, 0, sizeof pw);
    if (!rc && addr) *addr = a;
    return rc;
}

/* Set once any --json output could not be printed: main() then exits 1
 * whatever the command returned (callers need not all check). */
static int json_failed;

int gt_cli_json_failed(void) { return json_failed; }

int gt_cli_json_out(json_t *j) {
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) {
        fprintf(stderr, "error: cannot serialise the JSON output (out of memory, or a value that is not JSON)\n");
        json_failed = 1;
        return 1;
    }
    int bad = puts(s) < 0 || fflush(stdout) != 0;
    free(s);
    if (bad) fprintf(stderr, "error: cannot write the JSON output\n");
    json_failed |= bad;
    return bad;
}

json_t *gt_cli_json_hex(const void *bytes, size_t len) {
    char *h = gt_malloc(2 * len + 1);
    if (!h) return NULL;
    gt_hex_encode((const uint8_t *)bytes, len, h);
    json_t *j = json_stringn(h, 2 * len);
    gt_free(h);
    return j;
}

/* Edit distance (insert, delete, substitute: 1 each) of two short strings;
 * strings longer than the buffer count as far apart. */
static size_t edit_distance(const char *a, const char *b) {
    enum { MAX = 64 };
    size_t la = strlen(a), lb = strlen(b), row[MAX + 1];
    if (la > MAX || lb > MAX) return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *gt_cli_closest(const char *word, const char *const *cands, size_t n) {
    const char *best = NULL;
    size_t best_d = SIZE_MAX, len = strlen(word);
    /* A likely typo: a third of the word may differ, at least 2 edits. */
    size_t max_d = len / 3 > 2 ? len / 3 : 2;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < best_d) best_d = d, best = cands[i];
    }
    return best_d <= max_d ? best : NULL;
}

/* Most distinct options one usage text is searched for. */
#define CLI_MAX_USAGE_OPTIONS 128

/* The usage text of a usage printer (free()), or NULL out of memory. */
static char *usage_string(void (*usage)(FILE *)) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    usage(f);
    fclose(f);
    return text;
}

int gt_cli_missing_value_text(const char *cmd, const char *opt, const char *usage_text) {
    /* Named in the usage as a whole word: a known option. */
    size_t n = strlen(opt);
    for (const char *p = usage_text; (p = strstr(p, opt)); p += n) {
        int start = p == usage_text || strchr(" \t\n[(|,", p[-1]);
        int end = !p[n] || strchr(" \t\n])|,=", p[n]);
        if (start && end) {
            fprintf(stderr, "error: %s needs a value; see gotong %s%s--help\n", opt, GT_CLI_SEE(cmd));
            return GT_CLI_EXIT_USAGE;
        }
    }
    return gt_cli_unknown_option_text(cmd, opt, usage_text);
}

int gt_cli_missing_value(const char *cmd, const char *opt, void (*usage)(FILE *)) {
    char *text = usage_string(usage);
    int rc = gt_cli_missing_value_text(cmd, opt, text ? text : "");
    free(text);
    return rc;
}

int gt_cli_unknown_option(const char *cmd, const char *opt, void (*usage)(FILE *)) {
    char *text = usage_string(usage);
    int rc = gt_cli_unknown_option_text(cmd, opt, text ? text : "");
    free(text);
    return rc;
}

int gt_cli_unknown_option_text(const char *cmd, const char *opt, const char *usage_text) {
    /* "-1" or "-0.5" where an amount or count was meant: say so plainly. */
    if (opt[0] == '-' && ((opt[1] >= '0' && opt[1] <= '9') || opt[1] == '.')) {
        fprintf(stderr, "error: %s: negative numbers are not accepted here (amounts and counts are 0 or more); "
                "see gotong %s%s--help\n", opt, GT_CLI_SEE(cmd));
        return GT_CLI_EXIT_USAGE;
    }
    char *text = gt_strdup(usage_text), *save = NULL;
    const char *cands[CLI_MAX_USAGE_OPTIONS];
    size_t n = 0;
    /* The options a command accepts are the words of its usage that start
     * with a dash: "-m", "--model", "--json". */
    for (char *w = text ? strtok_r(text, " \t\n,.;:()[]|=/", &save) : NULL; w && n < CLI_MAX_USAGE_OPTIONS;
         w = strtok_r(NULL, " \t\n,.;:()[]|=/", &save))
        if (w[0] == '-' && w[1] && w[1] != ' ' && (w[1] == '-' || (w[1] >= 'a' && w[1] <= 'z') || (w[1] >= 'A' && w[1] <= 'Z')))
            cands[n++] = w;
    char name[64]; /* --opt=value: the name alone */
    snprintf(name, sizeof name, "%.*s", (int)strcspn(opt, "="), opt);
    const char *near = gt_cli_closest(name, cands, n);
    if (near)
        fprintf(stderr, "error: unknown option %s (did you mean %s?); see gotong %s%s--help\n", opt, near,
                GT_CLI_SEE(cmd));
    else
        fprintf(stderr, "error: unknown option %s; see gotong %s%s--help\n", opt, GT_CLI_SEE(cmd));
    free(text);
    return GT_CLI_EXIT_USAGE;
}

int gt_cli_amount(const char *what, const char *s, uint64_t *out, gt_err *err) {
    if (s[0] == '-')
        return gt_err_set(err, GT_EINVAL, "%s %.40s: amounts cannot be negative; expected a decimal such as 1.5", what, s);
    if (gt_amount_parse(s, out, err)) return gt_err_wrap(err, what);
    return 0;
}

int gt_cli_u64(const char *cmd, const char *what, const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
    gt_err err = {0};
    if (gt_parse_u64(s, what, lo, hi, out, &err)) return gt_cli_usage_error(cmd, "%s", err.msg);
    return 0;
}

/* The stop signals of a server process: SIGINT and SIGTERM. */
static void stop_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

void gt_cli_block_stop_signals(void) {
    sigset_t set;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void gt_cli_serve_until_signal(const char *who, const char *listen, unsigned port, const char *extra) {
    char host[64];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = 0;
    printf("listening on http://%s:%u%s\n", host, port, extra ? extra : "");
    fflush(stdout);
    sigset_t set;
    stop_signals(&set);
    int sig = 0;
    sigwait(&set, &sig);
    GT_INFO("%s: %s received, stopping", who, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

/* cli_common.c: helpers every subcommand shares (home dir, passwords, errors). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"

int gt_cli_home(const char *opt_home, char *out, size_t cap, gt_err *err) {
    const char *h = opt_home ? opt_home : getenv("GOTONG_HOME");
    if (!h || !*h) h = "~/.gotong";
    return gt_path_expand(h, out, cap, err);
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
    fprintf(stderr, "; see gotong %s --help\n", cmd);
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

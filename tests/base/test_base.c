/* test_base.c: unit tests for src/base (amounts, hex, JSON, buffers, pool, files). */
#include <stdatomic.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/num.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/log.h"
#include "base/pool.h"

static void test_amount(void) {
    uint64_t u = 0;
    gt_err err = {0};
    char s[GT_AMOUNT_STR_MAX];
    CHECK_EQ_INT(gt_amount_parse("1.5", &u, &err), 0);
    CHECK_EQ_U64(u, 1500000);
    CHECK_EQ_INT(gt_amount_parse("0.000001", &u, &err), 0);
    CHECK_EQ_U64(u, 1);
    CHECK_EQ_INT(gt_amount_parse("18446744073709.551615", &u, &err), 0);
    CHECK_EQ_U64(u, UINT64_MAX);
    CHECK_EQ_INT(gt_amount_parse("18446744073709.551616", &u, &err), GT_EOVERFLOW);
    CHECK_EQ_INT(gt_amount_parse("1.0000001", &u, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "more than 6 decimals");
    CHECK_EQ_INT(gt_amount_parse("-1", &u, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_amount_parse("", &u, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_amount_parse(".", &u, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_amount_parse("1..2", &u, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_amount_parse("1e5", &u, &err), GT_EINVAL);
    CHECK_STR(gt_amount_format(1500000, s), "1.5");
    CHECK_STR(gt_amount_format(3000000, s), "3");
    CHECK_STR(gt_amount_format(1, s), "0.000001");
    CHECK_STR(gt_amount_format(UINT64_MAX, s), "18446744073709.551615");
    /* round trip on a spread of values */
    for (uint64_t v = 0; v < 5000000; v += 12347) {
        gt_amount_format(v, s);
        CHECK(gt_amount_parse(s, &u, NULL) == 0 && u == v);
    }
}

static void test_hex(void) {
    uint8_t b[4];
    char s[9];
    gt_err err = {0};
    CHECK_EQ_INT(gt_hex_decode("0xdeadBEEF", b, 4, "x", &err), 0);
    gt_hex_encode(b, 4, s);
    CHECK_STR(s, "deadbeef");
    CHECK_EQ_INT(gt_hex_decode("0xdeadbee", b, 4, "x", &err), GT_EINVAL);
    CHECK_EQ_INT(gt_hex_decode("0xdeadbeeg", b, 4, "x", &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "invalid hex digit");
    CHECK_EQ_INT(gt_hex_decode("0xdead", b, 4, "x", &err), GT_EINVAL);
}

/* The narrow form: what gt_json_flat_scan takes, with its spans, and a
 * sample of what it leaves to gt_json_parse (each of which that parser
 * refuses or reads as something other than a flat object of plain values). */
static void test_json_flat(void) {
    gt_json_flat f;
    const char *ok = " {\"s\":\"h\xc3\xa9\", \"n\":9223372036854775807,\"z\":0,\"t\":true,\"f\":false}\r\n";
    CHECK_EQ_INT(gt_json_flat_scan(ok, strlen(ok), &f), 1);
    CHECK_EQ_INT(f.n, 5);
    const gt_json_flat_item *it = gt_json_flat_get(&f, "s");
    CHECK(it && it->kind == GT_JF_STRING && it->str_len == 3 && !memcmp(it->str, "h\xc3\xa9", 3));
    it = gt_json_flat_get(&f, "n");
    CHECK(it && it->kind == GT_JF_INT && it->num == INT64_MAX);
    CHECK(gt_json_flat_get(&f, "z") && gt_json_flat_get(&f, "z")->num == 0);
    CHECK(gt_json_flat_get(&f, "t")->kind == GT_JF_TRUE && gt_json_flat_get(&f, "f")->kind == GT_JF_FALSE);
    CHECK(gt_json_flat_get(&f, "x") == NULL);
    const char *left[] = {
        "{\"a\":\"x\\ny\"}",        /* an escape */
        "{\"a\":\"x\ty\"}",          /* a control character */
        "{\"a\":\"\xc0\xaf\"}",     /* overlong UTF-8 */
        "{\"a\":\"\xed\xa0\x80\"}", /* a surrogate */
        "{\"a\":1,\"a\":2}",        /* a duplicate key */
        "{\"a\":{\"b\":1}}",        /* nested */
        "{\"a\":[1]}", "{\"a\":null}", "{\"a\":-1}", "{\"a\":1.5}", "{\"a\":1e3}", "{\"a\":01}",
        "{\"a\":9223372036854775808}", /* past INT64_MAX: jansson refuses it */
        "{\"a\":1} x", "{\"a\":1}}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":truex}", "{}", "[{\"a\":1}]", "{\"a\":\"x",
        "\"a\"", "",
    };
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
        CHECK_EQ_INT(gt_json_flat_scan(left[i], strlen(left[i]), &f), 0);
    char many[1024] = "{";
    for (int i = 0; i <= GT_JSON_FLAT_MAX_KEYS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"k%d\":%d", i ? "," : "", i, i);
    strcat(many, "}");
    CHECK_EQ_INT(gt_json_flat_scan(many, strlen(many), &f), 0); /* one key more than the form holds */
    const char nul[] = "{\"a\":\"x\0y\"}";
    CHECK_EQ_INT(gt_json_flat_scan(nul, sizeof nul - 1, &f), 0);
}

static void test_json(void) {
    json_t *v = NULL;
    gt_err err = {0};
    const char *bad = "{\"a\": 1,\n \"b\": }";
    CHECK_EQ_INT(gt_json_parse(bad, strlen(bad), 1000, &v, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "line 2");
    const char *dup = "{\"a\":1,\"a\":2}";
    CHECK_EQ_INT(gt_json_parse(dup, strlen(dup), 1000, &v, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_json_parse(dup, strlen(dup), 5, &v, &err), GT_ELIMIT);
    const char *ok = "{\"a\":\"18446744073709551615\",\"b\":\"x\",\"c\":true}";
    CHECK_EQ_INT(gt_json_parse(ok, strlen(ok), 1000, &v, &err), 0);
    uint64_t a = 0;
    CHECK_EQ_INT(gt_json_get_u64(v, "a", &a, &err), 0);
    CHECK_EQ_U64(a, UINT64_MAX);
    const char *str;
    CHECK_EQ_INT(gt_json_get_str(v, "b", 10, &str, &err), 0);
    CHECK_EQ_INT(gt_json_get_str(v, "a", 3, &str, &err), GT_ELIMIT);
    CHECK_EQ_INT(gt_json_get_u64(v, "b", &a, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_json_get_u64(v, "zz", &a, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "missing");
    static const char *const allowed[] = {"a", "b", NULL};
    CHECK_EQ_INT(gt_json_only_fields(v, allowed, "thing", &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "unknown field \"c\"");
    json_decref(v);
}

static void test_buf(void) {
    gt_buf b = GT_BUF_INIT;
    for (int i = 0; i < 1000; i++) CHECK_EQ_INT(gt_buf_printf(&b, "%d,", i), 0);
    CHECK(strncmp((char *)b.data, "0,1,2,", 6) == 0);
    CHECK_EQ_INT(b.data[b.len], 0);
    gt_buf_free(&b);
    CHECK(b.data == NULL);
    /* allocation failure is reported, not crashed on */
    gt_alloc_fail_after(0);
    CHECK_EQ_INT(gt_buf_append_str(&b, "x"), GT_ENOMEM);
    gt_alloc_fail_after(-1);
    gt_buf_free(&b);
}

typedef struct { _Atomic int hits[8]; int sum[8]; } pool_arg;
static void pool_fn(void *p, int ith, int nth) {
    pool_arg *a = p;
    atomic_fetch_add(&a->hits[ith], 1);
    a->sum[ith] += nth;
}

static void test_pool(void) {
    for (int n = 1; n <= 4; n++) {
        gt_pool *pool = gt_pool_new(n);
        CHECK(pool != NULL);
        pool_arg a;
        memset(&a, 0, sizeof a);
        for (int r = 0; r < 500; r++) gt_pool_run(pool, pool_fn, &a);
        for (int i = 0; i < n; i++) {
            CHECK_EQ_INT(a.hits[i], 500);
            CHECK_EQ_INT(a.sum[i], 500 * n);
        }
        for (int i = n; i < 8; i++) CHECK_EQ_INT(a.hits[i], 0);
        gt_pool_free(pool);
    }
}

/* gt_pool_run_shared: chunks claimed from a counter are each done exactly
 * once, whoever joins, over many short jobs. */
typedef struct { _Atomic int next; _Atomic int done[64]; } shared_arg;
static void shared_fn(void *p, int ith, int nth) {
    shared_arg *a = p;
    (void)ith, (void)nth;
    for (int ch; (ch = atomic_fetch_add(&a->next, 1)) < 64;) atomic_fetch_add(&a->done[ch], 1);
}

static void test_pool_shared(void) {
    for (int n = 1; n <= 4; n++) {
        gt_pool *pool = gt_pool_new(n);
        CHECK(pool != NULL);
        int bad = 0;
        for (int r = 0; r < 2000; r++) {
            shared_arg a;
            memset(&a, 0, sizeof a);
            gt_pool_run_shared(pool, shared_fn, &a);
            for (int i = 0; i < 64; i++) bad += a.done[i] != 1;
            if (r % 3 == 0) {
                pool_arg b;
                memset(&b, 0, sizeof b);
                gt_pool_run(pool, pool_fn, &b); /* the two kinds of job interleave */
                for (int i = 0; i < n; i++) bad += b.hits[i] != 1;
            }
        }
        CHECK_EQ_INT(bad, 0);
        gt_pool_free(pool);
    }
}

/* Two kinds of shared job, each with its own argument: a worker must never
 * run one job's function on the other's argument. (A worker late for one
 * job could join the next before its function and argument were written:
 * the pool opened the job first. ThreadSanitizer saw it; this counts it.) */
typedef struct { int tag; _Atomic int next; } tagged_arg;
static _Atomic int mixed_up;
static void tagged_fn(void *p, int tag) {
    tagged_arg *a = p;
    if (a->tag != tag) atomic_fetch_add(&mixed_up, 1);
    for (int ch; (ch = atomic_fetch_add(&a->next, 1)) < 4;) {
    }
}
static void tagged_fn1(void *p, int ith, int nth) { (void)ith, (void)nth, tagged_fn(p, 1); }
static void tagged_fn2(void *p, int ith, int nth) { (void)ith, (void)nth, tagged_fn(p, 2); }

static void test_pool_shared_args(void) {
    for (int n = 2; n <= 4; n++) {
        gt_pool *pool = gt_pool_new(n);
        CHECK(pool != NULL);
        tagged_arg a1 = {.tag = 1}, a2 = {.tag = 2};
        for (int r = 0; r < 100000; r++) {
            atomic_store(&a1.next, 0);
            gt_pool_run_shared(pool, tagged_fn1, &a1);
            atomic_store(&a2.next, 0);
            gt_pool_run_shared(pool, tagged_fn2, &a2);
        }
        gt_pool_free(pool);
    }
    CHECK_EQ_INT(atomic_load(&mixed_up), 0);
}

static void test_file(void) {
    char dir[] = "/tmp/gt_test_fileXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512], sub[256];
    snprintf(sub, sizeof sub, "%s/a/b/c", dir);
    CHECK_EQ_INT(gt_mkdir_p(sub, 0700, NULL), 0);
    snprintf(path, sizeof path, "%s/f.txt", sub);
    CHECK_EQ_INT(gt_file_write_atomic(path, "hello", 5, 0600, NULL), 0);
    uint8_t *data;
    size_t len;
    gt_err err = {0};
    CHECK_EQ_INT(gt_file_read(path, 100, &data, &len, &err), 0);
    CHECK_EQ_INT(len, 5);
    CHECK_STR((char *)data, "hello");
    gt_free(data);
    CHECK_EQ_INT(gt_file_read(path, 3, &data, &len, &err), GT_ELIMIT);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK_EQ_INT(gt_file_read(path, 3, &data, &len, &err), GT_ENOTFOUND);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* gt_file_write_atomic's temp name (path.tmp.PID.SEQ) can be guessed: a
 * symlink planted there by whoever can write the directory (a kept agent
 * result's home, a shared one) was followed, and the file it named was
 * truncated and overwritten with the caller's bytes. The temp is now made
 * new (O_EXCL, O_NOFOLLOW): the victim keeps its bytes, the write lands. */
static void test_file_tmp_symlink(void) {
    char dir[] = "/tmp/gt_test_tmplnXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512], victim[512], ln[600];
    snprintf(path, sizeof path, "%s/kept", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    CHECK_EQ_INT(gt_file_write_atomic(victim, "victim", 6, 0600, NULL), 0);
    for (unsigned long seq = 0; seq < 256; seq++) {
        snprintf(ln, sizeof ln, "%s.tmp.%ld.%lu", path, (long)getpid(), seq);
        CHECK_EQ_INT(symlink(victim, ln), 0);
    }
    CHECK_EQ_INT(gt_file_write_atomic(path, "mine", 4, 0600, NULL), 0);
    uint8_t *data = NULL;
    size_t len = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_file_read(victim, 100, &data, &len, &err), 0);
    CHECK(data && len == 6 && !memcmp(data, "victim", 6));
    gt_free(data);
    CHECK_EQ_INT(gt_file_read(path, 100, &data, &len, &err), 0);
    CHECK(data && len == 4 && !memcmp(data, "mine", 4));
    gt_free(data);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* gt_err_wrap keeps the code of the error it wraps even when the caller
 * passed no gt_err (it returned GT_EINVAL whatever the error was). */
static int fails_with_funds(gt_err *err) { return gt_err_set(err, GT_EFUNDS, "insufficient balance"); }
static int wraps(gt_err *err) {
    int rc = fails_with_funds(err);
    return rc ? gt_err_wrap(err, "paying the bounty") : 0;
}

static void test_err_wrap(void) {
    gt_err err = {0};
    CHECK_EQ_INT(wraps(&err), GT_EFUNDS);
    CHECK_STR(err.msg, "paying the bounty: insufficient balance");
    CHECK_EQ_INT(wraps(NULL), GT_EFUNDS);
}

/* The one parser of whole numbers from outside: digits only, in range, no
 * overflow; the inputs strtoull took that it must refuse ("", "-1", " 5",
 * "+5", "0x10", one past UINT64_MAX). */
static void test_num(void) {
    uint64_t v = 7;
    gt_err err = {0};
    CHECK_EQ_INT(gt_parse_u64("42", "n", 0, 100, &v, &err), 0);
    CHECK_EQ_INT(v, 42);
    CHECK_EQ_INT(gt_parse_u64("18446744073709551615", "n", 0, UINT64_MAX, &v, &err), 0);
    CHECK(v == UINT64_MAX);
    const char *bad[] = {"", "-1", " 5", "5 ", "+5", "0x10", "1e3", "18446744073709551616", "000000000000000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        CHECK_MSG(gt_parse_u64(bad[i], "--rounds", 0, UINT64_MAX, &v, &err) == GT_EINVAL, "took \"%s\"", bad[i]);
        CHECK_EQ_INT(v, 7); /* untouched when refused */
    }
    CHECK_EQ_INT(gt_parse_u64("0", "--rounds", 1, 20, &v, &err), GT_EINVAL);
    CHECK_STR(err.msg, "--rounds: expected an integer 1..20, got \"0\"");
    CHECK_EQ_INT(gt_parse_u64("21", "--rounds", 1, 20, &v, NULL), GT_EINVAL);
    CHECK_EQ_INT(gt_parse_u64(NULL, "--rounds", 0, 20, &v, NULL), GT_EINVAL);
    char t[GT_AMOUNT_TOKENS_MAX];
    CHECK_STR(gt_amount_tokens(1500000, t), "1.5 " GT_AMOUNT_SYMBOL);
    CHECK_STR(gt_amount_tokens(UINT64_MAX, t), "18446744073709.551615 " GT_AMOUNT_SYMBOL);
    json_t *o = json_pack("{s:s,s:s,s:i}", "bond", "2000000", "bad", "-1", "n", 5);
    CHECK_STR(gt_json_tokens(o, "bond", t), "2 " GT_AMOUNT_SYMBOL);
    CHECK_STR(gt_json_tokens(o, "bad", t), "-");
    CHECK_STR(gt_json_tokens(o, "n", t), "-");
    CHECK_STR(gt_json_tokens(o, "absent", t), "-");
    json_t *u = gt_json_units(UINT64_MAX);
    CHECK_STR(json_string_value(u), "18446744073709551615");
    json_decref(u);
    json_decref(o);
}

/* What gt_log writes to stderr for one message in format fmt (text or
 * JSON), into out. */
static void log_capture(int format, const char *msg, char *out, size_t cap) {
    char path[] = "/tmp/gt_log_testXXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    CHECK(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    int level = gt_log_level(), was = gt_log_format();
    gt_log_set_level(GT_LOG_INFO);
    gt_log_set_format(format);
    GT_INFO("%s", msg);
    gt_log_set_format(was);
    gt_log_set_level(level);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
}

/* One message is one line: a control byte from outside (a URL's %0d%0a, a
 * remote answer quoted in an error, an ESC) does not end it and start a
 * forged line, nor reach the terminal; tabs and UTF-8 stay; JSON escapes. */
static void test_log_one_line(void) {
    char out[512];
    log_capture(GT_LOG_TEXT, "GET /v1/x\r\n[error] forged\tline \x1b[31mred\x7f caf\xc3\xa9", out, sizeof out);
    CHECK_STR(out, "[info] GET /v1/x??[error] forged\tline ?[31mred? caf\xc3\xa9\n");
    log_capture(GT_LOG_JSON, "a\nb", out, sizeof out);
    CHECK_CONTAINS(out, "\"msg\":\"a\\nb\"");
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
}

int main(void) {
    RUN(test_num);
    RUN(test_err_wrap);
    RUN(test_amount);
    RUN(test_hex);
    RUN(test_json);
    RUN(test_json_flat);
    RUN(test_buf);
    RUN(test_pool);
    RUN(test_pool_shared);
    RUN(test_pool_shared_args);
    RUN(test_file);
    RUN(test_file_tmp_symlink);
    RUN(test_log_one_line);
    return gt_test_finish();
}

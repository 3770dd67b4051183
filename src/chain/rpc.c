/* rpc.c: JSON-RPC over HTTP (see rpc.h). */
#include "chain/rpc.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "chain/abi_decode.h"

struct gt_rpc {
    CURL *curl;
    char url[GT_RPC_URL_MAX + 1];
    long timeout_ms;
    uint64_t next_id;
    long last_code;
    char curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not thread-safe: run it once, whoever comes first. */
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int gt_rpc_open(const char *url, long timeout_ms, gt_rpc **out, gt_err *err) {
    *out = NULL;
    size_t n = strlen(url);
    if (n == 0 || n > GT_RPC_URL_MAX)
        return gt_err_set(err, GT_EINVAL, "chain RPC URL must be 1..%d bytes, got %zu", GT_RPC_URL_MAX, n);
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return gt_err_set(err, GT_EINVAL, "chain RPC URL '%s' must start with http:// or https://", url);
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return gt_err_set(err, GT_EIO, "libcurl failed to initialise: %s", curl_easy_strerror(curl_init_rc));
    gt_rpc *r = gt_calloc(1, sizeof *r);
    if (!r) return gt_err_set(err, GT_ENOMEM, "out of memory");
    r->curl = curl_easy_init();
    if (!r->curl) {
        gt_free(r);
        return gt_err_set(err, GT_ENOMEM, "libcurl: cannot make a handle");
    }
    memcpy(r->url, url, n + 1);
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : GT_RPC_TIMEOUT_MS_DEFAULT;
    r->next_id = 1;
    *out = r;
    return 0;
}

void gt_rpc_close(gt_rpc *r) {
    if (!r) return;
    curl_easy_cleanup(r->curl);
    gt_free(r);
}

long gt_rpc_last_code(const gt_rpc *r) { return r->last_code; }

typedef struct sink {
    gt_buf buf;
    int over;
} sink;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg) {
    sink *s = arg;
    size_t n = size * nmemb;
    if (s->buf.len + n > GT_RPC_MAX_BYTES) {
        s->over = 1;
        return 0; /* aborts the transfer */
    }
    return gt_buf_append(&s->buf, ptr, n) ? 0 : n;
}

/* POSTs body to the endpoint; resp gets the answer of a 2xx. */
static int post(gt_rpc *r, const char *body, gt_buf *resp, gt_err *err) {
    CURL *h = r->curl;
    curl_easy_reset(h); /* keeps the connection, clears the options */
    sink s = {GT_BUF_INIT, 0};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)GT_RPC_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->curl_err);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    r->curl_err[0] = 0;
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status < 200 || status > 299) {
        gt_buf_free(&s.buf);
        if (s.over) return gt_err_set(err, GT_ELIMIT, "%s: answer over %u bytes", r->url, GT_RPC_MAX_BYTES);
        if (rc != CURLE_OK)
            return gt_err_set(err, GT_EIO, "%s: %s", r->url, r->curl_err[0] ? r->curl_err : curl_easy_strerror(rc));
        return gt_err_set(err, GT_EIO, "%s: HTTP %ld", r->url, status);
    }
    *resp = s.buf;
    return 0;
}

/* Turns a JSON-RPC error object into err and *code (-1 when it has none);
 * a revert's data is decoded. */
static int rpc_error(const char *method, const json_t *e, long *code_out, gt_err *err) {
    json_int_t code = json_integer_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *data = json_string_value(json_object_get(e, "data"));
    char reason[256] = "";
    *code_out = code ? (long)code : -1;
    if (data) {
        gt_buf raw = GT_BUF_INIT;
        if (!gt_rpc_to_data(json_object_get(e, "data"), 4096, &raw, "revert data", NULL))
            gt_abi_revert_reason(raw.data, raw.len, reason, sizeof reason);
        gt_buf_free(&raw);
    }
    return gt_err_set(err, GT_ECHAIN, "%s: node error %lld: %.200s%s%s", method, (long long)code,
                      msg ? msg : "(no message)", reason[0] ? "; reason: " : "", reason);
}

int gt_rpc_answer(const char *method, const void *body, size_t len, json_t **result, long *code, gt_err *err) {
    assert(method && result && code);
    *result = NULL;
    *code = 0;
    json_t *j = NULL;
    int rc = gt_json_parse((const char *)body, len, GT_RPC_MAX_BYTES, &j, err);
    if (rc) return gt_err_wrap(err, "%s: the node's answer is not JSON", method);
    json_t *e = json_object_get(j, "error"), *res = json_object_get(j, "result");
    if (e) rc = rpc_error(method, e, code, err);
    else if (!res) rc = gt_err_set(err, GT_EINVAL, "%s: the node's answer has neither result nor error", method);
    else *result = json_incref(res);
    json_decref(j);
    return rc;
}

int gt_rpc_call(gt_rpc *r, const char *method, json_t *params, json_t **result, gt_err *err) {
    assert(r && method && result);
    *result = NULL;
    r->last_code = 0;
    if (!params) return gt_err_set(err, GT_ENOMEM, "out of memory");
    json_t *req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)r->next_id++, "method",
                            method, "params", params);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_buf resp = GT_BUF_INIT;
    int rc = post(r, text, &resp, err);
    free(text);
    if (rc) return gt_err_wrap(err, "%s", method);
    rc = gt_rpc_answer(method, resp.data, resp.len, result, &r->last_code, err);
    gt_buf_free(&resp);
    return rc;
}

/* The hex digits of a 0x-prefixed string, or NULL. */
static const char *hex_body(const json_t *v, const char *what, gt_err *err) {
    const char *s = json_string_value(v);
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
        gt_err_set(err, GT_EINVAL, "%s: expected a 0x-prefixed hex string", what);
        return NULL;
    }
    return s + 2;
}

int gt_rpc_to_u256(const json_t *q, uint8_t out[32], const char *what, gt_err *err) {
    const char *h = hex_body(q, what, err);
    if (!h) return GT_EINVAL;
    size_t n = strlen(h);
    if (n == 0 || n > 64 || (n > 1 && h[0] == '0'))
        return gt_err_set(err, GT_EINVAL, "%s: '%.80s' is not a quantity (0x, 1..64 digits, no leading zero)",
                          what, json_string_value(q));
    char padded[65];
    memset(padded, '0', 64 - n);
    memcpy(padded + 64 - n, h, n + 1);
    return gt_hex_decode(padded, out, 32, what, err);
}

int gt_rpc_to_u64(const json_t *q, uint64_t *out, const char *what, gt_err *err) {
    uint8_t w[32];
    int rc = gt_rpc_to_u256(q, w, what, err);
    if (rc) return rc;
    for (int i = 0; i < 24; i++)
        if (w[i]) return gt_err_set(err, GT_EOVERFLOW, "%s: %.80s does not fit 64 bits", what, json_string_value(q));
    uint64_t v = 0;
    for (int i = 24; i < 32; i++) v = v << 8 | w[i];
    *out = v;
    return 0;
}

int gt_rpc_to_data(const json_t *d, size_t cap, gt_buf *out, const char *what, gt_err *err) {
    const char *h = hex_body(d, what, err);
    if (!h) return GT_EINVAL;
    size_t n = strlen(h);
    if (n % 2) return gt_err_set(err, GT_EINVAL, "%s: odd number of hex digits", what);
    if (n / 2 > cap) return gt_err_set(err, GT_ELIMIT, "%s: %zu bytes, at most %zu", what, n / 2, cap);
    if (gt_buf_reserve(out, n / 2 + 1)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = gt_hex_decode(h, out->data + out->len, n / 2, what, err);
    if (!rc) out->len += n / 2;
    return rc;
}

int gt_rpc_to_fixed(const json_t *d, uint8_t *out, size_t n, const char *what, gt_err *err) {
    const char *h = hex_body(d, what, err);
    if (!h) return GT_EINVAL;
    /* exactly the digits: gt_hex_decode would also take a second "0x" ("0x0x12..") */
    if (strlen(h) != 2 * n) return gt_err_set(err, GT_EINVAL, "%s: expected 0x and %zu hex digits", what, 2 * n);
    return gt_hex_decode(h, out, n, what, err);
}

json_t *gt_rpc_u64(uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
    return json_string(s);
}

json_t *gt_rpc_u256(const uint8_t be[32]) {
    char hex[65], s[67] = "0x";
    gt_hex_encode(be, 32, hex);
    const char *p = hex;
    while (*p == '0' && p[1]) p++;
    snprintf(s + 2, sizeof s - 2, "%s", p);
    return json_string(s);
}

json_t *gt_rpc_data(const void *p, size_t n) {
    char *s = gt_malloc(2 * n + 3);
    if (!s) return NULL;
    s[0] = '0', s[1] = 'x';
    gt_hex_encode(p, n, s + 2);
    json_t *j = json_string(s);
    gt_free(s);
    return j;
}

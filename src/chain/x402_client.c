/* x402_client.c: the paying side of x402 over HTTP (gt_x402_get, x402.h):
 * one GET, and on 402 one paid retry within the wallet's budget. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/alloc.h"
#include "base/json.h"
#include "chain/x402.h"

#define X402_HTTP_TIMEOUT_MS 120000L /* a paid request waits for a settlement on chain */

typedef gt_x402_answer x402_answer;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    x402_answer *a = arg;
    size_t len = size * n;
    if (a->body->len + len > GT_X402_BODY_MAX) return a->over = 1, 0;
    return gt_buf_append(a->body, p, len) ? 0 : len;
}

/* Keeps PAYMENT-REQUIRED and PAYMENT-RESPONSE (names case-insensitive);
 * a value over GT_X402_HEADER_MAX is dropped, and then reads as missing. */
size_t gt_x402_on_header(char *p, size_t size, size_t n, void *arg) {
    x402_answer *a = arg;
    size_t len = size * n;
    static const char *const name[] = {"PAYMENT-REQUIRED:", "PAYMENT-RESPONSE:"};
    char *dst[] = {a->required, a->response};
    for (int i = 0; i < 2; i++) {
        size_t k = strlen(name[i]);
        if (len <= k || strncasecmp(p, name[i], k)) continue;
        const char *v = p + k, *end = p + len;
        while (v < end && (*v == ' ' || *v == '\t')) v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
        if ((size_t)(end - v) <= GT_X402_HEADER_MAX) memcpy(dst[i], v, (size_t)(end - v)), dst[i][end - v] = 0;
    }
    return len;
}

int gt_x402_exchange(const char *url, const char *sig, gt_x402_answer *a, gt_err *err) {
    CURL *h = curl_easy_init();
    if (!h) return gt_err_set(err, GT_EIO, "libcurl: no handle");
    struct curl_slist *hdr = NULL;
    char *line = NULL;
    if (sig && (line = gt_malloc(strlen(sig) + 32))) {
        sprintf(line, "PAYMENT-SIGNATURE: %s", sig);
        hdr = curl_slist_append(NULL, line);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, gt_x402_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, X402_HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (hdr) curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    CURLcode cc = sig && !hdr ? CURLE_OUT_OF_MEMORY : curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(hdr);
    gt_free(line);
    curl_easy_cleanup(h);
    if (a->over) return gt_err_set(err, GT_ELIMIT, "%s: body over %u bytes", url, GT_X402_BODY_MAX);
    if (cc != CURLE_OK) return gt_err_set(err, GT_EIO, "%s: %s", url, curl_easy_strerror(cc));
    return 0;
}

void gt_x402_refusal(const char *required, char *out, size_t cap) {
    out[0] = 0;
    json_t *j = NULL;
    size_t n = strlen(required);
    unsigned char *raw = n && n % 4 == 0 ? gt_malloc(n / 4 * 3 + 1) : NULL;
    int len = raw ? EVP_DecodeBlock(raw, (const unsigned char *)required, (int)n) : -1;
    if (len > 0 && !gt_json_parse((const char *)raw, strnlen((const char *)raw, (size_t)len), GT_X402_HEADER_MAX, &j,
                                  NULL)) {
        const char *e = json_string_value(json_object_get(j, "error"));
        if (e) snprintf(out, cap, "%s", e);
    }
    json_decref(j);
    gt_free(raw);
}

/* The paid retry: signs r within w's budget and GETs url again with it. */
static int pay(const char *url, gt_x402_wallet *w, const gt_x402_req *r, x402_answer *a, gt_err *err) {
    if (r->amount > w->budget - w->spent)
        return gt_err_set(err, GT_EFUNDS, "%s costs %llu base units; the budget has %llu left: not paid", url,
                          (unsigned long long)r->amount, (unsigned long long)(w->budget - w->spent));
    gt_x402_auth au;
    char *sig = NULL;
    int rc = gt_x402_sign(w->key, r, (uint64_t)time(NULL), &au, &sig, err);
    if (rc) return rc;
    w->spent += r->amount; /* counted once the signature leaves: the server may settle it whatever it answers */
    gt_buf *body = a->body;
    body->len = 0;
    memset(a, 0, sizeof *a);
    a->body = body;
    rc = gt_x402_exchange(url, sig, a, err);
    gt_free(sig);
    return rc;
}

int gt_x402_get(const char *url, gt_x402_wallet *w, long *status, gt_buf *body, int *paid, uint8_t tx[32],
                gt_err *err) {
    x402_answer *a = gt_calloc(1, sizeof *a); /* two 8 KB headers: not on the stack */
    gt_x402_req r;
    if (!a) return gt_err_set(err, GT_ENOMEM, "out of memory");
    a->body = body;
    *paid = 0;
    *status = 0;
    int rc = gt_x402_exchange(url, NULL, a, err);
    if (!rc && a->status == 402 && (rc = gt_x402_parse_required(a->required, w->chain_id, &w->asset, &r, err)))
        gt_err_wrap(err, "%s answered 402", url);
    int asked = !rc && a->status == 402;
    if (asked) rc = pay(url, w, &r, a, err);
    *status = a->status;
    if (!rc && asked && a->status == 402) {
        char why[256];
        gt_x402_refusal(a->required, why, sizeof why);
        rc = gt_err_set(err, GT_EPERM, "%s refused the payment: %s", url, why[0] ? why : "no reason given");
    } else if (!rc && asked && a->status / 100 != 2) {
        rc = gt_err_set(err, GT_EIO, "%s answered %ld to the paid request", url, a->status);
    } else if (!rc && asked && !(rc = gt_x402_parse_response(a->response, tx, NULL, err))) {
        *paid = 1;
    }
    gt_free(a);
    return rc;
}

/* client.c: the node's HTTP client on libcurl (see client.h).
 *
 * Every request goes through one function (request) that bounds the response
 * size while it arrives, so a hostile or broken node cannot make us buffer
 * gigabytes, and turns transport failures and non-2xx statuses into a gt_err
 * saying what the node answered. JSON bodies are parsed with base/json.h's
 * checks (size limit, no duplicate keys). */
#include "agent/client.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/amount.h"
#include "base/buf.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "crypto/addr.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "store/permit.h"

struct gt_client {
    CURL *curl;
    char url[GT_CLIENT_URL_MAX + 1];
    long timeout_ms;
    gt_domain dom;
    int have_chain;
    uint64_t format11_height; /* from /v1/chain with the domain; UINT64_MAX: none (an older node or ledger) */
    uint64_t format12_height; /* the same, format12Height */
    int has_signer;
    gt_key signer; /* signs upload permits (gt_client_set_signer) */
    char curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not thread-safe: run it once, whoever comes first. */
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int gt_client_code_from_name(const char *name) {
    if (!name) return GT_EINVAL;
    for (int code = -1; code >= -16; code--)
        if (!strcmp(gt_err_name(code), name)) return code;
    return GT_EINVAL;
}

int gt_client_global_init(gt_err *err) {
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return gt_err_set(err, GT_EIO, "libcurl failed to initialise: %s", curl_easy_strerror(curl_init_rc));
    return 0;
}

/* Creates the client after checking that base_url is http(s)://HOST[:PORT]. */
int gt_client_new(const char *base_url, gt_client **out, gt_err *err) {
    *out = NULL;
    if (!base_url || !*base_url) base_url = GT_CLIENT_DEFAULT_URL;
    size_t len = strlen(base_url);
    if (len > GT_CLIENT_URL_MAX)
        return gt_err_set(err, GT_ELIMIT, "node URL of %zu bytes is over the limit of %d", len, GT_CLIENT_URL_MAX);
    if (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8))
        return gt_err_set(err, GT_EINVAL, "node URL \"%.80s\": expected http://HOST:PORT", base_url);
    const char *host = strstr(base_url, "://") + 3;
    if (!*host || *host == '/')
        return gt_err_set(err, GT_EINVAL, "node URL \"%.80s\" has no host; expected http://HOST:PORT", base_url);
    int rc = gt_client_global_init(err);
    if (rc) return rc;
    gt_client *c = gt_calloc(1, sizeof *c);
    if (!c) return gt_err_set(err, GT_ENOMEM, "out of memory");
    memcpy(c->url, base_url, len + 1);
    while (len > 0 && c->url[len - 1] == '/') c->url[--len] = 0; /* "http://h:1/" is fine too */
    c->timeout_ms = GT_CLIENT_DEFAULT_TIMEOUT_MS;
    c->curl = curl_easy_init();
    if (!c->curl) {
        gt_free(c);
        return gt_err_set(err, GT_ENOMEM, "libcurl: cannot make a handle");
    }
    *out = c;
    return 0;
}

void gt_client_free(gt_client *c) {
    if (!c) return;
    curl_easy_cleanup(c->curl);
    gt_key_wipe(&c->signer);
    gt_free(c);
}

const char *gt_client_url(const gt_client *c) { return c->url; }

/* Keeps a copy of key (wiped at free) to sign upload permits with; NULL
 * forgets it. */
void gt_client_set_signer(gt_client *c, const gt_key *key) {
    gt_key_wipe(&c->signer);
    c->has_signer = key != NULL;
    if (key) c->signer = *key;
}

/* Collects the body, refusing to grow past the limit. */
typedef struct sink {
    gt_buf buf;
    size_t limit;
    int over;
} sink;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg) {
    sink *s = arg;
    size_t n = size * nmemb;
    if (s->buf.len + n > s->limit) {
        s->over = 1;
        return 0; /* aborts the transfer */
    }
    if (gt_buf_append(&s->buf, ptr, n)) return 0;
    return n;
}

/* Turns a node's error body into err: {"error":{"code","message"}}, at the
 * top level or inside a per-action result. Falls back to the status. */
static int error_from_body(const gt_client *c, const char *method, const char *path, long status,
                           const gt_buf *body, gt_err *err) {
    json_t *j = NULL;
    int code = status == 404 ? GT_ENOTFOUND : status == 413 ? GT_ELIMIT : status >= 500 ? GT_EIO : GT_EINVAL;
    if (body->len && !gt_json_parse((const char *)body->data, body->len, GT_CLIENT_JSON_MAX, &j, NULL)) {
        json_t *e = json_object_get(j, "error");
        const char *name = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (name && status != 404) code = gt_client_code_from_name(name);
        if (msg) {
            gt_err_set(err, code, "%s", msg);
            json_decref(j);
            return code;
        }
        json_decref(j);
    }
    return gt_err_set(err, code, "%s %s%s: HTTP %ld", method, c->url, path, status);
}

/* One request. body may be NULL (GET). On return *status is the HTTP status
 * and resp holds the body (caller frees) whatever the status; the return code
 * reports transport failures only. */
static int request(gt_client *c, const char *method, const char *path, const void *body, size_t body_len,
                   const char *content_type, const char *extra_header, size_t limit, long *status, gt_buf *resp,
                   gt_err *err) {
    char url[GT_CLIENT_URL_MAX + 1024];
    if (snprintf(url, sizeof url, "%s%s", c->url, path) >= (int)sizeof url)
        return gt_err_set(err, GT_ELIMIT, "request path too long (%zu bytes)", strlen(path));
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache, clears the options */
    sink s = {GT_BUF_INIT, limit, 0};
    struct curl_slist *hdrs = NULL;
    char ctype[96];
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)GT_CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    c->curl_err[0] = 0;
    if (body) {
        snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, ctype);
        /* A blob upload waits for the node's 100 Continue, so a refusal (no permit, over quota) comes back
         * before the body is sent: sent at once, the body met the node's answer and closed connection
         * (curl's "Send failure: Broken pipe" in place of the node's reason). JSON bodies are small: no
         * round trip. */
        int upload = !strcmp(content_type, "application/octet-stream");
        hdrs = curl_slist_append(hdrs, upload ? "Expect: 100-continue" : "Expect:");
        if (upload) curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, (long)c->timeout_ms);
        if (extra_header) hdrs = curl_slist_append(hdrs, extra_header);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        gt_buf_free(&s.buf);
        if (s.over)
            return gt_err_set(err, GT_ELIMIT, "%s %s: response over the limit of %zu bytes", method, url, limit);
        return gt_err_set(err, GT_EIO, "%s %s: %s", method, url, c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    *resp = s.buf;
    return 0;
}

int gt_client_get_json(gt_client *c, const char *path, json_t **out, gt_err *err) {
    *out = NULL;
    long status = 0;
    gt_buf body = GT_BUF_INIT;
    int rc = request(c, "GET", path, NULL, 0, NULL, NULL, GT_CLIENT_JSON_MAX, &status, &body, err);
    if (rc) return rc;
    if (status < 200 || status > 299) rc = error_from_body(c, "GET", path, status, &body, err);
    else if ((rc = gt_json_parse((const char *)body.data, body.len, GT_CLIENT_JSON_MAX, out, err)))
        gt_err_wrap(err, "GET %s: the node's answer is not JSON", path);
    gt_buf_free(&body);
    return rc;
}

int gt_client_post_json(gt_client *c, const char *path, const json_t *body, int *status, json_t **out,
                        gt_err *err) {
    *out = NULL;
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text) return gt_err_set(err, GT_ENOMEM, "out of memory");
    long st = 0;
    gt_buf resp = GT_BUF_INIT;
    int rc = request(c, "POST", path, text, strlen(text), "application/json", NULL, GT_CLIENT_JSON_MAX, &st, &resp, err);
    free(text);
    if (rc) return rc;
    if (status) *status = (int)st;
    if (resp.len) gt_json_parse((const char *)resp.data, resp.len, GT_CLIENT_JSON_MAX, out, NULL);
    if (st < 200 || st > 299) rc = error_from_body(c, "POST", path, st, &resp, err);
    else if (!*out) rc = gt_err_set(err, GT_EIO, "POST %s: the node's answer is not JSON", path);
    gt_buf_free(&resp);
    return rc;
}

/* Reads a JSON string of base units ("1500000") or an integer into *out. */
static int units_field(const json_t *o, const char *name, uint64_t *out, gt_err *err) {
    if (gt_json_get_u64(o, name, out, err)) return gt_err_wrap(err, "the node's account");
    return 0;
}

/* GET /v1/chain's height `name`: UINT64_MAX when absent or null (an older
 * node, or an older ledger read as it is). */
static uint64_t chain_height(const json_t *j, const char *name) {
    json_t *h = json_object_get(j, name);
    return json_is_integer(h) && json_integer_value(h) >= 0 ? (uint64_t)json_integer_value(h) : UINT64_MAX;
}

int gt_client_domain(gt_client *c, gt_domain *dom, gt_err *err) {
    if (c->have_chain) {
        *dom = c->dom;
        return 0;
    }
    json_t *j;
    int rc = gt_client_get_json(c, "/v1/chain", &j, err);
    if (rc) return rc;
    const char *salt;
    json_t *d = json_object_get(j, "domain");
    rc = gt_json_get_u64(j, "chainId", &c->dom.chain_id, err);
    if (!rc && !json_is_object(d)) rc = gt_err_set(err, GT_EINVAL, "no \"domain\" object");
    if (!rc) rc = gt_json_get_str(d, "salt", 66, &salt, err);
    if (!rc) rc = gt_hex_decode(salt, c->dom.salt, 32, "domain.salt", err);
    c->format11_height = chain_height(j, "format11Height");
    c->format12_height = chain_height(j, "format12Height");
    json_decref(j);
    if (rc) return gt_err_wrap(err, "GET /v1/chain");
    c->have_chain = 1;
    *dom = c->dom;
    return 0;
}

int gt_client_format11_height(gt_client *c, uint64_t *height, gt_err *err) {
    gt_domain dom;
    int rc = gt_client_domain(c, &dom, err);
    *height = rc ? UINT64_MAX : c->format11_height;
    return rc;
}

int gt_client_format12_height(gt_client *c, uint64_t *height, gt_err *err) {
    gt_domain dom;
    int rc = gt_client_domain(c, &dom, err);
    *height = rc ? UINT64_MAX : c->format12_height;
    return rc;
}

int gt_client_account(gt_client *c, const gt_addr *a, gt_client_acct *out, gt_err *err) {
    char path[64], as[43];
    gt_addr_to_str(a, as);
    snprintf(path, sizeof path, "/v1/accounts/%s", as);
    json_t *j;
    int rc = gt_client_get_json(c, path, &j, err);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    if ((rc = units_field(j, "balance", &out->balance_units, err)) || (rc = units_field(j, "staked", &out->staked_units, err)) ||
        (rc = units_field(j, "locked", &out->locked_units, err)) ||
        (rc = units_field(j, "unbonding", &out->unbonding_units, err)) || (rc = units_field(j, "nonce", &out->nonce, err))) {
    }
    /* Both or neither: a node that reports its blob quota reports the usage with it. */
    if (!rc && json_object_get(j, "blobQuota") && !(rc = units_field(j, "blobQuota", &out->blob_quota_bytes, err)) &&
        !(rc = units_field(j, "blobBytes", &out->blob_used_bytes, err)))
        out->blob_known = 1;
    json_decref(j);
    return rc;
}

int gt_client_head_height(gt_client *c, uint64_t *height, gt_err *err) {
    uint64_t time_s;
    return gt_client_head(c, height, &time_s, err);
}

int gt_client_head(gt_client *c, uint64_t *height, uint64_t *time_s, gt_err *err) {
    json_t *j;
    int rc = gt_client_get_json(c, "/v1/head", &j, err);
    if (rc) return rc;
    if (!(rc = gt_json_get_u64(j, "height", height, err))) rc = gt_json_get_u64(j, "time", time_s, err);
    json_decref(j);
    return rc ? gt_err_wrap(err, "GET /v1/head") : 0;
}

int gt_client_block_seed(gt_client *c, uint64_t height, uint8_t seed[32], gt_err *err) {
    char path[48];
    json_t *blk = NULL;
    snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)height);
    int rc = gt_client_get_json(c, path, &blk, err);
    if (rc) return rc;
    const char *hex = json_string_value(json_object_get(blk, "seed"));
    rc = hex ? gt_hex_decode(hex, seed, 32, "the block's seed", err)
             : gt_err_set(err, GT_EINVAL, "block %llu shows no draw seed", (unsigned long long)height);
    json_decref(blk);
    return rc;
}

int gt_client_submit(gt_client *c, const gt_action *a, uint64_t *height, gt_err *err) {
    json_t *body = gt_action_to_json(a, 1), *resp = NULL;
    if (!body) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int status = 0;
    int rc = gt_client_post_json(c, "/v1/actions", body, &status, &resp, err);
    json_decref(body);
    if (rc) {
        json_decref(resp);
        return gt_err_wrap(err, "%s", a->kind->name);
    }
    json_t *ok = json_object_get(resp, "ok");
    uint64_t h = 0;
    if (!json_is_true(ok) || gt_json_get_u64(resp, "height", &h, NULL)) {
        json_decref(resp);
        return gt_err_set(err, GT_EIO, "%s: the node answered 2xx without an applied result", a->kind->name);
    }
    json_decref(resp);
    if (height) *height = h;
    return 0;
}

/* Whether the node's ledger holds action a (GET /v1/actions/{id}); its
 * block's height into *height (may be NULL). Asked after a send whose
 * answer was lost (a transport error) or refused for its nonce: libcurl
 * sends a request again on a fresh connection when a kept-alive one died
 * before any answer, and an action the node applied the first time is then
 * refused for its own nonce. Re-signed with the next nonce it would be
 * applied twice (a second task posted, a second transfer). 0 when the
 * ledger does not hold it or the node does not answer. */
static int applied(gt_client *c, const gt_action *a, uint64_t *height) {
    char path[96] = "/v1/actions/0x";
    json_t *j = NULL;
    gt_err ignored = {0};
    uint64_t h = 0;
    gt_hex_encode(a->id, 32, path + 14);
    if (gt_client_get_json(c, path, &j, &ignored)) return 0;
    int held = !gt_json_get_u64(j, "height", &h, &ignored);
    json_decref(j);
    if (held && height) *height = h;
    return held;
}

int gt_client_act(gt_client *c, const gt_key *key, const gt_action_kind *kind, gt_client_fill_fn fill, void *arg,
                  uint8_t id_out[32], uint64_t *height, gt_err *err) {
    return gt_client_act_keep(c, key, kind, fill, arg, NULL, NULL, id_out, height, err);
}

int gt_client_act_keep(gt_client *c, const gt_key *key, const gt_action_kind *kind, gt_client_fill_fn fill,
                       void *arg, gt_client_keep_fn keep, void *keep_arg, uint8_t id_out[32], uint64_t *height,
                       gt_err *err) {
    gt_domain dom;
    gt_addr from;
    int rc = gt_client_domain(c, &dom, err);
    if (rc) return rc;
    if (gt_key_address(key, &from)) return gt_err_set(err, GT_EINVAL, "invalid signing key");
    gt_action *a = gt_malloc(sizeof *a); /* ~2.6 KiB: not on an agent thread's stack */
    if (!a) return gt_err_set(err, GT_ENOMEM, "out of memory");
    for (int attempt = 0;; attempt++) {
        gt_client_acct acc;
        if ((rc = gt_client_account(c, &from, &acc, err))) break;
        gt_action_init(a, kind, &dom, &from, acc.nonce);
        if (fill && (rc = fill(arg, a, err))) break;
        if ((rc = gt_action_sign(a, key, err)) || (keep && (rc = keep(keep_arg, a, err)))) break;
        rc = gt_client_submit(c, a, height, err);
        if ((rc == GT_ENONCE || rc == GT_EIO) && applied(c, a, height)) rc = 0;
        if (rc != GT_ENONCE || attempt + 1 >= GT_CLIENT_NONCE_RETRIES) break;
    }
    if (!rc && id_out) memcpy(id_out, a->id, 32);
    gt_free(a);
    return rc;
}

/* The Authorization header of an upload of len bytes hashing to hash,
 * signed with the client's signer under the node's domain; "" without a
 * signer (the node then refuses the upload, saying why). */
static int permit_header(gt_client *c, const uint8_t hash[32], size_t len, char out[GT_BLOB_PERMIT_HEADER_MAX + 32],
                         gt_err *err) {
    out[0] = 0;
    if (!c->has_signer) return 0;
    gt_domain dom;
    int rc = gt_client_domain(c, &dom, err);
    if (rc) return rc;
    gt_blob_permit p = {.size = len, .expiry_s = (uint64_t)time(NULL) + GT_BLOB_PERMIT_TTL_S};
    memcpy(p.hash, hash, 32);
    if ((rc = gt_blob_permit_sign(&p, &c->signer, dom.chain_id, dom.salt, err))) return rc;
    memcpy(out, "Authorization: ", 15);
    gt_blob_permit_format(&p, out + 15, GT_BLOB_PERMIT_HEADER_MAX);
    return 0;
}

int gt_client_blob_put(gt_client *c, const void *data, size_t len, char id_out[72], gt_err *err) {
    if (len > GT_LIMIT_BLOB_BYTES)
        return gt_err_set(err, GT_ELIMIT, "blob of %zu bytes is over the limit of %d", len, GT_LIMIT_BLOB_BYTES);
    uint8_t hash[32];
    char want[GT_BLOB_ID_BYTES], auth[GT_BLOB_PERMIT_HEADER_MAX + 32];
    gt_sha256(data, len, hash);
    gt_blob_id_format(hash, want);
    long status = 0;
    gt_buf resp = GT_BUF_INIT;
    int rc = permit_header(c, hash, len, auth, err);
    /* libcurl sends a NULL body as strlen(NULL): give it a real pointer */
    if (!rc)
        rc = request(c, "POST", "/v1/blobs", len ? data : "", len, "application/octet-stream", auth[0] ? auth : NULL,
                     GT_CLIENT_JSON_MAX, &status, &resp, err);
    if (rc) return rc;
    if (status < 200 || status > 299) {
        rc = error_from_body(c, "POST", "/v1/blobs", status, &resp, err);
        gt_buf_free(&resp);
        return rc;
    }
    json_t *j = NULL;
    const char *got = NULL;
    if (!gt_json_parse((const char *)resp.data, resp.len, GT_CLIENT_JSON_MAX, &j, NULL))
        got = json_string_value(json_object_get(j, "id"));
    gt_buf_free(&resp);
    if (!got || strcmp(got, want)) {
        rc = gt_err_set(err, GT_EIO, "POST /v1/blobs: the node stored our %zu bytes as %.80s, expected %s", len,
                        got ? got : "(no id)", want);
        json_decref(j);
        return rc;
    }
    json_decref(j);
    memcpy(id_out, want, GT_BLOB_ID_BYTES);
    return 0;
}

int gt_client_blob_get(gt_client *c, const char *id, size_t max_bytes, uint8_t **data, size_t *len, gt_err *err) {
    *data = NULL;
    *len = 0;
    uint8_t want[32], got[32];
    int rc = gt_blob_id_parse(id, want, err);
    if (rc) return rc;
    char canon[GT_BLOB_ID_BYTES], path[128];
    gt_blob_id_format(want, canon);
    snprintf(path, sizeof path, "/v1/blobs/%s", canon);
    if (max_bytes > GT_LIMIT_BLOB_BYTES) max_bytes = GT_LIMIT_BLOB_BYTES;
    long status = 0;
    gt_buf body = GT_BUF_INIT;
    /* The limit is on the blob; error bodies are small JSON and fit in it too. */
    if ((rc = request(c, "GET", path, NULL, 0, NULL, NULL, max_bytes > 4096 ? max_bytes : 4096, &status, &body, err)))
        return rc;
    if (status < 200 || status > 299) {
        rc = error_from_body(c, "GET", path, status, &body, err);
        gt_buf_free(&body);
        return rc;
    }
    if (body.len > max_bytes) {
        gt_buf_free(&body);
        return gt_err_set(err, GT_ELIMIT, "blob %s is over the limit of %zu bytes", canon, max_bytes);
    }
    gt_sha256(body.data ? body.data : (const uint8_t *)"", body.len, got);
    if (memcmp(got, want, 32)) {
        gt_buf_free(&body);
        return gt_err_set(err, GT_EINVAL, "the node served bytes for %s that do not hash to it; refusing them", canon);
    }
    if (!body.data && gt_buf_reserve(&body, 1)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    *data = gt_buf_take(&body, len);
    return 0;
}

int gt_client_task(gt_client *c, const uint8_t task_id[32], json_t **out, gt_err *err) {
    char path[96] = "/v1/tasks/0x";
    gt_hex_encode(task_id, 32, path + strlen(path));
    return gt_client_get_json(c, path, out, err);
}

/* GET base?query. */
static int get_query(gt_client *c, const char *base, const char *query, json_t **out, gt_err *err) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s%s%s", base, query && *query ? "?" : "", query ? query : "") >= (int)sizeof path)
        return gt_err_set(err, GT_ELIMIT, "query too long");
    return gt_client_get_json(c, path, out, err);
}

int gt_client_tasks(gt_client *c, const char *query, json_t **out, gt_err *err) {
    return get_query(c, "/v1/tasks", query, out, err);
}

int gt_client_agents(gt_client *c, const char *query, json_t **out, gt_err *err) {
    return get_query(c, "/v1/agents", query, out, err);
}

int gt_client_reputation(gt_client *c, const gt_addr *a, json_t **out, gt_err *err) {
    char path[96], as[43];
    gt_addr_to_str(a, as);
    snprintf(path, sizeof path, "/v1/reputation/%s", as);
    return gt_client_get_json(c, path, out, err);
}

/* h_blobs.c: content-addressed blobs over HTTP (task specs, results,
 * reasons): POST the raw bytes, get back their id "sha256:<hex>"; GET the
 * bytes by id. The store (store/blob.h) re-hashes on every read, so a damaged
 * file is reported as our failure (500), never served as the blob; the read
 * streams the file through a small buffer and sends it from disk, so a
 * download is never whole in memory either.
 *
 * An upload is never whole in memory: http.c hands each piece of the body to
 * gt_blob_upload_chunk, which writes it to a temp file while hashing it; the
 * blob is renamed into place only at the end, complete and hashing to what
 * its permit named. Before a byte of body is read, the upload must show a
 * permit (store/permit.h) signed by an account that holds at least
 * blob_min_funds_units and has room in its quota of blob_quota_bytes; a blob
 * already in the store costs no quota. The whole store has a cap too
 * (blob_store_max_bytes of new blobs) and a floor of free disk
 * (blob_min_free_bytes), both counting the uploads still arriving, since
 * quotas alone are per account and accounts are free to make. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "api/api_impl.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/limits.h"
#include "base/log.h"
#include "crypto/addr.h"
#include "store/permit.h"
#include "store/quota.h"

/* The permit of the request's Authorization header, checked: 401 without
 * one, 400 malformed, 403 forged or expired. Returns 0 or the status. */
static int upload_permit(gt_req *r, uint64_t content_length, gt_blob_permit *p, gt_err *err) {
    const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth) {
        gt_err_set(err, GT_EPERM,
                   "POST /v1/blobs needs an upload permit: an \"Authorization: %s uploader=..,hash=..,size=..,"
                   "expiry=..,sig=..\" header signed by a funded account (see docs/api.md, Blobs)",
                   GT_BLOB_PERMIT_SCHEME);
        return 401;
    }
    if (gt_blob_permit_parse(auth, p, err)) return 400;
    if (p->size != content_length) {
        gt_err_set(err, GT_EINVAL, "the upload permit is for %llu bytes; the body is %llu",
                   (unsigned long long)p->size, (unsigned long long)content_length);
        return 400;
    }
    const gt_domain *d = &r->node->domain;
    if (gt_blob_permit_check(p, d->chain_id, d->salt, (uint64_t)time(NULL), err)) return 403;
    return 0;
}

/* The uploader's standing: funds held (403) and room in its quota (429),
 * unless the blob is already stored (*known 1); *used gets the bytes it has
 * stored (store_room counts its uploads still arriving on top). Returns 0 or
 * the status. */
static int upload_standing(gt_req *r, const gt_blob_permit *p, int *known, uint64_t *used_out, gt_err *err) {
    const gt_node_config *cfg = &r->node->cfg;
    gt_reader *rd = gt_req_reader(r, err);
    gt_account acc;
    if (!rd || gt_ledger_account(rd->ro, &p->uploader, &acc, err)) return 500;
    char addr[43], held[GT_AMOUNT_TOKENS_MAX], need[GT_AMOUNT_TOKENS_MAX];
    gt_addr_to_str(&p->uploader, addr);
    uint64_t funds = acc.balance > UINT64_MAX - acc.staked ? UINT64_MAX : acc.balance + acc.staked;
    if (funds < cfg->blob_min_funds_units) {
        gt_amount_tokens(funds, held);
        gt_amount_tokens(cfg->blob_min_funds_units, need);
        gt_err_set(err, GT_EFUNDS, "%s holds %s (balance and stake); uploading blobs needs at least %s", addr, held,
                   need);
        return 403;
    }
    *used_out = 0;
    if ((*known = gt_blob_exists_hash(r->node->blob_dir, p->hash))) return 0;
    uint64_t used;
    if (gt_blob_usage(r->node->blob_dir, &p->uploader, &used, err)) return 500;
    *used_out = used;
    if (used > cfg->blob_quota_bytes || p->size > cfg->blob_quota_bytes - used) {
        gt_err_set(err, GT_ELIMIT, "%s has stored %llu bytes of blobs; %llu more would pass its quota of %llu bytes",
                   addr, (unsigned long long)used, (unsigned long long)p->size,
                   (unsigned long long)cfg->blob_quota_bytes);
        return 429;
    }
    return 0;
}

/* Bytes free to unprivileged users on the filesystem holding dir, or
 * UINT64_MAX when it cannot be asked (the floor is then not checked: the
 * home exists while the node runs, so only an odd filesystem says no). */
static uint64_t free_bytes(const char *dir) {
    struct statvfs v;
    if (statvfs(dir, &v) != 0) return UINT64_MAX;
    uint64_t unit = v.f_frsize ? (uint64_t)v.f_frsize : (uint64_t)v.f_bsize;
    if (!unit) return UINT64_MAX;
    return (uint64_t)v.f_bavail > UINT64_MAX / unit ? UINT64_MAX : (uint64_t)v.f_bavail * unit;
}

/* Bytes of new blobs account a is still uploading (blob_mu held): a walk
 * of the uploads arriving, at most one a connection. */
static uint64_t arriving_of(const gt_node *n, const gt_addr *a) {
    uint64_t sum = 0;
    for (const gt_req *q = n->blob_new_uploads; q; q = q->up_next)
        if (gt_addr_eq(&q->uploader, a)) sum += q->upload_reserved;
    return sum;
}

/* The room for p's upload of size bytes, counting the uploads still
 * arriving: the uploader's quota (429; used: what it has stored), then the
 * store's cap on new bytes (unless the blob is known: storing it again
 * brings nothing new, so neither does it count against the quota or the
 * cap while it arrives) and the free-space floor, which every upload's temp
 * file counts against (507 either way). Without its own arriving uploads in
 * the quota, one funded account could hold 16 MiB a connection of the cap
 * until each upload ended and was refused.
 * On success the size is reserved until upload_release, so a hundred
 * uploads that begin together cannot each count the same room. */
static int store_room(gt_req *r, const gt_blob_permit *p, int known, uint64_t used, gt_err *err) {
    gt_node *n = r->node;
    const gt_node_config *cfg = &n->cfg;
    uint64_t free_b = free_bytes(n->home), size = p->size; /* ledger.db's and blobs/' (made at the first upload) */
    int status = 0;
    pthread_mutex_lock(&n->blob_mu);
    uint64_t pending = n->blob_in_flight, pending_new = n->blob_in_flight_new, held = n->blob_used;
    uint64_t mine = known ? 0 : arriving_of(n, &p->uploader); /* this account's new uploads still arriving */
    assert(pending_new <= pending && used <= cfg->blob_quota_bytes);
    if (!known && (mine > cfg->blob_quota_bytes - used || size > cfg->blob_quota_bytes - used - mine)) {
        char addr[43];
        gt_addr_to_str(&p->uploader, addr);
        gt_err_set(err, GT_ELIMIT, "%s has stored %llu bytes of blobs and %llu more are arriving; %llu more would "
                   "pass its quota of %llu bytes", addr, (unsigned long long)used, (unsigned long long)mine,
                   (unsigned long long)size, (unsigned long long)cfg->blob_quota_bytes);
        status = 429;
    } else if (!known && (held > cfg->blob_store_max_bytes || pending_new > cfg->blob_store_max_bytes - held ||
                   size > cfg->blob_store_max_bytes - held - pending_new)) {
        gt_err_set(err, GT_ELIMIT, "the node's blob store is full: uploads hold %llu bytes and %llu more are arriving, "
                   "of the %llu it takes (--blob-store-max-bytes); %llu more do not fit",
                   (unsigned long long)held, (unsigned long long)pending_new,
                   (unsigned long long)cfg->blob_store_max_bytes, (unsigned long long)size);
        status = 507;
    } else if (free_b < cfg->blob_min_free_bytes || pending > free_b - cfg->blob_min_free_bytes ||
               size > free_b - cfg->blob_min_free_bytes - pending) {
        gt_err_set(err, GT_ELIMIT, "the disk holding the node's home (its ledger and blobs) has %llu bytes free "
                   "and %llu are being uploaded; %llu more would leave under the %llu it keeps free for its ledger "
                   "(--blob-min-free-bytes)", (unsigned long long)free_b, (unsigned long long)pending,
                   (unsigned long long)size, (unsigned long long)cfg->blob_min_free_bytes);
        status = 507;
    } else {
        n->blob_in_flight += size;
        r->upload_reserved = size;
        r->upload_new = !known;
        r->uploader = p->uploader;
        if (!known) {
            n->blob_in_flight_new += size;
            r->up_prev = NULL, r->up_next = n->blob_new_uploads;
            if (r->up_next) r->up_next->up_prev = r;
            n->blob_new_uploads = r;
        }
    }
    pthread_mutex_unlock(&n->blob_mu);
    return status;
}

/* Counts a known blob's upload in (on 1) or out (on 0) of the node's
 * blob_known_arriving, once each way. */
static void known_count(gt_req *r, int in) {
    if (r->upload_known == in) return;
    pthread_mutex_lock(&r->node->blob_mu);
    assert(in || r->node->blob_known_arriving > 0);
    r->node->blob_known_arriving += in ? 1 : (uint64_t)-1;
    pthread_mutex_unlock(&r->node->blob_mu);
    r->upload_known = in;
}

/* Gives back what the request's upload reserved (none: nothing). */
static void upload_release(gt_req *r) {
    if (!r->upload_reserved) return;
    gt_node *n = r->node;
    pthread_mutex_lock(&n->blob_mu);
    assert(n->blob_in_flight >= r->upload_reserved && (!r->upload_new || n->blob_in_flight_new >= r->upload_reserved));
    n->blob_in_flight -= r->upload_reserved;
    if (r->upload_new) {
        n->blob_in_flight_new -= r->upload_reserved;
        if (r->up_prev) r->up_prev->up_next = r->up_next;
        else n->blob_new_uploads = r->up_next;
        if (r->up_next) r->up_next->up_prev = r->up_prev;
        r->up_prev = r->up_next = NULL;
    }
    pthread_mutex_unlock(&n->blob_mu);
    r->upload_reserved = 0, r->upload_new = 0;
}

int gt_blob_upload_begin(gt_req *r, uint64_t content_length, gt_err *err) {
    assert(!r->upload && content_length <= GT_LIMIT_BLOB_BYTES); /* http.c checked the route's limit */
    gt_blob_permit p;
    int known = 0, status = upload_permit(r, content_length, &p, err);
    uint64_t used = 0;
    if (!status) status = upload_standing(r, &p, &known, &used, err);
    /* A blob stored whole at its size is only hashed as it arrives: it holds
     * no temp file, so no room under the disk's floor either (slow
     * re-uploads of known blobs held up to 16 MiB of it each). One whose
     * file has another size is damaged: it is written and replaces it. */
    uint64_t stored_size = 0;
    int intact = !status && known && gt_blob_stored_size(r->node->blob_dir, p.hash, &stored_size) &&
                 stored_size == p.size;
    if (!status && !intact) status = store_room(r, &p, known, used, err);
    /* The reader goes back now: an upload may last minutes, and a hundred
     * of them must not hold a hundred SQLite connections and their caches. */
    gt_node_reader_put(r->node, r->rd);
    r->rd = NULL;
    if (status) return status;
    if (intact) {
        r->uploader = p.uploader;
        if (gt_blob_writer_open_known(r->node->blob_dir, p.size, p.hash, &r->upload, err)) return 500;
        known_count(r, 1);
        return 0;
    }
    assert(gt_addr_eq(&r->uploader, &p.uploader)); /* store_room set it with the reservation */
    if (gt_blob_writer_open(r->node->blob_dir, p.size, p.hash, &r->upload, err)) return 500;
    return 0;
}

void gt_blob_upload_chunk(gt_req *r, const void *data, size_t len) {
    if (!r->upload || r->upload_err.code) return; /* already failed: the rest is dropped */
    if (gt_blob_writer_write(r->upload, data, len, &r->upload_err)) {
        gt_blob_writer_abort(r->upload);
        r->upload = NULL;
    }
}

void gt_blob_upload_abort(gt_req *r) {
    gt_blob_writer_abort(r->upload);
    r->upload = NULL;
    upload_release(r);
    known_count(r, 0);
}

/* Moves the store's count of uploaded bytes (blob_used): up by add, down
 * by gone (what a blob leaving the store had been charged). */
static void store_count(gt_node *n, uint64_t add, uint64_t gone) {
    pthread_mutex_lock(&n->blob_mu);
    n->blob_used = n->blob_used > gone ? n->blob_used - gone : 0;
    n->blob_used = n->blob_used > UINT64_MAX - add ? UINT64_MAX : n->blob_used + add;
    pthread_mutex_unlock(&n->blob_mu);
}

/* gt_blob_writer_commit's admit: charges the quota for a new blob, checking
 * it again under the store's lock (two uploads of one account may race),
 * and gives a blob's charge back when its copy is set aside as damaged.
 * Why the give-back: the next uploader of those bytes stores them as new
 * and is charged, while the first kept paying for a blob the store no
 * longer held -- the usages (and the store's cap) counted it twice
 * (test_api_limits test_set_aside_uncharged). */
static int charge_quota(void *arg, const uint8_t hash[32], uint64_t size, int is_new, gt_err *err) {
    gt_req *r = arg;
    uint64_t gone = 0, used;
    assert(!r->upload); /* commit owns the writer now */
    if (is_new == GT_BLOB_SET_ASIDE) {
        int rc = gt_blob_usage_release(r->node->blob_dir, hash, &gone, err);
        if (rc) GT_WARN("blob store: giving back a blob's charge: %s", err->msg);
        store_count(r->node, 0, gone);
        return rc;
    }
    if (is_new != GT_BLOB_NEW) return 0;
    int rc = gt_blob_usage(r->node->blob_dir, &r->uploader, &used, err);
    if (rc) return rc;
    uint64_t quota = r->node->cfg.blob_quota_bytes;
    if (used > quota || size > quota - used)
        return gt_err_set(err, GT_ELIMIT, "%llu more bytes would pass the uploader's quota of %llu bytes",
                          (unsigned long long)size, (unsigned long long)quota);
    if ((rc = gt_blob_usage_charge(r->node->blob_dir, &r->uploader, hash, size, &gone, err))) return rc;
    store_count(r->node, size, gone); /* its reservation goes back after the commit */
    return 0;
}

/* POST /v1/blobs, at the end of the body: commits the streamed upload. */
void gt_h_blob_post(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    char id[GT_BLOB_ID_BYTES];
    int is_new = 0;
    if (gt_req_only_query(r, allowed, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    if (!r->upload) { /* a write failed on the way in */
        gt_resp_err(o, r->upload_err.code ? &r->upload_err : &err);
        return;
    }
    uint64_t len = gt_blob_writer_len(r->upload);
    gt_blob_writer *w = r->upload;
    r->upload = NULL; /* commit frees it whatever happens */
    int rc = gt_blob_writer_commit(w, charge_quota, r, id, &is_new, &err);
    upload_release(r); /* committed (counted in blob_used) or dropped */
    known_count(r, 0);
    if (rc) {
        gt_resp_error(o, err.code == GT_ELIMIT ? 429 : gt_http_status(err.code), err.code, "%s", err.msg);
        return;
    }
    gt_resp_json(o, 201, json_pack("{s:s,s:I,s:b}", "id", id, "size", (json_int_t)len, "new", is_new));
}

/* GET /v1/blobs/{id}: the bytes, as application/octet-stream; HEAD the
 * same headers (http.c routes HEAD here). The hash is checked through a small
 * buffer and the bytes are sent from the same open file by libmicrohttpd,
 * which closes it: a download costs a descriptor, not the blob's size in
 * memory (the whole blob used to be held per connection: 60 clients that
 * never read a 16 MiB blob took 1 GB). HEAD checks the hash too, so it
 * answers what GET would: a damaged blob is a 500 to both. */
void gt_h_blob_get(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    uint8_t hash[32];
    if (gt_req_only_query(r, allowed, &err) || gt_param_hash(r->m.params[0], "blob id", 1, hash, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    char id[GT_BLOB_ID_BYTES];
    gt_blob_id_format(hash, id);
    int fd;
    uint64_t size;
    int rc = gt_blob_open(r->node->blob_dir, id, &fd, &size, &err);
    if (rc == GT_ENOTFOUND) {
        gt_resp_err(o, &err);
        return;
    }
    if (rc) {
        /* The id parsed, so anything else is the store's fault (damage, I/O). */
        gt_resp_error(o, 500, rc, "%s", err.msg);
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
    if (!resp) { /* MHD took no ownership of fd */
        close(fd);
        gt_resp_error(o, 500, GT_ENOMEM, "out of memory building a response");
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    o->status = 200;
    o->len = (size_t)size; /* for the log: bytes sent */
    o->raw = resp;
}

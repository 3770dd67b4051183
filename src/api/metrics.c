/* metrics.c: the node's counters and GET /metrics in the Prometheus text
 * exposition format (version 0.0.4). Counters are atomics bumped by whatever
 * thread served the request; /metrics reads them without a lock, so a scrape
 * may see one counter a request ahead of another, never a torn value. */
#include <stdio.h>
#include <string.h>

#include "api/api_impl.h"
#include "base/alloc.h"

static const int statuses[GT_METRICS_STATUSES - 1] = {200, 201, 400, 401, 403, 404, 405, 408, 409,
                                                       411, 413, 414, 422, 429, 500, 503};
/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t bucket_us[GT_METRICS_BUCKETS] = {100,   250,   500,    1000,   2500,   5000,
                                                       10000, 25000, 50000, 100000, 250000, 1000000};

/* Counts one finished request (route -1: matched no route; status 0: cut). */
void gt_metrics_request(gt_metrics *m, int route, int status, uint64_t elapsed_us) {
    int ri = route >= 0 && route < GT_METRICS_MAX_ROUTES ? route : GT_METRICS_MAX_ROUTES;
    int si = GT_METRICS_STATUSES - 1;
    for (int i = 0; i < GT_METRICS_STATUSES - 1; i++)
        if (statuses[i] == status) si = i;
    atomic_fetch_add(&m->requests[ri][si], 1);
    int b = GT_METRICS_BUCKETS;
    for (int i = 0; i < GT_METRICS_BUCKETS; i++)
        if (elapsed_us <= bucket_us[i]) { b = i; break; }
    atomic_fetch_add(&m->latency_bucket[b], 1);
    atomic_fetch_add(&m->latency_sum_us, elapsed_us);
    atomic_fetch_add(&m->latency_count, 1);
}

/* Counts one submitted action's outcome (0 or a GT_E* code). */
void gt_metrics_action(gt_metrics *m, int code) {
    int k = -code;
    if (k < 0 || k >= GT_METRICS_CODES) k = -GT_EIO;
    atomic_fetch_add(&m->actions[k], 1);
}

/* GET /metrics. */
void gt_h_metrics(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    if (gt_req_only_query(r, allowed, &err)) {
        gt_resp_err(o, &err);
        return;
    }
    gt_metrics *m = &r->node->metrics;
    gt_buf b = GT_BUF_INIT;
    int rc = gt_buf_append_str(&b, "# HELP gotong_http_requests_total HTTP requests served, by route and status.\n"
                                   "# TYPE gotong_http_requests_total counter\n");
    for (int ri = 0; ri <= GT_METRICS_MAX_ROUTES; ri++) {
        const gt_route *rt = gt_api_node_route(r->node, ri);
        if (!rt && ri != GT_METRICS_MAX_ROUTES) continue;
        for (int si = 0; si < GT_METRICS_STATUSES; si++) {
            uint64_t v = atomic_load(&m->requests[ri][si]);
            if (!v) continue;
            char status[8];
            if (si < GT_METRICS_STATUSES - 1) snprintf(status, sizeof status, "%d", statuses[si]);
            else snprintf(status, sizeof status, "other");
            rc |= gt_buf_printf(&b, "gotong_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
                                rt ? rt->method : "-", rt ? rt->pattern : "unmatched", status,
                                (unsigned long long)v);
        }
    }
    rc |= gt_buf_append_str(&b, "# HELP gotong_http_request_duration_seconds Time from request headers to "
                                "response done.\n# TYPE gotong_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i <= GT_METRICS_BUCKETS; i++) {
        cum += atomic_load(&m->latency_bucket[i]);
        if (i < GT_METRICS_BUCKETS)
            rc |= gt_buf_printf(&b, "gotong_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                                (double)bucket_us[i] / 1e6, (unsigned long long)cum);
        else
            rc |= gt_buf_printf(&b, "gotong_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                                (unsigned long long)cum);
    }
    rc |= gt_buf_printf(&b, "gotong_http_request_duration_seconds_sum %.6f\n",
                        (double)atomic_load(&m->latency_sum_us) / 1e6);
    rc |= gt_buf_printf(&b, "gotong_http_request_duration_seconds_count %llu\n",
                        (unsigned long long)atomic_load(&m->latency_count));
    rc |= gt_buf_append_str(&b, "# HELP gotong_actions_total Submitted actions, accepted or refused by code.\n"
                                "# TYPE gotong_actions_total counter\n");
    for (int k = 0; k < GT_METRICS_CODES; k++) {
        uint64_t v = atomic_load(&m->actions[k]);
        if (k == 0)
            rc |= gt_buf_printf(&b, "gotong_actions_total{result=\"accepted\"} %llu\n", (unsigned long long)v);
        else if (v)
            rc |= gt_buf_printf(&b, "gotong_actions_total{result=\"refused\",code=\"%s\"} %llu\n", gt_err_name(-k),
                                (unsigned long long)v);
    }
    rc |= gt_buf_printf(&b,
                        "# HELP gotong_head_height Height of the newest block.\n# TYPE gotong_head_height gauge\n"
                        "gotong_head_height %llu\n"
                        "# HELP gotong_blocks_written_total Blocks written since the node started.\n"
                        "# TYPE gotong_blocks_written_total counter\ngotong_blocks_written_total %llu\n"
                        "# HELP gotong_empty_blocks_total Empty blocks written by the idle ticker.\n"
                        "# TYPE gotong_empty_blocks_total counter\ngotong_empty_blocks_total %llu\n"
                        "# HELP gotong_sse_clients Open /v1/events streams.\n# TYPE gotong_sse_clients gauge\n"
                        "gotong_sse_clients %u\n"
                        "# HELP gotong_http_in_flight Requests being served.\n# TYPE gotong_http_in_flight gauge\n"
                        "gotong_http_in_flight %d\n",
                        (unsigned long long)atomic_load(&m->head_height),
                        (unsigned long long)atomic_load(&m->blocks_written),
                        (unsigned long long)atomic_load(&m->ticks), gt_events_clients(r->node->events),
                        atomic_load(&r->node->in_flight));
    if (rc) {
        gt_buf_free(&b);
        gt_resp_error(o, 500, GT_ENOMEM, "out of memory");
        return;
    }
    o->status = 200;
    o->content_type = "text/plain; version=0.0.4; charset=utf-8";
    o->body = gt_buf_take(&b, &o->len);
}

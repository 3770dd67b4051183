/* h_market.c: the market's read routes: tasks (with filters and cursor
 * pagination), agents, reputation. Each runs the market's own query functions
 * on the request's read-only SQLite connection; this file only turns URL
 * parameters into their arguments, refusing bad ones with a message. */
#include <string.h>

#include "api/api_impl.h"
#include "base/num.h"
#include "market/market.h"

/* Reads the common paging parameters: limit (default 20) and cursor (the
 * "next" value of the previous page; default 0). */
static int paging(gt_req *r, uint64_t *limit, uint64_t *cursor, gt_err *err) {
    const char *ls = gt_req_query(r, "limit"), *cs = gt_req_query(r, "cursor");
    *limit = 20;
    *cursor = 0;
    if (ls && gt_parse_u64(ls, "limit", 1, GT_MARKET_PAGE_MAX, limit, err)) return GT_EINVAL;
    if (cs && gt_parse_u64(cs, "cursor", 0, INT64_MAX, cursor, err)) return GT_EINVAL;
    return 0;
}

/* GET /v1/tasks?status=&kind=&poster=&worker=&parent=&spec=&limit=&cursor= */
void gt_h_tasks(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"status", "kind", "poster", "worker", "parent", "spec", "limit", "cursor",
                                          NULL};
    gt_err err = {0};
    gt_market_task_filter f = {.status = -1};
    gt_addr poster, worker;
    uint8_t parent[32], spec[32];
    uint64_t limit, cursor;
    const char *status = gt_req_query(r, "status"), *kind = gt_req_query(r, "kind");
    const char *ps = gt_req_query(r, "poster"), *ws = gt_req_query(r, "worker"), *pa = gt_req_query(r, "parent");
    const char *sp = gt_req_query(r, "spec");
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || paging(r, &limit, &cursor, &err)) goto bad;
    if (status) {
        for (int s = GT_TASK_OPEN; s <= GT_TASK_COMPLETE; s++)
            if (!strcmp(status, gt_task_status_name(s))) f.status = s;
        if (f.status < 0) {
            gt_err_set(&err, GT_EINVAL, "status: expected one of %s, %s, %s, %s; got \"%.40s\"",
                       gt_task_status_name(GT_TASK_OPEN), gt_task_status_name(GT_TASK_EXPIRED),
                       gt_task_status_name(GT_TASK_CANCELLED), gt_task_status_name(GT_TASK_COMPLETE), status);
            goto bad;
        }
    }
    if (kind) {
        if (gt_param_token(kind, "kind", GT_MARKET_SKILL_MAX, &err)) goto bad;
        f.kind = kind;
    }
    if (ps) {
        if (gt_param_addr(ps, "poster", &poster, &err)) goto bad;
        f.poster = &poster;
    }
    if (ws) {
        if (gt_param_addr(ws, "worker", &worker, &err)) goto bad;
        f.worker = &worker;
    }
    if (pa) {
        if (gt_param_hash(pa, "parent", 0, parent, &err)) goto bad;
        f.parent = parent;
    }
    if (sp) {
        if (gt_param_hash(sp, "spec", 1, spec, &err)) goto bad;
        f.spec = spec;
    }
    if (!(rd = gt_req_reader(r, &err))) goto bad;
    json_t *j = gt_market_tasks_list(rd->db, &f, cursor, limit, &err);
    gt_api_reply_units(o, j, &err);
    return;
bad:
    gt_resp_err(o, &err);
}

/* GET /v1/tasks/{id} */
void gt_h_task(gt_req *r, gt_resp *o) {
    gt_api_get_one(r, o, "task id", 0, gt_market_task_get, gt_api_reply_units);
}

/* GET /v1/agents?skill=&active=1&limit=&cursor= */
void gt_h_agents(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"skill", "active", "limit", "cursor", NULL};
    gt_err err = {0};
    uint64_t limit, cursor, active = 0;
    const char *skill = gt_req_query(r, "skill"), *as = gt_req_query(r, "active");
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || paging(r, &limit, &cursor, &err) ||
        (skill && gt_param_token(skill, "skill", GT_MARKET_SKILL_MAX, &err)) ||
        (as && gt_parse_u64(as, "active", 0, 1, &active, &err)) || !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    json_t *j = gt_market_agents_list(rd->db, skill, (int)active, cursor, limit, &err);
    gt_api_reply_units(o, j, &err);
}

/* GET /v1/agents/{address} */
void gt_h_agent(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    gt_addr addr;
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_param_addr(r->m.params[0], "address", &addr, &err) ||
        !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    json_t *j = gt_market_agent_get(rd->db, &addr, &err);
    gt_api_reply_units(o, j, &err);
}

/* GET /v1/reputation/{address}?skill= */
void gt_h_reputation(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"skill", NULL};
    gt_err err = {0};
    gt_addr addr;
    const char *skill = gt_req_query(r, "skill");
    gt_reader *rd;
    if (gt_req_only_query(r, allowed, &err) || gt_param_addr(r->m.params[0], "address", &addr, &err) ||
        (skill && gt_param_token(skill, "skill", GT_MARKET_SKILL_MAX, &err)) || !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    json_t *j = gt_market_reputation(rd->db, &addr, skill, &err);
    gt_api_reply_units(o, j, &err);
}

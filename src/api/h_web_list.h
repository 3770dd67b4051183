/* h_web_list.h: the routes the dashboard's lists read (h_web_list.c): a
 * funding round's individual contributions and a label task's labels. */
#ifndef GT_API_H_WEB_LIST_H
#define GT_API_H_WEB_LIST_H

#include "api/api_impl.h"

/* GET /v1/fund/rounds/{id}/contributions?limit=&cursor= */
void gt_h_web_contribs(gt_req *r, gt_resp *o);
/* GET /v1/label/tasks/{id}/labels */
void gt_h_web_labels(gt_req *r, gt_resp *o);

#endif

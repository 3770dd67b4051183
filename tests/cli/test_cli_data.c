/* test_cli_data.c: `gotong data job new` + `gotong data job post` against a
 * real `gotong node` child: the job lands on the market as one task of kind
 * generate with one slot per batch and the bounty and stake the spec implies;
 * the usage errors say what is missing. Also, beside the running node: money
 * commands are refused on its ledger file but go through it with --node. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "cli_util.h"
#include "../node_child.h"
#include "base/alloc.h"
#include "base/file.h"

static char spec[300];


static void test_job_post(void) {
    char args[1024], auth[64] = "";
    snprintf(args, sizeof args, "init --password-file %s --light", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_EQ_INT(gotong("balance --json"), 0);
    char *p = strstr(out_s, "\"address\":\"");
    if (p) snprintf(auth, 43, "%s", p + 11);
    snprintf(args, sizeof args, "mint --to %s 100 --password-file %s", auth, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    const char *job =
        "{\"version\":2,\"name\":\"t\",\"family\":\"arith\",\"template\":\"Q: {question}\\n\",\"seed\":7,"
        "\"samples\":8,\"batch\":4,\"reward\":\"0.5\",\"stake\":\"0.25\",\"license\":\"cc-by-4.0\"}";
    CHECK_EQ_INT(gt_file_write_atomic(spec, job, strlen(job), 0600, NULL), 0);
    snprintf(args, sizeof args, "data job new %s", spec);
    CHECK_EQ_INT(gotong(args), 0);
    char jobid[80] = "";
    p = strstr(out_s, "sha256:");
    if (p) snprintf(jobid, 17, "%s", p + 7); /* a 16-digit prefix */
    CHECK(strlen(jobid) == 16);

    /* A node on a free port; its first line says where. */
    char urlbuf[256];
    pid_t pid = gt_test_node_start(cli_home, "1000", urlbuf, sizeof urlbuf);
    CHECK(pid > 0);
    char *url = pid > 0 ? urlbuf : NULL;
    if (url) {
        snprintf(args, sizeof args, "data job post %s --node %s --password-file %s", jobid, url, cli_pwfile);
        CHECK_EQ_INT(gotong(args), 2);
        CHECK_CONTAINS(err_s, "--validator");
        snprintf(args, sizeof args,
                 "data job post %s --validator 0x000000000000000000000000000000000000dEaD --fee 0.1 --node %s "
                 "--password-file %s --json", jobid, url, cli_pwfile);
        CHECK_EQ_INT(gotong(args), 0);
        CHECK_CONTAINS(out_s, "\"slots\":2");
        CHECK_CONTAINS(out_s, "\"bounty\":\"2000000\"");
        CHECK_CONTAINS(out_s, "\"stake\":\"1000000\"");
        CHECK_CONTAINS(err_s, "names no model, so worker agents skip it"); /* the spec above names none */
        /* money commands: refused on the node's ledger file, fine through the node */
        snprintf(args, sizeof args, "send --to 0x000000000000000000000000000000000000dEaD 1 --password-file %s", cli_pwfile);
        CHECK_EQ_INT(gotong(args), 1);
        CHECK_CONTAINS(err_s, "--node URL");
        snprintf(args, sizeof args, "send --to 0x000000000000000000000000000000000000dEaD 1 --password-file %s --node %s",
                 cli_pwfile, url);
        CHECK_EQ_INT(gotong(args), 0);
        CHECK_CONTAINS(out_s, "transfer 0x");
        CHECK_EQ_INT(gotong("balance 0x000000000000000000000000000000000000dEaD"), 0); /* reads beside the node */
        CHECK_CONTAINS(out_s, "balance 1 ");
        snprintf(args, sizeof args, "task list --node %s --json", url);
        CHECK_EQ_INT(gotong(args), 0);
        CHECK_CONTAINS(out_s, "\"generate\"");
        snprintf(args, sizeof args, "data job post ffffffffffffffff --validator %s --node %s --password-file %s", auth,
                 url, cli_pwfile);
        CHECK_EQ_INT(gotong(args), 1);
        CHECK_CONTAINS(err_s, "no job");
    }
    gt_test_node_stop(pid);
}

int main(void) {
    if (cli_setup("gt-cli-data")) return 1;
    snprintf(spec, sizeof spec, "%s/spec.json", cli_tmp);
    RUN(test_job_post);
    if (cli_cleanup()) return 1;
    return gt_test_finish();
}

/* test_serve_openai.c: runs tests/serve/openai_client.mjs (OpenAI's npm
 * client against `gotong serve` children) under node, so ctest drives it.
 * Needs node and scripts/setup.sh test (which installs the client into
 * .cache/npm); missing either fails, saying how to get it. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"

#define OPENAI_PKG GT_SOURCE_DIR "/.cache/npm/node_modules/openai/package.json"
#define SCRIPT GT_SOURCE_DIR "/tests/serve/openai_client.mjs"

static void test_openai_client(void) {
    char cmd[8192], line[1024];
    int passed = 0;
    snprintf(cmd, sizeof cmd, "node '%s' '%s' '%s' 2>&1", SCRIPT, GT_CLI, gt_fixture(""));
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stderr);
        int n = 0;
        if (sscanf(line, "openai client: %d checks passed", &n) == 1 && n > 0) passed = n;
    }
    int st = pclose(p);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node exited with status %d", st);
    CHECK_MSG(passed >= 20, "the script reported %d checks passed", passed);
}

int main(void) {
    if (access(OPENAI_PKG, R_OK) != 0 || system("node --version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "node or the npm openai client (%s) is missing: install Node.js and run "
                        "scripts/setup.sh test\n", OPENAI_PKG);
        CHECK_MSG(0, "node and the openai client are required");
        return gt_test_finish();
    }
    RUN(test_openai_client);
    return gt_test_finish();
}

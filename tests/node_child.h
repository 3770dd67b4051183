/* node_child.h: a `gotong node` child process for tests that talk to a node
 * over HTTP: started on a free port of 127.0.0.1, its URL read from its first
 * line ("listening on http://..."), stopped with SIGTERM. Needs GT_CLI. */
#ifndef GT_TESTS_NODE_CHILD_H
#define GT_TESTS_NODE_CHILD_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts the node on home with the given idle-block interval; url gets its
 * base URL. Returns the child's pid, or -1 (with a message) on failure. */
static inline pid_t gt_test_node_start(const char *home, const char *block_interval_ms, char *url, size_t cap) {
    int pipefd[2];
    if (pipe(pipefd)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        execl(GT_CLI, GT_CLI, "node", "--home", home, "--listen", "127.0.0.1:0", "--quiet", "--block-interval-ms",
              block_interval_ms, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *f = fdopen(pipefd[0], "r");
    char line[256] = "";
    int ok = f && fgets(line, sizeof line, f);
    if (f) fclose(f);
    char *u = ok ? strstr(line, "http://") : NULL;
    if (!u) {
        fprintf(stderr, "node did not start (is %s built?)\n", GT_CLI);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return -1;
    }
    u[strcspn(u, "\r\n")] = 0;
    snprintf(url, cap, "%s", u);
    return pid;
}

/* Stops it (SIGTERM: a graceful shutdown) and returns its exit status. */
static inline int gt_test_node_stop(pid_t pid) {
    int st = -1;
    if (pid > 0 && kill(pid, SIGTERM) == 0) waitpid(pid, &st, 0);
    return st;
}

#endif

/* node_child.h: a `gotong node` child process for tests that talk to a node
 * over HTTP: started on a free port of 127.0.0.1, its URL read from its first
 * line ("listening on http://..."), stopped with SIGTERM. Needs GT_CLI. */
#ifndef GT_TESTS_NODE_CHILD_H
#define GT_TESTS_NODE_CHILD_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts the node on home on a free port of 127.0.0.1 with extra arguments
 * after the usual ones (args: NULL-terminated, at most 16; NULL for none),
 * its stderr into log_path (NULL: inherited); url gets its base URL.
 * Returns the child's pid, or -1 (with a message) on failure. */
static inline pid_t gt_test_node_start_args(const char *home, const char *const *args, const char *log_path, char *url,
                                            size_t cap) {
    const char *argv[8 + 16 + 1] = {GT_CLI, "node", "--home", home, "--listen", "127.0.0.1:0"};
    int n = 6;
    for (int i = 0; args && args[i]; i++) {
        if (i == 16) return -1;
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    int pipefd[2];
    if (pipe(pipefd)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        int fd = log_path ? open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
        if (fd >= 0) dup2(fd, 2);
        execv(GT_CLI, (char *const *)argv);
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

/* Starts the node on home with the given idle-block interval, quiet; url
 * gets its base URL. Returns the child's pid, or -1 (with a message). */
static inline pid_t gt_test_node_start(const char *home, const char *block_interval_ms, char *url, size_t cap) {
    const char *const args[] = {"--quiet", "--block-interval-ms", block_interval_ms, NULL};
    return gt_test_node_start_args(home, args, NULL, url, cap);
}

/* A field of /proc/PID/status in kB ("VmRSS", "VmHWM"); 0 if unreadable. */
static inline long gt_test_proc_kb(pid_t pid, const char *field) {
    char status_path[64], status_line[256];
    snprintf(status_path, sizeof status_path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(status_path, "r");
    long kb = 0;
    size_t flen = strlen(field);
    while (f && fgets(status_line, sizeof status_line, f))
        if (!strncmp(status_line, field, flen) && status_line[flen] == ':') kb = atol(status_line + flen + 1);
    if (f) fclose(f);
    return kb;
}

/* Stops it (SIGTERM: a graceful shutdown) and returns its exit status. */
static inline int gt_test_node_stop(pid_t pid) {
    int st = -1;
    if (pid > 0 && kill(pid, SIGTERM) == 0) waitpid(pid, &st, 0);
    return st;
}

#endif

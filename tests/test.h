/* test.h: the tiny harness every test uses. A check that fails prints where
 * and why and counts; TEST_MAIN's runner returns non-zero if any failed, so
 * ctest sees it. Fixtures live in the repository's .cache/fixtures (GT_FIXTURES
 * overrides), written by scripts/setup.sh and scripts/fixtures.sh. */
#ifndef GT_TESTS_TEST_H
#define GT_TESTS_TEST_H

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Atomic: tests check from their client threads too, and a failure counted
 * in two threads at once must not be lost. */
static _Atomic int gt_test_failures;
static _Atomic int gt_test_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        gt_test_checks++;                                                             \
        if (!(cond)) {                                                                \
            gt_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        gt_test_checks++;                                                             \
        if (!(cond)) {                                                                \
            gt_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        long long _a = (long long)(a), _b = (long long)(b);                                  \
        gt_test_checks++;                                                                    \
        if (_a != _b) {                                                                      \
            gt_test_failures++;                                                              \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
                    #b, _a, _b);                                                             \
        }                                                                                    \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                     \
    do {                                                                                       \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                       \
        gt_test_checks++;                                                                      \
        if (_a != _b) {                                                                        \
            gt_test_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n", __FILE__, \
                    __LINE__, #a, #b, _a, _b);                                                 \
        }                                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                                         \
    do {                                                                                        \
        const char *_a = (a), *_b = (b);                                                        \
        gt_test_checks++;                                                                       \
        if (!_a || !_b || strcmp(_a, _b)) {                                                     \
            gt_test_failures++;                                                                 \
            fprintf(stderr, "%s:%d: %s == %s failed:\n  got      \"%s\"\n  expected \"%s\"\n", \
                    __FILE__, __LINE__, #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");        \
        }                                                                                       \
    } while (0)

/* Checks that haystack contains needle (error messages say what was wrong). */
#define CHECK_CONTAINS(hay, needle)                                                           \
    do {                                                                                      \
        const char *_h = (hay), *_n = (needle);                                               \
        gt_test_checks++;                                                                     \
        if (!_h || !strstr(_h, _n)) {                                                         \
            gt_test_failures++;                                                               \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,    \
                    _h ? _h : "(null)", _n);                                                  \
        }                                                                                     \
    } while (0)

#define RUN(fn)                                        \
    do {                                               \
        int _before = gt_test_failures;                \
        fn();                                          \
        fprintf(stderr, "%s %s\n", gt_test_failures == _before ? "ok  " : "FAIL", #fn); \
    } while (0)

/* Ends main: prints the tally and returns the exit code. A test binary that
 * made no check at all fails, so an empty test cannot pass silently. */
static inline int gt_test_finish(void) {
    fprintf(stderr, "%d checks, %d failed\n", gt_test_checks, gt_test_failures);
    if (gt_test_checks == 0) return 1;
    return gt_test_failures ? 1 : 0;
}

/* Path of a test fixture: $GT_FIXTURES/rel, else GT_FIXTURES_DIR/rel (the
 * repository's .cache/fixtures, filled by scripts/setup.sh test and
 * scripts/fixtures.sh; see docs/architecture.md). */
static inline const char *gt_fixture(const char *rel) {
    static char path[4096];
    const char *root = getenv("GT_FIXTURES");
#ifdef GT_FIXTURES_DIR
    if (!root) root = GT_FIXTURES_DIR;
#endif
    if (!root) root = ".cache/fixtures";
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

#endif

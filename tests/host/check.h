/* The C tests' check: counts, and on failure prints where and why, then
 * goes on (main returns non-zero when any failed). */
#ifndef MAPE_TESTS_CHECK_H
#define MAPE_TESTS_CHECK_H
#include <stdio.h>

static int failures, checks;
#define CHECK(c, ...)                                      \
  do {                                                     \
    checks++;                                              \
    if (!(c)) {                                            \
      failures++;                                          \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
    }                                                      \
  } while (0)

#endif

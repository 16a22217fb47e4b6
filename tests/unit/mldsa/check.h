/* Minimal assertion helpers shared by the sg_mldsa unit tests. */
#ifndef SG_TEST_CHECK_H
#define SG_TEST_CHECK_H

#include <stdio.h>

static unsigned checks_run, checks_failed;

#define CHECK(cond)                                                          \
  do {                                                                       \
    checks_run++;                                                            \
    if (!(cond)) {                                                           \
      checks_failed++;                                                       \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                        \
  } while (0)

/* Print the tally under name and return the process exit status. */
static int check_report(const char *name)
{
  printf("%s: %u checks, %u failed\n", name, checks_run, checks_failed);
  return checks_failed == 0 && checks_run > 0 ? 0 : 1;
}

#endif

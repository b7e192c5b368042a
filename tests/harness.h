/* The part of the test framework that only runner.c and harness.c share: the case registry and the
 * running of one case. Test files include test.h only. */
#ifndef EM_TEST_HARNESS_H
#define EM_TEST_HARNESS_H

#include "test.h"

#include <stddef.h>

typedef struct {
    const char *name;
    const char *file;
    em_test_fn fn;
    double limit; /* seconds; 0: the runner's default (EMBER_TEST_TIMEOUT) */
} em_test_case;

size_t em_test_count(void);
const em_test_case *em_test_at(size_t i);

/* Outcomes of a case, and the exit status that carries each one out of a forked child. */
enum { EM_TEST_PASS = 0, EM_TEST_FAIL = 1, EM_TEST_SKIP = 77 };

/* Runs case c on backend b in the calling process: seeds the generator from the case's name,
 * selects the backend with af_set_backend and calls the case. Each failed check and the skip
 * reason are reported as one line: "F <where>: <what>" or "S <reason>", written to report_fd
 * when it is >= 0 (a forked child talking to the runner), or printed to stdout with `prefix`
 * otherwise. Returns EM_TEST_PASS, EM_TEST_FAIL or EM_TEST_SKIP. */
int em_test_run_case(const em_test_case *c, af_backend b, int report_fd, const char *prefix);

/* The seed of a case: FNV-1a of its name, so runs are reproducible and every backend sees the
 * same inputs. */
uint64_t em_test_seed_of(const char *name);

#endif

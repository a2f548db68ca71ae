/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test.h - what the user-space test files share: checks that count and
 * report, a reproducible random source, and the table of tests that
 * core_test.c's main() runs as one TAP stream.
 */
#ifndef _PYM_TEST_H
#define _PYM_TEST_H

#include <stdio.h>

extern int test_failed;
extern unsigned int test_checks;

#define EXPECT(cond, ...)						\
	do {								\
		test_checks++;						\
		if (!(cond)) {						\
			test_failed = 1;				\
			printf("# %s:%d: expected %s: ", __FILE__,	\
			       __LINE__, #cond);			\
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
	} while (0)

/* xorshift64: reproducible without libc's rand() state. */
unsigned long long rnd(void);

struct test {
	const char *name;
	void (*fn)(void);
};

/* The collector's tests (gc_test.c). */
extern const struct test gc_tests[];
extern const unsigned int gc_ntests;

#endif /* _PYM_TEST_H */

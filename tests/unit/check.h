/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * A minimal checker for table-driven unit tests.  CHECK() records a failure
 * with file:line and continues; a test's main returns check_status().
 * Exit 77 (meson's skip) only through CHECK_SKIP with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned check_failures, check_count;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		check_count++;                                                                   \
		if (!(cond)) {                                                                   \
			check_failures++;                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_MSG(cond, ...)                                                                     \
	do {                                                                                     \
		check_count++;                                                                   \
		if (!(cond)) {                                                                   \
			check_failures++;                                                        \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
		}                                                                                \
	} while (0)

#define CHECK_STR(a, b)                                                                                              \
	do {                                                                                                         \
		const char *check_a_ = (a), *check_b_ = (b);                                                         \
		check_count++;                                                                                       \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_)) {                                          \
			check_failures++;                                                                            \
			fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__, check_a_ ? check_a_ : "(null)", \
				check_b_ ? check_b_ : "(null)");                                                     \
		}                                                                                                    \
	} while (0)

#define CHECK_SKIP(...)                       \
	do {                                  \
		fprintf(stdout, "SKIP: ");    \
		fprintf(stdout, __VA_ARGS__); \
		fputc('\n', stdout);          \
		exit(77);                     \
	} while (0)

static inline int check_status(void)
{
	fprintf(stderr, "%u checks, %u failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The private jemalloc's log, exp and round (lib/alloc/libm.c) against
 * libm's own, loaded with dlopen: round exactly, log and exp within one
 * unit in the last place, over sweeps and the special values.  This
 * program links the library whole, so its log/exp/round are lib's.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

double log(double);
double exp(double);
double round(double);

static uint64_t bits(double x)
{
	uint64_t u;

	memcpy(&u, &x, sizeof(u));
	return u;
}

/* distance in units in the last place (same sign, finite) */
static uint64_t ulps(double a, double b)
{
	uint64_t x = bits(a), y = bits(b);

	return x > y ? x - y : y - x;
}

static bool same(double a, double b, uint64_t tol)
{
	if (a != a || b != b)
		return a != a && b != b;
	if (a == b)
		return bits(a) == bits(b) || tol > 0; /* -0 and 0 exact only when exact is asked */
	if ((a < 0) != (b < 0) || isinf(a) || isinf(b))
		return false;
	return ulps(a, b) <= tol;
}

int main(void)
{
	void *m = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
	double (*rlog)(double), (*rexp)(double), (*rround)(double);
	static const double specials[] = {0.0,
					  -0.0,
					  1.0,
					  -1.0,
					  0.5,
					  -0.5,
					  1.5,
					  -1.5,
					  2.5,
					  -2.5,
					  0.49999999999999994,
					  -0.49999999999999994,
					  4503599627370495.5,
					  4503599627370496.0,
					  9007199254740993.0,
					  1e-310,
					  -1e-310,
					  1e308,
					  -1e308,
					  INFINITY,
					  -INFINITY,
					  NAN,
					  709.78,
					  709.79,
					  -745.13,
					  -745.14,
					  2.0};
	unsigned bad = 0, n = 0;

	CHECK(m != NULL);
	rlog = (double (*)(double))dlsym(m, "log");
	rexp = (double (*)(double))dlsym(m, "exp");
	rround = (double (*)(double))dlsym(m, "round");
	CHECK(rlog && rexp && rround);
	CHECK(rlog != log && rexp != exp && rround != round);
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		double x = specials[i];

		n += 3;
		if (!same(round(x), rround(x), 0) && ++bad < 10)
			printf("round(%.17g) = %.17g, libm %.17g\n", x, round(x), rround(x));
		if (!same(log(x), rlog(x), 1) && ++bad < 10)
			printf("log(%.17g) = %.17g, libm %.17g\n", x, log(x), rlog(x));
		if (!same(exp(x), rexp(x), 1) && ++bad < 10)
			printf("exp(%.17g) = %.17g, libm %.17g\n", x, exp(x), rexp(x));
	}
	/* sweeps: log over 1e-300..1e300, exp over -746..710, round over +-1e6 in odd steps */
	for (double x = 1e-300; x < 1e300; x *= 1.0137) {
		n++;
		if (!same(log(x), rlog(x), 1) && ++bad < 10)
			printf("log(%.17g) = %.17g, libm %.17g\n", x, log(x), rlog(x));
	}
	for (double x = -746; x < 710; x += 0.0373) {
		n++;
		if (!same(exp(x), rexp(x), 1) && ++bad < 10)
			printf("exp(%.17g) = %.17g, libm %.17g\n", x, exp(x), rexp(x));
	}
	for (double x = -1e6; x < 1e6; x += 0.25 + 1.0 / 1024) {
		n++;
		if (!same(round(x), rround(x), 0) && ++bad < 10)
			printf("round(%.17g) = %.17g, libm %.17g\n", x, round(x), rround(x));
	}
	printf("%u of %u values differ beyond the tolerance\n", bad, n);
	CHECK(bad == 0);
	return check_status();
}

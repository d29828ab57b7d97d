/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The three functions of libm the private jemalloc refers to (log, exp and
 * round, all in its heap profiler: the sampling interval and the unbiasing
 * of a profile dump), so that neither the agent, nor libmplace.so, nor the
 * mplace tool has to load libm in every process for code that runs only
 * when profiling is turned on (opt.prof, off unless MALLOC_CONF asks).
 * Hidden: a program's own calls still go to libm.
 *
 * They are exact where libm is: round is computed exactly; log and exp use
 * the x87 unit's own instructions in extended precision and round once to
 * double (tests/unit/test-alloc.c compares them with libm's over a sweep of
 * arguments and the special values).
 */
#include <stdint.h>
#include <string.h>

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN double log(double x);
HIDDEN double exp(double x);
HIDDEN double round(double x);

/* ln x = ln 2 * log2 x (fldln2, fyl2x): -inf at 0, NaN below, inf at inf */
double log(double x)
{
	long double r;

	__asm__("fldln2\n\t"
		"fxch\n\t"
		"fyl2x"
		: "=t"(r)
		: "0"((long double)x)
		: "st(1)");
	return (double)r;
}

/* e^x = 2^(x log2 e): 2^frac with f2xm1 (|frac| <= 0.5), scaled by 2^int */
double exp(double x)
{
	long double t, i, r;

	if (x != x)
		return x;
	if (x > 710)
		return __builtin_inf();
	if (x < -746)
		return 0;
	t = (long double)x * 1.4426950408889634073599246810018921L; /* log2 e */
	__asm__("frndint" : "=t"(i) : "0"(t));
	t -= i;
	__asm__("f2xm1" : "=t"(r) : "0"(t));
	r += 1;
	__asm__("fscale" : "=t"(r) : "0"(r), "u"(i));
	return (double)r;
}

/* half way rounds away from zero; exact: x - trunc(x) is exact below 2^52 */
double round(double x)
{
	double t, ax = x < 0 ? -x : x;

	if (!(ax < 4503599627370496.0) || x == 0) /* 2^52: already whole; NaN, inf; +-0 */
		return x;
	t = (double)(int64_t)x;
	if (x - t >= 0.5)
		t += 1;
	else if (t - x >= 0.5)
		t -= 1;
	/* -0.4 rounds to -0 */
	if (t == 0 && x < 0)
		t = -0.0;
	return t;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "basic/nodemask.h"
#include "basic/util.h"
#include "check.h"

static void test_parse_format(void)
{
	static const struct {
		const char *in, *out;
		int ret;
		size_t pos;
	} cases[] = {
		{"", "", 0, 0},
		{"0", "0", 0, 0},
		{"0-3,7", "0-3,7", 0, 0},
		{"3,2,1,0", "0-3", 0, 0},
		{"0-0", "0", 0, 0},
		{"1023", "1023", 0, 0},
		{"1024", NULL, -EINVAL, 0},
		{"3-1", NULL, -EINVAL, 4 - 1},
		{"1,", NULL, -EINVAL, 2},
		{"a", NULL, -EINVAL, 0},
		{"1 ", NULL, -EINVAL, 1},
		{"-1", NULL, -EINVAL, 0},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_nodemask m;
		size_t pos = 999;
		char buf[64];
		int r;

		mp_mask_zero(&m);
		mp_mask_set(&m, 42);
		r = mp_mask_parse(cases[i].in, strlen(cases[i].in), &m, &pos);
		CHECK_MSG(r == cases[i].ret, "case '%s': %d", cases[i].in, r);
		if (r < 0) {
			CHECK_MSG(mp_mask_test(&m, 42) && mp_mask_weight(&m) == 1, "output touched on error: '%s'",
				  cases[i].in);
			CHECK_MSG(pos == cases[i].pos, "case '%s': pos %zu", cases[i].in, pos);
			continue;
		}
		mp_mask_format(&m, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].out);
	}
}

static void test_ops(void)
{
	struct mp_nodemask a, b, r;
	char small[4];
	int n;

	mp_mask_parse("0-5", 3, &a, NULL);
	mp_mask_parse("4-9", 3, &b, NULL);
	mp_mask_and(&r, &a, &b);
	CHECK(mp_mask_weight(&r) == 2 && mp_mask_test(&r, 4) && mp_mask_test(&r, 5));
	mp_mask_or(&r, &a, &b);
	CHECK(mp_mask_weight(&r) == 10);
	mp_mask_andnot(&r, &a, &b);
	CHECK(mp_mask_weight(&r) == 4 && !mp_mask_test(&r, 4));
	CHECK(mp_mask_subset(&r, &a) && !mp_mask_subset(&a, &r));
	CHECK(mp_mask_next(&b, 0) == 4 && mp_mask_next(&b, 10) == -1 && mp_mask_last(&b) == 9);
	mp_mask_zero(&r);
	mp_mask_set(&r, 63);
	mp_mask_set(&r, 64);
	mp_mask_set(&r, 1023);
	CHECK(mp_mask_next(&r, 0) == 63 && mp_mask_next(&r, 64) == 64 && mp_mask_next(&r, 65) == 1023);
	CHECK(mp_mask_last(&r) == 1023);
	/* snprintf semantics: the full length is returned even when truncated */
	n = mp_mask_format(&r, small, sizeof(small));
	CHECK(n == (int)strlen("63-64,1023") && strlen(small) == 3);
}

static void test_sizes(void)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t v;
		const char *out;
	} cases[] = {
		{"4096", 0, 4096, "4K"},
		{"4K", 0, 4096, "4K"},
		{"2M", 0, 2u << 20, "2M"},
		{"4G", 0, 4ull << 30, "4G"},
		{"16MiB", 0, 16u << 20, "16M"},
		{"1g", 0, 1ull << 30, "1G"},
		{"100", 0, 100, "100"},
		{"4X", -EINVAL, 0, NULL},
		{"", -EINVAL, 0, NULL},
		{"G", -EINVAL, 0, NULL},
		{"99999999999999999999", -ERANGE, 0, NULL},
		{"17179869184G", -ERANGE, 0, NULL},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		uint64_t v = 7;
		char buf[32];
		int r = mp_parse_size(cases[i].in, strlen(cases[i].in), &v);

		CHECK_MSG(r == cases[i].ret, "size '%s': %d", cases[i].in, r);
		if (r < 0) {
			CHECK(v == 7);
			continue;
		}
		CHECK(v == cases[i].v);
		mp_format_size(v, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].out);
	}
}

int main(void)
{
	test_parse_format();
	test_ops();
	test_sizes();
	return check_status();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Node mask operations and the node-list text form.  Pure, libc only.
 */
#include <errno.h>
#include <stdio.h>

#include "nodemask.h"

void mp_mask_and(struct mp_nodemask *r, const struct mp_nodemask *a, const struct mp_nodemask *b)
{
	for (unsigned i = 0; i < MP_MASK_WORDS; i++)
		r->w[i] = a->w[i] & b->w[i];
}

void mp_mask_or(struct mp_nodemask *r, const struct mp_nodemask *a, const struct mp_nodemask *b)
{
	for (unsigned i = 0; i < MP_MASK_WORDS; i++)
		r->w[i] = a->w[i] | b->w[i];
}

void mp_mask_andnot(struct mp_nodemask *r, const struct mp_nodemask *a, const struct mp_nodemask *b)
{
	for (unsigned i = 0; i < MP_MASK_WORDS; i++)
		r->w[i] = a->w[i] & ~b->w[i];
}

bool mp_mask_equal(const struct mp_nodemask *a, const struct mp_nodemask *b)
{
	for (unsigned i = 0; i < MP_MASK_WORDS; i++)
		if (a->w[i] != b->w[i])
			return false;
	return true;
}

bool mp_mask_empty(const struct mp_nodemask *m)
{
	for (unsigned i = 0; i < MP_MASK_WORDS; i++)
		if (m->w[i])
			return false;
	return true;
}

bool mp_mask_subset(const struct mp_nodemask *a, const struct mp_nodemask *b)
{
	for (unsigned i = 0; i < MP_MASK_WORDS; i++)
		if (a->w[i] & ~b->w[i])
			return false;
	return true;
}

/* Bits set in one word, inline: the baseline x86-64 has no popcnt, and
 * __builtin_popcountll would call libgcc's table-driven helper, one more
 * page of code for every program that starts (the agent, the tool). */
static inline unsigned popcount64(uint64_t x)
{
	x -= (x >> 1) & UINT64_C(0x5555555555555555);
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

unsigned mp_mask_weight(const struct mp_nodemask *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MP_MASK_WORDS; i++)
		n += popcount64(m->w[i]);
	return n;
}

int mp_mask_next(const struct mp_nodemask *m, int from)
{
	if (from < 0)
		from = 0;
	for (unsigned i = (unsigned)from / 64; i < MP_MASK_WORDS; i++) {
		uint64_t w = m->w[i];

		if (i == (unsigned)from / 64)
			w &= ~UINT64_C(0) << (from % 64);
		if (w)
			return (int)(i * 64 + (unsigned)__builtin_ctzll(w));
	}
	return -1;
}

int mp_mask_last(const struct mp_nodemask *m)
{
	for (int i = MP_MASK_WORDS - 1; i >= 0; i--)
		if (m->w[i])
			return i * 64 + 63 - __builtin_clzll(m->w[i]);
	return -1;
}

/* Reads a decimal node number; rejects signs, overflow and numbers past the mask. */
static int parse_node(const char *s, size_t len, size_t *i, unsigned *ret)
{
	unsigned v = 0;
	size_t start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (unsigned)(s[*i] - '0');
		if (v >= MP_MAX_NODES) {
			*i = start;
			return -EINVAL;
		}
		(*i)++;
	}
	if (*i == start)
		return -EINVAL;
	*ret = v;
	return 0;
}

int mp_mask_parse(const char *s, size_t len, struct mp_nodemask *ret, size_t *ret_pos)
{
	struct mp_nodemask m;
	size_t i = 0;

	mp_mask_zero(&m);
	if (len == 0)
		goto done;
	for (;;) {
		unsigned lo, hi;
		if (parse_node(s, len, &i, &lo) < 0)
			goto fail;
		hi = lo;
		if (i < len && s[i] == '-') {
			i++;
			if (parse_node(s, len, &i, &hi) < 0 || hi < lo)
				goto fail;
		}
		for (unsigned n = lo; n <= hi; n++)
			mp_mask_set(&m, n);
		if (i == len)
			break;
		if (s[i] != ',')
			goto fail;
		i++;
	}
done:
	*ret = m;
	return 0;
fail:
	if (ret_pos)
		*ret_pos = i;
	return -EINVAL;
}

int mp_mask_format(const struct mp_nodemask *m, char *buf, size_t size)
{
	size_t total = 0;
	const char *sep = "";

	if (size)
		buf[0] = '\0';
	for (int n = mp_mask_next(m, 0); n >= 0;) {
		int end = n;
		char *at = total < size ? buf + total : NULL;
		size_t room = total < size ? size - total : 0;
		int k;

		while (mp_mask_test(m, (unsigned)end + 1))
			end++;
		if (end == n)
			k = snprintf(at, room, "%s%d", sep, n);
		else
			k = snprintf(at, room, "%s%d-%d", sep, n, end);
		total += (size_t)k;
		sep = ",";
		n = mp_mask_next(m, end + 1);
	}
	return (int)total;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Fixed-size NUMA node masks and the kernel's node-list text form ("0-3,7").
 *
 * MP_MAX_NODES matches the largest MAX_NUMNODES a distribution kernel is built
 * with (CONFIG_NODES_SHIFT=10 on x86_64), so a mask can always be handed to the
 * kernel without resizing.  Masks are plain values: copy them with '='.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_MAX_NODES  1024
#define MP_MASK_WORDS (MP_MAX_NODES / 64)

struct mp_nodemask {
	uint64_t w[MP_MASK_WORDS];
};

static inline void mp_mask_zero(struct mp_nodemask *m)
{
	for (unsigned i = 0; i < MP_MASK_WORDS; i++)
		m->w[i] = 0;
}

static inline void mp_mask_set(struct mp_nodemask *m, unsigned n)
{
	if (n < MP_MAX_NODES)
		m->w[n / 64] |= UINT64_C(1) << (n % 64);
}

static inline void mp_mask_clear(struct mp_nodemask *m, unsigned n)
{
	if (n < MP_MAX_NODES)
		m->w[n / 64] &= ~(UINT64_C(1) << (n % 64));
}

static inline bool mp_mask_test(const struct mp_nodemask *m, unsigned n)
{
	return n < MP_MAX_NODES && (m->w[n / 64] >> (n % 64)) & 1;
}

void mp_mask_and(struct mp_nodemask *r, const struct mp_nodemask *a, const struct mp_nodemask *b);
void mp_mask_or(struct mp_nodemask *r, const struct mp_nodemask *a, const struct mp_nodemask *b);
/* r = a & ~b */
void mp_mask_andnot(struct mp_nodemask *r, const struct mp_nodemask *a, const struct mp_nodemask *b);
bool mp_mask_equal(const struct mp_nodemask *a, const struct mp_nodemask *b);
bool mp_mask_empty(const struct mp_nodemask *m);
/* true when every node of a is in b */
bool mp_mask_subset(const struct mp_nodemask *a, const struct mp_nodemask *b);
unsigned mp_mask_weight(const struct mp_nodemask *m);
/* first node >= from that is set, or -1 */
int mp_mask_next(const struct mp_nodemask *m, int from);
/* highest set node, or -1 */
int mp_mask_last(const struct mp_nodemask *m);

#define mp_mask_foreach(n, m) for (int n = mp_mask_next((m), 0); n >= 0; n = mp_mask_next((m), n + 1))

/*
 * Parse a kernel node list: "0-3,7", "0-7:2" is NOT accepted (the kernel's
 * stride form is not a node list in any tool people use).  Empty string is the
 * empty mask.  Returns 0, or -EINVAL with *ret_pos the byte offset of the error
 * (ret_pos may be NULL).  *ret is untouched on error.
 */
int mp_mask_parse(const char *s, size_t len, struct mp_nodemask *ret, size_t *ret_pos);
/* Format as a node list into buf ("" for empty).  Returns the length that
 * would have been written (snprintf semantics). */
int mp_mask_format(const struct mp_nodemask *m, char *buf, size_t size);

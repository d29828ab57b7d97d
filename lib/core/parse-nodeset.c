/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Node sets: lists and ranges, all, cpuset, local, cpu-nodes, gpu-nodes,
 * tier:, best:, near:, dist<=, +relative and !negated terms, kept as terms
 * (resolved late, against a machine) in canonical order (policy.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "parse.h"
#include "policy.h"

/* ---- node sets ----------------------------------------------------------- */

struct termvec {
	unsigned n, cap;
	struct mp_ns_term *t;
};

static void termvec_free(struct termvec *v)
{
	for (unsigned i = 0; i < v->n; i++)
		free(v->t[i].str);
	free(v->t);
	v->t = NULL;
	v->n = v->cap = 0;
}

/* Appends t (taking its str). */
static int termvec_push(struct termvec *v, struct mp_ns_term *t)
{
	if (v->n == v->cap) {
		unsigned cap = v->cap ? v->cap * 2 : 4;
		struct mp_ns_term *n = realloc(v->t, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->t = n;
		v->cap = cap;
	}
	v->t[v->n++] = *t;
	t->str = NULL;
	return 0;
}

static bool same_term(const struct mp_ns_term *a, const struct mp_ns_term *b)
{
	if (a->atom != b->atom || a->neg != b->neg || a->arg != b->arg)
		return false;
	if (!a->str || !b->str)
		return a->str == b->str;
	return strcmp(a->str, b->str) == 0;
}

static const char *const term_words[] = {
	"all",		"cpuset",	 "local", "cpu-nodes", "gpu-nodes", "tier:fast", "tier:slow", "best:bandwidth",
	"best:latency", "best:capacity", "near",  "dist<=",    NULL,
};

#define TERM_HINT                                                                                             \
	"terms: 0-3,7 all cpuset local cpu-nodes gpu-nodes tier:fast|slow|N best:bandwidth|latency|capacity " \
	"near[:pci:BDF|net:IF|block:DEV] dist<=N +LIST; '!' subtracts"

static int parse_small(const char *s, size_t len, uint64_t max, int32_t *ret)
{
	uint64_t v;
	int r = mp_parse_uint(s, len, max, &v);

	if (r < 0)
		return r;
	*ret = (int32_t)v;
	return 0;
}

bool mp_parse_device_char_ok(char c)
{
	/* printable, no blank: a device name runs to the next comma and must
	 * survive a round trip through the space-separated policy text */
	return c > ' ' && c < 127 && c != ',';
}

/* One term s[0..len) at offset base (without its '!' prefix). */
static int parse_term(const char *s, size_t len, size_t base, struct mp_ns_term *t, struct mp_diag *d)
{
	char hint[512];
	size_t pos;

	memset(t, 0, sizeof(*t));
	if (len == 0)
		return mp_parse_fail(d, base, TERM_HINT, "empty node-set term");
	if (isdigit((unsigned char)s[0]) || s[0] == '+') {
		size_t off = s[0] == '+';

		t->atom = off ? MP_NS_RELATIVE : MP_NS_LIST;
		if (off && len == 1)
			return mp_parse_fail(d, base + 1, "write node indices after '+', e.g. '+0-1'",
					     "'+' needs a list of node indices");
		if (mp_mask_parse(s + off, len - off, &t->mask, &pos) < 0) {
			/* a number that is too big gets a message of its own */
			size_t e = off + pos;
			while (e < len && isdigit((unsigned char)s[e]))
				e++;
			if (e > off + pos)
				return mp_parse_fail(d, base + off + pos, "NUMA node numbers run from 0 to 1023",
						     "node number '%.*s' is out of range", Q(e - off - pos),
						     s + off + pos);
			return mp_parse_fail(d, base + off + pos, TERM_HINT, "bad node list '%.*s'", Q(len), s);
		}
		return 0;
	}
	if (mp_streqn(s, len, "all")) {
		t->atom = MP_NS_ALL;
		return 0;
	}
	if (mp_streqn(s, len, "cpuset")) {
		t->atom = MP_NS_CPUSET;
		return 0;
	}
	if (mp_streqn(s, len, "local")) {
		t->atom = MP_NS_LOCAL;
		return 0;
	}
	if (mp_streqn(s, len, "cpu-nodes")) {
		t->atom = MP_NS_CPU_NODES;
		return 0;
	}
	if (mp_streqn(s, len, "gpu-nodes")) {
		t->atom = MP_NS_GPU_NODES;
		return 0;
	}
	if (len >= 5 && memcmp(s, "tier:", 5) == 0) {
		t->atom = MP_NS_TIER;
		if (mp_streqn(s + 5, len - 5, "fast"))
			t->arg = MP_TIER_FAST;
		else if (mp_streqn(s + 5, len - 5, "slow"))
			t->arg = MP_TIER_SLOW;
		else if (parse_small(s + 5, len - 5, MAX_TIER, &t->arg) < 0)
			return mp_parse_fail(d, base + 5,
					     "write tier:fast, tier:slow or tier:N with N a tier rank 0-255",
					     "bad memory tier '%.*s'", Q(len - 5), s + 5);
		return 0;
	}
	if (len >= 5 && memcmp(s, "best:", 5) == 0) {
		t->atom = MP_NS_BEST;
		if (mp_streqn(s + 5, len - 5, "bandwidth"))
			t->arg = MP_BEST_BANDWIDTH;
		else if (mp_streqn(s + 5, len - 5, "latency"))
			t->arg = MP_BEST_LATENCY;
		else if (mp_streqn(s + 5, len - 5, "capacity"))
			t->arg = MP_BEST_CAPACITY;
		else
			return mp_parse_fail(d, base + 5, "write best:bandwidth, best:latency or best:capacity",
					     "unknown 'best:' criterion '%.*s'", Q(len - 5), s + 5);
		return 0;
	}
	if (mp_streqn(s, len, "near")) {
		t->atom = MP_NS_NEAR;
		return 0;
	}
	if (len >= 5 && memcmp(s, "near:", 5) == 0) {
		static const char *const types[] = {"pci:", "net:", "block:"};
		const char *dev = s + 5;
		size_t dlen = len - 5, tl = 0;

		for (unsigned i = 0; i < MP_ARRAY_SIZE(types); i++)
			if (dlen >= strlen(types[i]) && memcmp(dev, types[i], strlen(types[i])) == 0)
				tl = strlen(types[i]);
		if (!tl)
			return mp_parse_fail(d, base + 5, "write near:pci:BDF, near:net:IFACE or near:block:DEV",
					     "unknown device type in '%.*s'", Q(len), s);
		if (dlen == tl)
			return mp_parse_fail(d, base + len, "name the device, e.g. near:pci:0000:3b:00.0",
					     "missing device name after '%.*s'", Q(len), s);
		for (size_t i = tl; i < dlen; i++)
			if (!mp_parse_device_char_ok(dev[i]))
				return mp_parse_fail(d, base + 5 + i,
						     "device names are printable characters without blanks",
						     "bad character in device name '%.*s'", Q(dlen - tl), dev + tl);
		t->atom = MP_NS_NEAR;
		t->str = mp_strndup(dev, dlen);
		if (!t->str)
			return mp_parse_oom(d, base);
		return 0;
	}
	if (len >= 6 && memcmp(s, "dist<=", 6) == 0) {
		t->atom = MP_NS_DIST;
		if (parse_small(s + 6, len - 6, MAX_DIST, &t->arg) < 0)
			return mp_parse_fail(d, base + 6,
					     "write dist<=N with N a node distance 0-255 (10 is the local node)",
					     "bad distance '%.*s'", Q(len - 6), s + 6);
		return 0;
	}
	/* "gpu" is what people type first; it is too far from the word for near_miss */
	if (mp_streqn(s, len, "gpu"))
		return mp_parse_fail(d, base, "did you mean 'gpu-nodes'? " TERM_HINT, "unknown node-set term 'gpu'");
	return mp_parse_fail(d, base, mp_parse_suggest(hint, sizeof(hint), s, len, term_words, TERM_HINT),
			     "unknown node-set term '%.*s'", Q(len), s);
}

/*
 * Canonical order (policy.h): merged positive node list, other positive terms
 * in input order, merged negative list, other negative terms in input order,
 * duplicates dropped.  Relative terms ("+0-1") of one sign merge into the
 * first of them, keeping its place among the other terms: indices map to
 * distinct nodes, so the union of index lists is the union of their nodes.
 */
static int ns_canonical(struct termvec *in, struct mp_nodeset *ret)
{
	struct termvec out = {0};
	struct mp_nodemask lists[2];
	bool have[2] = {false, false};
	int r = -ENOMEM;

	mp_mask_zero(&lists[0]);
	mp_mask_zero(&lists[1]);
	for (unsigned i = 0; i < in->n; i++)
		if (in->t[i].atom == MP_NS_LIST) {
			mp_mask_or(&lists[in->t[i].neg], &lists[in->t[i].neg], &in->t[i].mask);
			have[in->t[i].neg] = true;
		}
	for (int neg = 0; neg < 2; neg++) {
		if (have[neg]) {
			struct mp_ns_term t = {.atom = MP_NS_LIST, .neg = neg, .mask = lists[neg]};

			if (termvec_push(&out, &t) < 0)
				goto out;
		}
		for (unsigned i = 0; i < in->n; i++) {
			struct mp_ns_term *t = &in->t[i];
			bool dup = false;

			if (t->neg != neg || t->atom == MP_NS_LIST)
				continue;
			for (unsigned j = 0; j < out.n && !dup; j++) {
				if (t->atom == MP_NS_RELATIVE && out.t[j].atom == MP_NS_RELATIVE &&
				    out.t[j].neg == t->neg) {
					mp_mask_or(&out.t[j].mask, &out.t[j].mask, &t->mask);
					dup = true;
				} else if (t->atom != MP_NS_RELATIVE && same_term(t, &out.t[j])) {
					dup = true;
				}
			}
			if (!dup && termvec_push(&out, t) < 0)
				goto out;
		}
	}
	ret->n = out.n;
	ret->terms = out.t;
	out.t = NULL;
	out.n = 0;
	r = 0;
out:
	termvec_free(&out);
	return r;
}

/* Node set s[0..len), located at 'base' in the text being parsed. */
int mp_parse_ns_at(const char *s, size_t len, size_t base, struct mp_nodeset *ret, struct mp_diag *d)
{
	struct termvec v = {0};
	struct mp_nodeset ns;
	size_t i = 0;
	int r;

	if (len == 0)
		return mp_parse_fail(d, base, TERM_HINT, "empty node set");
	for (;;) {
		size_t e = i;
		struct mp_ns_term t;
		bool neg = false;

		while (e < len && s[e] != ',')
			e++;
		if (e == i) {
			r = mp_parse_fail(d, base + i, TERM_HINT, "empty node-set term");
			goto out;
		}
		if (s[i] == '!') {
			neg = true;
			if (e == i + 1) {
				r = mp_parse_fail(d, base + i + 1, "write the term to subtract after '!', e.g. '!2'",
						  "nothing after '!'");
				goto out;
			}
		}
		r = parse_term(s + i + neg, e - i - neg, base + i + neg, &t, d);
		if (r < 0)
			goto out;
		t.neg = neg;
		if (termvec_push(&v, &t) < 0) {
			free(t.str);
			r = mp_parse_oom(d, base);
			goto out;
		}
		if (e == len)
			break;
		i = e + 1;
		if (i == len) {
			r = mp_parse_fail(d, base + i, TERM_HINT, "node set ends with ','");
			goto out;
		}
	}
	r = ns_canonical(&v, &ns);
	if (r < 0) {
		r = mp_parse_oom(d, base);
		goto out;
	}
	*ret = ns;
out:
	termvec_free(&v);
	return r;
}

int mp_nodeset_parse(const char *s, size_t len, struct mp_nodeset *ret, struct mp_diag *diag)
{
	return mp_parse_ns_at(s, len, 0, ret, diag);
}

/* Builds a one-term node set directly (numactl, mpol, systemd, OCI). */
int mp_parse_ns_from_term(struct mp_ns_term *t, struct mp_nodeset *ret)
{
	struct mp_ns_term *n = malloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
	*n = *t;
	t->str = NULL;
	ret->n = 1;
	ret->terms = n;
	return 0;
}

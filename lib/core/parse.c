/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading policies: the mplace language and the spellings people already use
 * (numactl options, tmpfs mpol=, systemd NUMAPolicy=/NUMAMask=, OCI
 * linux.memoryPolicy).  Every spelling is read into the same working policy
 * through the same setters, so whatever the input form, the result is
 * canonical (policy.h): node-set terms merged and deduplicated, lists sorted,
 * presets expanded.
 *
 * Invariants: on error a parser returns -EINVAL (or -ENOMEM), fills the
 * diagnostic with the byte offset of the offending token or character, a
 * message quoting it and a hint, frees everything it allocated, and leaves
 * the caller's output untouched.  Nothing here prints.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "basic/util.h"
#include "policy.h"

#define MAX_TIER 255 /* memory tiers are ranked 0..n-1; n is small */
#define MAX_DIST 255 /* ACPI SLIT distances are one byte */

/* ---- diagnostics ------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int fail(struct mp_diag *d, size_t pos, const char *hint, const char *fmt,
						      ...)
{
	va_list ap;

	if (!d)
		return -EINVAL;
	d->pos = (unsigned)pos;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	snprintf(d->hint, sizeof(d->hint), "%s", hint ? hint : "");
	return -EINVAL;
}

static int fail_oom(struct mp_diag *d, size_t pos)
{
	if (d) {
		d->pos = (unsigned)pos;
		snprintf(d->msg, sizeof(d->msg), "out of memory");
		d->hint[0] = '\0';
	}
	return -ENOMEM;
}

/* The closest word of a NULL-terminated list, when it is close enough to be a typo. */
static const char *near_miss(const char *s, size_t len, const char *const *words)
{
	const char *best = NULL;
	unsigned bd = 3;

	if (len < 3)
		return NULL;
	for (unsigned i = 0; words[i]; i++) {
		unsigned d = mp_edit_distance(s, len, words[i]);

		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	return best;
}

/* "did you mean 'X'? " + rest, or just rest. */
static const char *suggest(char *buf, size_t size, const char *s, size_t len, const char *const *words,
			   const char *rest)
{
	const char *m = near_miss(s, len, words);

	if (m)
		snprintf(buf, size, "did you mean '%s'? %s", m, rest);
	else
		snprintf(buf, size, "%s", rest);
	return buf;
}

/* Quote at most this much of a token in messages. */
#define Q(len) ((int)((len) > 60 ? 60 : (len)))

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

static bool device_char_ok(char c)
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
		return fail(d, base, TERM_HINT, "empty node-set term");
	if (isdigit((unsigned char)s[0]) || s[0] == '+') {
		size_t off = s[0] == '+';

		t->atom = off ? MP_NS_RELATIVE : MP_NS_LIST;
		if (off && len == 1)
			return fail(d, base + 1, "write node indices after '+', e.g. '+0-1'",
				    "'+' needs a list of node indices");
		if (mp_mask_parse(s + off, len - off, &t->mask, &pos) < 0) {
			/* a number that is too big gets a message of its own */
			size_t e = off + pos;
			while (e < len && isdigit((unsigned char)s[e]))
				e++;
			if (e > off + pos)
				return fail(d, base + off + pos, "NUMA node numbers run from 0 to 1023",
					    "node number '%.*s' is out of range", Q(e - off - pos), s + off + pos);
			return fail(d, base + off + pos, TERM_HINT, "bad node list '%.*s'", Q(len), s);
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
			return fail(d, base + 5, "write tier:fast, tier:slow or tier:N with N a tier rank 0-255",
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
			return fail(d, base + 5, "write best:bandwidth, best:latency or best:capacity",
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
			return fail(d, base + 5, "write near:pci:BDF, near:net:IFACE or near:block:DEV",
				    "unknown device type in '%.*s'", Q(len), s);
		if (dlen == tl)
			return fail(d, base + len, "name the device, e.g. near:pci:0000:3b:00.0",
				    "missing device name after '%.*s'", Q(len), s);
		for (size_t i = tl; i < dlen; i++)
			if (!device_char_ok(dev[i]))
				return fail(d, base + 5 + i, "device names are printable characters without blanks",
					    "bad character in device name '%.*s'", Q(dlen - tl), dev + tl);
		t->atom = MP_NS_NEAR;
		t->str = mp_strndup(dev, dlen);
		if (!t->str)
			return fail_oom(d, base);
		return 0;
	}
	if (len >= 6 && memcmp(s, "dist<=", 6) == 0) {
		t->atom = MP_NS_DIST;
		if (parse_small(s + 6, len - 6, MAX_DIST, &t->arg) < 0)
			return fail(d, base + 6, "write dist<=N with N a node distance 0-255 (10 is the local node)",
				    "bad distance '%.*s'", Q(len - 6), s + 6);
		return 0;
	}
	/* "gpu" is what people type first; it is too far from the word for near_miss */
	if (mp_streqn(s, len, "gpu"))
		return fail(d, base, "did you mean 'gpu-nodes'? " TERM_HINT, "unknown node-set term 'gpu'");
	return fail(d, base, suggest(hint, sizeof(hint), s, len, term_words, TERM_HINT), "unknown node-set term '%.*s'",
		    Q(len), s);
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
static int ns_parse_at(const char *s, size_t len, size_t base, struct mp_nodeset *ret, struct mp_diag *d)
{
	struct termvec v = {0};
	struct mp_nodeset ns;
	size_t i = 0;
	int r;

	if (len == 0)
		return fail(d, base, TERM_HINT, "empty node set");
	for (;;) {
		size_t e = i;
		struct mp_ns_term t;
		bool neg = false;

		while (e < len && s[e] != ',')
			e++;
		if (e == i) {
			r = fail(d, base + i, TERM_HINT, "empty node-set term");
			goto out;
		}
		if (s[i] == '!') {
			neg = true;
			if (e == i + 1) {
				r = fail(d, base + i + 1, "write the term to subtract after '!', e.g. '!2'",
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
			r = fail_oom(d, base);
			goto out;
		}
		if (e == len)
			break;
		i = e + 1;
		if (i == len) {
			r = fail(d, base + i, TERM_HINT, "node set ends with ','");
			goto out;
		}
	}
	r = ns_canonical(&v, &ns);
	if (r < 0) {
		r = fail_oom(d, base);
		goto out;
	}
	*ret = ns;
out:
	termvec_free(&v);
	return r;
}

int mp_nodeset_parse(const char *s, size_t len, struct mp_nodeset *ret, struct mp_diag *diag)
{
	return ns_parse_at(s, len, 0, ret, diag);
}

/* Builds a one-term node set directly (numactl, mpol, systemd, OCI). */
static int ns_from_term(struct mp_ns_term *t, struct mp_nodeset *ret)
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

/* ---- the working policy and its setters ------------------------------------ */

/* Replaces *dst with *src (taken). */
static void ns_move(struct mp_nodeset *dst, struct mp_nodeset *src)
{
	mp_nodeset_free(dst);
	*dst = *src;
	mp_nodeset_init(src);
}

static void set_nodes(struct mp_policy *p, struct mp_nodeset *ns)
{
	ns_move(&p->nodes, ns);
	p->nodes_set = true;
}

/* Conjunction: appended unless an equal set is there already.  Takes ns. */
static int add_allow(struct mp_policy *p, struct mp_nodeset *ns)
{
	struct mp_nodeset *n;

	for (unsigned i = 0; i < p->n_allow; i++)
		if (mp_nodeset_equal(&p->allow[i], ns)) {
			mp_nodeset_free(ns);
			return 0;
		}
	n = realloc(p->allow, (p->n_allow + 1) * sizeof(*n));
	if (!n) {
		mp_nodeset_free(ns);
		return -ENOMEM;
	}
	p->allow = n;
	p->allow[p->n_allow++] = *ns;
	mp_nodeset_init(ns);
	return 0;
}

/* Kept sorted by page size (thp, whose value is 1, first); equal sizes keep
 * input order; exact duplicates are dropped.  Takes ns. */
static int add_order_nodes(struct mp_policy *p, uint64_t size, struct mp_nodeset *ns)
{
	struct mp_order_constraint *n;
	unsigned at;

	for (unsigned i = 0; i < p->n_order_nodes; i++)
		if (p->order_nodes[i].page_size == size && mp_nodeset_equal(&p->order_nodes[i].nodes, ns)) {
			mp_nodeset_free(ns);
			return 0;
		}
	n = realloc(p->order_nodes, (p->n_order_nodes + 1) * sizeof(*n));
	if (!n) {
		mp_nodeset_free(ns);
		return -ENOMEM;
	}
	p->order_nodes = n;
	for (at = p->n_order_nodes; at > 0 && n[at - 1].page_size > size; at--)
		;
	memmove(&n[at + 1], &n[at], (p->n_order_nodes - at) * sizeof(*n));
	n[at].page_size = size;
	n[at].nodes = *ns;
	p->n_order_nodes++;
	mp_nodeset_init(ns);
	return 0;
}

static void set_mode(struct mp_policy *p, enum mp_mode m)
{
	p->mode = m;
	/* a mode without a node set inherits the nodes of the general scope */
	mp_nodeset_free(&p->nodes);
	p->nodes_set = false;
}

/* ---- the mplace language ---------------------------------------------------- */

struct name_val {
	const char *name;
	int val;
};

static const struct name_val modes[] = {
	{"default", MP_MODE_DEFAULT},
	{"local", MP_MODE_LOCAL},
	{"bind", MP_MODE_BIND},
	{"prefer", MP_MODE_PREFER},
	{"prefer-many", MP_MODE_PREFER_MANY},
	{"interleave", MP_MODE_INTERLEAVE},
	{"weighted-interleave", MP_MODE_WEIGHTED_INTERLEAVE},
	{"split", MP_MODE_SPLIT},
	/* numactl and kernel spellings */
	{"membind", MP_MODE_BIND},
	{"preferred", MP_MODE_PREFER},
	{"localalloc", MP_MODE_LOCAL},
	{"preferred-many", MP_MODE_PREFER_MANY},
	{"weighted", MP_MODE_WEIGHTED_INTERLEAVE},
};

static const char *const mode_words[] = {
	"default", "local",   "bind",	   "prefer",	 "prefer-many",	   "interleave", "weighted-interleave",
	"split",   "membind", "preferred", "localalloc", "preferred-many", "weighted",	 NULL,
};

#define MODE_HINT "modes: default, local, bind, prefer, prefer-many, interleave, weighted-interleave, split"

static int lookup(const struct name_val *t, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (mp_streqn(s, len, t[i].name))
			return t[i].val;
	return -1;
}

/* Presets: each is policy text expanded in place. */
static const struct {
	const char *name, *text;
} presets[] = {
	{"gfp:thisnode", "bind:local strict"}, {"gfp:dma", "phys<16M strict"},
	{"gfp:dma32", "phys<4G strict"},       {"gfp:hardwall", "allow=cpuset strict"},
	{"hbw", "bind:best:bandwidth strict"}, {"hbw-preferred", "prefer:best:bandwidth"},
	{"capacity", "bind:best:capacity"},    {"latency", "bind:best:latency"},
};

static const char *const option_words[] = {
	"allow=",	 "nodes=",   "phys<",	     "phys=",	  "order.",    "strict",       "fallback=",
	"weights=",	 "order=",   "automigrate",  "replicate", "home=",     "static",       "relative",
	"nodeflags=",	 "migrate",  "gfp:thisnode", "gfp:dma",	  "gfp:dma32", "gfp:hardwall", "hbw",
	"hbw-preferred", "capacity", "latency",	     NULL,
};

#define OPTION_HINT                                                                                    \
	"options: allow= nodes= phys< phys= order.SIZE= strict fallback= weights= order= automigrate " \
	"replicate home= static relative migrate; presets: gfp:thisnode gfp:dma gfp:dma32 "            \
	"gfp:hardwall hbw hbw-preferred capacity latency"

static int parse_yesno(const char *v, size_t len, enum mp_tristate *ret)
{
	if (mp_streqn(v, len, "yes")) {
		*ret = MP_YES;
		return 0;
	}
	if (mp_streqn(v, len, "no")) {
		*ret = MP_NO;
		return 0;
	}
	return -EINVAL;
}

/* A page size: a power of two of at least 4K, or "thp". */
static int parse_page_size(const char *v, size_t len, uint64_t *ret)
{
	uint64_t s;

	if (mp_streqn(v, len, "thp")) {
		*ret = MP_ORDER_THP;
		return 0;
	}
	if (mp_parse_size(v, len, &s) < 0 || s < 4096 || (s & (s - 1)))
		return -EINVAL;
	*ret = s;
	return 0;
}

static int cmp_weight(const void *a, const void *b)
{
	const struct mp_weight *x = a, *y = b;

	return (int)x->node - (int)y->node;
}

static int parse_weights(struct mp_policy *p, const char *v, size_t len, size_t base, struct mp_diag *d)
{
	static const char hint[] = "write weights=auto or weights=NODE:WEIGHT,... with weights 1-255, e.g. 0:3,1:1";
	struct mp_weight *w = NULL;
	unsigned n = 0;
	size_t i = 0;

	if (mp_streqn(v, len, "auto")) {
		free(p->weight_list);
		p->weight_list = NULL;
		p->n_weights = 0;
		p->weights = MP_W_AUTO;
		return 0;
	}
	if (len == 0)
		return fail(d, base, hint, "empty weight list");
	while (i <= len) {
		size_t e = i, c;
		uint64_t node, wt;
		struct mp_weight *nw;

		while (e < len && v[e] != ',')
			e++;
		for (c = i; c < e && v[c] != ':'; c++)
			;
		if (c == e) {
			free(w);
			return fail(d, base + i, hint, "weight '%.*s' is not NODE:WEIGHT", Q(e - i), v + i);
		}
		if (mp_parse_uint(v + i, c - i, MP_MAX_NODES - 1, &node) < 0) {
			free(w);
			return fail(d, base + i, hint, "bad node '%.*s' in weights", Q(c - i), v + i);
		}
		if (mp_parse_uint(v + c + 1, e - c - 1, 255, &wt) < 0 || wt == 0) {
			free(w);
			return fail(d, base + c + 1, hint, "bad weight '%.*s' (weights are 1-255)", Q(e - c - 1),
				    v + c + 1);
		}
		for (unsigned k = 0; k < n; k++)
			if (w[k].node == node) {
				free(w);
				return fail(d, base + i, "give each node one weight", "node %u has two weights",
					    (unsigned)node);
			}
		nw = realloc(w, (n + 1) * sizeof(*w));
		if (!nw) {
			free(w);
			return fail_oom(d, base);
		}
		w = nw;
		w[n].node = (uint16_t)node;
		w[n].weight = (uint16_t)wt;
		n++;
		i = e + 1;
	}
	qsort(w, n, sizeof(*w), cmp_weight);
	free(p->weight_list);
	p->weight_list = w;
	p->n_weights = n;
	p->weights = MP_W_LIST;
	return 0;
}

static int apply_text(struct mp_policy *p, const char *text, size_t len, size_t base, bool preset, struct mp_diag *d);

/* Expands a preset whose name is tok[0..len); returns 1 if it was one. */
static int try_preset(struct mp_policy *p, const char *tok, size_t len, size_t base, struct mp_diag *d)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(presets); i++)
		if (mp_streqn(tok, len, presets[i].name)) {
			int r = apply_text(p, presets[i].text, strlen(presets[i].text), base, true, d);
			return r < 0 ? r : 1;
		}
	return 0;
}

/* Positions inside a preset's own text mean nothing to the user: report the
 * preset token instead.  'base' is the token's offset; set_pos() maps. */
struct ctx {
	size_t base;
	bool preset; /* expanding a preset: every position is 'base' */
};

static size_t at(const struct ctx *c, size_t off)
{
	return c->preset ? c->base : c->base + off;
}

static int parse_mode_token(struct mp_policy *p, const char *tok, size_t len, const struct ctx *c, struct mp_diag *d,
			    bool *ret_was_mode)
{
	size_t nl = 0;
	int m;

	while (nl < len && tok[nl] != ':')
		nl++;
	m = lookup(modes, MP_ARRAY_SIZE(modes), tok, nl);
	*ret_was_mode = m >= 0;
	if (m < 0)
		return 0;
	set_mode(p, (enum mp_mode)m);
	if (nl < len) {
		struct mp_nodeset ns;
		int r;

		if (m == MP_MODE_LOCAL || m == MP_MODE_DEFAULT)
			return fail(d, at(c, nl), "write the mode alone; use allow= to restrict nodes",
				    "mode '%.*s' takes no node set", Q(nl), tok);
		r = ns_parse_at(tok + nl + 1, len - nl - 1, at(c, nl + 1), &ns, d);
		if (r < 0)
			return r;
		set_nodes(p, &ns);
	}
	return 0;
}

static int parse_option(struct mp_policy *p, const char *tok, size_t len, const struct ctx *c, struct mp_diag *d)
{
	char hint[512];
	size_t kl = 0;
	const char *v;
	size_t vl, vo;
	bool has_val;
	struct mp_nodeset ns;
	int r;

	if (len > 5 && memcmp(tok, "phys<", 5) == 0) {
		uint64_t hi;

		if (mp_parse_size(tok + 5, len - 5, &hi) < 0 || hi == 0)
			return fail(d, at(c, 5), "write a size above zero, e.g. phys<4G", "bad size '%.*s' in '%.*s'",
				    Q(len - 5), tok + 5, Q(len), tok);
		p->phys_set = true;
		p->phys_lo = 0;
		p->phys_hi = hi;
		return 0;
	}
	while (kl < len && tok[kl] != '=')
		kl++;
	has_val = kl < len;
	vo = kl + 1;
	v = tok + vo;
	vl = has_val ? len - vo : 0;

#define KEY(s) mp_streqn(tok, kl, s)
#define NEED_VAL(h)                                                                              \
	do {                                                                                     \
		if (!has_val || vl == 0)                                                         \
			return fail(d, at(c, kl), h, "option '%.*s' needs a value", Q(kl), tok); \
	} while (0)
#define NO_VAL(h)                                                                                 \
	do {                                                                                      \
		if (has_val)                                                                      \
			return fail(d, at(c, kl), h, "option '%.*s' takes no value", Q(kl), tok); \
	} while (0)
#define YESNO(field)                                                                                                 \
	do {                                                                                                         \
		if (!has_val)                                                                                        \
			(field) = MP_YES;                                                                            \
		else if (parse_yesno(v, vl, &(field)) < 0)                                                           \
			return fail(d, at(c, vo), "write yes or no", "bad value '%.*s' for '%.*s'", Q(vl), v, Q(kl), \
				    tok);                                                                            \
	} while (0)

	if (KEY("allow")) {
		NEED_VAL("write allow=NODES, e.g. allow=0-1");
		r = ns_parse_at(v, vl, at(c, vo), &ns, d);
		if (r < 0)
			return r;
		return add_allow(p, &ns) < 0 ? fail_oom(d, at(c, 0)) : 0;
	}
	if (KEY("nodes")) {
		/* with local or default, nodes= is kept for a more specific scope whose
		 * mode uses a node set (the combination's closure needs it) */
		NEED_VAL("write nodes=NODES, e.g. nodes=0-1");
		r = ns_parse_at(v, vl, at(c, vo), &ns, d);
		if (r < 0)
			return r;
		set_nodes(p, &ns);
		return 0;
	}
	if (KEY("phys")) {
		const char *dash;
		uint64_t lo, hi;

		NEED_VAL("write phys<SIZE or phys=START-END, e.g. phys=1G-4G");
		dash = memchr(v, '-', vl);
		if (!dash)
			return fail(d, at(c, vo), "write phys=START-END, e.g. phys=1G-4G", "'%.*s' is not a range",
				    Q(vl), v);
		if (mp_parse_size(v, (size_t)(dash - v), &lo) < 0)
			return fail(d, at(c, vo), "sizes are numbers with an optional K, M, G or T", "bad size '%.*s'",
				    Q(dash - v), v);
		if (mp_parse_size(dash + 1, vl - (size_t)(dash - v) - 1, &hi) < 0)
			return fail(d, at(c, vo + (size_t)(dash - v) + 1),
				    "sizes are numbers with an optional K, M, G or T", "bad size '%.*s'",
				    Q(vl - (size_t)(dash - v) - 1), dash + 1);
		if (lo >= hi)
			return fail(d, at(c, vo), "the range is [START, END): START must be below END",
				    "empty physical range '%.*s'", Q(vl), v);
		p->phys_set = true;
		p->phys_lo = lo;
		p->phys_hi = hi;
		return 0;
	}
	if (kl > 6 && memcmp(tok, "order.", 6) == 0) {
		uint64_t size;

		if (parse_page_size(tok + 6, kl - 6, &size) < 0)
			return fail(d, at(c, 6), "page sizes: 4K, 64K, 2M, 1G (powers of two from 4K) or thp",
				    "bad page size '%.*s'", Q(kl - 6), tok + 6);
		NEED_VAL("write order.SIZE=NODES, e.g. order.2M=0-1");
		r = ns_parse_at(v, vl, at(c, vo), &ns, d);
		if (r < 0)
			return r;
		return add_order_nodes(p, size, &ns) < 0 ? fail_oom(d, at(c, 0)) : 0;
	}
	if (KEY("strict")) {
		YESNO(p->strict);
		return 0;
	}
	if (KEY("fallback")) {
		NEED_VAL("write fallback=NODES or fallback=none");
		if (mp_streqn(v, vl, "none")) {
			mp_nodeset_free(&p->fallback_nodes);
			p->fallback = MP_FB_NONE;
			return 0;
		}
		r = ns_parse_at(v, vl, at(c, vo), &ns, d);
		if (r < 0)
			return r;
		ns_move(&p->fallback_nodes, &ns);
		p->fallback = MP_FB_NODES;
		return 0;
	}
	if (KEY("weights")) {
		NEED_VAL("write weights=auto or weights=NODE:WEIGHT,...");
		return parse_weights(p, v, vl, at(c, vo), d);
	}
	if (KEY("order")) {
		NEED_VAL("write order=4K, order=2M, order=1G or order=thp");
		if (parse_page_size(v, vl, &p->order) < 0)
			return fail(d, at(c, vo), "page sizes: 4K, 64K, 2M, 1G (powers of two from 4K) or thp",
				    "bad page size '%.*s'", Q(vl), v);
		return 0;
	}
	if (KEY("automigrate")) {
		static const struct name_val am[] = {
			{"auto", MP_AM_AUTO},	{"off", MP_AM_OFF},	{"balancing", MP_AM_BALANCING},
			{"damon", MP_AM_DAMON}, {"touch", MP_AM_TOUCH},
		};
		int a;

		if (!has_val) {
			p->automigrate = MP_AM_AUTO;
			return 0;
		}
		a = lookup(am, MP_ARRAY_SIZE(am), v, vl);
		if (a < 0)
			return fail(d, at(c, vo), "write automigrate, or automigrate=balancing|damon|touch|off",
				    "unknown automigrate mechanism '%.*s'", Q(vl), v);
		p->automigrate = (enum mp_automigrate)a;
		return 0;
	}
	if (KEY("replicate")) {
		YESNO(p->replicate);
		return 0;
	}
	if (KEY("migrate")) {
		YESNO(p->migrate);
		return 0;
	}
	if (KEY("home")) {
		uint64_t n;

		NEED_VAL("write home=NODE, e.g. home=0");
		if (mp_parse_uint(v, vl, MP_MAX_NODES - 1, &n) < 0)
			return fail(d, at(c, vo), "NUMA node numbers run from 0 to 1023", "bad node '%.*s'", Q(vl), v);
		p->home = (int)n;
		return 0;
	}
	if (KEY("static")) {
		NO_VAL("write static alone");
		p->nodeflags = MP_NF_STATIC;
		return 0;
	}
	if (KEY("relative")) {
		NO_VAL("write relative alone");
		p->nodeflags = MP_NF_RELATIVE;
		return 0;
	}
	if (KEY("nodeflags")) {
		static const struct name_val nf[] = {
			{"none", MP_NF_NONE},
			{"static", MP_NF_STATIC},
			{"relative", MP_NF_RELATIVE},
		};
		int f = has_val ? lookup(nf, MP_ARRAY_SIZE(nf), v, vl) : -1;

		if (f < 0)
			return fail(d, at(c, has_val ? vo : 0), "write nodeflags=none|static|relative",
				    "bad node flags '%.*s'", Q(len), tok);
		p->nodeflags = (enum mp_nodeflags)f;
		return 0;
	}
#undef KEY
#undef NEED_VAL
#undef NO_VAL
#undef YESNO
	r = try_preset(p, tok, len, at(c, 0), d);
	if (r)
		return r < 0 ? r : 0;
	{
		size_t nl = 0;

		while (nl < len && tok[nl] != ':')
			nl++;
		if (lookup(modes, MP_ARRAY_SIZE(modes), tok, nl) >= 0)
			return fail(d, at(c, 0), "write the mode first: mode[:NODES] {option}",
				    "mode '%.*s' must be the first word", Q(nl), tok);
	}
	if (near_miss(tok, kl, option_words) || !near_miss(tok, kl, mode_words))
		suggest(hint, sizeof(hint), tok, kl, option_words, OPTION_HINT);
	else
		suggest(hint, sizeof(hint), tok, kl, mode_words, MODE_HINT);
	return fail(d, at(c, 0), hint, "unknown option '%.*s'", Q(len), tok);
}

/*
 * The mplace form: words separated by blanks; the first may be a mode or a
 * preset, every word may be an option or a preset.
 */
static int apply_text(struct mp_policy *p, const char *text, size_t len, size_t base, bool preset, struct mp_diag *d)
{
	size_t i = 0;
	bool first = true;

	for (;;) {
		size_t s, e;
		struct ctx c;
		int r;

		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i == len)
			return 0;
		s = i;
		while (i < len && !isspace((unsigned char)text[i]))
			i++;
		e = i;
		c.base = preset ? base : base + s;
		c.preset = preset;
		if (first) {
			bool was_mode;

			r = parse_mode_token(p, text + s, e - s, &c, d, &was_mode);
			if (r < 0)
				return r;
			first = false;
			if (was_mode)
				continue;
			r = try_preset(p, text + s, e - s, c.base, d);
			if (r < 0)
				return r;
			if (r > 0)
				continue;
			if (!preset && memchr(text + s, ':', e - s) && !memchr(text + s, '=', e - s)) {
				/* "bnid:0-1": a misspelt mode, not an option */
				char hint[512];
				size_t nl = (size_t)((const char *)memchr(text + s, ':', e - s) - (text + s));

				for (size_t k = 0; k < MP_ARRAY_SIZE(presets); k++)
					if (mp_streqn(text + s, nl, presets[k].name))
						return fail(d, c.base + nl, "write the preset alone",
							    "preset '%.*s' takes no node set", Q(nl), text + s);

				return fail(d, c.base, suggest(hint, sizeof(hint), text + s, nl, mode_words, MODE_HINT),
					    "unknown mode '%.*s'", Q(nl), text + s);
			}
		}
		r = parse_option(p, text + s, e - s, &c, d);
		if (r < 0)
			return r;
	}
}

static int parse_mplace(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	struct mp_policy p;
	int r;

	mp_policy_init(&p);
	r = apply_text(&p, text, strlen(text), 0, false, d);
	if (r < 0) {
		mp_policy_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- numactl options ------------------------------------------------------ */

/*
 * A numactl node string: "all", "LIST", "!LIST" (every node but LIST), "+LIST"
 * (indices into the cpuset's nodes), "!+LIST", and libnuma's device forms
 * "netdev:IF", "pci:BDF", "block:DEV".  The prefixes apply to the whole
 * string in numactl; in our node sets they apply per term, so they are
 * mapped onto one term here rather than passed through as text.
 */
static int numactl_nodes(const char *s, size_t len, size_t base, struct mp_nodeset *ret, struct mp_diag *d)
{
	static const char hint[] = "numactl node strings: all, 0-3,7, !LIST, +LIST, netdev:IF, pci:BDF, block:DEV";
	static const struct {
		const char *numactl, *ours;
	} devs[] = {{"netdev:", "net:"}, {"pci:", "pci:"}, {"block:", "block:"}};
	struct mp_ns_term t = {0};
	size_t off = 0, pos;

	if (len == 0)
		return fail(d, base, hint, "empty node string");
	if (mp_streqn(s, len, "all")) {
		t.atom = MP_NS_ALL;
		goto done;
	}
	for (size_t i = 0; i < MP_ARRAY_SIZE(devs); i++) {
		size_t pl = strlen(devs[i].numactl);

		if (len > pl && memcmp(s, devs[i].numactl, pl) == 0) {
			for (size_t k = pl; k < len; k++)
				if (!device_char_ok(s[k]))
					return fail(d, base + k, hint, "bad character in device name '%.*s'",
						    Q(len - pl), s + pl);
			t.atom = MP_NS_NEAR;
			if (asprintf(&t.str, "%s%.*s", devs[i].ours, (int)(len - pl), s + pl) < 0)
				return fail_oom(d, base);
			goto done;
		}
	}
	if (s[off] == '!') {
		t.neg = true;
		off++;
	}
	t.atom = MP_NS_LIST;
	if (off < len && s[off] == '+') {
		t.atom = MP_NS_RELATIVE;
		off++;
	}
	if (off == len)
		return fail(d, base + off, hint, "missing node list in '%.*s'", Q(len), s);
	if (mp_mask_parse(s + off, len - off, &t.mask, &pos) < 0)
		return fail(d, base + off + pos, hint, "bad node string '%.*s'", Q(len), s);
done:
	if (ns_from_term(&t, ret) < 0) {
		free(t.str);
		return fail_oom(d, base);
	}
	return 0;
}

enum na_kind { NA_NODES, NA_NODE, NA_NONE };

static const struct {
	const char *lng;
	char shrt;
	int mode; /* -1: --balancing; -2: a CPU option; -3: not a policy */
	enum na_kind arg;
} numactl_opts[] = {
	{"membind", 'm', MP_MODE_BIND, NA_NODES},
	{"interleave", 'i', MP_MODE_INTERLEAVE, NA_NODES},
	{"preferred", 'p', MP_MODE_PREFER, NA_NODE},
	{"preferred-many", 'P', MP_MODE_PREFER_MANY, NA_NODES},
	{"weighted-interleave", 'w', MP_MODE_WEIGHTED_INTERLEAVE, NA_NODES},
	{"localalloc", 'l', MP_MODE_LOCAL, NA_NONE},
	{"balancing", 'b', -1, NA_NONE},
	{"cpunodebind", 'N', -2, NA_NODES},
	{"physcpubind", 'C', -2, NA_NODES},
	{"all", 'a', -2, NA_NONE},
	{"hardware", 'H', -3, NA_NONE},
	{"show", 's', -3, NA_NONE},
};

#define NUMACTL_HINT                                                                           \
	"memory options: --membind/-m, --interleave/-i, --preferred/-p, --preferred-many/-P, " \
	"--weighted-interleave/-w, --localalloc/-l, --balancing/-b"

static int parse_numactl(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	size_t len = strlen(text), i = 0;
	struct mp_policy p;
	int r = 0;

	mp_policy_init(&p);
	for (;;) {
		size_t s, e, nl, vs = 0, vl = 0;
		const char *name;
		int k = -1;
		bool attached = false;

		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && !isspace((unsigned char)text[i]))
			i++;
		e = i;
		if (text[s] != '-' || e - s < 2) {
			r = fail(d, s, "give only the memory policy options; run programs with 'mplace run'",
				 "'%.*s' is not a numactl memory option", Q(e - s), text + s);
			goto out;
		}
		if (text[s + 1] == '-') {
			name = text + s + 2;
			for (nl = 0; s + 2 + nl < e && name[nl] != '='; nl++)
				;
			if (e - s == 2) {
				r = fail(d, s, "give only the memory policy options; run programs with 'mplace run'",
					 "numactl runs a command after '--'");
				goto out;
			}
			for (size_t j = 0; j < MP_ARRAY_SIZE(numactl_opts); j++)
				if (mp_streqn(name, nl, numactl_opts[j].lng))
					k = (int)j;
			if (s + 2 + nl < e) {
				attached = true;
				vs = s + 3 + nl;
				vl = e - vs;
			}
		} else {
			name = text + s + 1;
			nl = 1;
			for (size_t j = 0; j < MP_ARRAY_SIZE(numactl_opts); j++)
				if (numactl_opts[j].shrt == text[s + 1])
					k = (int)j;
			if (e - s > 2) {
				attached = true;
				vs = s + 2;
				vl = e - vs;
			}
		}
		if (k < 0) {
			r = fail(d, s, NUMACTL_HINT, "unknown numactl option '%.*s'", Q(e - s), text + s);
			goto out;
		}
		if (numactl_opts[k].mode == -2) {
			r = fail(d, s, "CPU binding is not a memory policy: use 'mplace run' with its CPU options",
				 "'%.*s' binds CPUs, not memory", Q(e - s), text + s);
			goto out;
		}
		if (numactl_opts[k].mode == -3) {
			r = fail(d, s, "use 'mplace topo' or 'mplace show'", "'%.*s' is not a memory policy", Q(e - s),
				 text + s);
			goto out;
		}
		if (numactl_opts[k].arg == NA_NONE) {
			if (attached) {
				r = fail(d, s, NUMACTL_HINT, "'%.*s' takes no value", Q(nl), name);
				goto out;
			}
		} else if (!attached) {
			/* the value is the next word, as getopt takes it */
			while (i < len && isspace((unsigned char)text[i]))
				i++;
			vs = i;
			while (i < len && !isspace((unsigned char)text[i]))
				i++;
			vl = i - vs;
			if (vl == 0) {
				r = fail(d, s, NUMACTL_HINT, "'%.*s' needs a node list", Q(e - s), text + s);
				goto out;
			}
		}
		if (numactl_opts[k].mode == -1) {
			p.automigrate = MP_AM_BALANCING;
			continue;
		}
		set_mode(&p, (enum mp_mode)numactl_opts[k].mode);
		if (numactl_opts[k].arg == NA_NODE) {
			struct mp_ns_term t = {.atom = MP_NS_LIST};
			struct mp_nodeset ns;
			uint64_t n;

			if (mp_parse_uint(text + vs, vl, MP_MAX_NODES - 1, &n) < 0) {
				r = fail(d, vs, "--preferred takes one node number; use --preferred-many for several",
					 "bad node '%.*s'", Q(vl), text + vs);
				goto out;
			}
			mp_mask_set(&t.mask, (unsigned)n);
			if (ns_from_term(&t, &ns) < 0) {
				r = fail_oom(d, vs);
				goto out;
			}
			set_nodes(&p, &ns);
		} else if (numactl_opts[k].arg == NA_NODES) {
			struct mp_nodeset ns;

			r = numactl_nodes(text + vs, vl, vs, &ns, d);
			if (r < 0)
				goto out;
			set_nodes(&p, &ns);
		}
	}
	*ret = p;
	return 0;
out:
	mp_policy_free(&p);
	return r;
}

/* ---- tmpfs mpol= ------------------------------------------------------------ */

/*
 * The kernel's mpol_parse_str(): MODE[=static|relative][:NODELIST].  As the
 * kernel reads it: "prefer" takes one node and without one means local
 * allocation; "interleave" without nodes means every node with memory;
 * "bind" needs nodes; "default" and "local" take none.
 */
static int parse_mpol(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	static const char hint[] = "tmpfs mpol=: default, local, prefer:N, bind:NODES, interleave[:NODES], "
				   "with =static or =relative after the mode";
	static const struct name_val kmodes[] = {
		{"default", MP_MODE_DEFAULT},	    {"prefer", MP_MODE_PREFER}, {"bind", MP_MODE_BIND},
		{"interleave", MP_MODE_INTERLEAVE}, {"local", MP_MODE_LOCAL},
	};
	size_t len = strlen(text), s = 0, e, me, fe;
	struct mp_policy p;
	struct mp_ns_term t = {0};
	struct mp_nodeset ns;
	int m, r;

	while (s < len && isspace((unsigned char)text[s]))
		s++;
	for (e = len; e > s && isspace((unsigned char)text[e - 1]); e--)
		;
	if (e - s >= 5 && memcmp(text + s, "mpol=", 5) == 0)
		s += 5;
	for (size_t k = s; k < e; k++)
		if (isspace((unsigned char)text[k]))
			return fail(d, k, hint, "mpol= is one word");
	for (me = s; me < e && text[me] != '=' && text[me] != ':'; me++)
		;
	m = lookup(kmodes, MP_ARRAY_SIZE(kmodes), text + s, me - s);
	if (m < 0)
		return fail(d, s, hint, "unknown tmpfs mode '%.*s'", Q(me - s), text + s);
	mp_policy_init(&p);
	set_mode(&p, (enum mp_mode)m);
	fe = me;
	if (me < e && text[me] == '=') {
		for (fe = me + 1; fe < e && text[fe] != ':'; fe++)
			;
		if (mp_streqn(text + me + 1, fe - me - 1, "static")) {
			p.nodeflags = MP_NF_STATIC;
		} else if (mp_streqn(text + me + 1, fe - me - 1, "relative")) {
			p.nodeflags = MP_NF_RELATIVE;
		} else {
			r = fail(d, me + 1, hint, "unknown mode flag '%.*s'", Q(fe - me - 1), text + me + 1);
			goto out;
		}
		if (m == MP_MODE_DEFAULT || m == MP_MODE_LOCAL) {
			r = fail(d, me + 1, hint, "mode '%s' takes no flags", mp_mode_name(m));
			goto out;
		}
	}
	if (fe == e) {
		if (m == MP_MODE_BIND) {
			r = fail(d, fe, hint, "tmpfs bind needs a node list");
			goto out;
		}
		if (p.nodeflags != MP_NF_UNSET) {
			r = fail(d, fe, hint, "a mode flag needs a node list");
			goto out;
		}
		if (m == MP_MODE_PREFER)
			set_mode(&p, MP_MODE_LOCAL);
		if (m == MP_MODE_INTERLEAVE) {
			t.atom = MP_NS_ALL;
			if (ns_from_term(&t, &ns) < 0) {
				r = fail_oom(d, s);
				goto out;
			}
			set_nodes(&p, &ns);
		}
		*ret = p;
		return 0;
	}
	/* text[fe] == ':' */
	if (m == MP_MODE_DEFAULT || m == MP_MODE_LOCAL) {
		r = fail(d, fe, hint, "mode '%s' takes no node list", mp_mode_name(m));
		goto out;
	}
	t.atom = MP_NS_LIST;
	{
		size_t pos;

		if (fe + 1 == e || mp_mask_parse(text + fe + 1, e - fe - 1, &t.mask, &pos) < 0) {
			r = fail(d, fe + 1 + (fe + 1 == e ? 0 : pos), hint, "bad node list '%.*s'", Q(e - fe - 1),
				 text + fe + 1);
			goto out;
		}
	}
	if (m == MP_MODE_PREFER && mp_mask_weight(&t.mask) != 1) {
		r = fail(d, fe + 1, hint, "tmpfs prefer takes one node");
		goto out;
	}
	if (ns_from_term(&t, &ns) < 0) {
		r = fail_oom(d, s);
		goto out;
	}
	set_nodes(&p, &ns);
	*ret = p;
	return 0;
out:
	mp_policy_free(&p);
	return r;
}

/* ---- systemd NUMAPolicy= / NUMAMask= ---------------------------------------- */

/*
 * systemd.exec(5): NUMAPolicy=default|preferred|bind|interleave|local and
 * NUMAMask=NODES|all.  Settings are words separated by blanks or newlines;
 * a repeated setting: the later wins, as in a unit file.  systemd ignores
 * NUMAMask= for default and local, and so do we.
 */
static int parse_systemd(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	static const char hint[] = "write NUMAPolicy=default|preferred|bind|interleave|local and NUMAMask=NODES|all";
	static const struct name_val smodes[] = {
		{"default", MP_MODE_DEFAULT},	    {"preferred", MP_MODE_PREFER}, {"bind", MP_MODE_BIND},
		{"interleave", MP_MODE_INTERLEAVE}, {"local", MP_MODE_LOCAL},
	};
	size_t len = strlen(text), i = 0, mask_pos = 0;
	struct mp_nodeset mask;
	bool have_mask = false;
	int mode = MP_MODE_UNSET, r;
	struct mp_policy p;

	mp_nodeset_init(&mask);
	mp_policy_init(&p);
	for (;;) {
		size_t s, e;

		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && !isspace((unsigned char)text[i]))
			i++;
		e = i;
		if (e - s >= 11 && memcmp(text + s, "NUMAPolicy=", 11) == 0) {
			mode = lookup(smodes, MP_ARRAY_SIZE(smodes), text + s + 11, e - s - 11);
			if (mode < 0) {
				r = fail(d, s + 11, hint, "unknown NUMAPolicy= value '%.*s'", Q(e - s - 11),
					 text + s + 11);
				goto out;
			}
		} else if (e - s >= 9 && memcmp(text + s, "NUMAMask=", 9) == 0) {
			struct mp_ns_term t = {0};
			size_t pos;

			if (mp_streqn(text + s + 9, e - s - 9, "all")) {
				t.atom = MP_NS_ALL;
			} else {
				t.atom = MP_NS_LIST;
				if (e - s == 9 || mp_mask_parse(text + s + 9, e - s - 9, &t.mask, &pos) < 0) {
					r = fail(d, s + 9 + (e - s == 9 ? 0 : pos), hint, "bad NUMAMask= value '%.*s'",
						 Q(e - s - 9), text + s + 9);
					goto out;
				}
			}
			mp_nodeset_free(&mask);
			if (ns_from_term(&t, &mask) < 0) {
				r = fail_oom(d, s);
				goto out;
			}
			have_mask = true;
			mask_pos = s;
		} else {
			r = fail(d, s, hint, "'%.*s' is not a NUMAPolicy= or NUMAMask= setting", Q(e - s), text + s);
			goto out;
		}
	}
	(void)mask_pos;
	if (mode != MP_MODE_UNSET)
		set_mode(&p, (enum mp_mode)mode);
	if (have_mask && mode != MP_MODE_DEFAULT && mode != MP_MODE_LOCAL)
		set_nodes(&p, &mask);
	*ret = p;
	r = 0;
	goto done;
out:
	mp_policy_free(&p);
done:
	mp_nodeset_free(&mask);
	return r;
}

/* ---- OCI linux.memoryPolicy ------------------------------------------------ */

/* json-c keeps no offsets for values: point at the key, or at the value text
 * when it can be found after the key. */
static size_t json_pos(const char *text, const char *key, const char *val)
{
	char needle[80];
	const char *k, *v;

	snprintf(needle, sizeof(needle), "\"%s\"", key);
	k = strstr(text, needle);
	if (!k)
		return 0;
	if (val) {
		snprintf(needle, sizeof(needle), "\"%s\"", val);
		v = strstr(k + strlen(key) + 2, needle);
		if (v)
			return (size_t)(v - text) + 1;
	}
	return (size_t)(k - text);
}

static int parse_oci(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	static const char hint[] = "OCI linux.memoryPolicy: {\"mode\":\"MPOL_BIND\",\"nodes\":\"0-1\",\"flags\":[...]}";
	static const struct name_val omodes[] = {
		{"MPOL_DEFAULT", MP_MODE_DEFAULT},	 {"MPOL_BIND", MP_MODE_BIND},
		{"MPOL_INTERLEAVE", MP_MODE_INTERLEAVE}, {"MPOL_WEIGHTED_INTERLEAVE", MP_MODE_WEIGHTED_INTERLEAVE},
		{"MPOL_PREFERRED", MP_MODE_PREFER},	 {"MPOL_PREFERRED_MANY", MP_MODE_PREFER_MANY},
		{"MPOL_LOCAL", MP_MODE_LOCAL},
	};
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL, *mode_o = NULL, *nodes_o = NULL, *flags_o = NULL;
	size_t len = strlen(text);
	struct mp_policy p;
	const char *ms;
	int m, r;

	mp_policy_init(&p);
	tok = json_tokener_new();
	if (!tok)
		return fail_oom(d, 0);
	obj = json_tokener_parse_ex(tok, text, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		r = fail(d, json_tokener_get_parse_end(tok), hint, "bad JSON: %s",
			 je == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(je));
		goto out;
	}
	for (size_t k = json_tokener_get_parse_end(tok); k < len; k++)
		if (!isspace((unsigned char)text[k])) {
			r = fail(d, k, hint, "text after the JSON object");
			goto out;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		r = fail(d, 0, hint, "the memory policy must be a JSON object");
		goto out;
	}
	json_object_object_foreach(obj, key, val)
	{
		if (strcmp(key, "mode") == 0) {
			mode_o = val;
		} else if (strcmp(key, "nodes") == 0) {
			nodes_o = val;
		} else if (strcmp(key, "flags") == 0) {
			flags_o = val;
		} else {
			r = fail(d, json_pos(text, key, NULL), "keys: mode, nodes, flags", "unknown key '%.60s'", key);
			goto out;
		}
	}
	if (!mode_o || !json_object_is_type(mode_o, json_type_string)) {
		r = fail(d, mode_o ? json_pos(text, "mode", NULL) : 0, hint,
			 "\"mode\" must be a string and is required");
		goto out;
	}
	ms = json_object_get_string(mode_o);
	/* lengths, not strlen: "MPOL_BIND\u0000x" is not MPOL_BIND */
	m = lookup(omodes, MP_ARRAY_SIZE(omodes), ms, (size_t)json_object_get_string_len(mode_o));
	if (m < 0 && strlen(ms) != (size_t)json_object_get_string_len(mode_o)) {
		r = fail(d, json_pos(text, "mode", NULL), hint, "\"mode\" contains a NUL character");
		goto out;
	}
	if (m < 0) {
		r = fail(d, json_pos(text, "mode", ms),
			 "modes: MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, "
			 "MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL",
			 "unknown mode '%.60s'", ms);
		goto out;
	}
	set_mode(&p, (enum mp_mode)m);
	if (nodes_o) {
		struct mp_ns_term t = {.atom = MP_NS_LIST};
		struct mp_nodeset ns;
		const char *n;
		size_t pos;

		if (!json_object_is_type(nodes_o, json_type_string)) {
			r = fail(d, json_pos(text, "nodes", NULL), hint, "\"nodes\" must be a string such as \"0-1\"");
			goto out;
		}
		n = json_object_get_string(nodes_o);
		if (m == MP_MODE_DEFAULT || m == MP_MODE_LOCAL) {
			r = fail(d, json_pos(text, "nodes", NULL), "drop \"nodes\" for this mode",
				 "mode %s takes no nodes", ms);
			goto out;
		}
		if (!*n || mp_mask_parse(n, (size_t)json_object_get_string_len(nodes_o), &t.mask, &pos) < 0) {
			r = fail(d, json_pos(text, "nodes", n), "nodes are a list such as \"0-3,7\"",
				 "bad nodes '%.60s'", n);
			goto out;
		}
		if (ns_from_term(&t, &ns) < 0) {
			r = fail_oom(d, 0);
			goto out;
		}
		set_nodes(&p, &ns);
	} else if (m != MP_MODE_DEFAULT && m != MP_MODE_LOCAL) {
		r = fail(d, json_pos(text, "mode", NULL),
			 "add \"nodes\":\"0-1\" (the runtime spec requires it for this mode)",
			 "mode %s needs \"nodes\"", ms);
		goto out;
	}
	if (flags_o) {
		if (!json_object_is_type(flags_o, json_type_array)) {
			r = fail(d, json_pos(text, "flags", NULL), hint, "\"flags\" must be an array of strings");
			goto out;
		}
		for (size_t k = 0; k < json_object_array_length(flags_o); k++) {
			struct json_object *f = json_object_array_get_idx(flags_o, k);
			const char *fs = json_object_is_type(f, json_type_string) ? json_object_get_string(f) : NULL;

			if (fs && strlen(fs) != (size_t)json_object_get_string_len(f))
				fs = "(contains NUL)";
			enum mp_nodeflags nf = MP_NF_UNSET;

			if (fs && strcmp(fs, "MPOL_F_STATIC_NODES") == 0) {
				nf = MP_NF_STATIC;
			} else if (fs && strcmp(fs, "MPOL_F_RELATIVE_NODES") == 0) {
				nf = MP_NF_RELATIVE;
			} else if (fs && strcmp(fs, "MPOL_F_NUMA_BALANCING") == 0) {
				p.automigrate = MP_AM_BALANCING;
			} else {
				r = fail(d, json_pos(text, "flags", fs),
					 "flags: MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES, MPOL_F_NUMA_BALANCING",
					 "unknown flag '%.60s'", fs ? fs : "(not a string)");
				goto out;
			}
			if (nf != MP_NF_UNSET) {
				if (p.nodeflags != MP_NF_UNSET && p.nodeflags != nf) {
					r = fail(d, json_pos(text, "flags", fs), "use one of the two",
						 "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
					goto out;
				}
				p.nodeflags = nf;
			}
		}
	}
	json_object_put(obj);
	json_tokener_free(tok);
	*ret = p;
	return 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	mp_policy_free(&p);
	return r;
}

/* ---- entry points --------------------------------------------------------------- */

static bool word_starts(const char *s, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);

	return len >= pl && memcmp(s, prefix, pl) == 0;
}

/*
 * Which spelling the text is in.  Every rule looks at something no mplace
 * text can have, so a canonical text is always read back as mplace: no
 * mplace word starts with '-', '{', "mpol=", "NUMAPolicy=" or "NUMAMask=",
 * and no mplace first word is MODE=static or MODE=relative.
 */
static enum mp_form detect(const char *text)
{
	size_t i = 0, s, e;

	while (isspace((unsigned char)text[i]))
		i++;
	if (text[i] == '-')
		return MP_FORM_NUMACTL;
	if (text[i] == '{')
		return MP_FORM_OCI;
	s = i;
	while (text[i] && !isspace((unsigned char)text[i]))
		i++;
	e = i;
	if (word_starts(text + s, e - s, "mpol="))
		return MP_FORM_MPOL;
	{
		static const char *const kmodes[] = {"default", "prefer", "bind", "interleave", "local"};
		const char *eq = memchr(text + s, '=', e - s);
		bool kmode = false;

		for (size_t k = 0; eq && k < MP_ARRAY_SIZE(kmodes); k++)
			kmode |= mp_streqn(text + s, (size_t)(eq - text - s), kmodes[k]);
		if (kmode && (word_starts(eq + 1, (size_t)(text + e - eq - 1), "static") ||
			      word_starts(eq + 1, (size_t)(text + e - eq - 1), "relative"))) {
			size_t rest = (size_t)(text + e - eq - 1);
			size_t fl = word_starts(eq + 1, rest, "static") ? 6 : 8;

			if (rest == fl || eq[1 + fl] == ':')
				return MP_FORM_MPOL;
		}
	}
	for (i = s;;) {
		while (text[i] && isspace((unsigned char)text[i]))
			i++;
		if (!text[i])
			break;
		s = i;
		while (text[i] && !isspace((unsigned char)text[i]))
			i++;
		if (word_starts(text + s, i - s, "NUMAPolicy=") || word_starts(text + s, i - s, "NUMAMask="))
			return MP_FORM_SYSTEMD;
	}
	return MP_FORM_MPLACE;
}

int mp_policy_parse_as(enum mp_form form, const char *text, struct mp_policy *ret, struct mp_diag *diag)
{
	if (!text || !ret)
		return fail(diag, 0, NULL, "no policy text");
	if (form == MP_FORM_AUTO)
		form = detect(text);
	switch (form) {
	case MP_FORM_MPLACE:
		return parse_mplace(text, ret, diag);
	case MP_FORM_NUMACTL:
		return parse_numactl(text, ret, diag);
	case MP_FORM_MPOL:
		return parse_mpol(text, ret, diag);
	case MP_FORM_SYSTEMD:
		return parse_systemd(text, ret, diag);
	case MP_FORM_OCI:
		return parse_oci(text, ret, diag);
	default:
		return fail(diag, 0, NULL, "unknown policy form %d", (int)form);
	}
}

int mp_policy_parse(const char *text, struct mp_policy *ret, struct mp_diag *diag)
{
	return mp_policy_parse_as(MP_FORM_AUTO, text, ret, diag);
}

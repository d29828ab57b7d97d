/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The compiled policy: freeing it, the split plan its weights make, and its
 * one line of text and back (see compiled.h).
 * No allocation on the parse side: the agent calls it before main.  One
 * writer, one spelling: the parser checks each field's syntax and range,
 * then accepts the line only if it is exactly what the writer makes of the
 * result, so leading zeros, unsorted or empty node lists, "-0" and the like
 * are refused rather than read as something the line does not say.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "compiled.h"

#define MAGIC "mplace-compiled/1"

static const char *const am_names[] = {"unset", "off", "auto", "balancing", "damon", "touch"};

/* Appends with snprintf semantics into (buf, size), tracking the total; or,
 * with expect set, compares with that text instead of writing. */
struct out {
	char *buf;
	size_t size, len;
	const char *expect;
	bool differs; /* expect is not what would have been written */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	char piece[256]; /* longer than any format here makes; masks go through put_str */
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->expect) {
		n = vsnprintf(piece, sizeof(piece), fmt, ap);
		/* expect matched up to len, so expect + len is inside it */
		if (n < 0 || (size_t)n >= sizeof(piece) ||
		    (!o->differs && strncmp(o->expect + o->len, piece, (size_t)n) != 0))
			o->differs = true;
	} else {
		n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL, o->len < o->size ? o->size - o->len : 0, fmt,
			      ap);
	}
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* A string as it is, without a copy in put's piece. */
static void put_str(struct out *o, const char *str)
{
	size_t n = strlen(str);

	if (!o->expect) {
		put(o, "%s", str);
		return;
	}
	if (!o->differs && strncmp(o->expect + o->len, str, n) != 0)
		o->differs = true;
	o->len += n;
}

static void put_mask(struct out *o, const char *key, const struct mp_nodemask *m)
{
	char buf[4096];

	mp_mask_format(m, buf, sizeof(buf));
	put(o, " %s=", key);
	put_str(o, buf[0] ? buf : "-");
}

static void emit(const struct mp_compiled *c, struct out *o)
{
	put(o, MAGIC " mode=%s kmode=%d kflags=%u", mp_mode_name(c->mode), c->kmode, c->kflags);
	put_mask(o, "nodes", &c->nodes);
	put_mask(o, "allowed", &c->allowed);
	put(o, " strict=%d narrows=%d fallback=", c->strict, c->allow_narrows);
	for (unsigned i = 0; i < c->n_fallback; i++)
		put(o, "%s%d", i ? "," : "", c->fallback[i]);
	if (!c->n_fallback)
		put(o, "-");
	put(o, " weights=");
	for (unsigned i = 0; i < c->n_weights; i++)
		put(o, "%s%d:%u", i ? "," : "", c->weight_node[i], c->weight[i]);
	if (!c->has_weights)
		put(o, "-");
	else if (!c->n_weights)
		put(o, "kernel");
	put(o, " order=%" PRIu64 " omask=", c->order);
	for (unsigned i = 0; i < c->n_order_masks; i++) {
		char m[4096];

		mp_mask_format(&c->order_masks[i].nodes, m, sizeof(m));
		put(o, "%s%" PRIu64 ":", i ? ";" : "", c->order_masks[i].page_size);
		put_str(o, m[0] ? m : "none");
	}
	if (!c->n_order_masks)
		put(o, "-");
	put(o, " phys=%" PRIx64 "-%" PRIx64 " am=%s rep=%d mig=%d home=%d", c->phys_lo, c->phys_hi,
	    c->automigrate < MP_ARRAY_SIZE(am_names) ? am_names[c->automigrate] : "off", c->replicate, c->migrate,
	    c->home);
}

int mp_compiled_serialize(const struct mp_compiled *c, char *buf, size_t size)
{
	struct out o = {.buf = buf, .size = size};

	if (size)
		buf[0] = '\0';
	emit(c, &o);
	return (int)o.len;
}

/* ---- parsing, without allocation ---------------------------------------- */

struct in {
	const char *s;
};

/* The value of the next " key=" field, as [*v, *v + *n). */
static int field(struct in *in, const char *key, const char **v, size_t *n)
{
	size_t kl = strlen(key);
	const char *p = in->s;

	if (*p != ' ' || strncmp(p + 1, key, kl) || p[1 + kl] != '=')
		return -EINVAL;
	p += kl + 2;
	*v = p;
	*n = strcspn(p, " ");
	in->s = p + *n;
	return 0;
}

static int int_field(struct in *in, const char *key, int64_t lo, int64_t hi, int64_t *ret)
{
	const char *v;
	size_t n;
	uint64_t u;
	bool neg;

	if (field(in, key, &v, &n) < 0)
		return -EINVAL;
	neg = n && v[0] == '-';
	if (mp_parse_uint(v + neg, n - neg, INT64_MAX, &u) < 0)
		return -EINVAL;
	*ret = neg ? -(int64_t)u : (int64_t)u;
	return *ret < lo || *ret > hi ? -EINVAL : 0;
}

static int mask_field(struct in *in, const char *key, struct mp_nodemask *m)
{
	const char *v;
	size_t n;

	if (field(in, key, &v, &n) < 0)
		return -EINVAL;
	if (n == 1 && v[0] == '-') {
		mp_mask_zero(m);
		return 0;
	}
	return mp_mask_parse(v, n, m, NULL);
}

/* "a:b,c:d" style lists of node:number pairs, each number in [minval, maxval];
 * '-' for none. */
static int pairs(const char *v, size_t n, int *nodes, uint64_t *vals, unsigned max, uint64_t minval, uint64_t maxval,
		 unsigned *ret_n)
{
	unsigned k = 0;
	size_t i = 0;

	if (n == 1 && v[0] == '-') {
		*ret_n = 0;
		return 0;
	}
	while (i < n) {
		size_t e = i, c;
		uint64_t a, b = 0;

		while (e < n && v[e] != ',')
			e++;
		for (c = i; c < e && v[c] != ':'; c++)
			;
		if (k == max || mp_parse_uint(v + i, c - i, MP_MAX_NODES - 1, &a) < 0)
			return -EINVAL;
		if (vals && (c == e || mp_parse_uint(v + c + 1, e - c - 1, maxval, &b) < 0 || b < minval))
			return -EINVAL;
		if (!vals && c != e)
			return -EINVAL;
		nodes[k] = (int)a;
		if (vals)
			vals[k] = b;
		k++;
		i = e + 1;
		if (e + 1 == n && v[e] == ',')
			return -EINVAL;
	}
	*ret_n = k;
	return 0;
}

/* "LO-HI" in lower-case hex, inside [v, v + n) and nowhere else (sscanf
 * would take "0x", signs, blanks, trailing bytes, and overflow unchecked). */
static int hex_range(const char *v, size_t n, uint64_t *ret_lo, uint64_t *ret_hi)
{
	static const char digits[] = "0123456789abcdef";
	uint64_t x[2] = {0, 0};
	size_t i = 0;

	for (unsigned k = 0; k < 2; k++) {
		size_t start = i;

		for (; i < n && v[i] != '-'; i++) {
			const char *d = v[i] ? strchr(digits, v[i]) : NULL;

			if (!d || i - start == 16)
				return -EINVAL;
			x[k] = x[k] << 4 | (uint64_t)(d - digits);
		}
		if (i == start || (k == 0 && i == n) || (k == 1 && i != n))
			return -EINVAL;
		i++; /* the '-' */
	}
	*ret_lo = x[0];
	*ret_hi = x[1];
	return 0;
}

int mp_compiled_deserialize(const char *s, struct mp_compiled *ret)
{
	struct out out = {0};
	struct mp_compiled c;
	struct in in;
	const char *v;
	size_t n;
	int64_t x;
	int mode = -1;

	if (strncmp(s, MAGIC, strlen(MAGIC)))
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	mp_trace_init(&c.trace);
	in.s = s + strlen(MAGIC);

	if (field(&in, "mode", &v, &n) < 0)
		return -EINVAL;
	for (int m = MP_MODE_DEFAULT; m <= MP_MODE_SPLIT; m++)
		if (mp_streqn(v, n, mp_mode_name((enum mp_mode)m)))
			mode = m;
	if (mode < 0)
		return -EINVAL;
	c.mode = (enum mp_mode)mode;
	if (int_field(&in, "kmode", 0, 6, &x) < 0)
		return -EINVAL;
	c.kmode = (int)x;
	if (int_field(&in, "kflags", 0, 0xffff, &x) < 0)
		return -EINVAL;
	c.kflags = (unsigned)x;
	if (mask_field(&in, "nodes", &c.nodes) < 0 || mask_field(&in, "allowed", &c.allowed) < 0)
		return -EINVAL;
	if (int_field(&in, "strict", 0, 1, &x) < 0)
		return -EINVAL;
	c.strict = x;
	if (int_field(&in, "narrows", 0, 1, &x) < 0)
		return -EINVAL;
	c.allow_narrows = x;
	if (field(&in, "fallback", &v, &n) < 0 ||
	    pairs(v, n, c.fallback, NULL, MP_COMPILED_MAX, 0, 0, &c.n_fallback) < 0)
		return -EINVAL;
	if (field(&in, "weights", &v, &n) < 0)
		return -EINVAL;
	if (mp_streqn(v, n, "kernel")) {
		c.has_weights = true;
	} else {
		uint64_t w[MP_COMPILED_MAX];

		/* a zero weight is no share: the resolver never writes one, and
		 * weights that are all zero would divide by zero in the split plan */
		if (pairs(v, n, c.weight_node, w, MP_COMPILED_MAX, 1, 65535, &c.n_weights) < 0)
			return -EINVAL;
		for (unsigned i = 0; i < c.n_weights; i++)
			c.weight[i] = (uint16_t)w[i];
		c.has_weights = !(n == 1 && v[0] == '-');
	}
	if (field(&in, "order", &v, &n) < 0 || mp_parse_uint(v, n, UINT64_MAX, &c.order) < 0)
		return -EINVAL;
	if (field(&in, "omask", &v, &n) < 0)
		return -EINVAL;
	if (!(n == 1 && v[0] == '-')) {
		size_t i = 0;

		while (i < n) {
			size_t e = i, colon;

			while (e < n && v[e] != ';')
				e++;
			for (colon = i; colon < e && v[colon] != ':'; colon++)
				;
			if (c.n_order_masks == MP_ARRAY_SIZE(c.order_masks) || colon == e ||
			    mp_parse_uint(v + i, colon - i, UINT64_MAX, &c.order_masks[c.n_order_masks].page_size) < 0)
				return -EINVAL;
			if (mp_streqn(v + colon + 1, e - colon - 1, "none"))
				mp_mask_zero(&c.order_masks[c.n_order_masks].nodes);
			else if (mp_mask_parse(v + colon + 1, e - colon - 1, &c.order_masks[c.n_order_masks].nodes,
					       NULL) < 0)
				return -EINVAL;
			c.n_order_masks++;
			i = e + 1;
		}
	}
	if (field(&in, "phys", &v, &n) < 0 || hex_range(v, n, &c.phys_lo, &c.phys_hi) < 0)
		return -EINVAL;
	if (field(&in, "am", &v, &n) < 0)
		return -EINVAL;
	c.automigrate = MP_AM_UNSET;
	for (unsigned i = 1; i < MP_ARRAY_SIZE(am_names); i++)
		if (mp_streqn(v, n, am_names[i]))
			c.automigrate = (enum mp_automigrate)i;
	if (c.automigrate == MP_AM_UNSET)
		return -EINVAL;
	if (int_field(&in, "rep", 0, 1, &x) < 0)
		return -EINVAL;
	c.replicate = x;
	if (int_field(&in, "mig", 0, 1, &x) < 0)
		return -EINVAL;
	c.migrate = x;
	if (int_field(&in, "home", -1, MP_MAX_NODES - 1, &x) < 0)
		return -EINVAL;
	c.home = (int)x;
	if (*in.s != '\0')
		return -EINVAL;
	/* the one spelling: what the writer makes of c, to the byte */
	out.expect = s;
	emit(&c, &out);
	if (out.differs || s[out.len] != '\0')
		return -EINVAL;
	*ret = c;
	return 0;
}

/* ---- the compiled policy's own ----------------------------------------- */

void mp_compiled_free(struct mp_compiled *c)
{
	for (unsigned i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	c->n_warnings = 0;
	mp_trace_free(&c->trace);
}

unsigned mp_compiled_split(const struct mp_compiled *c, uint64_t len, uint64_t unit, int *ret_node, uint64_t *ret_len,
			   unsigned max)
{
	uint64_t units, total = 0, given = 0;
	unsigned n = 0;

	if (!unit || !c->n_weights)
		return 0;
	units = len / unit;
	for (unsigned i = 0; i < c->n_weights; i++)
		total += c->weight[i];
	/* largest-remainder apportionment would be fairer for tiny ranges; cumulative
	 * rounding keeps every boundary within one unit of the exact ratio */
	for (unsigned i = 0; i < c->n_weights && n < max; i++) {
		uint64_t upto = 0, cum = 0;

		for (unsigned k = 0; k <= i; k++)
			cum += c->weight[k];
		upto = i + 1 == c->n_weights ? units : (units * cum) / total;
		if (upto > given) {
			ret_node[n] = c->weight_node[i];
			ret_len[n] = (upto - given) * unit;
			n++;
			given = upto;
		}
	}
	/* a tail smaller than one unit goes with the last chunk */
	if (n && len > given * unit)
		ret_len[n - 1] += len - given * unit;
	return n;
}

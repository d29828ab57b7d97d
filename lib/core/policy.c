/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy object: life cycle, structural equality and the canonical text
 * form.  Parsing lives in parse.c.
 *
 * Invariants: a policy that came from mp_policy_parse() is canonical (see
 * policy.h), so equality here is plain structural equality, field by field,
 * term by term.  mp_policy_format() writes only canonical text, and parsing
 * that text gives back an equal policy; the unit and fuzz tests check both
 * directions.  Fields that a term's atom does not use (arg, str, mask) are
 * kept zero/NULL by the parser, but equality compares only the used ones so
 * hand-built policies compare sensibly too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "options.h"
#include "machine/topo.h"
#include "policy.h"

/* ---- node sets --------------------------------------------------------- */

void mp_nodeset_init(struct mp_nodeset *ns)
{
	ns->n = 0;
	ns->terms = NULL;
}

void mp_nodeset_free(struct mp_nodeset *ns)
{
	for (unsigned i = 0; i < ns->n; i++)
		free(ns->terms[i].str);
	free(ns->terms);
	mp_nodeset_init(ns);
}

int mp_nodeset_copy(struct mp_nodeset *dst, const struct mp_nodeset *src)
{
	struct mp_ns_term *t = NULL;

	if (src->n) {
		t = calloc(src->n, sizeof(*t));
		if (!t)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < src->n; i++) {
		t[i] = src->terms[i];
		t[i].str = NULL;
		if (src->terms[i].str) {
			t[i].str = strdup(src->terms[i].str);
			if (!t[i].str)
				goto oom;
		}
	}
	dst->n = src->n;
	dst->terms = t;
	return 0;
oom:
	for (unsigned i = 0; i < src->n; i++)
		free(t[i].str);
	free(t);
	return -ENOMEM;
}

static bool term_equal(const struct mp_ns_term *a, const struct mp_ns_term *b)
{
	if (a->atom != b->atom || a->neg != b->neg)
		return false;
	switch (a->atom) {
	case MP_NS_LIST:
	case MP_NS_RELATIVE:
		return mp_mask_equal(&a->mask, &b->mask);
	case MP_NS_TIER:
	case MP_NS_BEST:
	case MP_NS_DIST:
		return a->arg == b->arg;
	case MP_NS_NEAR:
		if (!a->str || !b->str)
			return a->str == b->str;
		return strcmp(a->str, b->str) == 0;
	default:
		return true;
	}
}

bool mp_nodeset_equal(const struct mp_nodeset *a, const struct mp_nodeset *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (!term_equal(&a->terms[i], &b->terms[i]))
			return false;
	return true;
}

/*
 * A node list with a prefix on every range: "!0-1,!3".  The prefix goes on
 * each range because terms are separated by commas, so "!0-1,3" would read
 * back as "3 minus 0-1".
 */
static void put_mask(struct mp_sb *b, const struct mp_nodemask *m, const char *prefix)
{
	const char *sep = "";

	for (int n = mp_mask_next(m, 0); n >= 0;) {
		int end = n;

		while (mp_mask_test(m, (unsigned)end + 1))
			end++;
		if (end == n)
			mp_sb_printf(b, "%s%s%d", sep, prefix, n);
		else
			mp_sb_printf(b, "%s%s%d-%d", sep, prefix, n, end);
		sep = ",";
		n = mp_mask_next(m, end + 1);
	}
}

static const char *const best_names[] = {
	[MP_BEST_BANDWIDTH] = "bandwidth",
	[MP_BEST_LATENCY] = "latency",
	[MP_BEST_CAPACITY] = "capacity",
};

static void put_term(struct mp_sb *b, const struct mp_ns_term *t)
{
	const char *neg = t->neg ? "!" : "";

	switch (t->atom) {
	case MP_NS_LIST:
		put_mask(b, &t->mask, neg);
		return;
	case MP_NS_RELATIVE:
		put_mask(b, &t->mask, t->neg ? "!+" : "+");
		return;
	case MP_NS_ALL:
		mp_sb_printf(b, "%sall", neg);
		return;
	case MP_NS_CPUSET:
		mp_sb_printf(b, "%scpuset", neg);
		return;
	case MP_NS_LOCAL:
		mp_sb_printf(b, "%slocal", neg);
		return;
	case MP_NS_CPU_NODES:
		mp_sb_printf(b, "%scpu-nodes", neg);
		return;
	case MP_NS_GPU_NODES:
		mp_sb_printf(b, "%sgpu-nodes", neg);
		return;
	case MP_NS_TIER:
		if (t->arg == MP_TIER_FAST)
			mp_sb_printf(b, "%stier:fast", neg);
		else if (t->arg == MP_TIER_SLOW)
			mp_sb_printf(b, "%stier:slow", neg);
		else
			mp_sb_printf(b, "%stier:%d", neg, (int)t->arg);
		return;
	case MP_NS_BEST:
		if (t->arg >= 0 && (size_t)t->arg < MP_ARRAY_SIZE(best_names))
			mp_sb_printf(b, "%sbest:%s", neg, best_names[t->arg]);
		return;
	case MP_NS_NEAR:
		if (t->str)
			mp_sb_printf(b, "%snear:%s", neg, t->str);
		else
			mp_sb_printf(b, "%snear", neg);
		return;
	case MP_NS_DIST:
		mp_sb_printf(b, "%sdist<=%d", neg, (int)t->arg);
		return;
	}
}

static void put_nodeset(struct mp_sb *b, const struct mp_nodeset *ns)
{
	for (unsigned i = 0; i < ns->n; i++) {
		if (i)
			mp_sb_puts(b, ",");
		put_term(b, &ns->terms[i]);
	}
}

char *mp_nodeset_format(const struct mp_nodeset *ns)
{
	struct mp_sb b;

	mp_sb_init(&b);
	mp_sb_puts(&b, ""); /* allocates and terminates: "" is a valid result */
	put_nodeset(&b, ns);
	return mp_sb_steal(&b);
}

/* ---- policies ---------------------------------------------------------- */

void mp_policy_init(struct mp_policy *p)
{
	memset(p, 0, sizeof(*p));
	mp_nodeset_init(&p->nodes);
	mp_nodeset_init(&p->fallback_nodes);
	p->home = -1;
}

void mp_policy_free(struct mp_policy *p)
{
	mp_nodeset_free(&p->nodes);
	for (unsigned i = 0; i < p->n_allow; i++)
		mp_nodeset_free(&p->allow[i]);
	free(p->allow);
	for (unsigned i = 0; i < p->n_order_nodes; i++)
		mp_nodeset_free(&p->order_nodes[i].nodes);
	free(p->order_nodes);
	mp_nodeset_free(&p->fallback_nodes);
	free(p->weight_list);
	mp_policy_init(p);
}

int mp_policy_copy(struct mp_policy *dst, const struct mp_policy *src)
{
	struct mp_policy d;

	mp_policy_init(&d);
	d.mode = src->mode;
	d.nodes_set = src->nodes_set;
	d.phys_set = src->phys_set;
	d.phys_lo = src->phys_lo;
	d.phys_hi = src->phys_hi;
	d.strict = src->strict;
	d.fallback = src->fallback;
	d.weights = src->weights;
	d.order = src->order;
	d.automigrate = src->automigrate;
	d.replicate = src->replicate;
	d.home = src->home;
	d.nodeflags = src->nodeflags;
	d.migrate = src->migrate;

	if (mp_nodeset_copy(&d.nodes, &src->nodes) < 0)
		goto oom;
	if (mp_nodeset_copy(&d.fallback_nodes, &src->fallback_nodes) < 0)
		goto oom;
	if (src->n_allow) {
		d.allow = calloc(src->n_allow, sizeof(*d.allow));
		if (!d.allow)
			goto oom;
		for (unsigned i = 0; i < src->n_allow; i++) {
			if (mp_nodeset_copy(&d.allow[i], &src->allow[i]) < 0)
				goto oom;
			d.n_allow++;
		}
	}
	if (src->n_order_nodes) {
		d.order_nodes = calloc(src->n_order_nodes, sizeof(*d.order_nodes));
		if (!d.order_nodes)
			goto oom;
		for (unsigned i = 0; i < src->n_order_nodes; i++) {
			d.order_nodes[i].page_size = src->order_nodes[i].page_size;
			if (mp_nodeset_copy(&d.order_nodes[i].nodes, &src->order_nodes[i].nodes) < 0)
				goto oom;
			d.n_order_nodes++;
		}
	}
	if (src->n_weights) {
		d.weight_list = malloc(src->n_weights * sizeof(*d.weight_list));
		if (!d.weight_list)
			goto oom;
		memcpy(d.weight_list, src->weight_list, src->n_weights * sizeof(*d.weight_list));
		d.n_weights = src->n_weights;
	}
	*dst = d;
	return 0;
oom:
	mp_policy_free(&d);
	return -ENOMEM;
}

bool mp_policy_equal(const struct mp_policy *a, const struct mp_policy *b)
{
	if (a->mode != b->mode || a->nodes_set != b->nodes_set)
		return false;
	if (a->nodes_set && !mp_nodeset_equal(&a->nodes, &b->nodes))
		return false;
	if (a->n_allow != b->n_allow)
		return false;
	for (unsigned i = 0; i < a->n_allow; i++)
		if (!mp_nodeset_equal(&a->allow[i], &b->allow[i]))
			return false;
	if (a->phys_set != b->phys_set)
		return false;
	if (a->phys_set && (a->phys_lo != b->phys_lo || a->phys_hi != b->phys_hi))
		return false;
	if (a->n_order_nodes != b->n_order_nodes)
		return false;
	for (unsigned i = 0; i < a->n_order_nodes; i++)
		if (a->order_nodes[i].page_size != b->order_nodes[i].page_size ||
		    !mp_nodeset_equal(&a->order_nodes[i].nodes, &b->order_nodes[i].nodes))
			return false;
	if (a->strict != b->strict || a->fallback != b->fallback)
		return false;
	if (a->fallback == MP_FB_NODES && !mp_nodeset_equal(&a->fallback_nodes, &b->fallback_nodes))
		return false;
	if (a->weights != b->weights)
		return false;
	if (a->weights == MP_W_LIST) {
		if (a->n_weights != b->n_weights)
			return false;
		for (unsigned i = 0; i < a->n_weights; i++)
			if (a->weight_list[i].node != b->weight_list[i].node ||
			    a->weight_list[i].weight != b->weight_list[i].weight)
				return false;
	}
	return a->order == b->order && a->automigrate == b->automigrate && a->replicate == b->replicate &&
	       a->home == b->home && a->nodeflags == b->nodeflags && a->migrate == b->migrate;
}

bool mp_policy_is_empty(const struct mp_policy *p)
{
	return p->mode == MP_MODE_UNSET && !p->nodes_set && p->n_allow == 0 && !p->phys_set && p->n_order_nodes == 0 &&
	       p->strict == MP_UNSET && p->fallback == MP_FB_UNSET && p->weights == MP_W_UNSET && p->order == 0 &&
	       p->automigrate == MP_AM_UNSET && p->replicate == MP_UNSET && p->home < 0 &&
	       p->nodeflags == MP_NF_UNSET && p->migrate == MP_UNSET;
}

static const char *const mode_names[] = {
	[MP_MODE_UNSET] = "unset",	     [MP_MODE_DEFAULT] = "default",
	[MP_MODE_LOCAL] = "local",	     [MP_MODE_BIND] = "bind",
	[MP_MODE_PREFER] = "prefer",	     [MP_MODE_PREFER_MANY] = "prefer-many",
	[MP_MODE_INTERLEAVE] = "interleave", [MP_MODE_WEIGHTED_INTERLEAVE] = "weighted-interleave",
	[MP_MODE_SPLIT] = "split",
};

const char *mp_mode_name(enum mp_mode m)
{
	if ((unsigned)m < MP_ARRAY_SIZE(mode_names))
		return mode_names[m];
	return "invalid";
}

static const char *const am_names[] = {
	[MP_AM_UNSET] = "unset",	 [MP_AM_OFF] = "off",	  [MP_AM_AUTO] = "auto",
	[MP_AM_BALANCING] = "balancing", [MP_AM_DAMON] = "damon", [MP_AM_TOUCH] = "touch",
};

const char *mp_automigrate_name(enum mp_automigrate a)
{
	if ((unsigned)a < MP_ARRAY_SIZE(am_names))
		return am_names[a];
	return "invalid";
}

static void put_size(struct mp_sb *b, uint64_t v)
{
	char buf[32];

	mp_format_size(v, buf, sizeof(buf));
	mp_sb_puts(b, buf);
}

static void put_page_size(struct mp_sb *b, uint64_t v)
{
	if (v == MP_ORDER_THP)
		mp_sb_puts(b, "thp");
	else
		put_size(b, v);
}

static const char *tristate_suffix(enum mp_tristate t)
{
	return t == MP_NO ? "=no" : "";
}

/*
 * Canonical order of options, fixed so that equal policies print equal text:
 * allow, phys, order.SIZE, strict, fallback, weights, order, automigrate,
 * replicate, home, node flags, migrate.
 */
char *mp_policy_format(const struct mp_policy *p)
{
	struct mp_sb b;
	const char *sep = "";

	mp_sb_init(&b);
	mp_sb_puts(&b, ""); /* allocates and terminates: the empty policy is "" */
	if (p->mode != MP_MODE_UNSET) {
		mp_sb_puts(&b, mp_mode_name(p->mode));
		/* local and default take no node set, but one inherited from a more
		 * general scope is kept (as nodes=) so that combination stays
		 * associative: a later scope's mode may use it again */
		if (p->nodes_set && (p->mode == MP_MODE_LOCAL || p->mode == MP_MODE_DEFAULT)) {
			mp_sb_puts(&b, " nodes=");
			put_nodeset(&b, &p->nodes);
		} else if (p->nodes_set) {
			mp_sb_puts(&b, ":");
			put_nodeset(&b, &p->nodes);
		}
		sep = " ";
	} else if (p->nodes_set) {
		mp_sb_printf(&b, "%s=", mp_options[MP_OPT_NODES].name);
		put_nodeset(&b, &p->nodes);
		sep = " ";
	}
/* an option, named from the one table (options.h), with what follows it */
#define OPT(id, ...)                                          \
	do {                                                  \
		mp_sb_puts(&b, sep);                          \
		mp_sb_puts(&b, mp_options[MP_OPT_##id].name); \
		mp_sb_printf(&b, __VA_ARGS__);                \
		sep = " ";                                    \
	} while (0)
	for (unsigned i = 0; i < p->n_allow; i++) {
		OPT(ALLOW, "=");
		put_nodeset(&b, &p->allow[i]);
	}
	if (p->phys_set) {
		if (p->phys_lo == 0) {
			OPT(PHYS, "<");
		} else {
			OPT(PHYS, "=");
			put_size(&b, p->phys_lo);
			mp_sb_puts(&b, "-");
		}
		put_size(&b, p->phys_hi);
	}
	for (unsigned i = 0; i < p->n_order_nodes; i++) {
		OPT(ORDER_SIZE, "%s", "");
		put_page_size(&b, p->order_nodes[i].page_size);
		mp_sb_puts(&b, "=");
		put_nodeset(&b, &p->order_nodes[i].nodes);
	}
	if (p->strict != MP_UNSET)
		OPT(STRICT, "%s", tristate_suffix(p->strict));
	if (p->fallback == MP_FB_NONE) {
		OPT(FALLBACK, "=none");
	} else if (p->fallback == MP_FB_NODES) {
		OPT(FALLBACK, "=");
		put_nodeset(&b, &p->fallback_nodes);
	}
	if (p->weights == MP_W_AUTO) {
		OPT(WEIGHTS, "=auto");
	} else if (p->weights == MP_W_LIST) {
		OPT(WEIGHTS, "=");
		for (unsigned i = 0; i < p->n_weights; i++)
			mp_sb_printf(&b, "%s%u:%u", i ? "," : "", p->weight_list[i].node, p->weight_list[i].weight);
	}
	if (p->order) {
		OPT(ORDER, "=");
		put_page_size(&b, p->order);
	}
	if (p->automigrate == MP_AM_AUTO)
		OPT(AUTOMIGRATE, "%s", "");
	else if (p->automigrate != MP_AM_UNSET)
		OPT(AUTOMIGRATE, "=%s", mp_automigrate_name(p->automigrate));
	if (p->replicate != MP_UNSET)
		OPT(REPLICATE, "%s", tristate_suffix(p->replicate));
	if (p->home >= 0)
		OPT(HOME, "=%d", p->home);
	if (p->nodeflags == MP_NF_STATIC)
		OPT(STATIC, "%s", "");
	else if (p->nodeflags == MP_NF_RELATIVE)
		OPT(RELATIVE, "%s", "");
	else if (p->nodeflags == MP_NF_NONE)
		OPT(NODEFLAGS, "=none");
	if (p->migrate != MP_UNSET)
		OPT(MIGRATE, "%s", tristate_suffix(p->migrate));
#undef OPT
	return mp_sb_steal(&b);
}

static unsigned nodeset_parts(const struct mp_nodeset *ns)
{
	unsigned parts = 0;

	for (unsigned i = 0; i < ns->n; i++) {
		const struct mp_ns_term *t = &ns->terms[i];

		if (t->atom == MP_NS_NEAR)
			parts |= MP_TOPO_DEVICES;
		else if (t->atom == MP_NS_TIER)
			parts |= MP_TOPO_TIERS;
		else if (t->atom == MP_NS_BEST && t->arg != MP_BEST_CAPACITY)
			parts |= MP_TOPO_HMAT;
	}
	return parts;
}

unsigned mp_policy_topo_parts(const struct mp_policy *p)
{
	unsigned parts = nodeset_parts(&p->nodes) | nodeset_parts(&p->fallback_nodes);

	for (unsigned i = 0; i < p->n_allow; i++)
		parts |= nodeset_parts(&p->allow[i]);
	for (unsigned i = 0; i < p->n_order_nodes; i++)
		parts |= nodeset_parts(&p->order_nodes[i].nodes);
	if (p->weights == MP_W_AUTO)
		parts |= MP_TOPO_HMAT;
	if (p->phys_set)
		parts |= MP_TOPO_PHYS;
	if (p->order > MP_ORDER_THP)
		parts |= MP_TOPO_HUGEPAGES;
	return parts;
}

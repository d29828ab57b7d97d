/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resolving a folded policy against a machine: node-set intent becomes node
 * masks, constraints become the allowed set, and the placement becomes what
 * the kernel (or the user-space emulation) is to be asked for.  PURE: the
 * topology, the cgroup's allowed nodes and the kernel's features come in as
 * data, so this runs the same on a fixture as on the live system.
 *
 * Invariants:
 *   - the placement nodes and every fallback node lie inside 'allowed', and
 *     'allowed' lies inside every allow set, the cgroup's mems and the nodes
 *     with memory: constraints are never escaped;
 *   - a strict policy that cannot be met is an error naming the scope and
 *     the reason; a non-strict one falls back and says so in a warning;
 *   - every decision is written to the trace, for `mplace explain`;
 *   - a GPU's memory (mp_node.gpu_memory) is placed on only when the node set
 *     of the placement or of fallback= names it, by number or gpu-nodes:
 *     the generic terms (all, cpuset, tier:, best:, ...) and every default
 *     leave it out.  Constraints (allow=, order.SIZE=) written with all or
 *     cpuset do not forbid it, so a general scope's allow=cpuset does not
 *     stop a specific one from binding to the GPU's node.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "combine.h"
#include "mpol.h"

struct rctx {
	const struct mp_resolve_ctx *ctx;
	const struct mp_topo *topo;
	const struct mp_trace *fold;   /* provenance, may be NULL */
	struct mp_nodemask general;    /* nodes with memory that is not a GPU's */
	struct mp_nodemask cpuset_all; /* the cgroup's mems ∩ nodes with memory */
	struct mp_nodemask cpuset;     /* cpuset_all without GPU memory */
	struct mp_nodemask gpu_named;  /* GPU memory the placement or fallback= names */
	struct mp_nodemask base;       /* cpuset and the named GPU memory: allowed before allow= */
	int local;		       /* local node id */
	struct mp_compiled *out;
	struct mp_diag *diag;
};

/* ---- small helpers ----------------------------------------------------- */

static void mask_str(const struct mp_nodemask *m, char *buf, size_t size)
{
	if (mp_mask_empty(m))
		snprintf(buf, size, "none");
	else
		mp_mask_format(m, buf, size);
}

static void note(struct rctx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct rctx *r, const char *fmt, ...)
{
	struct mp_trace *t = &r->out->trace;
	struct mp_trace_step *steps;
	struct mp_sb b;
	va_list ap;

	mp_sb_init(&b);
	va_start(ap, fmt);
	mp_sb_vprintf(&b, fmt, ap);
	va_end(ap);
	steps = realloc(t->steps, (t->n + 1) * sizeof(*t->steps));
	if (!steps) {
		mp_sb_free(&b);
		return; /* a lost note is not worth failing the resolution */
	}
	t->steps = steps;
	memset(&t->steps[t->n], 0, sizeof(t->steps[t->n]));
	t->steps[t->n].scope = strdup("resolve");
	t->steps[t->n].effect = mp_sb_steal(&b);
	t->n++;
}

static void warn(struct rctx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct rctx *r, const char *fmt, ...)
{
	struct mp_sb b;
	va_list ap;

	mp_sb_init(&b);
	va_start(ap, fmt);
	mp_sb_vprintf(&b, fmt, ap);
	va_end(ap);
	if (!mp_sb_ok(&b))
		return;
	note(r, "warning: %s", b.s);
	if (r->out->n_warnings < MP_MAX_WARNINGS)
		r->out->warnings[r->out->n_warnings++] = mp_sb_steal(&b);
	else
		mp_sb_free(&b);
}

/* "(set by exe /usr/bin/postgres at db.conf:12:9)" for the step that set a field. */
static void who(const struct rctx *r, int step, char *buf, size_t size)
{
	const struct mp_trace_step *s;

	buf[0] = '\0';
	if (!r->fold || step < 0 || (unsigned)step >= r->fold->n)
		return;
	s = &r->fold->steps[step];
	if (s->origin)
		snprintf(buf, size, " (set by %s at %s)", s->scope, s->origin);
	else
		snprintf(buf, size, " (set by %s)", s->scope);
}

static int fail(struct rctx *r, int err, const char *hint, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(struct rctx *r, int err, const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (r->diag) {
		memset(r->diag, 0, sizeof(*r->diag));
		va_start(ap, fmt);
		vsnprintf(r->diag->msg, sizeof(r->diag->msg), fmt, ap);
		va_end(ap);
		snprintf(r->diag->hint, sizeof(r->diag->hint), "%s", hint ? hint : "");
	}
	return err;
}

static int node_distance(const struct mp_topo *t, int a, int b)
{
	int d = mp_topo_distance(t, a, b);

	if (d < 0)
		d = a == b ? 10 : 20; /* the ACPI SLIT defaults */
	return d;
}

/* ---- node-set evaluation ------------------------------------------------ */

/*
 * Where a node set stands.  A choice (the placement, fallback=) picks nodes
 * to put memory on: there 'all', 'cpuset' and a set of only subtracted terms
 * mean the machine's own memory, without any GPU's.  A constraint (allow=,
 * order.SIZE=) only rules nodes out: there they mean every node with memory,
 * so that a GPU node the choice names is not refused by a generic allow set.
 */
enum ns_use { NS_CHOICE, NS_CONSTRAINT };

static int best_nodes(struct rctx *r, int sel, const struct mp_nodemask *among, struct mp_nodemask *ret)
{
	const struct mp_topo *t = r->topo;
	uint64_t best = 0;
	bool any = false, known = false;

	mp_mask_zero(ret);
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < t->n_nodes; i++) {
			const struct mp_node *n = &t->nodes[i];
			uint64_t v;

			if (!mp_mask_test(among, (unsigned)n->id))
				continue;
			switch (sel) {
			case MP_BEST_BANDWIDTH:
				v = n->read_bw;
				break;
			case MP_BEST_LATENCY:
				/* lower is better: invert so that the largest v wins */
				v = n->read_lat ? UINT64_MAX - n->read_lat : 0;
				break;
			default:
				v = n->mem_total;
				break;
			}
			if (pass == 0) {
				if (v)
					known = true;
				if (!any || v > best)
					best = v;
				any = true;
			} else if (v == best) {
				mp_mask_set(ret, (unsigned)n->id);
			}
		}
	if (!known && sel != MP_BEST_CAPACITY) {
		warn(r, "best:%s: the firmware gives no HMAT %s for these nodes; using the CPU nodes",
		     sel == MP_BEST_BANDWIDTH ? "bandwidth" : "latency",
		     sel == MP_BEST_BANDWIDTH ? "bandwidth" : "latency");
		mp_mask_and(ret, among, &t->cpu_nodes);
		if (mp_mask_empty(ret))
			*ret = *among;
	}
	return 0;
}

static int tier_nodes(struct rctx *r, int sel, struct mp_nodemask *ret)
{
	const struct mp_topo *t = r->topo;
	int fastest = -1, slowest = -1;

	mp_mask_zero(ret);
	for (unsigned i = 0; i < t->n_nodes; i++) {
		int tier = t->nodes[i].tier;

		if (tier < 0 || !t->nodes[i].has_memory || t->nodes[i].gpu_memory)
			continue;
		if (fastest < 0 || tier < fastest)
			fastest = tier;
		if (tier > slowest)
			slowest = tier;
	}
	for (unsigned i = 0; i < t->n_nodes; i++) {
		int tier = t->nodes[i].tier;
		bool in;

		if (tier < 0 || !t->nodes[i].has_memory || t->nodes[i].gpu_memory)
			continue;
		if (sel == MP_TIER_FAST)
			in = tier == fastest;
		else if (sel == MP_TIER_SLOW)
			in = tier != fastest;
		else
			in = tier == sel;
		if (in)
			mp_mask_set(ret, (unsigned)t->nodes[i].id);
	}
	(void)slowest;
	return 0;
}

static int eval_term(struct rctx *r, const struct mp_ns_term *term, enum ns_use use, struct mp_nodemask *ret)
{
	const struct mp_topo *t = r->topo;
	const struct mp_device *dev;
	char buf[64];
	int k;

	mp_mask_zero(ret);
	switch (term->atom) {
	case MP_NS_LIST:
		*ret = term->mask;
		return 0;
	case MP_NS_ALL:
		*ret = use == NS_CONSTRAINT ? t->memory : r->general;
		return 0;
	case MP_NS_CPUSET:
		*ret = use == NS_CONSTRAINT ? r->cpuset_all : r->cpuset;
		return 0;
	case MP_NS_GPU_NODES:
		mp_mask_and(ret, &t->gpu_memory, &t->memory);
		return 0;
	case MP_NS_LOCAL:
		mp_mask_set(ret, (unsigned)r->local);
		return 0;
	case MP_NS_CPU_NODES:
		*ret = t->cpu_nodes;
		return 0;
	case MP_NS_TIER:
		return tier_nodes(r, term->arg, ret);
	case MP_NS_BEST:
		return best_nodes(r, term->arg, &r->cpuset, ret);
	case MP_NS_NEAR: {
		const char *spec = term->str ? term->str : r->ctx->device;

		if (!spec)
			return fail(r, -EINVAL, "write near:pci:BDF, near:net:IFACE or near:block:DEV",
				    "bare 'near' names the device of a device scope, and there is none here");
		dev = mp_topo_device(t, spec);
		if (!dev)
			return fail(r, -ENOENT, "run 'mplace topo' to list devices and their nodes",
				    "no device '%s' on this machine", spec);
		if (dev->node < 0) {
			/* firmware gave no locality: the device is equally near every node */
			warn(r, "device '%s' reports no NUMA node; 'near' means every node", spec);
			*ret = r->general;
			return 0;
		}
		mp_mask_set(ret, (unsigned)dev->node);
		if (!mp_mask_test(&r->general, (unsigned)dev->node)) {
			/* a memory-less node (or a GPU's): the nearest nodes with
			 * the machine's memory stand in */
			int best = -1;

			mp_mask_zero(ret);
			mp_mask_foreach(n, &r->general) {
				int d = node_distance(t, dev->node, n);

				if (best < 0 || d < best) {
					mp_mask_zero(ret);
					best = d;
				}
				if (d == best)
					mp_mask_set(ret, (unsigned)n);
			}
		}
		return 0;
	}
	case MP_NS_DIST:
		mp_mask_foreach(n, &r->general)
			if (node_distance(t, r->local, n) <= term->arg)
				mp_mask_set(ret, (unsigned)n);
		return 0;
	case MP_NS_RELATIVE:
		/* numactl's '+': the k-th node of the cpuset, wrapping as the kernel's
		 * MPOL_F_RELATIVE_NODES does */
		k = (int)mp_mask_weight(&r->cpuset);
		if (!k)
			return 0;
		mp_mask_foreach(i, &term->mask) {
			int idx = i % k, pos = 0;

			mp_mask_foreach(n, &r->cpuset) {
				if (pos++ == idx) {
					mp_mask_set(ret, (unsigned)n);
					break;
				}
			}
		}
		return 0;
	}
	snprintf(buf, sizeof(buf), "%u", term->atom);
	return fail(r, -EINVAL, NULL, "unknown node-set term %s", buf);
}

static int eval_nodeset(struct rctx *r, const struct mp_nodeset *ns, enum ns_use use, struct mp_nodemask *ret)
{
	struct mp_nodemask pos, neg, m;
	bool any_pos = false;
	int e;

	mp_mask_zero(&pos);
	mp_mask_zero(&neg);
	for (unsigned i = 0; i < ns->n; i++) {
		e = eval_term(r, &ns->terms[i], use, &m);
		if (e < 0)
			return e;
		if (ns->terms[i].neg) {
			mp_mask_or(&neg, &neg, &m);
		} else {
			mp_mask_or(&pos, &pos, &m);
			any_pos = true;
		}
	}
	if (!any_pos)
		pos = use == NS_CONSTRAINT ? r->topo->memory : r->general;
	mp_mask_andnot(ret, &pos, &neg);
	return 0;
}

/*
 * The GPU memory a choice names: its node numbers and gpu-nodes, less the
 * subtracted ones.  Read from the text, not evaluated (evaluation warns and
 * may fail, and does so once, later); it equals the GPU nodes the choice
 * evaluates to, since no other term yields GPU memory in a choice.
 */
static void gpu_named(const struct mp_topo *t, const struct mp_nodeset *ns, struct mp_nodemask *acc)
{
	struct mp_nodemask pos, neg;

	mp_mask_zero(&pos);
	mp_mask_zero(&neg);
	for (unsigned i = 0; i < ns->n; i++) {
		const struct mp_ns_term *term = &ns->terms[i];
		struct mp_nodemask *m = term->neg ? &neg : &pos;

		if (term->atom == MP_NS_LIST) {
			struct mp_nodemask g;

			mp_mask_and(&g, &term->mask, &t->gpu_memory);
			mp_mask_or(m, m, &g);
		} else if (term->atom == MP_NS_GPU_NODES) {
			mp_mask_or(m, m, &t->gpu_memory);
		}
	}
	mp_mask_andnot(&pos, &pos, &neg);
	mp_mask_or(acc, acc, &pos);
}

/* ---- resolution steps ---------------------------------------------------- */

static int resolve_allowed(struct rctx *r, const struct mp_policy *p)
{
	struct mp_compiled *c = r->out;
	char a[256], b[256], w[300];

	c->allowed = r->base;
	mask_str(&r->cpuset_all, a, sizeof(a));
	if (r->ctx->cgroup && r->ctx->cgroup->has_mems)
		note(r, "cgroup %s allows nodes %s%s", r->ctx->cgroup->path ? r->ctx->cgroup->path : "?", a,
		     mp_mask_equal(&r->cpuset_all, &r->topo->memory) ? " (every node with memory)" : "");
	else
		note(r, "nodes with memory: %s", a);
	{
		struct mp_nodemask left;

		mp_mask_andnot(&left, &r->cpuset_all, &r->base);
		if (!mp_mask_empty(&left)) {
			mask_str(&left, a, sizeof(a));
			mask_str(&c->allowed, b, sizeof(b));
			note(r,
			     "%s %s %s GPU memory: left out unless the placement or fallback= names %s (by number "
			     "or gpu-nodes); allowed now %s",
			     mp_mask_weight(&left) > 1 ? "nodes" : "node", a, mp_mask_weight(&left) > 1 ? "are" : "is",
			     mp_mask_weight(&left) > 1 ? "them" : "it", b);
		}
	}
	for (unsigned i = 0; i < p->n_allow; i++) {
		struct mp_nodemask m;
		int e = eval_nodeset(r, &p->allow[i], NS_CONSTRAINT, &m);
		char *txt;

		if (e < 0)
			return e;
		mp_mask_and(&c->allowed, &c->allowed, &m);
		txt = mp_nodeset_format(&p->allow[i]);
		mask_str(&m, a, sizeof(a));
		mask_str(&c->allowed, b, sizeof(b));
		who(r, r->fold && i < r->fold->n_allow ? r->fold->allow_step[i] : -1, w, sizeof(w));
		note(r, "allow=%s is nodes %s%s; allowed now %s", txt ? txt : "?", a, w, b);
		free(txt);
	}
	if (p->phys_set) {
		struct mp_nodemask m;
		bool known = false;

		c->phys_lo = p->phys_lo;
		c->phys_hi = p->phys_hi;
		mp_mask_zero(&m);
		for (unsigned i = 0; i < r->topo->n_nodes; i++) {
			const struct mp_node *n = &r->topo->nodes[i];

			for (unsigned k = 0; k < n->n_phys; k++) {
				known = true;
				if (n->phys[k][0] < p->phys_hi && n->phys[k][1] > p->phys_lo)
					mp_mask_set(&m, (unsigned)n->id);
			}
		}
		if (known) {
			mp_mask_and(&c->allowed, &c->allowed, &m);
			mask_str(&m, a, sizeof(a));
			mask_str(&c->allowed, b, sizeof(b));
			note(r, "the physical range has memory on nodes %s; allowed now %s", a, b);
		} else {
			note(r, "physical ranges of the nodes are unknown here: the range is enforced per page when "
				"memory is placed, not by choosing nodes");
		}
	}
	for (unsigned i = 0; i < p->n_order_nodes; i++) {
		struct mp_nodemask m;
		unsigned k;
		int e = eval_nodeset(r, &p->order_nodes[i].nodes, NS_CONSTRAINT, &m);

		if (e < 0)
			return e;
		for (k = 0; k < c->n_order_masks; k++)
			if (c->order_masks[k].page_size == p->order_nodes[i].page_size)
				break;
		if (k == c->n_order_masks) {
			if (k == MP_ARRAY_SIZE(c->order_masks))
				return fail(r, -E2BIG, NULL, "too many page sizes in order.SIZE= constraints");
			c->n_order_masks++;
			c->order_masks[k].page_size = p->order_nodes[i].page_size;
			c->order_masks[k].nodes = c->allowed;
		}
		mp_mask_and(&c->order_masks[k].nodes, &c->order_masks[k].nodes, &m);
	}
	return 0;
}

/* Nodes nearest first from the set 'from', among 'among' (ids ascending on ties). */
static unsigned order_by_distance(const struct mp_topo *t, const struct mp_nodemask *from,
				  const struct mp_nodemask *among, int *out, unsigned max)
{
	unsigned n = 0;
	int key[MP_COMPILED_MAX];

	mp_mask_foreach(x, among) {
		int d = -1;
		unsigned j;

		if (n == max)
			break;
		mp_mask_foreach(f, from) {
			int dd = node_distance(t, f, x);

			if (d < 0 || dd < d)
				d = dd;
		}
		if (d < 0)
			d = 0;
		/* insertion sort: stable, lists are tiny */
		for (j = n; j > 0 && key[j - 1] > d; j--) {
			key[j] = key[j - 1];
			out[j] = out[j - 1];
		}
		key[j] = d;
		out[j] = x;
		n++;
	}
	return n;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static int resolve_weights(struct rctx *r, const struct mp_policy *p)
{
	struct mp_compiled *c = r->out;
	uint64_t maxbw = 0, g = 0;
	unsigned n = 0;
	bool known = true;

	mp_mask_foreach(x, &c->nodes) {
		int i = mp_topo_index(r->topo, x);

		if (n == MP_COMPILED_MAX)
			return fail(r, -E2BIG, NULL, "weights for more than %d nodes", MP_COMPILED_MAX);
		c->weight_node[n] = x;
		c->weight[n] = 1;
		if (p->weights == MP_W_AUTO) {
			uint32_t bw = i >= 0 ? r->topo->nodes[i].read_bw : 0;

			if (!bw)
				known = false;
			if (bw > maxbw)
				maxbw = bw;
		}
		n++;
	}
	c->n_weights = n;
	c->has_weights = true;
	if (p->weights == MP_W_AUTO) {
		if (!known || !maxbw) {
			warn(r,
			     "weights=auto: the firmware gives no HMAT bandwidth for every node; using equal weights");
			return 0;
		}
		/* weights in proportion to read bandwidth, on a scale of 100, then
		 * reduced: 100000 and 25000 MB/s become 4:1 */
		for (unsigned k = 0; k < n; k++) {
			int i = mp_topo_index(r->topo, c->weight_node[k]);
			uint64_t w = ((uint64_t)r->topo->nodes[i].read_bw * 100 + maxbw / 2) / maxbw;

			c->weight[k] = (uint16_t)(w ? w : 1);
			g = gcd64(g, c->weight[k]);
		}
		for (unsigned k = 0; k < n && g > 1; k++)
			c->weight[k] = (uint16_t)(c->weight[k] / g);
	} else if (p->weights == MP_W_LIST) {
		for (unsigned k = 0; k < p->n_weights; k++) {
			unsigned j;

			for (j = 0; j < n; j++)
				if (c->weight_node[j] == p->weight_list[k].node)
					break;
			if (j == n) {
				warn(r, "weights: node %u is not a placement node; its weight is ignored",
				     p->weight_list[k].node);
				continue;
			}
			c->weight[j] = p->weight_list[k].weight;
		}
	}
	{
		struct mp_sb b;

		mp_sb_init(&b);
		for (unsigned k = 0; k < n; k++)
			mp_sb_printf(&b, "%s%d:%u", k ? "," : "", c->weight_node[k], c->weight[k]);
		note(r, "weights %s%s", b.s ? b.s : "", p->weights == MP_W_AUTO ? " (from HMAT read bandwidth)" : "");
		mp_sb_free(&b);
	}
	return 0;
}

static int kmode_of(enum mp_mode m)
{
	switch (m) {
	case MP_MODE_LOCAL:
		return MP_MPOL_LOCAL;
	case MP_MODE_BIND:
	case MP_MODE_SPLIT: /* each chunk is bound to its node */
		return MP_MPOL_BIND;
	case MP_MODE_PREFER:
		return MP_MPOL_PREFERRED;
	case MP_MODE_PREFER_MANY:
		return MP_MPOL_PREFERRED_MANY;
	case MP_MODE_INTERLEAVE:
		return MP_MPOL_INTERLEAVE;
	case MP_MODE_WEIGHTED_INTERLEAVE:
		return MP_MPOL_WEIGHTED_INTERLEAVE;
	default:
		return MP_MPOL_DEFAULT;
	}
}

static int resolve_placement(struct rctx *r, const struct mp_policy *p)
{
	struct mp_compiled *c = r->out;
	enum mp_mode mode = p->mode == MP_MODE_UNSET ? MP_MODE_DEFAULT : p->mode;
	bool strict = p->strict == MP_YES;
	struct mp_nodemask want, missing, outside;
	char a[256], b[256], w[300], w2[300];
	int e;

	c->strict = strict;
	c->allow_narrows = !mp_mask_equal(&c->allowed, &r->base);
	if (mode == MP_MODE_DEFAULT || mode == MP_MODE_LOCAL) {
		/* The kernel's default and local policies may use any node of the
		 * cpuset.  When an allow set narrows that, only bind keeps the
		 * process inside it; bind allocates nearest the running CPU first,
		 * which is what local asks for. */
		if (!mp_mask_equal(&c->allowed, &r->base)) {
			mask_str(&c->allowed, a, sizeof(a));
			if (mp_mask_empty(&c->allowed)) {
				who(r, r->fold && r->fold->n_allow ? r->fold->allow_step[0] : -1, w, sizeof(w));
				return fail(r, -EXDEV, "widen the allow= sets, or the cgroup's cpuset.mems",
					    "the constraints leave no node with memory%s", w);
			}
			note(r,
			     "%s inside allowed nodes %s becomes bind:%s (the kernel's bind allocates nearest the "
			     "running CPU first)",
			     mp_mode_name(mode), a, a);
			c->mode = MP_MODE_BIND;
			c->kmode = MP_MPOL_BIND;
			c->nodes = c->allowed;
		} else {
			c->mode = mode;
			c->kmode = kmode_of(mode);
			note(r, "mode %s: the kernel chooses among all allowed nodes", mp_mode_name(mode));
		}
		return 0;
	}

	if (p->nodes_set) {
		e = eval_nodeset(r, &p->nodes, NS_CHOICE, &want);
		if (e < 0)
			return e;
	} else {
		want = c->allowed;
		note(r, "no nodes given for %s: using every allowed node", mp_mode_name(mode));
	}
	who(r, r->fold ? r->fold->field_step[MP_FIELD_NODES] : -1, w, sizeof(w));
	who(r, r->fold ? r->fold->field_step[MP_FIELD_STRICT] : -1, w2, sizeof(w2));

	/* nodes that do not exist, or have no memory */
	mp_mask_andnot(&missing, &want, &r->topo->memory);
	if (!mp_mask_empty(&missing)) {
		mask_str(&missing, a, sizeof(a));
		mask_str(&r->topo->memory, b, sizeof(b));
		if (strict) {
			char hint[400];

			snprintf(hint, sizeof(hint), "run 'mplace topo' to list nodes; strict%s forbids falling back",
				 w2);
			/* the machine first, then which scope asked for it */
			return fail(r, -ENOENT, hint, "%s %s %s (this machine has memory on nodes %s)%s",
				    mp_mask_weight(&missing) > 1 ? "nodes" : "node", a,
				    mp_mask_weight(&missing) > 1 ? "do not exist or have no memory"
								 : "does not exist or has no memory",
				    b, w);
		}
		warn(r, "%s %s not present with memory on this machine (nodes %s)%s; left out",
		     mp_mask_weight(&missing) > 1 ? "nodes" : "node", a, b, w);
		mp_mask_andnot(&want, &want, &missing);
	}
	mp_mask_andnot(&outside, &want, &c->allowed);
	if (!mp_mask_empty(&outside)) {
		int ws = -1;

		mask_str(&outside, a, sizeof(a));
		mask_str(&c->allowed, b, sizeof(b));
		/* name the constraint that refused it: the first allow set without it */
		for (unsigned i = 0; r->fold && i < p->n_allow && i < r->fold->n_allow; i++) {
			struct mp_nodemask m;

			if (eval_nodeset(r, &p->allow[i], NS_CONSTRAINT, &m) == 0 && !mp_mask_subset(&outside, &m)) {
				ws = r->fold->allow_step[i];
				break;
			}
		}
		who(r, ws, w2, sizeof(w2));
		if (ws < 0 && r->ctx->cgroup && r->ctx->cgroup->has_mems &&
		    !mp_mask_subset(&outside, &r->ctx->cgroup->mems))
			snprintf(w2, sizeof(w2), " (cpuset.mems of %s)",
				 r->ctx->cgroup->path ? r->ctx->cgroup->path : "the cgroup");
		if (strict)
			return fail(r, -EXDEV, "a specific scope cannot escape a general constraint",
				    "%s %s %s outside the allowed nodes %s%s",
				    mp_mask_weight(&outside) > 1 ? "nodes" : "node", a,
				    mp_mask_weight(&outside) > 1 ? "are" : "is", b, w2);
		warn(r, "%s %s %s outside the allowed nodes %s%s; left out",
		     mp_mask_weight(&outside) > 1 ? "nodes" : "node", a, mp_mask_weight(&outside) > 1 ? "are" : "is", b,
		     w2);
		mp_mask_andnot(&want, &want, &outside);
	}
	if (mp_mask_empty(&want)) {
		struct mp_nodemask fb;

		if (strict)
			return fail(r, -EXDEV, "widen the node set or drop 'strict'",
				    "no allowed node is left for %s%s", mp_mode_name(mode), w);
		if (p->fallback == MP_FB_NODES) {
			e = eval_nodeset(r, &p->fallback_nodes, NS_CHOICE, &fb);
			if (e < 0)
				return e;
			mp_mask_and(&fb, &fb, &c->allowed);
		} else {
			mp_mask_zero(&fb);
		}
		if (mp_mask_empty(&fb)) {
			/* the nearest allowed node to the running CPU, the
			 * machine's own memory before a GPU's */
			int near[1];
			struct mp_nodemask loc, among;

			mp_mask_zero(&loc);
			mp_mask_set(&loc, (unsigned)r->local);
			mp_mask_andnot(&among, &c->allowed, &r->topo->gpu_memory);
			if (mp_mask_empty(&among))
				among = c->allowed;
			if (order_by_distance(r->topo, &loc, &among, near, 1) == 1)
				mp_mask_set(&fb, (unsigned)near[0]);
		}
		if (mp_mask_empty(&fb))
			return fail(r, -EXDEV, "widen the allow= sets, or the cgroup's cpuset.mems",
				    "the constraints leave no node with memory");
		mask_str(&fb, a, sizeof(a));
		warn(r, "no requested node is allowed; %s falls back to node %s", mp_mode_name(mode), a);
		want = fb;
	}
	if (mode == MP_MODE_PREFER && mp_mask_weight(&want) > 1) {
		/* the kernel's preferred takes one node: the nearest to the CPU */
		int near[1];
		struct mp_nodemask loc;

		mp_mask_zero(&loc);
		mp_mask_set(&loc, (unsigned)r->local);
		order_by_distance(r->topo, &loc, &want, near, 1);
		mask_str(&want, a, sizeof(a));
		note(r, "prefer takes one node: %d, the nearest of %s to node %d (use prefer-many for all)", near[0], a,
		     r->local);
		mp_mask_zero(&want);
		mp_mask_set(&want, (unsigned)near[0]);
	}
	c->nodes = want;
	c->mode = mode;
	if (mode == MP_MODE_INTERLEAVE && p->weights != MP_W_UNSET)
		c->mode = MP_MODE_WEIGHTED_INTERLEAVE;
	c->kmode = kmode_of(c->mode);
	mask_str(&want, a, sizeof(a));
	note(r, "%s on nodes %s%s", mp_mode_name(c->mode), a, w);
	if (c->mode == MP_MODE_SPLIT || p->weights != MP_W_UNSET)
		return resolve_weights(r, p);
	return 0;
}

static void resolve_fallback(struct rctx *r, const struct mp_policy *p)
{
	struct mp_compiled *c = r->out;
	struct mp_nodemask among, from;
	char a[256];

	c->n_fallback = 0;
	if (c->strict || p->fallback == MP_FB_NONE || c->kmode == MP_MPOL_DEFAULT || c->kmode == MP_MPOL_LOCAL)
		return;
	if (p->fallback == MP_FB_NODES) {
		if (eval_nodeset(r, &p->fallback_nodes, NS_CHOICE, &among) < 0)
			return;
		mp_mask_and(&among, &among, &c->allowed);
	} else {
		among = c->allowed;
	}
	mp_mask_andnot(&among, &among, &c->nodes);
	from = c->nodes;
	c->n_fallback = order_by_distance(r->topo, &from, &among, c->fallback, MP_COMPILED_MAX);
	if (c->n_fallback) {
		struct mp_sb b;

		mp_sb_init(&b);
		for (unsigned i = 0; i < c->n_fallback; i++)
			mp_sb_printf(&b, "%s%d", i ? "," : "", c->fallback[i]);
		note(r, "when the placement nodes are full: fall back to %s, nearest first", b.s ? b.s : "");
		mp_sb_free(&b);
	} else {
		mask_str(&c->nodes, a, sizeof(a));
		note(r, "no fallback node: nodes %s are the only allowed ones", a);
	}
}

static void resolve_flags(struct rctx *r, const struct mp_policy *p)
{
	struct mp_compiled *c = r->out;
	const struct mp_features *f = NULL;

	c->order = p->order;
	c->automigrate = p->automigrate == MP_AM_UNSET ? MP_AM_OFF : p->automigrate;
	c->replicate = p->replicate == MP_YES;
	c->migrate = p->migrate == MP_YES;
	c->home = -1;
	if (p->nodeflags == MP_NF_STATIC)
		c->kflags |= MP_MPOL_F_STATIC_NODES;
	else if (p->nodeflags == MP_NF_RELATIVE)
		c->kflags |= MP_MPOL_F_RELATIVE_NODES;
	if (c->automigrate == MP_AM_BALANCING || c->automigrate == MP_AM_AUTO) {
		bool ok = c->kmode == MP_MPOL_BIND || c->kmode == MP_MPOL_PREFERRED_MANY;

		f = r->ctx->features;
		if (!f && r->ctx->get_features)
			f = r->ctx->get_features(r->ctx->features_arg);

		if (f && c->mode < MP_ARRAY_SIZE(f->numa_balancing_mode) &&
		    f->numa_balancing_mode[c->mode] != MP_FEAT_UNKNOWN)
			ok = f->numa_balancing_mode[c->mode] == MP_FEAT_YES;
		if (ok) {
			c->kflags |= MP_MPOL_F_NUMA_BALANCING;
			note(r, "automigrate: kernel NUMA balancing (MPOL_F_NUMA_BALANCING) with %s",
			     mp_mode_name(c->mode));
		} else if (c->automigrate == MP_AM_BALANCING) {
			warn(r,
			     "automigrate=balancing: the kernel takes MPOL_F_NUMA_BALANCING only with bind%s; not set",
			     c->kmode == MP_MPOL_PREFERRED_MANY ? "" : " and prefer-many");
		} else {
			note(r, "automigrate: no kernel NUMA balancing for %s; the mover is chosen when applied",
			     mp_mode_name(c->mode));
		}
	}
	if (p->home >= 0) {
		if (!mp_mask_test(&c->nodes, (unsigned)p->home))
			warn(r, "home=%d is not a placement node; ignored", p->home);
		else if (c->kmode != MP_MPOL_BIND && c->kmode != MP_MPOL_PREFERRED_MANY)
			warn(r, "home=%d: the kernel has a home node only for bind and prefer-many; ignored", p->home);
		else if (c->mode == MP_MODE_SPLIT || c->has_weights)
			warn(r, "home=%d: %s is placed as one-node chunks, where a home node has no meaning; ignored",
			     p->home, mp_mode_name(c->mode));
		else
			c->home = p->home;
	}
	if (c->order > MP_ORDER_THP) {
		/* hugetlb pages come from per-node pools: say when they are empty */
		mp_mask_foreach(x, &c->nodes) {
			int i = mp_topo_index(r->topo, x);
			bool found = false;

			for (unsigned k = 0; i >= 0 && k < r->topo->nodes[i].n_huge; k++)
				if (r->topo->nodes[i].huge[k].page_size == c->order) {
					found = true;
					if (!r->topo->nodes[i].huge[k].free)
						warn(r,
						     "node %d has no free huge pages of that size; hugetlb memory "
						     "there fails until the pool grows",
						     x);
				}
			if (!found && r->topo->nodes[i < 0 ? 0 : i].n_huge)
				warn(r, "node %d has no huge page pool of the requested size", x);
		}
	}
}

int mp_resolve(const struct mp_policy *p, const struct mp_trace *fold_trace, const struct mp_resolve_ctx *ctx,
	       struct mp_compiled *ret, struct mp_diag *diag)
{
	struct mp_compiled c;
	struct rctx r = {.ctx = ctx, .topo = ctx->topo, .fold = fold_trace, .out = &c, .diag = diag};
	int e;

	memset(&c, 0, sizeof(c));
	mp_trace_init(&c.trace);
	c.home = -1;
	c.phys_hi = UINT64_MAX;
	if (!ctx->topo || !ctx->topo->n_nodes)
		return fail(&r, -EINVAL, NULL, "no topology to resolve against");
	if (fold_trace && mp_trace_copy(&c.trace, fold_trace) < 0)
		return -ENOMEM;

	mp_mask_andnot(&r.general, &ctx->topo->memory, &ctx->topo->gpu_memory);
	r.cpuset_all = ctx->topo->memory;
	if (ctx->cgroup && ctx->cgroup->has_mems)
		mp_mask_and(&r.cpuset_all, &r.cpuset_all, &ctx->cgroup->mems);
	mp_mask_andnot(&r.cpuset, &r.cpuset_all, &ctx->topo->gpu_memory);
	/* GPU memory enters 'allowed' only where a choice names it: the node
	 * set of a mode that takes one, and fallback= */
	mp_mask_zero(&r.gpu_named);
	if (p->nodes_set && p->mode != MP_MODE_UNSET && p->mode != MP_MODE_DEFAULT && p->mode != MP_MODE_LOCAL)
		gpu_named(ctx->topo, &p->nodes, &r.gpu_named);
	if (p->fallback == MP_FB_NODES)
		gpu_named(ctx->topo, &p->fallback_nodes, &r.gpu_named);
	mp_mask_and(&r.base, &r.cpuset_all, &r.gpu_named);
	mp_mask_or(&r.base, &r.base, &r.cpuset);
	r.local = ctx->local_node;
	if (r.local < 0 || mp_topo_index(ctx->topo, r.local) < 0) {
		struct mp_nodemask cand;

		/* the first CPU node inside the cpuset, else the first CPU node */
		mp_mask_and(&cand, &ctx->topo->cpu_nodes, &r.cpuset);
		r.local = mp_mask_next(&cand, 0);
		if (r.local < 0)
			r.local = mp_mask_next(&ctx->topo->cpu_nodes, 0);
		if (r.local < 0)
			r.local = ctx->topo->nodes[0].id;
	}

	e = resolve_allowed(&r, p);
	if (e >= 0)
		e = resolve_placement(&r, p);
	if (e < 0) {
		mp_compiled_free(&c);
		return e;
	}
	resolve_fallback(&r, p);
	resolve_flags(&r, p);
	if (c.allow_narrows && !c.strict && c.kmode != MP_MPOL_BIND && c.kmode != MP_MPOL_DEFAULT &&
	    c.kmode != MP_MPOL_LOCAL)
		note(&r,
		     "allow= is narrower than the cgroup's nodes: memory placed now falls back only inside it, "
		     "but the kernel's %s may later fall back outside it when the nodes are full (only bind, or "
		     "the cgroup's cpuset.mems, is hard)",
		     mp_mode_name(c.mode));
	*ret = c;
	return 0;
}

int mp_compile(const char *text, const struct mp_resolve_ctx *ctx, struct mp_compiled *ret, struct mp_diag *diag)
{
	struct mp_diag local;
	struct mp_policy p;
	int r;

	if (!diag)
		diag = &local;
	r = mp_policy_parse(text, &p, diag);
	if (r < 0)
		return r;
	r = mp_resolve(&p, NULL, ctx, ret, diag);
	mp_policy_free(&p);
	return r;
}

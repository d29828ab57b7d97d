/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Applying a compiled policy to a range of memory, and checking where its
 * pages are.  This is the layer between resolution (which knows scopes, not
 * the kernel) and sys.c (which knows the kernel, not scopes).
 *
 * A placement is first turned into a plan: consecutive segments of the range,
 * each with the kernel mode and nodes it gets (one segment for the kernel's
 * own modes; one per chunk for split, per-policy weights and weighted
 * interleave emulated in user space).  The plan is then carried out with
 * mbind and, when asked, populated and checked page by page with move_pages.
 *
 * Invariants:
 *   - nothing here allocates from the heap: the allocator's extent hooks call
 *     in, and a malloc from inside them would re-enter it.  Plans and
 *     move_pages batches live on the stack, bounded (MAX_SEGS, BATCH);
 *   - strict never ends in the OOM killer or a SIGBUS: free memory (or free
 *     huge pages) per node is checked first, pages are populated under a mode
 *     that falls back (prefer-many over the segment's nodes) and with
 *     MADV_POPULATE_WRITE, which returns an error where a touch would SIGBUS;
 *     every page is then checked, and on any page elsewhere the pages are
 *     released and -ENOMEM returned.  Only then is the range bound for its
 *     future faults;
 *   - non-strict never binds where it could fall back: the plan gives the part
 *     a node cannot hold to the fallback nodes in the policy's order, and the
 *     kernel modes chosen (prefer-many, preferred) fall back rather than OOM;
 *     what went elsewhere is counted and said in the report;
 *   - the kernel's weighted interleave is used only when its global sysfs
 *     table holds exactly the policy's weights; otherwise it is emulated with
 *     chunks, exact at chunk granularity.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/util.h"
#include "place.h"
#include "machine/topo.h"
#include "sys.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

#define MAX_SEGS 256  /* VMAs a placement may create; far below vm.max_map_count */
#define BATCH	 1024 /* pages per move_pages call */
#define THP_SIZE (UINT64_C(2) << 20)

/* One piece of the plan: [off, off + len) gets 'kmode' over 'node' (one node)
 * or, when node < 0, over the policy's placement nodes. */
struct seg {
	uint64_t off, len;
	int kmode;
	int node;
	bool spill; /* a fallback node took this part (planned) */
};

struct plan {
	unsigned n;
	enum mp_backend backend;
	struct seg s[MAX_SEGS];
};

static void say(struct mp_place_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct mp_place_report *rep, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!rep)
		return;
	used = strnlen(rep->reason, sizeof(rep->reason));
	if (used + 3 >= sizeof(rep->reason))
		return;
	if (used) {
		memcpy(rep->reason + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(rep->reason + used, sizeof(rep->reason) - used, fmt, ap);
	va_end(ap);
}

static uint64_t page_size_of(const struct mp_compiled *c)
{
	long ps = sysconf(_SC_PAGESIZE);

	if (c->order > MP_ORDER_THP)
		return c->order;
	return ps > 0 ? (uint64_t)ps : 4096;
}

static bool is_hugetlb(const struct mp_compiled *c)
{
	return c->order > MP_ORDER_THP;
}

/* What the placement may still put on a node: free huge pages for hugetlb,
 * else MemFree less a margin for the kernel's watermarks (pages are not
 * handed out below the low watermark, a few percent of the node at most). */
static uint64_t node_avail(const struct mp_compiled *c, int node, bool margin)
{
	uint64_t v = 0;

	if (is_hugetlb(c)) {
		if (mp_probe_node_huge_free(NULL, node, c->order, &v) < 0)
			return 0;
		return v * c->order;
	}
	if (mp_probe_node_free(NULL, node, &v) < 0)
		return UINT64_MAX; /* unknown: let the kernel and the check decide */
	if (margin) {
		uint64_t m = v / 16 + (UINT64_C(8) << 20);

		v = v > m ? v - m : 0;
	}
	return v;
}

/* The kernel's weighted interleave table holds exactly c's weights. */
static bool sysfs_weights_match(const struct mp_compiled *c)
{
	for (unsigned i = 0; i < c->n_weights; i++) {
		unsigned v;

		if (mp_probe_wi_weight(NULL, c->weight_node[i], &v) < 0 || v != c->weight[i])
			return false;
	}
	return c->n_weights > 0;
}

/* ---- the plan ------------------------------------------------------------ */

static int push(struct plan *pl, uint64_t off, uint64_t len, int kmode, int node)
{
	if (!len)
		return 0;
	/* a chunk next to one for the same node is the same VMA policy */
	if (pl->n && pl->s[pl->n - 1].node == node && pl->s[pl->n - 1].kmode == kmode && node >= 0 &&
	    pl->s[pl->n - 1].off + pl->s[pl->n - 1].len == off) {
		pl->s[pl->n - 1].len += len;
		return 0;
	}
	if (pl->n == MAX_SEGS)
		return -E2BIG;
	pl->s[pl->n++] = (struct seg){.off = off, .len = len, .kmode = kmode, .node = node};
	return 0;
}

/* The kernel mode a one-node chunk gets: bind when it must stay (strict, or
 * nowhere to fall back to), else preferred, which falls back instead of OOM. */
static int chunk_kmode(const struct mp_compiled *c)
{
	/* preferred falls back anywhere in the cpuset: not when allow= narrows it */
	return c->strict || !c->n_fallback || c->allow_narrows ? MP_MPOL_BIND : MP_MPOL_PREFERRED;
}

/* Chunks in proportion to the weights over [off, off + len). */
static int plan_split(struct plan *pl, const struct mp_compiled *c, uint64_t off, uint64_t len, uint64_t unit)
{
	int node[MP_COMPILED_MAX];
	uint64_t clen[MP_COMPILED_MAX];
	unsigned n;
	int r;

	n = mp_compiled_split(c, len, unit, node, clen, MP_COMPILED_MAX);
	for (unsigned i = 0; i < n; i++) {
		r = push(pl, off, clen[i], chunk_kmode(c), node[i]);
		if (r < 0)
			return r;
		off += clen[i];
	}
	return 0;
}

/*
 * Weighted interleave in user space: rounds of weight[i] units on node i,
 * the unit being the page or, for ranges that would need more than MAX_SEGS
 * chunks, the smallest multiple of it that fits; the part of the range short
 * of a whole round is split in proportion.  Each node's share is then within
 * one unit of the exact ratio.
 */
static int plan_weighted(struct plan *pl, const struct mp_compiled *c, uint64_t len, uint64_t ps, uint64_t *ret_unit)
{
	uint64_t total = 0, pages = len / ps, k, rounds, off = 0;
	unsigned max_rounds;
	int r;

	for (unsigned i = 0; i < c->n_weights; i++)
		total += c->weight[i];
	if (!total)
		return -EINVAL;
	max_rounds = (MAX_SEGS - c->n_weights) / c->n_weights;
	if (!max_rounds)
		return -E2BIG;
	k = (pages + total * max_rounds - 1) / (total * max_rounds);
	if (!k)
		k = 1;
	rounds = pages / (total * k);
	for (uint64_t j = 0; j < rounds; j++)
		for (unsigned i = 0; i < c->n_weights; i++) {
			uint64_t l = c->weight[i] * k * ps;

			r = push(pl, off, l, chunk_kmode(c), c->weight_node[i]);
			if (r < 0)
				return r;
			off += l;
		}
	*ret_unit = k * ps;
	return plan_split(pl, c, off, len - off, ps);
}

/* The kernel mode for the policy's own nodes (one segment). */
static int whole_kmode(const struct mp_compiled *c)
{
	switch (c->kmode) {
	case MP_MPOL_BIND:
		/* non-strict bind with somewhere to fall back: prefer-many keeps
		 * the pages on the nodes while they have memory, then falls back
		 * instead of calling the OOM killer.  The kernel's fallback may go
		 * anywhere in the cpuset, so when allow= narrows it, bind: what is
		 * placed now still spills to the policy's fallback nodes (planned),
		 * and allow= is never left */
		return c->strict || !c->n_fallback || c->allow_narrows ? MP_MPOL_BIND : MP_MPOL_PREFERRED_MANY;
	case MP_MPOL_PREFERRED:
		return c->strict ? MP_MPOL_BIND : MP_MPOL_PREFERRED;
	case MP_MPOL_PREFERRED_MANY:
		return c->strict ? MP_MPOL_BIND : MP_MPOL_PREFERRED_MANY;
	default:
		return c->kmode;
	}
}

static int make_plan(struct plan *pl, const struct mp_compiled *c, uint64_t len, uint64_t ps, bool kernel_wi,
		     struct mp_place_report *rep)
{
	uint64_t unit = ps;
	int r;

	pl->n = 0;
	if (c->mode == MP_MODE_SPLIT ||
	    (c->has_weights && c->kmode != MP_MPOL_WEIGHTED_INTERLEAVE && c->kmode != MP_MPOL_INTERLEAVE)) {
		/* split, and bind / prefer-many with per-policy weights: one
		 * consecutive chunk per node in proportion */
		pl->backend = MP_BACKEND_CHUNKS;
		r = plan_split(pl, c, 0, len, ps);
		if (r >= 0 && rep)
			say(rep, "chunks: %u consecutive chunks in proportion to the weights", pl->n);
		return r;
	}
	if (c->kmode == MP_MPOL_WEIGHTED_INTERLEAVE && !c->n_weights) {
		/* no weights of its own: the kernel's table, or without one the
		 * equal weights that are plain interleave */
		pl->backend = kernel_wi ? MP_BACKEND_KERNEL_WEIGHTED : MP_BACKEND_KERNEL;
		return push(pl, 0, len, kernel_wi ? MP_MPOL_WEIGHTED_INTERLEAVE : MP_MPOL_INTERLEAVE, -1);
	}
	if (c->kmode == MP_MPOL_WEIGHTED_INTERLEAVE) {
		if (kernel_wi && sysfs_weights_match(c)) {
			pl->backend = MP_BACKEND_KERNEL_WEIGHTED;
			return push(pl, 0, len, MP_MPOL_WEIGHTED_INTERLEAVE, -1);
		}
		pl->backend = MP_BACKEND_CHUNKS;
		r = plan_weighted(pl, c, len, ps, &unit);
		if (r >= 0 && rep)
			say(rep, "weighted interleave emulated with chunks of %" PRIu64 " KiB per weight unit (%s)",
			    unit >> 10,
			    kernel_wi ? "the kernel's sysfs weight table differs from the policy's"
				      : "the kernel has no weighted interleave");
		return r;
	}
	pl->backend = MP_BACKEND_KERNEL;
	return push(pl, 0, len, whole_kmode(c), -1);
}

/*
 * Non-strict and populating: give the part of a one-node segment its node
 * cannot hold to the fallback nodes, nearest first.  Planned from free memory
 * so the fallback follows the policy's order rather than the kernel's
 * zonelist (which knows nothing of fallback= or allow=).
 */
static int plan_spill(struct plan *pl, const struct mp_compiled *c, uint64_t ps, struct mp_place_report *rep)
{
	uint64_t avail[MP_COMPILED_MAX + 1];
	int ids[MP_COMPILED_MAX + 1];
	unsigned n_ids = 0;
	struct plan out;
	bool any = false;

	/* free memory of every node the plan or the fallback names, read once */
	for (unsigned i = 0; i < pl->n + c->n_fallback; i++) {
		int node = i < pl->n ? pl->s[i].node : c->fallback[i - pl->n];
		unsigned k;

		if (node < 0)
			continue;
		for (k = 0; k < n_ids && ids[k] != node; k++)
			;
		if (k < n_ids || n_ids == MP_COMPILED_MAX + 1)
			continue;
		ids[n_ids] = node;
		avail[n_ids++] = node_avail(c, node, true);
	}
	out.n = 0;
	out.backend = pl->backend;
	for (unsigned i = 0; i < pl->n; i++) {
		struct seg s = pl->s[i];
		uint64_t left = s.len, off = s.off, a = UINT64_MAX;
		unsigned k;

		for (k = 0; s.node >= 0 && k < n_ids && ids[k] != s.node; k++)
			;
		if (s.node >= 0 && k < n_ids)
			a = avail[k] / ps * ps;
		if (s.node < 0 || a >= left) {
			if (s.node >= 0 && k < n_ids)
				avail[k] -= left;
			if (out.n == MAX_SEGS)
				return -E2BIG;
			out.s[out.n++] = s;
			continue;
		}
		if (a) {
			out.s[out.n++] = (struct seg){.off = off, .len = a, .kmode = s.kmode, .node = s.node};
			avail[k] = 0;
			off += a;
			left -= a;
		}
		for (unsigned f = 0; f < c->n_fallback && left; f++) {
			uint64_t fa, take;

			for (k = 0; k < n_ids && ids[k] != c->fallback[f]; k++)
				;
			if (k == n_ids)
				continue;
			fa = avail[k] / ps * ps;
			take = fa < left ? fa : left;
			if (!take)
				continue;
			if (out.n == MAX_SEGS)
				return -E2BIG;
			out.s[out.n++] = (struct seg){.off = off,
						      .len = take,
						      .kmode = MP_MPOL_PREFERRED,
						      .node = c->fallback[f],
						      .spill = true};
			avail[k] -= take;
			off += take;
			left -= take;
			say(rep,
			    "node %d has room for %" PRIu64 " of its %" PRIu64 " KiB: %" PRIu64
			    " KiB fall back to node %d",
			    s.node, (s.len - left - take) >> 10, s.len >> 10, take >> 10, c->fallback[f]);
			any = true;
		}
		if (left) {
			/* nowhere planned has room: leave it to the kernel's fallback */
			if (out.n == MAX_SEGS)
				return -E2BIG;
			out.s[out.n++] = (struct seg){.off = off, .len = left, .kmode = s.kmode, .node = s.node};
		}
	}
	if (any)
		*pl = out;
	return 0;
}

int mp_place_plan(const struct mp_compiled *c, size_t len, size_t page_size, bool kernel_wi, struct mp_place_chunk *ret,
		  unsigned max, enum mp_backend *ret_backend)
{
	struct plan pl;
	int r;

	if (!c || !len || !page_size || len % page_size || !ret)
		return -EINVAL;
	r = make_plan(&pl, c, len, page_size, kernel_wi, NULL);
	if (r < 0)
		return r;
	if (pl.n > max)
		return -E2BIG;
	for (unsigned i = 0; i < pl.n; i++)
		ret[i] = (struct mp_place_chunk){
			.off = pl.s[i].off, .len = pl.s[i].len, .node = pl.s[i].node, .kmode = pl.s[i].kmode};
	if (ret_backend)
		*ret_backend = pl.backend;
	return (int)pl.n;
}

/* ---- carrying it out ----------------------------------------------------- */

static int seg_mbind(char *base, const struct seg *s, const struct mp_compiled *c, int kmode, unsigned mflags)
{
	struct mp_nodemask one;
	const struct mp_nodemask *m = &c->nodes;
	unsigned kflags = c->kflags;

	if (kmode == MP_MPOL_DEFAULT || kmode == MP_MPOL_LOCAL)
		return mp_sys_mbind_mask(base + s->off, s->len, kmode, NULL, mflags);
	if (s->node >= 0) {
		mp_mask_zero(&one);
		mp_mask_set(&one, (unsigned)s->node);
		m = &one;
	}
	/* NUMA balancing is accepted with the policy's own kernel mode only (the
	 * resolver checked that one); the others get the node flags alone */
	if (kmode != c->kmode || s->spill)
		kflags &= MP_MPOL_F_STATIC_NODES | MP_MPOL_F_RELATIVE_NODES;
	return mp_sys_mbind_mask(base + s->off, s->len, kmode | (int)kflags, m, mflags);
}

/* Fault every page in for writing.  MADV_POPULATE_WRITE returns an error where
 * a touch would SIGBUS (hugetlb with an empty pool); without it (before 5.14)
 * base pages are touched, hugetlb pages refused. */
static int populate(void *addr, size_t len, bool hugetlb, uint64_t ps)
{
	if (madvise(addr, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (hugetlb)
		return -EOPNOTSUPP;
	for (size_t off = 0; off < len; off += ps) {
		volatile char *p = (volatile char *)addr + off;

		*p = *p;
	}
	return 0;
}

/* Node of each page in [addr, addr + len), ps apart, by move_pages with no
 * target: status is the node, or -errno (-ENOENT: not present).  Calls fn for
 * each batch. */
typedef void (*batch_fn)(void *ctx, uint64_t first, const int *status, unsigned n);

/*
 * After populating, every page should be present.  A page that compaction or
 * khugepaged is migrating at that moment has a migration entry, which
 * move_pages reports as not present (seen on a nearly full node of the VM):
 * with 'settle', pages reported absent are asked once more after a moment,
 * so that a page in flight is not counted as missing.
 */
static int ask_again(void **pages, int *status, unsigned b)
{
	void *again[BATCH];
	int st[BATCH], idx[BATCH];
	unsigned m = 0;
	int r;

	for (unsigned k = 0; k < b; k++)
		if (status[k] < 0) {
			idx[m] = (int)k;
			again[m++] = pages[k];
		}
	if (!m)
		return 0;
	usleep(2000);
	r = mp_sys_move_pages(0, m, again, NULL, st, 0);
	if (r < 0)
		return r;
	for (unsigned j = 0; j < m; j++)
		status[idx[j]] = st[j];
	return 0;
}

static int walk_nodes(const void *addr, size_t len, uint64_t ps, bool settle, batch_fn fn, void *ctx)
{
	void *pages[BATCH];
	int status[BATCH];
	uint64_t n = len / ps;

	for (uint64_t i = 0; i < n; i += BATCH) {
		unsigned b = n - i < BATCH ? (unsigned)(n - i) : BATCH;
		int r;

		for (unsigned k = 0; k < b; k++)
			pages[k] = (char *)addr + (i + k) * ps;
		r = mp_sys_move_pages(0, b, pages, NULL, status, 0);
		if (r >= 0 && settle)
			r = ask_again(pages, status, b);
		if (r < 0)
			return r;
		fn(ctx, i, status, b);
	}
	return 0;
}

struct verify_ctx {
	const struct plan *pl;
	const struct mp_compiled *c;
	uint64_t ps;
	unsigned seg;
	struct mp_place_report *rep;
	uint64_t present, misplaced, fell_back, outside;
	uint64_t per_node[MP_COMPILED_MAX], elsewhere;
	int first_bad_node;
	uint64_t first_bad_page;
};

static bool in_fallback(const struct mp_compiled *c, int node)
{
	for (unsigned i = 0; i < c->n_fallback; i++)
		if (c->fallback[i] == node)
			return true;
	return false;
}

static void verify_batch(void *ctx, uint64_t first, const int *status, unsigned n)
{
	struct verify_ctx *v = ctx;

	for (unsigned k = 0; k < n; k++) {
		uint64_t off = (first + k) * v->ps;
		const struct seg *s;
		int node = status[k];
		bool ok;

		if (node < 0)
			continue;
		v->present++;
		if (node < MP_COMPILED_MAX)
			v->per_node[node]++;
		else
			v->elsewhere++;
		while (v->seg + 1 < v->pl->n && off >= v->pl->s[v->seg].off + v->pl->s[v->seg].len)
			v->seg++;
		s = &v->pl->s[v->seg];
		if (s->kmode == MP_MPOL_DEFAULT || s->kmode == MP_MPOL_LOCAL)
			ok = true;
		else if (s->node >= 0)
			ok = node == s->node;
		else
			ok = mp_mask_test(&v->c->nodes, (unsigned)node);
		if (ok && !s->spill)
			continue;
		v->misplaced++;
		if (in_fallback(v->c, node))
			v->fell_back++;
		else if (!s->spill || node != s->node)
			v->outside++;
		if (v->first_bad_node < 0 && !(s->spill && node == s->node)) {
			v->first_bad_node = node;
			v->first_bad_page = first + k;
		}
	}
}

static int verify(void *addr, size_t len, const struct plan *pl, const struct mp_compiled *c, uint64_t ps,
		  bool populated, struct verify_ctx *v)
{
	memset(v, 0, sizeof(*v));
	v->pl = pl;
	v->c = c;
	v->ps = ps;
	v->first_bad_node = -1;
	return walk_nodes(addr, len, ps, populated, verify_batch, v);
}

static void fill_report(struct mp_place_report *rep, const struct verify_ctx *v)
{
	if (!rep)
		return;
	rep->present = v->present;
	memcpy(rep->per_node, v->per_node, sizeof(rep->per_node));
	rep->elsewhere = v->elsewhere;
	rep->misplaced = v->misplaced;
	rep->fell_back = v->fell_back > 0;
}

/* Free memory is checked before anything is faulted, so the common failure
 * costs nothing: per one-node segment against its node, and for the others
 * against the sum over the placement nodes. */
static int check_capacity(const struct plan *pl, const struct mp_compiled *c, uint64_t ps, struct mp_place_report *rep)
{
	uint64_t need[MP_COMPILED_MAX] = {0}, need_all = 0;

	for (unsigned i = 0; i < pl->n; i++) {
		const struct seg *s = &pl->s[i];

		if (s->kmode == MP_MPOL_DEFAULT || s->kmode == MP_MPOL_LOCAL)
			continue; /* any node will do */
		if (s->node >= 0 && s->node < MP_COMPILED_MAX)
			need[s->node] += s->len;
		else if (s->node < 0)
			need_all += s->len;
	}
	for (int n = 0; n < MP_COMPILED_MAX; n++) {
		uint64_t a;

		if (!need[n])
			continue;
		a = node_avail(c, n, false);
		if (a < need[n]) {
			if (is_hugetlb(c))
				say(rep,
				    "node %d has %" PRIu64 " free %" PRIu64 " KiB huge pages in its pool "
				    "(hugepages-%" PRIu64 "kB), %" PRIu64 " needed",
				    n, a / ps, ps >> 10, ps >> 10, need[n] / ps);
			else
				say(rep, "node %d has %" PRIu64 " KiB free, %" PRIu64 " KiB needed", n, a >> 10,
				    need[n] >> 10);
			return -ENOMEM;
		}
	}
	if (need_all) {
		uint64_t sum = 0;
		char nodes[128];

		mp_mask_foreach(n, &c->nodes) {
			uint64_t a = node_avail(c, n, false);

			sum = a == UINT64_MAX || sum + a < sum ? UINT64_MAX : sum + a;
			if (is_hugetlb(c) && !a && c->strict) {
				say(rep,
				    "node %d has no free %" PRIu64 " KiB huge pages in its pool (hugepages-%" PRIu64
				    "kB)",
				    n, ps >> 10, ps >> 10);
				return -ENOMEM;
			}
		}
		if (sum < need_all) {
			bool many = mp_mask_weight(&c->nodes) > 1;

			mp_mask_format(&c->nodes, nodes, sizeof(nodes));
			if (is_hugetlb(c))
				say(rep,
				    "%s %s: %s (hugepages-%" PRIu64 "kB) %s %" PRIu64 " free pages, %" PRIu64 " needed",
				    many ? "nodes" : "node", nodes, many ? "their pools" : "its pool", ps >> 10,
				    many ? "have" : "has", sum / ps, need_all / ps);
			else
				say(rep, "%s %s %s %" PRIu64 " KiB free, %" PRIu64 " KiB needed",
				    many ? "nodes" : "node", nodes, many ? "have" : "has", sum >> 10, need_all >> 10);
			return -ENOMEM;
		}
	}
	return 0;
}

static const char *kmode_name(int kmode)
{
	static const char *const names[] = {"default",	      "preferred",	    "bind", "interleave", "local",
					    "preferred-many", "weighted-interleave"};

	return kmode >= 0 && (unsigned)kmode < MP_ARRAY_SIZE(names) ? names[kmode] : "?";
}

static int apply_plan(char *base, const struct plan *pl, const struct mp_compiled *c, unsigned mflags,
		      bool populate_stage, struct mp_place_report *rep)
{
	for (unsigned i = 0; i < pl->n; i++) {
		const struct seg *s = &pl->s[i];
		int kmode = s->kmode, r;

		/* strict: fault in under a mode that falls back, so a full node
		 * means pages elsewhere (checked next), never the OOM killer */
		if (populate_stage && kmode == MP_MPOL_BIND)
			kmode = MP_MPOL_PREFERRED_MANY;
		r = seg_mbind(base, s, c, kmode, mflags);
		if (r == -EINVAL && kmode == MP_MPOL_PREFERRED_MANY) {
			/* before 5.15: preferred takes one node; the check after
			 * populating catches what it cannot express */
			struct seg one = *s;

			if (one.node < 0)
				one.node = mp_mask_next(&c->nodes, 0);
			kmode = MP_MPOL_PREFERRED;
			r = seg_mbind(base, &one, c, kmode, mflags);
		}
		if (r < 0) {
			say(rep, "mbind(%s) of %" PRIu64 " KiB at offset %" PRIu64 " KiB: %s", kmode_name(kmode),
			    s->len >> 10, s->off >> 10, strerror(-r));
			return r == -EINVAL && kmode == MP_MPOL_WEIGHTED_INTERLEAVE ? -EOPNOTSUPP : r;
		}
	}
	return 0;
}

static void release(void *addr, size_t len)
{
	/* the range stays mapped for the caller; its pages go back */
	madvise(addr, len, MADV_DONTNEED);
}

static bool plan_binds(const struct plan *pl)
{
	for (unsigned i = 0; i < pl->n; i++)
		if (pl->s[i].kmode == MP_MPOL_BIND)
			return true;
	return false;
}

/* The home node lives in the VMA's policy, which every mbind replaces: set it
 * after each one, and before anything is faulted under it. */
static int set_home(void *addr, size_t len, const struct mp_compiled *c, struct mp_place_report *rep)
{
	int r;

	if (c->home < 0)
		return 0;
	r = mp_sys_set_mempolicy_home_node((uintptr_t)addr, len, (unsigned long)c->home, 0);
	if (r == -ENOSYS || r == -EOPNOTSUPP) {
		say(rep, "home=%d: the kernel has no set_mempolicy_home_node for this range", c->home);
		return -EOPNOTSUPP;
	}
	if (r < 0)
		say(rep, "set_mempolicy_home_node(%d): %s", c->home, strerror(-r));
	return r;
}

int mp_place_range(void *addr, size_t len, const struct mp_compiled *c, unsigned flags, struct mp_place_report *ret)
{
	struct plan pl;
	struct verify_ctx v;
	uint64_t ps;
	unsigned mflags;
	bool pop, kwi, strict;
	int r;

	if (!addr || !len || !c)
		return -EINVAL;
	ps = page_size_of(c);
	if ((uintptr_t)addr % ps || len % ps)
		return -EINVAL;
	if (ret) {
		memset(ret, 0, sizeof(*ret));
		ret->pages = len / ps;
	}
	if (c->phys_lo != 0 || c->phys_hi != UINT64_MAX) {
		if (c->strict) {
			say(ret, "physical address ranges are enforced only by the hugetlb pool, not on a range");
			return -EXDEV;
		}
		say(ret, "the physical address range is not enforced on a range");
	}
	kwi = c->kmode == MP_MPOL_WEIGHTED_INTERLEAVE && mp_probe_weighted_interleave(NULL);
	r = make_plan(&pl, c, len, ps, kwi, ret);
	if (r < 0)
		return r;
	if (ret)
		ret->backend = pl.backend;
	mflags = (flags & MP_PLACE_MIGRATE) || c->migrate ? MP_MPOL_MF_MOVE : 0;
	pop = (flags & MP_PLACE_POPULATE) || c->strict;
	/* populating a bind that has nowhere to fall back to is strict in all
	 * but name: done the strict way, it cannot end in the OOM killer */
	strict = c->strict || (pop && plan_binds(&pl));

	if (c->order == MP_ORDER_THP && madvise(addr, len, MADV_HUGEPAGE) < 0)
		say(ret, "madvise(MADV_HUGEPAGE): %s; base pages", strerror(errno));

	if (strict) {
		if (!(flags & MP_PLACE_NO_CHECK_FREE)) {
			r = check_capacity(&pl, c, ps, ret);
			if (r < 0)
				return r;
		}
		if (ret)
			ret->backend = pl.backend == MP_BACKEND_KERNEL ? MP_BACKEND_STRICT_POPULATE : pl.backend;
		r = apply_plan(addr, &pl, c, mflags, true, ret);
		if (r >= 0)
			r = set_home(addr, len, c, ret);
		if (r < 0)
			goto fail_release;
		r = populate(addr, len, is_hugetlb(c), ps);
		if (r < 0) {
			if (r == -EFAULT && is_hugetlb(c))
				say(ret, "a %" PRIu64 " KiB huge page could not be had on the placement nodes' pools",
				    ps >> 10);
			else
				say(ret, "populating: %s", strerror(-r));
			r = r == -EOPNOTSUPP ? r : -ENOMEM;
			goto fail_release;
		}
		r = verify(addr, len, &pl, c, ps, true, &v);
		if (r < 0)
			goto fail_release;
		fill_report(ret, &v);
		if (v.misplaced || v.present < len / ps) {
			say(ret,
			    "%s: %" PRIu64 " of %" PRIu64 " pages were not on their placement node%s "
			    "(first at page %" PRIu64 ", on node %d); released",
			    c->strict ? "strict" : "no fallback node", v.misplaced + (len / ps - v.present), len / ps,
			    pl.n > 1 ? "s" : "", v.first_bad_page, v.first_bad_node);
			r = -ENOMEM;
			goto fail_release;
		}
		/* every page is home: now the binding for future faults */
		r = apply_plan(addr, &pl, c, 0, false, ret);
		if (r >= 0)
			r = set_home(addr, len, c, ret);
		if (r < 0)
			goto fail_release;
	} else {
		if (pop && !(flags & MP_PLACE_NO_CHECK_FREE)) {
			if (is_hugetlb(c) && !c->n_fallback) {
				r = check_capacity(&pl, c, ps, ret);
				if (r < 0)
					return r;
			}
			r = plan_spill(&pl, c, ps, ret);
			if (r < 0)
				return r;
		}
		r = apply_plan(addr, &pl, c, mflags, false, ret);
		if (r >= 0)
			r = set_home(addr, len, c, ret);
		if (r < 0)
			return r;
		if (pop) {
			r = populate(addr, len, is_hugetlb(c), ps);
			if (r < 0) {
				if (r == -EFAULT && is_hugetlb(c))
					say(ret,
					    "a %" PRIu64 " KiB huge page could not be had from any pool the policy "
					    "allows",
					    ps >> 10);
				else
					say(ret, "populating: %s", strerror(-r));
				release(addr, len);
				return r == -EOPNOTSUPP ? r : -ENOMEM;
			}
		}
		if (pop || (flags & MP_PLACE_VERIFY) || mflags) {
			r = verify(addr, len, &pl, c, ps, pop, &v);
			if (r < 0)
				return r;
			fill_report(ret, &v);
			if (v.fell_back) {
				char where[128] = "";
				size_t o = 0;

				/* name the fallback nodes that took pages, in the policy's order */
				for (unsigned f = 0; f < c->n_fallback && o + 24 < sizeof(where); f++)
					if (c->fallback[f] < MP_COMPILED_MAX && v.per_node[c->fallback[f]])
						o += (size_t)snprintf(where + o, sizeof(where) - o,
								      "%s%d (%" PRIu64 ")", o ? ", " : "",
								      c->fallback[f], v.per_node[c->fallback[f]]);
				say(ret, "%" PRIu64 " pages fell back (the placement nodes were full): to node %s",
				    v.fell_back, where);
			}
			if (v.outside)
				say(ret,
				    "%" PRIu64 " pages are not on the nodes the plan gave them (first at page %" PRIu64
				    ", on node %d)",
				    v.outside, v.first_bad_page, v.first_bad_node);
		}
	}
	return 0;

fail_release:
	release(addr, len);
	return r;
}

/* ---- where pages are ----------------------------------------------------- */

struct where_ctx {
	uint64_t present;
	uint64_t *per_node;
	size_t n_nodes;
	int *node_of;
};

static void where_batch(void *ctx, uint64_t first, const int *status, unsigned n)
{
	struct where_ctx *w = ctx;

	for (unsigned k = 0; k < n; k++) {
		if (w->node_of)
			w->node_of[first + k] = status[k];
		if (status[k] >= 0)
			w->present++;
		if (w->per_node && status[k] >= 0 && (size_t)status[k] < w->n_nodes)
			w->per_node[status[k]]++;
	}
}

int mp_place_where(const void *addr, size_t len, size_t page_size, uint64_t *ret_per_node, size_t n_nodes,
		   int *ret_node_of)
{
	struct where_ctx w = {.n_nodes = n_nodes};
	uint64_t counts[MP_COMPILED_MAX];
	int r;

	if (!addr || !page_size || (uintptr_t)addr % page_size || len % page_size)
		return -EINVAL;
	/* count into a private array so *ret_per_node is untouched on failure;
	 * beyond MP_COMPILED_MAX nodes the caller's array is used directly */
	if (ret_per_node && n_nodes <= MP_COMPILED_MAX) {
		memset(counts, 0, sizeof(counts));
		w.per_node = counts;
	} else if (ret_per_node) {
		memset(ret_per_node, 0, n_nodes * sizeof(*ret_per_node));
		w.per_node = ret_per_node;
	}
	w.node_of = ret_node_of;
	r = walk_nodes(addr, len, page_size, false, where_batch, &w);
	if (r < 0)
		return r;
	if (ret_per_node && n_nodes <= MP_COMPILED_MAX)
		memcpy(ret_per_node, counts, n_nodes * sizeof(*ret_per_node));
	/* the count of present pages: callers of the "0 or -errno" contract
	 * test for < 0, and mplace_where hands the count on */
	return w.present > INT32_MAX ? INT32_MAX : (int)w.present;
}

/* ---- mappings ------------------------------------------------------------ */

static uint64_t map_len(const struct mp_compiled *c, size_t len)
{
	uint64_t ps = page_size_of(c);

	return (len + ps - 1) / ps * ps;
}

static int log2u(uint64_t v)
{
	int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

int mp_place_map(const struct mp_compiled *c, size_t len, unsigned flags, void **ret_addr, struct mp_place_report *ret)
{
	uint64_t l, ps;
	char *p;
	int r;

	if (!c || !len || !ret_addr)
		return -EINVAL;
	ps = page_size_of(c);
	l = map_len(c, len);
	if (l < len)
		return -EINVAL;
	if (is_hugetlb(c)) {
		/* the pool is checked before mapping, as the kernel would only
		 * refuse the mapping for a global shortage, not a per-node one */
		int mf = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (log2u(ps) << MAP_HUGE_SHIFT);

		p = mmap(NULL, l, PROT_READ | PROT_WRITE, mf, -1, 0);
		if (p == MAP_FAILED) {
			r = -errno;
			if (ret) {
				memset(ret, 0, sizeof(*ret));
				say(ret,
				    "mmap of %" PRIu64 " KiB of %" PRIu64 " KiB huge pages: %s (the pools hold too few "
				    "free pages)",
				    l >> 10, ps >> 10, strerror(-r));
			}
			return r == -EINVAL ? -EOPNOTSUPP : -ENOMEM;
		}
	} else if (l >= THP_SIZE) {
		/* map a little more and trim, so the range starts on a huge
		 * page boundary and every whole 2 MiB of it can be one THP.
		 * Kernels from 6.7 align big anonymous mappings so themselves;
		 * doing it here makes older ones behave the same, and keeps
		 * transparent huge pages from straddling a placement's chunk
		 * boundaries (on 6.1 mbind moves a straddling THP whole, to the
		 * node of whichever chunk it is asked for last) */
		char *raw = mmap(NULL, l + THP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uintptr_t a;

		if (raw == MAP_FAILED)
			return -errno;
		a = ((uintptr_t)raw + THP_SIZE - 1) & ~(uintptr_t)(THP_SIZE - 1);
		p = (char *)a;
		if (p > raw)
			munmap(raw, (size_t)(p - raw));
		if (raw + l + THP_SIZE > p + l)
			munmap(p + l, (size_t)(raw + l + THP_SIZE - (p + l)));
	} else {
		p = mmap(NULL, l, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			r = -errno;
			if (ret) {
				memset(ret, 0, sizeof(*ret));
				say(ret, "the kernel refused to map %" PRIu64 " KiB: %s (more than it will overcommit)",
				    l >> 10, strerror(-r));
			}
			return r;
		}
	}
	/* hugetlb pages come from whichever pool the policy at fault time
	 * names, so the placement is applied before anything is faulted */
	r = mp_place_range(p, l, c, flags | (is_hugetlb(c) ? MP_PLACE_POPULATE : 0), ret);
	if (r < 0) {
		munmap(p, l);
		return r;
	}
	*ret_addr = p;
	return 0;
}

int mp_place_unmap(void *addr, size_t len, const struct mp_compiled *c)
{
	if (!addr || !len || !c)
		return -EINVAL;
	if (munmap(addr, map_len(c, len)) < 0)
		return -errno;
	return 0;
}

/* ---- the task policy ---------------------------------------------------- */

static bool takes_no_mask(int mode)
{
	mode &= ~MP_MPOL_MODE_FLAGS;
	return mode == MP_MPOL_DEFAULT || mode == MP_MPOL_LOCAL;
}

void mp_task_policy_of(const struct mp_compiled *c, struct mp_task_policy *ret)
{
	ret->mode = c->kmode | (int)c->kflags;
	if (takes_no_mask(c->kmode))
		mp_mask_zero(&ret->nodes);
	else
		ret->nodes = c->nodes;
}

int mp_place_task(const struct mp_task_policy *t)
{
	return mp_sys_set_policy(t->mode, takes_no_mask(t->mode) ? NULL : &t->nodes);
}

int mp_place_task_compiled(const struct mp_compiled *c)
{
	struct mp_task_policy t;

	mp_task_policy_of(c, &t);
	return mp_place_task(&t);
}

int mp_place_task_get(struct mp_task_policy *ret)
{
	struct mp_task_policy t;
	int r = mp_sys_get_policy(&t.mode, &t.nodes, NULL, 0);

	if (r < 0)
		return r;
	if (takes_no_mask(t.mode))
		mp_mask_zero(&t.nodes);
	*ret = t;
	return 0;
}

int mp_place_mems_allowed(struct mp_nodemask *ret)
{
	return mp_sys_get_policy(NULL, ret, NULL, MP_MPOL_F_MEMS_ALLOWED);
}

int mp_place_task_next_node(int *ret)
{
	return mp_sys_get_policy(ret, NULL, NULL, MP_MPOL_F_NODE);
}

int mp_place_under(const struct mp_compiled *c, int (*fn)(void *arg), void *arg)
{
	struct mp_task_policy old;
	sigset_t all, mask;
	int r, r2;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &mask);
	r = mp_place_task_get(&old);
	if (r < 0)
		goto out;
	r = mp_place_task_compiled(c);
	if (r < 0)
		goto out;
	r = fn(arg);
	/* exactly what was there: mode, flags and nodes */
	r2 = mp_place_task(&old);
	if (r2 < 0 && r >= 0)
		r = r2;
out:
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	return r;
}

/* ---- ranges, pages and processes ------------------------------------------ */

int mp_place_range_kernel(void *addr, size_t len, const struct mp_compiled *c, bool strict)
{
	int mode = c->kmode | (int)(c->kflags & ~MP_MPOL_F_NUMA_BALANCING);

	return mp_sys_mbind_mask(addr, len, mode, takes_no_mask(c->kmode) ? NULL : &c->nodes,
				 strict ? MP_MPOL_MF_STRICT : 0);
}

int mp_place_policy_at(const void *addr, int *ret_mode, struct mp_nodemask *ret_nodes)
{
	return mp_sys_get_policy(ret_mode, ret_nodes, (void *)addr, MP_MPOL_F_ADDR);
}

int mp_place_node_at(const void *addr, int *ret_node)
{
	return mp_sys_get_policy(ret_node, NULL, (void *)addr, MP_MPOL_F_ADDR | MP_MPOL_F_NODE);
}

long mp_place_misplaced(const void *addr, size_t len, const struct mp_compiled *c, uint64_t *ret_present)
{
	uint64_t per[MP_COMPILED_MAX];
	int present;
	long mis;

	present = mp_place_where(addr, len, (size_t)getpagesize(), per, MP_COMPILED_MAX, NULL);
	if (ret_present)
		*ret_present = present > 0 ? (uint64_t)present : 0;
	if (present <= 0 || mp_mask_empty(&c->nodes))
		return 0;
	mis = present;
	for (unsigned n = 0; n < MP_COMPILED_MAX; n++)
		if (mp_mask_test(&c->nodes, n))
			mis -= (long)per[n];
	return mis < 0 ? 0 : mis;
}

long mp_place_migrate_process(int pid, const struct mp_nodemask *from, const struct mp_nodemask *to)
{
	return mp_sys_migrate_pages_mask(pid, from, to);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mp_place_range / mp_place_map on a kernel with several NUMA nodes: every
 * mode over a spread of sizes lands every page where the compiled policy
 * says (checked page by page with move_pages, independently of the report),
 * chunked placements match their plan page for page and the weights within
 * one chunk, strict requests larger than a node's free memory or huge page
 * pool fail with -ENOMEM leaving nothing resident or mapped, the same
 * non-strict requests succeed and report the fallback, pages already present
 * migrate, and home= steers allocations.  Runs as root inside tests/vm/run.
 *
 * Invariants: the policies are written against the topology (first, second,
 * last memory node; every memory node) so one table serves every topology;
 * a case the guest cannot run is a SKIP line with the reason, never a pass;
 * exit 77 only when the guest has a single memory node.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/combine.h"
#include "kernel/place.h"
#include "placement.h"
#include "kernel/sys.h"

#define PAGE 4096UL
#define MiB  (1UL << 20)

static struct mp_topo *topo;
static int first, second, last, first_cpu_of_first = -1;
static char all[256];
static unsigned n_pass, n_fail, n_skip;

static void line(const char *verdict, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(const char *verdict, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s", verdict, name);
	if (fmt && *fmt) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
	if (!strcmp(verdict, "PASS"))
		n_pass++;
	else if (!strcmp(verdict, "SKIP"))
		n_skip++;
	else
		n_fail++;
}

/* "%F" first memory node, "%S" second, "%L" last, "%A" every memory node. */
static void expand(const char *tmpl, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = tmpl; *p && o + 16 < size; p++) {
		if (*p != '%' || !p[1]) {
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == 'F')
			o += (size_t)snprintf(out + o, size - o, "%d", first);
		else if (*p == 'S')
			o += (size_t)snprintf(out + o, size - o, "%d", second);
		else if (*p == 'L')
			o += (size_t)snprintf(out + o, size - o, "%d", last);
		else if (*p == 'A')
			o += (size_t)snprintf(out + o, size - o, "%s", all);
	}
	out[o] = '\0';
}

static int compile(const char *text, struct mp_compiled *ret, char *why, size_t size)
{
	struct mp_resolve_ctx ctx = {.topo = topo, .local_node = first};
	struct mp_diag d = {0};
	int r;

	r = mp_compile(text, &ctx, ret, &d);
	if (r < 0)
		snprintf(why, size, "compile: %s", d.msg);
	return r;
}

static uint64_t rss_kb(void)
{
	unsigned long long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f && fscanf(f, "%llu %llu", &size, &rss) != 2)
		rss = 0;
	if (f)
		fclose(f);
	return rss * 4;
}

static unsigned maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned n = 0;
	int ch;

	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static int pin_first(void)
{
	cpu_set_t set;

	if (first_cpu_of_first < 0)
		return -ENOENT;
	CPU_ZERO(&set);
	CPU_SET(first_cpu_of_first, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/* Page by page against the plan: a chunk with one node holds exactly its
 * pages there (or, non-strict, on a fallback node when the report says it
 * fell back); a chunk over the policy's nodes holds them on those nodes. */
static int expect_plan(const char *what, void *addr, size_t len, uint64_t ps, const struct mp_compiled *c,
		       const struct mp_place_report *rep)
{
	struct mp_place_chunk ch[256];
	enum mp_backend be;
	bool kwi = rep->backend == MP_BACKEND_KERNEL_WEIGHTED;
	int n, *nodes, bad = 0, k = 0;

	n = mp_place_plan(c, len, ps,
			  kwi || rep->backend == MP_BACKEND_KERNEL || rep->backend == MP_BACKEND_STRICT_POPULATE, ch,
			  256, &be);
	if (n < 0)
		return n;
	nodes = calloc(len / ps, sizeof(int));
	if (!nodes)
		return -ENOMEM;
	/* a page's entry can be briefly absent while khugepaged collapses or
	 * compaction moves it (seen near a full node): ask again before
	 * calling a page missing */
	for (int tries = 0;; tries++) {
		bool missing = false;

		if (vm_page_nodes(addr, len, ps, nodes) < 0) {
			free(nodes);
			return -EIO;
		}
		for (uint64_t i = 0; i < len / ps && !missing; i++)
			missing = nodes[i] < 0;
		if (!missing || tries == 3)
			break;
		usleep(100000);
	}
	for (uint64_t i = 0; i < len / ps; i++) {
		uint64_t off = i * ps;
		int node = nodes[i];
		bool ok;

		while (k + 1 < n && off >= ch[k].off + ch[k].len)
			k++;
		if (node < 0)
			ok = false;
		else if (ch[k].kmode == MP_MPOL_DEFAULT || ch[k].kmode == MP_MPOL_LOCAL)
			ok = true;
		else if (ch[k].node >= 0)
			ok = node == ch[k].node;
		else
			ok = mp_mask_test(&c->nodes, (unsigned)node);
		if (!ok && rep->fell_back && node >= 0)
			for (unsigned f = 0; f < c->n_fallback; f++)
				ok |= c->fallback[f] == node;
		if (!ok && bad++ < 3)
			printf("  %s: page %llu on node %d, plan says %d\n", what, (unsigned long long)i, node,
			       ch[k].node);
	}
	free(nodes);
	return bad ? 1 : 0;
}

/* Weights: each node within one chunk of its exact share. */
static int expect_weights(const char *what, const struct mp_compiled *c, const struct mp_place_report *rep,
			  uint64_t pages, uint64_t unit_pages)
{
	uint64_t total = 0;
	int bad = 0;

	for (unsigned i = 0; i < c->n_weights; i++)
		total += c->weight[i];
	for (unsigned i = 0; i < c->n_weights; i++) {
		double exact = (double)pages * c->weight[i] / (double)total;
		double got = (double)rep->per_node[c->weight_node[i]];

		if (got - exact > (double)unit_pages || exact - got > (double)unit_pages) {
			printf("  %s: node %d has %.0f pages, %.1f is its share (unit %llu)\n", what, c->weight_node[i],
			       got, exact, (unsigned long long)unit_pages);
			bad++;
		}
	}
	return bad ? 1 : 0;
}

/*
 * The kernel's interleave is a round-robin by offset at the granularity of
 * what it allocates: base pages, or 2 MiB where transparent huge pages were
 * used.  Accept either, exactly: every block of g pages on one node, blocks
 * in runs of weights[i] on nodes[i], in order, starting anywhere.
 */
static int expect_cycle(const char *what, void *addr, size_t len, const int *nodes, const unsigned *w, unsigned n)
{
	static const uint64_t grains[] = {1, 512};
	uint64_t pages = len / PAGE;
	int *got = calloc(pages, sizeof(int));

	if (!got || vm_page_nodes(addr, len, PAGE, got) < 0) {
		free(got);
		return -EIO;
	}
	for (size_t gi = 0; gi < 2; gi++) {
		uint64_t g = grains[gi], blocks = pages / g, period = 0;
		bool ok = pages % g == 0;

		for (unsigned i = 0; i < n; i++)
			period += w[i];
		for (uint64_t b = 0; ok && b < blocks; b++)
			for (uint64_t k = 1; k < g; k++)
				ok &= got[b * g + k] == got[b * g];
		/* try every start of the cycle */
		for (uint64_t start = 0; ok && start < period; start++) {
			bool every = true;

			for (uint64_t b = 0; every && b < blocks; b++) {
				uint64_t pos = (start + b) % period, acc = 0;
				unsigned i = 0;

				while (pos >= acc + w[i]) {
					acc += w[i];
					i++;
				}
				every = got[b * g] == nodes[i];
			}
			if (every) {
				free(got);
				return 0;
			}
		}
	}
	printf("  %s: pages do not follow the round-robin at 4 KiB or 2 MiB (first: %d %d %d %d)\n", what, got[0],
	       pages > 1 ? got[1] : -1, pages > 2 ? got[2] : -1, pages > 3 ? got[3] : -1);
	free(got);
	return 1;
}

enum expect { EX_PLAN, EX_LOCAL, EX_CYCLE, EX_LAST };

struct pcase {
	const char *policy; /* template, see expand() */
	unsigned sizes;	    /* bit i: sizes[i] */
	enum expect expect;
	unsigned flags;
	bool need_three; /* needs three memory nodes (first, second, last distinct) */
};

static const uint64_t sizes[] = {PAGE, 37 * PAGE, MiB, 16 * MiB, 64 * MiB};
#define SZ_ALL	 0x0f
#define SZ_SMALL 0x07

static const struct pcase cases[] = {
	{"default", SZ_SMALL, EX_LOCAL, MP_PLACE_POPULATE},
	{"local", SZ_SMALL, EX_LOCAL, MP_PLACE_POPULATE},
	{"bind:%L", SZ_ALL, EX_PLAN, MP_PLACE_POPULATE},
	{"bind:%L strict", SZ_ALL, EX_PLAN, 0},
	{"bind:%F,%L strict", SZ_SMALL, EX_PLAN, 0},
	{"prefer:%L", SZ_ALL, EX_PLAN, MP_PLACE_POPULATE},
	{"prefer:%L strict", SZ_SMALL, EX_PLAN, 0},
	{"prefer-many:%S,%L", SZ_ALL, EX_PLAN, MP_PLACE_POPULATE},
	{"prefer-many:%S,%L strict", SZ_SMALL, EX_PLAN, 0},
	{"interleave:%A", SZ_ALL, EX_CYCLE, MP_PLACE_POPULATE},
	{"interleave:%A strict", SZ_SMALL, EX_CYCLE, 0},
	{"weighted-interleave:%F,%L", SZ_SMALL, EX_CYCLE, MP_PLACE_POPULATE},
	{"interleave:%F,%L weights=%F:3,%L:1", SZ_ALL | 0x10, EX_PLAN, MP_PLACE_POPULATE},
	{"interleave:%F,%L weights=%F:3,%L:1 strict", SZ_SMALL, EX_PLAN, 0},
	{"split:%A", SZ_ALL, EX_PLAN, MP_PLACE_POPULATE},
	{"split:%A strict", SZ_SMALL, EX_PLAN, 0},
	{"split:%F,%L weights=%F:1,%L:3", SZ_ALL, EX_PLAN, MP_PLACE_POPULATE},
	{"bind:%F,%S,%L weights=%F:2,%S:1,%L:1", SZ_SMALL, EX_PLAN, MP_PLACE_POPULATE, true},
	{"bind:%L order=thp", 0x18, EX_PLAN, MP_PLACE_POPULATE},
	{"bind:%L order=thp strict", 0x08, EX_PLAN, 0},
	{"bind:%F,%L home=%L", SZ_SMALL, EX_LAST, MP_PLACE_POPULATE},
	{"bind:%F,%L home=%L strict", SZ_SMALL, EX_LAST, 0},
};

static void run_case(const struct pcase *t, uint64_t len)
{
	struct mp_place_report rep;
	struct mp_compiled c;
	char pol[256], name[320], why[300] = "";
	struct timespec t0, t1;
	void *p = NULL;
	int r, e = 0;

	expand(t->policy, pol, sizeof(pol));
	snprintf(name, sizeof(name), "%s %lluK", pol, (unsigned long long)(len >> 10));
	if (compile(pol, &c, why, sizeof(why)) < 0) {
		line("FAIL", name, "%s", why);
		return;
	}
	if (pin_first() < 0 && (t->expect == EX_LOCAL)) {
		line("SKIP", name, "no CPU on node %d to run on", first);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = mp_place_map(&c, len, t->flags, &p, &rep);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == -EOPNOTSUPP) {
		line("SKIP", name, "the kernel lacks it: %s", rep.reason);
		goto out;
	}
	if (r < 0) {
		line("FAIL", name, "%s (%s)", strerror(-r), rep.reason);
		goto out;
	}
	if (rep.present != len / PAGE && !(c.order > MP_ORDER_THP)) {
		printf("  %s: %llu of %llu pages present\n", name, (unsigned long long)rep.present,
		       (unsigned long long)(len / PAGE));
		e = 1;
	}
	switch (t->expect) {
	case EX_LOCAL: {
		struct mp_nodemask m;

		mp_mask_zero(&m);
		mp_mask_set(&m, (unsigned)first);
		e |= vm_expect_on(name, p, len, PAGE, &m) != 0;
		break;
	}
	case EX_LAST: {
		struct mp_nodemask m;

		mp_mask_zero(&m);
		mp_mask_set(&m, (unsigned)last);
		e |= vm_expect_on(name, p, len, PAGE, &m) != 0;
		break;
	}
	case EX_CYCLE: {
		int nodes[MP_COMPILED_MAX];
		unsigned w[MP_COMPILED_MAX], n = 0;

		mp_mask_foreach(x, &c.nodes) {
			char path[96], buf[16] = "1";
			FILE *f;

			nodes[n] = x;
			w[n] = 1;
			snprintf(path, sizeof(path), "/sys/kernel/mm/mempolicy/weighted_interleave/node%d", x);
			if (rep.backend == MP_BACKEND_KERNEL_WEIGHTED && (f = fopen(path, "r"))) {
				if (fgets(buf, sizeof(buf), f))
					w[n] = (unsigned)strtoul(buf, NULL, 10);
				fclose(f);
			}
			n++;
		}
		e |= expect_cycle(name, p, len, nodes, w, n) != 0;
		break;
	}
	case EX_PLAN:
		e |= expect_plan(name, p, len, PAGE, &c, &rep) != 0;
		if (c.has_weights && !rep.fell_back) {
			struct mp_place_chunk ch[256];
			uint64_t unit = 1;
			int n = mp_place_plan(&c, len, PAGE, false, ch, 256, NULL);

			/* the unit: the smallest chunk of a whole round is weight * unit */
			for (int k = 0; k < n && c.kmode == MP_MPOL_WEIGHTED_INTERLEAVE && k < (int)c.n_weights; k++)
				if (ch[k].len / PAGE / c.weight[k] > unit)
					unit = ch[k].len / PAGE / c.weight[k];
			e |= expect_weights(name, &c, &rep, len / PAGE, unit) != 0;
		}
		break;
	}
	if (rep.misplaced && !rep.fell_back) {
		printf("  %s: %llu pages misplaced: %s\n", name, (unsigned long long)rep.misplaced, rep.reason);
		e = 1;
	}
	line(e ? "FAIL" : "PASS", name, "backend %d, %.1f ms%s%s", rep.backend,
	     (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	     rep.fell_back ? ", fell back: " : "", rep.fell_back ? rep.reason : "");
	mp_place_unmap(p, len, &c);
out:
	mp_compiled_free(&c);
}

/* The node with the least free memory among the given ones. */
static int smallest_free(const struct mp_nodemask *m)
{
	uint64_t best = UINT64_MAX;
	int node = -1;

	mp_mask_foreach(x, m) {
		uint64_t f = vm_node_free(x);

		if (f && f < best) {
			best = f;
			node = x;
		}
	}
	return node;
}

/* Strict larger than a node's free memory: -ENOMEM, nothing left behind; the
 * same without strict succeeds and reports the fallback. */
static void test_capacity(void)
{
	struct mp_place_report rep;
	struct mp_compiled c;
	char pol[64], name[128], why[300];
	uint64_t free_n, len, rss0, rss1, total_other = 0;
	unsigned maps0, maps1;
	void *p = NULL;
	int node, r;

	node = smallest_free(&topo->memory);
	free_n = vm_node_free(node);
	len = (free_n + 32 * MiB) / PAGE * PAGE;
	mp_mask_foreach(x, &topo->memory)
		if (x != node)
			total_other += vm_node_free(x);

	snprintf(pol, sizeof(pol), "bind:%d strict", node);
	snprintf(name, sizeof(name), "%s, %lluM > node %d's %lluM free", pol, (unsigned long long)(len >> 20), node,
		 (unsigned long long)(free_n >> 20));
	if (compile(pol, &c, why, sizeof(why)) < 0) {
		line("FAIL", name, "%s", why);
		return;
	}
	maps0 = maps_lines();
	rss0 = rss_kb();
	r = mp_place_map(&c, len, 0, &p, &rep);
	rss1 = rss_kb();
	maps1 = maps_lines();
	if (r == -ENOMEM && !p && maps1 == maps0 && rss1 < rss0 + 1024)
		line("PASS", name, "-ENOMEM (%s); maps %u -> %u, RSS %llu -> %llu KiB", rep.reason, maps0, maps1,
		     (unsigned long long)rss0, (unsigned long long)rss1);
	else
		line("FAIL", name, "r=%d (%s), maps %u -> %u, RSS %llu -> %llu KiB", r, rep.reason, maps0, maps1,
		     (unsigned long long)rss0, (unsigned long long)rss1);
	mp_compiled_free(&c);

	/* the check after populating: a size the free-memory test lets through
	 * but the node's watermarks do not; either every page is there or the
	 * call failed and released them */
	free_n = vm_node_free(node);
	len = (free_n > 8 * MiB ? free_n - 2 * MiB : free_n) / PAGE * PAGE;
	snprintf(name, sizeof(name), "%s, %lluM of node %d's %lluM free", pol, (unsigned long long)(len >> 20), node,
		 (unsigned long long)(free_n >> 20));
	if (compile(pol, &c, why, sizeof(why)) == 0) {
		p = NULL;
		rss0 = rss_kb();
		r = mp_place_map(&c, len, 0, &p, &rep);
		rss1 = rss_kb();
		if (r == 0) {
			struct mp_nodemask m;

			mp_mask_zero(&m);
			mp_mask_set(&m, (unsigned)node);
			if (vm_expect_on(name, p, len, PAGE, &m) == 0)
				line("PASS", name, "fits after all: every page on node %d", node);
			else
				line("FAIL", name, "returned 0 with pages elsewhere");
			mp_place_unmap(p, len, &c);
		} else if (r == -ENOMEM && rss1 < rss0 + 1024) {
			line("PASS", name, "-ENOMEM after populating (%s), RSS back to %llu KiB", rep.reason,
			     (unsigned long long)rss1);
		} else {
			line("FAIL", name, "r=%d (%s), RSS %llu -> %llu KiB", r, rep.reason, (unsigned long long)rss0,
			     (unsigned long long)rss1);
		}
		mp_compiled_free(&c);
	}

	/* non-strict, same size as the first: falls back and says so */
	free_n = vm_node_free(node);
	len = (free_n + 32 * MiB) / PAGE * PAGE;
	snprintf(pol, sizeof(pol), "bind:%d", node);
	snprintf(name, sizeof(name), "%s, %lluM > node %d's %lluM free", pol, (unsigned long long)(len >> 20), node,
		 (unsigned long long)(free_n >> 20));
	if (total_other < len - free_n + 64 * MiB) {
		line("SKIP", name, "the other nodes have too little free memory to fall back to");
		return;
	}
	if (compile(pol, &c, why, sizeof(why)) < 0) {
		line("FAIL", name, "%s", why);
		return;
	}
	p = NULL;
	r = mp_place_map(&c, len, MP_PLACE_POPULATE, &p, &rep);
	if (r == 0 && rep.fell_back && rep.present == len / PAGE && rep.per_node[node] > 0 &&
	    expect_plan(name, p, len, PAGE, &c, &rep) == 0) {
		uint64_t on = rep.per_node[node];

		line("PASS", name, "%llu pages on node %d, %llu fell back: %s", (unsigned long long)on, node,
		     (unsigned long long)(rep.present - on), rep.reason);
	} else {
		line("FAIL", name, "r=%d fell_back=%d present=%llu of %llu, %llu on node %d (%s)", r, rep.fell_back,
		     (unsigned long long)rep.present, (unsigned long long)(len / PAGE),
		     (unsigned long long)rep.per_node[node], node, rep.reason);
	}
	if (r == 0)
		mp_place_unmap(p, len, &c);
	mp_compiled_free(&c);
}

static int huge_free(int node)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/free_hugepages", node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return (int)strtol(buf, NULL, 10);
}

/* hugetlb from the per-node pools: placed, the empty pool named, no SIGBUS. */
static void test_hugetlb(void)
{
	struct mp_place_report rep;
	struct mp_compiled c;
	char pol[64], name[160], why[300];
	int hf = huge_free(last), r;
	void *p = NULL;
	struct mp_nodemask m;

	if (hf <= 0) {
		line("SKIP", "hugetlb", "node %d has no free 2 MiB huge pages (run --hugepages)", last);
		return;
	}
	mp_mask_zero(&m);
	mp_mask_set(&m, (unsigned)last);
	snprintf(pol, sizeof(pol), "bind:%d order=2M strict", last);
	if (compile(pol, &c, why, sizeof(why)) < 0) {
		line("FAIL", pol, "%s", why);
		return;
	}
	snprintf(name, sizeof(name), "%s, 2 pages", pol);
	r = mp_place_map(&c, 4 * MiB, 0, &p, &rep);
	if (r == 0 && vm_expect_on(name, p, 4 * MiB, 2 * MiB, &m) == 0 && rep.per_node[last] == 2)
		line("PASS", name, "both on node %d", last);
	else
		line("FAIL", name, "r=%d (%s)", r, rep.reason);
	if (r == 0)
		mp_place_unmap(p, 4 * MiB, &c);

	hf = huge_free(last);
	snprintf(name, sizeof(name), "%s, %d pages > node %d's pool of %d free", pol, hf + 4, last, hf);
	p = NULL;
	r = mp_place_map(&c, (size_t)(hf + 4) * 2 * MiB, 0, &p, &rep);
	if (r == -ENOMEM && strstr(rep.reason, "hugepages-2048kB") && huge_free(last) == hf)
		line("PASS", name, "-ENOMEM: %s", rep.reason);
	else
		line("FAIL", name, "r=%d (%s)", r, rep.reason);
	if (r == 0)
		mp_place_unmap(p, (size_t)(hf + 4) * 2 * MiB, &c);
	mp_compiled_free(&c);

	/* non-strict: the pool's pages, then the fallback nodes' pools */
	snprintf(pol, sizeof(pol), "bind:%d order=2M", last);
	if (compile(pol, &c, why, sizeof(why)) < 0) {
		line("FAIL", pol, "%s", why);
		return;
	}
	snprintf(name, sizeof(name), "%s, %d pages > node %d's pool of %d free", pol, hf + 2, last, hf);
	p = NULL;
	r = mp_place_map(&c, (size_t)(hf + 2) * 2 * MiB, 0, &p, &rep);
	if (r == 0 && rep.fell_back && rep.per_node[last] == (uint64_t)hf &&
	    expect_plan(name, p, (size_t)(hf + 2) * 2 * MiB, 2 * MiB, &c, &rep) == 0)
		line("PASS", name, "%d on node %d, 2 fell back: %s", hf, last, rep.reason);
	else
		line("FAIL", name, "r=%d fell_back=%d on node %d: %llu (%s)", r, rep.fell_back, last,
		     (unsigned long long)rep.per_node[last], rep.reason);
	if (r == 0)
		mp_place_unmap(p, (size_t)(hf + 2) * 2 * MiB, &c);
	mp_compiled_free(&c);
}

/* Pages already present move: all of them, to where the new policy says. */
static void test_migrate(void)
{
	static const char *const to[] = {"bind:%L", "split:%F,%L weights=%F:1,%L:3", "bind:%L strict"};
	struct mp_compiled from, c;
	struct mp_place_report rep;
	char pol[128], name[200], why[300];
	size_t len = 16 * MiB;

	snprintf(pol, sizeof(pol), "bind:%d", first);
	if (compile(pol, &from, why, sizeof(why)) < 0) {
		line("FAIL", "migrate", "%s", why);
		return;
	}
	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++) {
		void *p = NULL;
		int r;

		expand(to[i], pol, sizeof(pol));
		snprintf(name, sizeof(name), "migrate 16M from node %d to %s", first, pol);
		if (mp_place_map(&from, len, MP_PLACE_POPULATE, &p, &rep) < 0 || rep.per_node[first] != len / PAGE) {
			line("FAIL", name, "could not populate on node %d: %s", first, rep.reason);
			continue;
		}
		memset(p, 0x5a, len);
		if (compile(pol, &c, why, sizeof(why)) < 0) {
			line("FAIL", name, "%s", why);
			mp_place_unmap(p, len, &from);
			continue;
		}
		r = mp_place_range(p, len, &c, MP_PLACE_MIGRATE | MP_PLACE_VERIFY, &rep);
		if (r == 0 && rep.present == len / PAGE && !rep.misplaced &&
		    expect_plan(name, p, len, PAGE, &c, &rep) == 0 && ((unsigned char *)p)[len - 1] == 0x5a &&
		    ((unsigned char *)p)[0] == 0x5a)
			line("PASS", name, "every page moved, contents kept");
		else
			line("FAIL", name, "r=%d present=%llu misplaced=%llu (%s)", r, (unsigned long long)rep.present,
			     (unsigned long long)rep.misplaced, rep.reason);
		mp_compiled_free(&c);
		mp_place_unmap(p, len, &from);
	}
	mp_compiled_free(&from);
}

/* The kernel's weighted interleave when the policy's weights are its table:
 * set the table to 3:1 for the first and last node, then restore it. */
static void test_kernel_weighted(void)
{
	char pf[96], pl[96], sf[16] = "", sl[16] = "", pol[128], name[200], why[300];
	struct mp_place_report rep;
	struct mp_compiled c;
	int nodes[2] = {first, last};
	unsigned w[2] = {3, 1};
	FILE *f;
	void *p = NULL;
	int r;

	snprintf(pf, sizeof(pf), "/sys/kernel/mm/mempolicy/weighted_interleave/node%d", first);
	snprintf(pl, sizeof(pl), "/sys/kernel/mm/mempolicy/weighted_interleave/node%d", last);
	snprintf(pol, sizeof(pol), "interleave:%d,%d weights=%d:3,%d:1", first, last, first, last);
	snprintf(name, sizeof(name), "%s with the kernel's table at 3:1, 4M", pol);
	f = fopen(pf, "r");
	if (!f) {
		line("SKIP", name,
		     "no weighted interleave in this kernel (sysfs table absent); emulated cases ran above");
		return;
	}
	if (!fgets(sf, sizeof(sf), f))
		sf[0] = '\0';
	fclose(f);
	f = fopen(pl, "r");
	if (f) {
		if (!fgets(sl, sizeof(sl), f))
			sl[0] = '\0';
		fclose(f);
	}
	if ((f = fopen(pf, "w"))) {
		fputs("3", f);
		fclose(f);
	}
	if ((f = fopen(pl, "w"))) {
		fputs("1", f);
		fclose(f);
	}
	if (compile(pol, &c, why, sizeof(why)) < 0) {
		line("FAIL", name, "%s", why);
		goto restore;
	}
	/* base pages, so the 3:1 shows page by page rather than per THP */
	p = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		line("FAIL", name, "mmap: %s", strerror(errno));
		mp_compiled_free(&c);
		goto restore;
	}
	madvise(p, 4 * MiB, MADV_NOHUGEPAGE);
	r = mp_place_range(p, 4 * MiB, &c, MP_PLACE_POPULATE, &rep);
	if (r == 0 && rep.backend == MP_BACKEND_KERNEL_WEIGHTED && expect_cycle(name, p, 4 * MiB, nodes, w, 2) == 0)
		line("PASS", name, "kernel weighted interleave, exact 3:1 cycle");
	else
		line("FAIL", name, "r=%d backend=%d (%s)", r, rep.backend, rep.reason);
	munmap(p, 4 * MiB);
	mp_compiled_free(&c);
restore:
	if (sf[0] && (f = fopen(pf, "w"))) {
		fputs(sf, f);
		fclose(f);
	}
	if (sl[0] && (f = fopen(pl, "w"))) {
		fputs(sl, f);
		fclose(f);
	}
}

/*
 * 256 MiB once: interleaved over every node, each page checked.  Interleave
 * is not strict: a node below its watermark makes the kernel fall back, which
 * breaks the round-robin the check expects.  So each node's share must fit
 * with room to spare (half its free memory); on a topology of many small
 * nodes (8n: 128 MiB each, less the huge page pools) the range shrinks to
 * what fits, and says so.
 */
static void test_big(void)
{
	const struct pcase big = {"interleave:%A", 0, EX_CYCLE, MP_PLACE_POPULATE};
	uint64_t len = 256 * MiB, min_free = UINT64_MAX, n = mp_mask_weight(&topo->memory);

	mp_mask_foreach(x, &topo->memory) {
		uint64_t f = vm_node_free(x);

		if (f < min_free)
			min_free = f;
	}
	if (n && len / n > min_free / 2) {
		len = (min_free / 2 * n) & ~(uint64_t)(2 * MiB - 1);
		printf("  the nodes hold at least %llu MiB free: the large case is %llu MiB, not 256\n",
		       (unsigned long long)(min_free / MiB), (unsigned long long)(len / MiB));
	}
	if (len < 2 * MiB) {
		printf("SKIP: large interleave: a node has under 4 MiB free\n");
		return;
	}
	run_case(&big, len);
}

int main(int argc, char **argv)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = mp_topo_load(NULL, &topo);
	if (r < 0) {
		printf("FAIL: topology: %s\n", strerror(-r));
		return 1;
	}
	if (mp_mask_weight(&topo->memory) < 2) {
		printf("SKIP: one memory node; the placement tests need several\n");
		return 77;
	}
	first = mp_mask_next(&topo->memory, 0);
	second = mp_mask_next(&topo->memory, first + 1);
	last = mp_mask_last(&topo->memory);
	mp_mask_format(&topo->memory, all, sizeof(all));
	for (unsigned i = 0; i < topo->n_nodes; i++)
		if (topo->nodes[i].id == first && topo->nodes[i].n_cpus)
			first_cpu_of_first = topo->nodes[i].cpus[0];
	printf("nodes with memory %s; first %d, second %d, last %d\n", all, first, second, last);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			if (!(cases[i].sizes & (1u << j)))
				continue;
			if (cases[i].need_three && (second == last)) {
				line("SKIP", cases[i].policy, "needs three memory nodes");
				continue;
			}
			run_case(&cases[i], sizes[j]);
		}
	test_kernel_weighted();
	test_migrate();
	test_hugetlb();
	test_capacity();
	if (argc < 2 || strcmp(argv[1], "--no-big"))
		test_big();
	printf("place: %u passed, %u failed, %u skipped\n", n_pass, n_fail, n_skip);
	mp_topo_free(topo);
	return n_fail ? 1 : 0;
}

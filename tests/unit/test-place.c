/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Placement: the chunk plans for split, per-policy weights and emulated
 * weighted interleave (pure, against recorded topologies), and on the live
 * machine whatever one node allows: every mode lands every page on it, a
 * strict request larger than the node's free memory fails with -ENOMEM and
 * leaves nothing behind, an empty hugetlb pool is named, and the public
 * wrappers agree with the internal calls.  Several nodes: tests/vm.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/util.h"
#include "check.h"
#include "core/combine.h"
#include "mplace.h"
#include "kernel/place.h"
#include "kernel/sys.h"

#define PS 4096u

static int compile(const char *root, const char *text, struct mp_compiled *ret)
{
	struct mp_topo *t = NULL;
	struct mp_resolve_ctx ctx = {.local_node = -1};
	struct mp_diag d = {0};
	int r;

	r = mp_topo_load(root, &t);
	if (r < 0)
		return r;
	ctx.topo = t;
	r = mp_compile(text, &ctx, ret, &d);
	if (r < 0)
		fprintf(stderr, "compile '%s': %s\n", text, d.msg);
	mp_topo_free(t);
	return r;
}

/* ---- plans (pure) -------------------------------------------------------- */

static const struct plan_case {
	const char *topo, *policy;
	uint64_t pages;
	enum mp_backend backend;
	int n_chunks;	      /* -1: do not check */
	uint64_t per_node[8]; /* exact pages per node (chunks with node >= 0) */
	int kmode;	      /* of the first chunk */
} plan_cases[] = {
	{"2s-cxl", "split:0-1", 8, MP_BACKEND_CHUNKS, 2, {4, 4}, MP_MPOL_PREFERRED},
	{"2s-cxl", "split:0-1 strict", 8, MP_BACKEND_CHUNKS, 2, {4, 4}, MP_MPOL_BIND},
	{"2s-cxl", "split:0,2 weights=0:3,2:1", 8, MP_BACKEND_CHUNKS, 2, {6, 0, 2}, MP_MPOL_PREFERRED},
	{"2s-cxl", "split:0,2 weights=0:3,2:1", 7, MP_BACKEND_CHUNKS, 2, {5, 0, 2}, MP_MPOL_PREFERRED},
	/* every node placed: nowhere to fall back, so each chunk is bound */
	{"2s-cxl", "split:0-3", 1, MP_BACKEND_CHUNKS, 1, {0, 0, 0, 1}, MP_MPOL_BIND},
	{"2s-cxl", "bind:0-1 weights=0:1,1:3", 4096, MP_BACKEND_CHUNKS, 2, {1024, 3072}, MP_MPOL_PREFERRED},
	{"2s-cxl", "interleave:0-1 weights=0:3,1:1", 16, MP_BACKEND_CHUNKS, 8, {12, 4}, MP_MPOL_PREFERRED},
	/* 65536 pages in 3:1: units of 130 pages keep it under 256 chunks;
	 * 126 whole rounds, the 16-page tail split 12:4, exact here */
	{"2s-cxl", "interleave:0-1 weights=0:3,1:1", 65536, MP_BACKEND_CHUNKS, 254, {49152, 16384}, MP_MPOL_PREFERRED},
	{"8n",
	 "interleave:0-7 weights=0:2,1:1,2:1,3:1,4:1,5:1,6:1,7:1 strict",
	 1000,
	 MP_BACKEND_CHUNKS,
	 -1,
	 {222, 111, 111, 111, 111, 111, 111, 112},
	 MP_MPOL_BIND},
	{"2s-cxl", "bind:0-1", 100, MP_BACKEND_KERNEL, 1, {0}, MP_MPOL_PREFERRED_MANY},
	{"2s-cxl", "bind:0-1 strict", 100, MP_BACKEND_KERNEL, 1, {0}, MP_MPOL_BIND},
	{"2s-cxl", "prefer:2", 100, MP_BACKEND_KERNEL, 1, {0}, MP_MPOL_PREFERRED},
	{"2s-cxl", "interleave:0-3", 100, MP_BACKEND_KERNEL, 1, {0}, MP_MPOL_INTERLEAVE},
	{"2s-cxl", "local", 100, MP_BACKEND_KERNEL, 1, {0}, MP_MPOL_LOCAL},
	{"2s-cxl", "default", 100, MP_BACKEND_KERNEL, 1, {0}, MP_MPOL_DEFAULT},
};

static void test_plans(void)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(plan_cases); i++) {
		const struct plan_case *t = &plan_cases[i];
		struct mp_place_chunk ch[256];
		uint64_t per[8] = {0}, off = 0, wsum = 0, unit = 0;
		struct mp_compiled c;
		enum mp_backend be = MP_BACKEND_NONE;
		char root[512];
		int n;

		snprintf(root, sizeof(root), "%s/tests/data/topo/%s", MPLACE_SOURCE_DIR, t->topo);
		if (compile(root, t->policy, &c) < 0) {
			CHECK_MSG(0, "%s: does not compile", t->policy);
			continue;
		}
		n = mp_place_plan(&c, t->pages * PS, PS, false, ch, 256, &be);
		CHECK_MSG(n > 0, "%s: %d", t->policy, n);
		if (n <= 0) {
			mp_compiled_free(&c);
			continue;
		}
		CHECK_MSG(be == t->backend, "%s: backend %d", t->policy, be);
		if (t->n_chunks >= 0)
			CHECK_MSG(n == t->n_chunks, "%s: %d chunks", t->policy, n);
		CHECK_MSG(ch[0].kmode == t->kmode, "%s: kmode %d", t->policy, ch[0].kmode);
		for (int k = 0; k < n; k++) {
			CHECK_MSG(ch[k].off == off, "%s: chunk %d at %llu", t->policy, k,
				  (unsigned long long)ch[k].off);
			CHECK(ch[k].len > 0 && ch[k].len % PS == 0);
			off = ch[k].off + ch[k].len;
			if (ch[k].node >= 0 && ch[k].node < 8)
				per[ch[k].node] += ch[k].len / PS;
			if (ch[k].len / PS > unit)
				unit = ch[k].len / PS;
		}
		CHECK_MSG(off == t->pages * PS, "%s: the chunks cover %llu bytes", t->policy, (unsigned long long)off);
		for (int k = 0; k < 8; k++)
			CHECK_MSG(per[k] == t->per_node[k], "%s: node %d has %llu pages, %llu expected", t->policy, k,
				  (unsigned long long)per[k], (unsigned long long)t->per_node[k]);
		/* the law behind the numbers: each node within one chunk of its
		 * exact share of the weights */
		for (unsigned k = 0; k < c.n_weights; k++)
			wsum += c.weight[k];
		for (unsigned k = 0; be == MP_BACKEND_CHUNKS && k < c.n_weights; k++) {
			double exact = (double)t->pages * c.weight[k] / (double)wsum;
			double got = (double)per[c.weight_node[k]];

			CHECK_MSG(got - exact <= (double)unit && exact - got <= (double)unit,
				  "%s: node %d %.1f vs %.1f", t->policy, c.weight_node[k], got, exact);
		}
		mp_compiled_free(&c);
	}
}

/* ---- the live machine (one node is enough for these) ----------------------- */

static const char *const live_policies[] = {
	"default",
	"local",
	"bind:0",
	"bind:0 strict",
	"prefer:0",
	"prefer:0 strict",
	"prefer-many:0",
	"interleave:0",
	"interleave:0 weights=0:2",
	"weighted-interleave:0 strict",
	"split:0",
	"split:0 strict",
	"bind:0 order=thp",
	"bind:0 strict order=thp",
	"bind:0 migrate",
};
static const uint64_t live_sizes[] = {PS, 33 * PS, 4u << 20};

static void test_live_modes(void)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(live_policies); i++)
		for (size_t j = 0; j < MP_ARRAY_SIZE(live_sizes); j++) {
			const char *pol = live_policies[i];
			uint64_t len = live_sizes[j], per[4] = {0};
			struct mp_place_report rep;
			struct mp_compiled c;
			void *p = NULL;
			int r, *node_of;

			if (compile(NULL, pol, &c) < 0) {
				CHECK_MSG(0, "%s: does not compile", pol);
				continue;
			}
			r = mp_place_map(&c, len, MP_PLACE_POPULATE | MP_PLACE_VERIFY, &p, &rep);
			CHECK_MSG(r == 0, "%s %llu: %s (%s)", pol, (unsigned long long)len, strerror(-r), rep.reason);
			if (r == 0) {
				CHECK_MSG(rep.pages == len / PS && rep.present == rep.pages &&
						  rep.per_node[0] == rep.pages,
					  "%s %llu: %llu of %llu present, %llu on node 0", pol, (unsigned long long)len,
					  (unsigned long long)rep.present, (unsigned long long)rep.pages,
					  (unsigned long long)rep.per_node[0]);
				CHECK_MSG(rep.misplaced == 0 && !rep.fell_back, "%s: %s", pol, rep.reason);
				node_of = calloc(len / PS, sizeof(int));
				CHECK(node_of);
				r = mp_place_where(p, len, PS, per, 4, node_of);
				CHECK_MSG(r == (int)(len / PS), "%s: where %d", pol, r);
				CHECK(per[0] == len / PS);
				for (uint64_t k = 0; node_of && k < len / PS; k++)
					CHECK(node_of[k] == 0);
				free(node_of);
				CHECK(mp_place_unmap(p, len, &c) == 0);
			}
			mp_compiled_free(&c);
		}
}

static uint64_t rss_pages(void)
{
	unsigned long long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss;
}

static unsigned count_maps(void)
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

static uint64_t node0_free(void)
{
	FILE *f = fopen("/sys/devices/system/node/node0/meminfo", "r");
	unsigned long long kb = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node 0 MemFree: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* Larger than the node's free memory: -ENOMEM before anything is faulted,
 * the reason names the node, nothing is left mapped or resident. */
static void test_strict_too_big(void)
{
	struct mp_place_report rep;
	struct mp_compiled c;
	uint64_t free0 = node0_free(), rss0, rss1;
	unsigned maps0, maps1;
	void *p = NULL;
	int r;

	if (!free0) {
		CHECK_MSG(0, "no MemFree for node 0");
		return;
	}
	if (compile(NULL, "bind:0 strict", &c) < 0) {
		CHECK(0);
		return;
	}
	maps0 = count_maps();
	rss0 = rss_pages();
	r = mp_place_map(&c, free0 + (256u << 20), 0, &p, &rep);
	rss1 = rss_pages();
	maps1 = count_maps();
	CHECK_MSG(r == -ENOMEM, "strict larger than node 0: %d", r);
	CHECK_MSG(strstr(rep.reason, "node 0"), "reason: %s", rep.reason);
	CHECK(p == NULL);
	CHECK_MSG(maps1 == maps0, "maps %u -> %u", maps0, maps1);
	CHECK_MSG(rss1 < rss0 + 256, "rss %llu -> %llu pages", (unsigned long long)rss0, (unsigned long long)rss1);
	mp_compiled_free(&c);
}

/* A hugetlb pool without free pages is named, not a SIGBUS. */
static void test_hugetlb_empty(void)
{
	struct mp_place_report rep;
	struct mp_compiled c;
	char buf[64] = "";
	FILE *f = fopen("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "r");
	void *p = NULL;
	int r;

	if (!f)
		return; /* no 2 MiB pool on this kernel: nothing to check */
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (strtoul(buf, NULL, 10) != 0)
		return; /* pool has pages; the VM tests cover a filled pool */
	if (compile(NULL, "bind:0 strict order=2M", &c) < 0) {
		CHECK(0);
		return;
	}
	r = mp_place_map(&c, 4u << 20, 0, &p, &rep);
	CHECK_MSG(r == -ENOMEM, "empty pool: %d (%s)", r, rep.reason);
	CHECK_MSG(strstr(rep.reason, "node 0") || strstr(rep.reason, "pool"), "reason: %s", rep.reason);
	mp_compiled_free(&c);
}

static void test_bad_args(void)
{
	uint64_t per[2] = {7, 7};
	struct mp_compiled c;
	char *m;

	CHECK(mp_place_where(NULL, PS, PS, per, 2, NULL) == -EINVAL);
	CHECK(mp_place_where((void *)(uintptr_t)(PS + 1), PS, PS, per, 2, NULL) == -EINVAL);
	CHECK(per[0] == 7 && per[1] == 7);
	if (compile(NULL, "bind:0", &c) < 0) {
		CHECK(0);
		return;
	}
	m = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK(mp_place_range(m + 1, PS, &c, 0, NULL) == -EINVAL);
	CHECK(mp_place_range(m, PS + 1, &c, 0, NULL) == -EINVAL);
	CHECK(mp_place_range(m, 0, &c, 0, NULL) == -EINVAL);
	/* nothing faulted, nothing to count */
	CHECK(mp_place_where(m, 2 * PS, PS, per, 2, NULL) == 0 && per[0] == 0);
	munmap(m, 2 * PS);
	mp_compiled_free(&c);
}

/* The public wrappers: compile against the live machine, map, where, bind. */
static void test_public(void)
{
	MPLACE_OPTS(mplace_place_report, rep);
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_compiled *c = NULL;
	uint64_t per[2] = {0};
	void *p = NULL;
	int r;

	CHECK(mplace_compile("bind:0 strict", NULL, &c, &err) == 0);
	if (!c)
		return;
	r = mplace_map(c, 64 * PS, MPLACE_POPULATE, &p, &rep);
	CHECK_MSG(r == 0, "mplace_map: %d %s", r, rep.reason);
	CHECK(rep.backend == MPLACE_BACKEND_STRICT_POPULATE && rep.per_node[0] == 64 && rep.present == 64);
	CHECK(mplace_where(p, 64 * PS, 0, per, 2, NULL) == 64 && per[0] == 64);
	CHECK(mplace_bind(p, 64 * PS, c, MPLACE_MIGRATE | MPLACE_VERIFY, &rep) == 0 && rep.per_node[0] == 64);
	CHECK(mplace_unmap(p, 64 * PS, c) == 0);
	mplace_compiled_free(c);
	c = (struct mplace_compiled *)&err; /* must stay untouched on failure */
	CHECK(mplace_compile("bind:0 nonsense=", NULL, &c, &err) == -EINVAL);
	CHECK(c == (struct mplace_compiled *)&err && err.message[0]);
	c = (struct mplace_compiled *)&err;
	CHECK(mplace_compile("bind:7 strict", NULL, &c, &err) == -ENOENT);
	CHECK(c == (struct mplace_compiled *)&err);
}

int main(void)
{
	if (sysconf(_SC_PAGESIZE) != PS)
		CHECK_SKIP("the tests assume 4 KiB base pages");
	test_plans();
	test_bad_args();
	if (mp_sys_get_policy(NULL, NULL, NULL, 0) == -ENOSYS)
		CHECK_SKIP("the kernel has no NUMA memory policy (CONFIG_NUMA off)");
	test_live_modes();
	test_strict_too_big();
	test_hugetlb_empty();
	test_public();
	return check_status();
}

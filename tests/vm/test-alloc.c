/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy-aware allocator and replication on a kernel with several NUMA
 * nodes: objects allocated under bind, interleave and split policies have
 * every page on the policy's nodes (move_pages, page by page); a strict
 * allocation larger than its node's free memory returns NULL with ENOMEM,
 * the process lives on and the node's memory comes back, while the same
 * request under a preferring policy succeeds elsewhere; a replica has each
 * copy's pages on its own node, the local lookup from a CPU of each node
 * gives that node's copy, and an update reaches every copy.
 * Runs as root inside tests/vm/run.
 *
 * Invariants: policies are written against the topology (first and last
 * memory node, every memory node), so one program serves every topology; a
 * case the guest cannot run is a SKIP line with its reason, never a pass;
 * exit 77 only when the guest has a single memory node.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/combine.h"
#include "mplace.h"
#include "placement.h"
#include "alloc/replicate.h"
#include "kernel/sys.h"

#define PAGE 4096UL
#define MiB  (1UL << 20)

static struct mp_topo *topo;
static struct mplace_topo *ptopo;
static int first, last;
static unsigned n_pass, n_fail, n_skip;

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	ok ? n_pass++ : n_fail++;
}

static struct mplace_compiled *compile_public(const char *text)
{
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_compiled *c = NULL;
	struct mplace_policy *p;

	if (mplace_policy_parse(text, &p, &err) < 0) {
		printf("FAIL: %s: parse: %s\n", text, err.message);
		n_fail++;
		return NULL;
	}
	if (mplace_resolve(p, ptopo, NULL, &c, &err) < 0) {
		printf("FAIL: %s: resolve: %s\n", text, err.message);
		n_fail++;
	}
	mplace_policy_free(p);
	return c;
}

static int compile_internal(const char *text, struct mp_compiled *ret)
{
	struct mp_resolve_ctx ctx = {.topo = topo, .local_node = first};

	return mp_compile(text, &ctx, ret, NULL);
}

/* The pages an object covers: [page of p, page of p + n - 1]. */
static void object_pages(void *p, size_t n, void **ret_base, size_t *ret_len)
{
	uintptr_t a = (uintptr_t)p & ~(PAGE - 1), e = ((uintptr_t)p + n + PAGE - 1) & ~(PAGE - 1);

	*ret_base = (void *)a;
	*ret_len = e - a;
}

struct alloc_case {
	const char *what;
	size_t size;
	unsigned count;
};

static const struct alloc_case sizes[] = {
	{"64 B", 64, 4000},    {"1000 B", 1000, 1000}, {"16 KiB", 16384, 64},
	{"64 KiB", 65536, 32}, {"1 MiB", MiB, 8},      {"16 MiB", 16 * MiB, 2},
};

/* Every page of every object on a node of mask; returns how many objects
 * were checked, counts pages per node into per_node. */
static bool check_objects(const char *policy, const struct alloc_case *ac, void **v, const struct mp_nodemask *mask,
			  uint64_t *per_node)
{
	bool ok = true;

	for (unsigned i = 0; i < ac->count; i++) {
		void *base;
		size_t len;
		int *nodes;

		object_pages(v[i], ac->size, &base, &len);
		nodes = calloc(len / PAGE, sizeof(*nodes));
		if (!nodes || vm_page_nodes(base, len, PAGE, nodes) < 0) {
			free(nodes);
			printf("FAIL: %s %s: move_pages failed\n", policy, ac->what);
			return false;
		}
		for (size_t k = 0; k < len / PAGE; k++) {
			if (nodes[k] < 0 || !mp_mask_test(mask, (unsigned)nodes[k])) {
				if (ok)
					printf("  %s %s: object %u page %zu on %d\n", policy, ac->what, i, k, nodes[k]);
				ok = false;
			} else if (nodes[k] < MP_COMPILED_MAX) {
				per_node[nodes[k]]++;
			}
		}
		free(nodes);
	}
	return ok;
}

/* Allocate every size under policy, touch it, check every page is on mask;
 * when want_all, every node of mask must have received pages. */
static void test_policy(const char *text, const struct mp_nodemask *mask, bool want_all)
{
	struct mplace_compiled *c = compile_public(text);
	uint64_t per_node[MP_COMPILED_MAX] = {0};
	bool ok = true;

	if (!c)
		return;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		const struct alloc_case *ac = &sizes[s];
		void **v = calloc(ac->count, sizeof(*v));
		bool this_ok = v != NULL;

		for (unsigned i = 0; v && i < ac->count; i++) {
			v[i] = mplace_alloc(c, ac->size);
			if (!v[i]) {
				printf("  %s %s: mplace_alloc failed: %s\n", text, ac->what, strerror(errno));
				this_ok = false;
				break;
			}
			memset(v[i], (int)i, ac->size);
		}
		if (this_ok)
			this_ok = check_objects(text, ac, v, mask, per_node);
		result(this_ok, "%s: %u objects of %s, every page on the policy's nodes", text, ac->count, ac->what);
		ok &= this_ok;
		for (unsigned i = 0; v && i < ac->count; i++)
			mplace_free(v[i]);
		free(v);
	}
	if (want_all) {
		bool all_used = true;
		char buf[256] = "";
		size_t at = 0;

		mp_mask_foreach(n, mask) {
			all_used &= n < MP_COMPILED_MAX && per_node[n] > 0;
			if (n < MP_COMPILED_MAX && at < sizeof(buf))
				at += (size_t)snprintf(buf + at, sizeof(buf) - at, " node %d: %llu", n,
						       (unsigned long long)per_node[n]);
		}
		result(all_used, "%s: pages on every node of the policy (%s )", text, buf);
	}
	mplace_compiled_free(c);
}

/* Interleave: one 16 MiB object alternates pages over the nodes exactly.
 * With transparent huge pages on (the guest's default) the kernel interleaves
 * whole 2 MiB pages, so the exact 4 KiB cycle is checked with THP off for the
 * process, as a policy without order=thp asks for base pages. */
static void test_interleave_ratio(void)
{
	char text[64];
	struct mplace_compiled *c;
	int nodes[2] = {first, last};
	unsigned w[2] = {1, 1};
	size_t n = 16 * MiB;
	void *p, *base;
	size_t len;

	snprintf(text, sizeof(text), "interleave:%d,%d", first, last);
	c = compile_public(text);
	if (!c)
		return;
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0) {
		printf("SKIP: %s exact cycle: PR_SET_THP_DISABLE: %s\n", text, strerror(errno));
		n_skip++;
		mplace_compiled_free(c);
		return;
	}
	p = mplace_alloc(c, n);
	if (!p) {
		result(false, "%s: 16 MiB allocation: %s", text, strerror(errno));
	} else {
		memset(p, 1, n);
		object_pages(p, n, &base, &len);
		result(vm_expect_cycle(text, base, len, PAGE, nodes, w, 2) == 0,
		       "%s: a 16 MiB object's pages alternate over nodes %d and %d, page by page", text, first, last);
		mplace_free(p);
	}
	prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0);
	mplace_compiled_free(c);
}

static void test_strict(void)
{
	char text[64];
	struct mplace_compiled *strict, *pref;
	uint64_t before, after, size;
	void *p;
	int err;

	snprintf(text, sizeof(text), "bind:%d strict", last);
	strict = compile_public(text);
	snprintf(text, sizeof(text), "prefer:%d", last);
	pref = compile_public(text);
	if (!strict || !pref)
		goto out;
	before = vm_node_free(last);
	size = before + 64 * MiB;
	errno = 0;
	p = mplace_alloc(strict, size);
	err = errno;
	after = vm_node_free(last);
	result(!p && err == ENOMEM, "bind:%d strict: %llu MiB (node free: %llu MiB) is NULL/ENOMEM (got %p, %s)", last,
	       (unsigned long long)(size >> 20), (unsigned long long)(before >> 20), p, strerror(err));
	/* nothing kept: the node's free memory is back within 16 MiB (slabs,
	 * page tables and the guest's own activity move it a little) */
	result(after + 16 * MiB >= before, "bind:%d strict: node %d free before %llu MiB, after %llu MiB", last, last,
	       (unsigned long long)(before >> 20), (unsigned long long)(after >> 20));
	if (p)
		mplace_free(p);
	/* the process and the set still work: a small strict object */
	p = mplace_alloc(strict, 100000);
	if (p) {
		struct mp_nodemask m;
		void *base;
		size_t len;

		memset(p, 2, 100000);
		mp_mask_zero(&m);
		mp_mask_set(&m, (unsigned)last);
		object_pages(p, 100000, &base, &len);
		result(vm_expect_on("strict small", base, len, PAGE, &m) == 0,
		       "bind:%d strict: a 100 KB object after the failure, on node %d", last, last);
		mplace_free(p);
	} else {
		result(false, "bind:%d strict: a 100 KB object after the failure: %s", last, strerror(errno));
	}
	/* what the node cannot hold alone, a preferring policy gets elsewhere */
	size = vm_node_free(last) + 32 * MiB;
	{
		uint64_t total = 0;

		mp_mask_foreach(n, &topo->memory)
			total += vm_node_free(n);
		if (total >= size + 128 * MiB)
			goto enough;
	}
	{
		printf("SKIP: prefer:%d with %llu MiB: the guest has too little free memory\n", last,
		       (unsigned long long)(size >> 20));
		n_skip++;
		goto out;
	}
enough:
	p = mplace_alloc(pref, size);
	if (p) {
		memset(p, 3, size);
		mplace_free(p);
	}
	result(p != NULL, "prefer:%d: %llu MiB, more than the node's free memory, succeeds", last,
	       (unsigned long long)(size >> 20));
out:
	mplace_compiled_free(strict);
	mplace_compiled_free(pref);
}

struct local_arg {
	const struct mp_replica *r;
	int cpu;
	const void *got;
};

static void *local_on_cpu(void *p)
{
	struct local_arg *a = p;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return NULL;
	a->got = mp_replica_local(a->r);
	return NULL;
}

static void test_replicate(void)
{
	size_t len = 3 * MiB + 123;
	struct mp_replica *r = NULL;
	struct mp_compiled c;
	unsigned char *src;
	char text[300] = "bind:", list[256];
	int err;

	mp_mask_format(&topo->memory, list, sizeof(list));
	strncat(text, list, sizeof(text) - strlen(text) - 1);
	strncat(text, " replicate", sizeof(text) - strlen(text) - 1);
	if (compile_internal(text, &c) < 0) {
		result(false, "%s: does not compile", text);
		return;
	}
	src = malloc(len);
	if (!src) {
		mp_compiled_free(&c);
		return;
	}
	for (size_t i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 7);
	err = mp_replicate(&c, topo, src, len, &r);
	result(err == 0 && r->n == mp_mask_weight(&topo->memory), "%s: %u copies of %zu bytes (%s)", text,
	       err ? 0 : r->n, len, err ? strerror(-err) : "ok");
	if (err)
		goto out;
	for (unsigned i = 0; i < r->n; i++) {
		struct mp_nodemask m;
		char what[64];

		mp_mask_zero(&m);
		mp_mask_set(&m, (unsigned)r->node[i]);
		snprintf(what, sizeof(what), "copy %u", i);
		result(vm_expect_on(what, r->copy[i], (len + PAGE - 1) & ~(PAGE - 1), PAGE, &m) == 0 &&
			       r->misplaced[i] == 0 && !memcmp(r->copy[i], src, len),
		       "replica copy %u: every page on node %d, contents equal", i, r->node[i]);
	}
	/* from a CPU of each node with CPUs: that node's copy */
	for (unsigned i = 0; i < topo->n_nodes; i++) {
		const struct mp_node *nd = &topo->nodes[i];
		struct local_arg a = {.r = r};
		pthread_t th;
		int want = -1;

		if (!nd->n_cpus || !mp_mask_test(&topo->memory, (unsigned)nd->id))
			continue;
		for (unsigned k = 0; k < r->n; k++)
			if (r->node[k] == nd->id)
				want = (int)k;
		a.cpu = nd->cpus[0];
		if (pthread_create(&th, NULL, local_on_cpu, &a)) {
			result(false, "replica: thread on CPU %d", a.cpu);
			continue;
		}
		pthread_join(th, NULL);
		result(want >= 0 && a.got == r->copy[want],
		       "replica: a thread on CPU %d (node %d) reads copy on node %d", a.cpu, nd->id,
		       want >= 0 ? r->node[want] : -1);
	}
	/* an update reaches every copy, which stays on its node */
	for (size_t i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 13 + 1);
	err = mp_replica_update(r, src, len);
	for (unsigned i = 0; i < r->n; i++) {
		struct mp_nodemask m;

		mp_mask_zero(&m);
		mp_mask_set(&m, (unsigned)r->node[i]);
		result(!err && !memcmp(r->copy[i], src, len) &&
			       vm_expect_on("updated copy", r->copy[i], (len + PAGE - 1) & ~(PAGE - 1), PAGE, &m) == 0,
		       "replica update: copy %u (node %d) rewritten, still on its node", i, r->node[i]);
	}
	result(mp_replica_update(r, src, len - 1) == -EINVAL, "replica update with another length: -EINVAL");
	mp_replica_free(r);
out:
	free(src);
	mp_compiled_free(&c);
}

int main(void)
{
	struct mp_nodemask m;
	char text[300], list[256];
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = mp_topo_load(NULL, &topo);
	if (r < 0 || mplace_topo_load(NULL, &ptopo) < 0) {
		printf("FAIL: topology: %s\n", strerror(-r));
		return 1;
	}
	if (mp_mask_weight(&topo->memory) < 2) {
		printf("SKIP: one memory node: nothing to tell apart\n");
		return 77;
	}
	first = mp_mask_next(&topo->memory, 0);
	last = mp_mask_last(&topo->memory);

	/* bind to the last node.  Without fallback=none the policy allows the
	 * kernel to fall back when the node runs short (a CXL node of 2s-cxl
	 * sometimes does, below its watermark): every page on the node is only
	 * a promise when nothing else is allowed. */
	snprintf(text, sizeof(text), "bind:%d fallback=none", last);
	mp_mask_zero(&m);
	mp_mask_set(&m, (unsigned)last);
	test_policy(text, &m, true);

	/* interleave over first and last */
	snprintf(text, sizeof(text), "interleave:%d,%d", first, last);
	mp_mask_set(&m, (unsigned)first);
	test_policy(text, &m, true);
	test_interleave_ratio();

	/* split 3:1 over first and last: contiguous chunks per extent */
	snprintf(text, sizeof(text), "split:%d,%d weights=%d:3,%d:1 fallback=none", first, last, first, last);
	test_policy(text, &m, true);

	/* interleave over every memory node */
	mp_mask_format(&topo->memory, list, sizeof(list));
	snprintf(text, sizeof(text), "interleave:%s", list);
	test_policy(text, &topo->memory, true);

	test_strict();
	test_replicate();

	printf("alloc: %u passed, %u failed, %u skipped\n", n_pass, n_fail, n_skip);
	mplace_topo_free(ptopo);
	mp_topo_free(topo);
	return n_fail ? 1 : 0;
}

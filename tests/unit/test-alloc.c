/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy-aware allocator on this host: every call, sizes across jemalloc's
 * size classes, alignment, realloc between classes and between placements,
 * usable size, frees from another thread, one arena set per placement, and
 * the errors.  Placement itself is checked through the kernel: the range of
 * every object carries the policy (get_mempolicy MPOL_F_ADDR), and its pages
 * are on the policy's node (move_pages).  Multi-node placement is the VM
 * test's job (tests/vm/test-alloc.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include "alloc/alloc.h"
#include "basic/util.h"
#include "check.h"
#include "mplace.h"
#include "kernel/place.h"
#include "kernel/sys.h"
#include "machine/topo.h"

static struct mplace_topo *topo;

static struct mplace_compiled *compile(const char *text)
{
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_compiled *c = NULL;
	struct mplace_policy *p;

	if (mplace_policy_parse(text, &p, &err) < 0) {
		fprintf(stderr, "%s: %s\n", text, err.message);
		return NULL;
	}
	if (mplace_resolve(p, topo, NULL, &c, &err) < 0)
		fprintf(stderr, "%s: %s\n", text, err.message);
	mplace_policy_free(p);
	return c;
}

static unsigned arena_of(void *p)
{
	unsigned a = ~0u;
	size_t sz = sizeof(a);

	if (mallctl("arenas.lookup", &a, &sz, &p, sizeof(p)))
		return ~0u;
	return a;
}

/* The kernel's policy for the page holding p, and the node of that page. */
static void where(void *p, int *ret_mode, int *ret_node)
{
	uintptr_t pg = (uintptr_t)p & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
	struct mp_nodemask m;
	void *pages[1] = {(void *)pg};
	int status = -1;

	*ret_mode = -1;
	if (mp_sys_get_policy(ret_mode, &m, p, MP_MPOL_F_ADDR) < 0)
		*ret_mode = -1;
	if (mp_sys_move_pages(0, 1, pages, NULL, &status, 0) < 0)
		status = -1;
	*ret_node = status;
}

struct size_case {
	size_t size;
};

static const struct size_case sizes[] = {
	{0},	{1},	 {8},	  {16},	   {48},    {64},      {100},	  {1024},
	{4096}, {14336}, {16384}, {65536}, {65537}, {1 << 20}, {3 << 20}, {9 << 20},
};

static void test_sizes(struct mplace_compiled *c, int want_mode, int node)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(sizes); i++) {
		size_t n = sizes[i].size;
		unsigned char *p = mplace_alloc(c, n);
		int mode, at;

		CHECK_MSG(p != NULL, "size %zu", n);
		if (!p)
			continue;
		CHECK_MSG(mplace_usable_size(p) >= (n ? n : 1), "size %zu usable %zu", n, mplace_usable_size(p));
		CHECK(mp_alloc_owner_of(p) != 0);
		memset(p, 0xa5, n);
		p[0] = 0x5a;
		where(p, &mode, &at);
		CHECK_MSG(mode == want_mode, "size %zu: mode %d, want %d", n, mode, want_mode);
		CHECK_MSG(at == node, "size %zu: page on node %d, want %d", n, at, node);
		mplace_free(p);
	}
}

static void *free_all(void *arg)
{
	void **v = arg;

	for (size_t i = 0; v[i]; i++)
		mplace_free(v[i]);
	return NULL;
}

/*
 * The thread's primary set lives in the private jemalloc's automatic tcache,
 * the others in explicit ones: objects of one set must never come back from
 * another's cache.  Random allocations and frees over three sets, sizes on
 * both sides of MP_ALLOC_FAST_MAX, each object's owner checked when made.
 */
struct iso_arg {
	struct mplace_compiled *c[3];
	unsigned bad, made;
};

static void *isolation(void *arg)
{
	struct iso_arg *a = arg;
	void *live[3][64] = {{0}};
	unsigned seed = 12345, want[3] = {0};

	for (unsigned i = 0; i < 30000; i++) {
		unsigned k, slot;
		size_t n;

		seed = seed * 1103515245 + 12345;
		k = (seed >> 16) % 3;
		slot = (seed >> 8) % 64;
		n = (seed >> 20) % 8 ? 8 + (seed >> 4) % 512 : 8 + (seed >> 4) % (3 * MP_ALLOC_FAST_MAX);
		if (live[k][slot]) {
			mplace_free(live[k][slot]);
			live[k][slot] = NULL;
			continue;
		}
		live[k][slot] = mplace_alloc(a->c[k], n);
		if (!live[k][slot]) {
			a->bad++;
			continue;
		}
		a->made++;
		if (!want[k])
			want[k] = mp_alloc_owner_of(live[k][slot]);
		if (mp_alloc_owner_of(live[k][slot]) != want[k])
			a->bad++;
	}
	for (unsigned k = 0; k < 3; k++)
		for (unsigned i = 0; i < 64; i++)
			mplace_free(live[k][i]);
	if (want[0] == want[1] || want[1] == want[2] || want[0] == want[2])
		a->bad++;
	return NULL;
}

static void test_isolation(struct mplace_compiled *x, struct mplace_compiled *y, struct mplace_compiled *z)
{
	struct iso_arg a = {{x, y, z}, 0, 0}, b = {{z, x, y}, 0, 0};
	pthread_t t;

	/* a fresh thread: its primary is x; another's is z, and they swap objects
	 * through jemalloc's arenas when their caches flush */
	CHECK(pthread_create(&t, NULL, isolation, &b) == 0);
	isolation(&a);
	pthread_join(t, NULL);
	CHECK_MSG(a.bad == 0 && b.bad == 0, "%u and %u objects of the wrong set (of %u, %u)", a.bad, b.bad, a.made,
		  b.made);
	CHECK(a.made > 10000 && b.made > 10000);
}

/* The agent's heap: a thread bound to its set (its primary) gets objects of
 * any size from the private copy's malloc in that set: there is no "huge"
 * arena of jemalloc's own for big ones to escape to. */
static void *bound_big(void *arg)
{
	const int *node = arg;
	struct mp_resolve_ctx ctx = {.local_node = -1};
	struct mp_alloc_ref ref = {0};
	struct mp_compiled c;
	struct mp_topo *t;
	char text[32];
	unsigned s;
	void *p;

	snprintf(text, sizeof(text), "bind:%d weights=%d:1", *node, *node); /* a set of its own */
	if (mp_topo_load(NULL, &t) < 0) {
		CHECK(false);
		return NULL;
	}
	ctx.topo = t;
	CHECK(mp_compile(text, &ctx, &c, NULL) == 0);
	mp_topo_free(t);
	/* a new thread: this set becomes its primary, the thread bound to it */
	p = mp_alloc(&c, &ref, 64, 0);
	mp_alloc_free(p);
	s = atomic_load(&ref.set);
	CHECK(s != 0 && MP_ALLOC_TCACHE_BITS(mp_alloc_self->flags[s]) == 0);
	for (size_t n = 4096; n <= (64u << 20); n <<= 2) {
		p = mpje_malloc(n);
		CHECK_MSG(p && mp_alloc_owner_of(p) == s, "%zu bytes: owner %u, want %u", n,
			  p ? mp_alloc_owner_of(p) : 0, s);
		mpje_free(p);
	}
	mp_compiled_free(&c);
	return NULL;
}

static void test_bound_big(int node)
{
	pthread_t t;

	CHECK(pthread_create(&t, NULL, bound_big, &node) == 0);
	pthread_join(t, NULL);
}

static void test_realloc(struct mplace_compiled *c, struct mplace_compiled *other)
{
	static const size_t steps[] = {8, 100, 5000, 70000, 2 << 20, 10, 3000};
	unsigned char *p = mplace_realloc(c, NULL, 5), *q;
	size_t have = 5;

	CHECK(p != NULL);
	if (!p)
		return;
	for (size_t k = 0; k < have; k++)
		p[k] = (unsigned char)k;
	for (size_t i = 0; i < MP_ARRAY_SIZE(steps); i++) {
		size_t keep = have < steps[i] ? have : steps[i];
		bool same = true;

		q = mplace_realloc(c, p, steps[i]);
		CHECK_MSG(q != NULL, "realloc to %zu", steps[i]);
		if (!q)
			return;
		for (size_t k = 0; k < keep; k++)
			same &= q[k] == (unsigned char)k;
		CHECK_MSG(same, "contents kept to %zu", steps[i]);
		CHECK(mplace_usable_size(q) >= steps[i]);
		for (size_t k = keep; k < steps[i]; k++)
			q[k] = (unsigned char)k;
		have = steps[i];
		p = q;
	}
	/* to another placement: the object moves there, contents kept */
	q = mplace_realloc(other, p, 200);
	CHECK(q != NULL);
	if (q) {
		bool same = true;

		for (size_t k = 0; k < 200; k++)
			same &= q[k] == (unsigned char)k;
		void *o = mplace_alloc(other, 1);

		CHECK(same);
		CHECK(o && mp_alloc_owner_of(q) == mp_alloc_owner_of(o));
		mplace_free(o);
		p = q;
	}
	/* size 0 frees */
	errno = 0;
	CHECK(mplace_realloc(c, p, 0) == NULL);
}

/* Memory given back: a large object freed and its arena purged has no pages
 * left (the purge/decommit hooks ran); allocating again brings them back
 * under the same policy. */
static void test_purge(struct mplace_compiled *c, int want_mode, int node)
{
	size_t n = 8u << 20, ps = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *p = mplace_alloc(c, n);
	unsigned arena, present = 0;
	char name[64];
	int mode, at;

	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 1, n);
	arena = arena_of(p);
	mplace_free(p);
	snprintf(name, sizeof(name), "arena.%u.purge", arena);
	CHECK(mallctl(name, NULL, NULL, NULL, 0) == 0);
	for (size_t off = 0; off < n; off += ps) {
		void *pg = p + off;
		int status = 0;

		if (mp_sys_move_pages(0, 1, &pg, NULL, &status, 0) == 0 && status >= 0)
			present++;
	}
	CHECK_MSG(present == 0, "%u of %zu pages still present after purge", present, n / ps);
	p = mplace_alloc(c, n);
	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 2, n);
	where(p + n / 2, &mode, &at);
	CHECK(mode == want_mode && at == node);
	mplace_free(p);
}

static void test_replicate(struct mplace_compiled *c, int node)
{
	struct mplace_replica *r = NULL;
	static unsigned char src[10000], src2[10000];
	const unsigned char *local;
	int copy_node = -1;

	for (size_t i = 0; i < sizeof(src); i++) {
		src[i] = (unsigned char)i;
		src2[i] = (unsigned char)(i * 3);
	}
	CHECK(mplace_replicate(c, src, sizeof(src), &r) == 0);
	if (!r)
		return;
	CHECK(mplace_replica_copies(r, 0, NULL) == 1);
	CHECK(mplace_replica_copies(r, 0, &copy_node) == 1 && copy_node == node);
	CHECK(mplace_replica_copies(r, 1, &copy_node) == -EINVAL);
	local = mplace_replica_local(r);
	CHECK(local && local != src && !memcmp(local, src, sizeof(src)));
	if (local) {
		int mode, at;

		where((void *)local, &mode, &at);
		CHECK(mode == MP_MPOL_BIND && at == node);
	}
	CHECK(mplace_replica_update(r, src2, sizeof(src2)) == 0);
	CHECK(local && !memcmp(local, src2, sizeof(src2)));
	CHECK(mplace_replica_update(r, src2, sizeof(src2) - 1) == -EINVAL);
	mplace_replica_free(r);
	r = (struct mplace_replica *)0x1;
	CHECK(mplace_replicate(c, src, 0, &r) == -EINVAL && r == (struct mplace_replica *)0x1);
	CHECK(mplace_replicate(NULL, src, 10, &r) == -EINVAL);
}

int main(void)
{
	struct mplace_compiled *bind, *bind2, *pref, *strict, *huge, *phys;
	unsigned n0 = mp_alloc_n_sets(), s1, s2;
	int nodes[4], node;
	void *a, *b, *x;

	if (mplace_topo_load(NULL, &topo) < 0 || mplace_topo_nodes(topo, nodes, 4) < 1)
		CHECK_SKIP("no NUMA topology in /sys on this host");
	node = nodes[0];
	{
		char text[64];

		snprintf(text, sizeof(text), "bind:%d", node);
		bind = compile(text);
		bind2 = compile(text);
		snprintf(text, sizeof(text), "prefer:%d", node);
		pref = compile(text);
		snprintf(text, sizeof(text), "bind:%d strict", node);
		strict = compile(text);
		snprintf(text, sizeof(text), "bind:%d order=2M", node);
		huge = compile(text);
		snprintf(text, sizeof(text), "bind:%d phys<4G strict", node);
		phys = compile(text);
	}
	CHECK(bind && bind2 && pref && strict);
	if (!bind || !bind2 || !pref || !strict)
		return check_status();

	test_sizes(bind, MP_MPOL_BIND, node);
	test_sizes(pref, MP_MPOL_PREFERRED, node);
	test_sizes(strict, MP_MPOL_BIND, node);

	/* one set per placement: the same policy compiled twice shares arenas */
	a = mplace_alloc(bind, 64);
	b = mplace_alloc(bind2, 64);
	x = mplace_alloc(pref, 64);
	CHECK(a && b && x);
	s1 = mp_alloc_owner_of(a);
	s2 = mp_alloc_owner_of(x);
	CHECK(s1 && s1 == mp_alloc_owner_of(b));
	CHECK(s2 && s1 != s2);
	CHECK(arena_of(a) == arena_of(b));
	CHECK(arena_of(a) != arena_of(x));
	CHECK(arena_of(a) != 0 && arena_of(a) != ~0u); /* not jemalloc's default arena */
	CHECK(mp_alloc_n_sets() == n0 + 3);
	mplace_free(a);
	mplace_free(b);
	mplace_free(x);

	/* calloc zeroes, also memory that was used before */
	for (int i = 0; i < 2; i++) {
		unsigned char *p = mplace_calloc(bind, 100, 40);
		bool zero = true;

		CHECK(p != NULL);
		for (size_t k = 0; p && k < 4000; k++)
			zero &= p[k] == 0;
		CHECK(zero);
		if (p)
			memset(p, 0xff, 4000);
		mplace_free(p);
	}
	errno = 0;
	CHECK(mplace_calloc(bind, SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);

	/* alignment */
	for (size_t al = 1; al <= (4u << 20); al <<= 1) {
		void *p = mplace_aligned_alloc(bind, al, 24);

		CHECK_MSG(p && (uintptr_t)p % al == 0, "align %zu", al);
		mplace_free(p);
	}
	errno = 0;
	CHECK(mplace_aligned_alloc(bind, 24, 48) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(mplace_aligned_alloc(bind, 0, 48) == NULL && errno == EINVAL);

	test_isolation(bind, pref, strict);
	test_bound_big(node);

	test_realloc(bind, pref);
	test_purge(bind, MP_MPOL_BIND, node);
	test_purge(strict, MP_MPOL_BIND, node);
	test_replicate(bind, node);

	/* objects of this thread freed by another, then reused here */
	{
		void *v[1001];
		pthread_t t;

		for (size_t i = 0; i < 1000; i++) {
			v[i] = mplace_alloc(i % 2 ? bind : pref, 16 + i);
			CHECK(v[i] != NULL);
		}
		v[1000] = NULL;
		CHECK(pthread_create(&t, NULL, free_all, v) == 0);
		pthread_join(t, NULL);
		for (size_t i = 0; i < 1000; i++) {
			v[i] = mplace_alloc(bind, 16 + i);
			CHECK(v[i] && mp_alloc_owner_of(v[i]) == s1);
		}
		free_all(v);
	}

	/* errors and edge cases */
	errno = 0;
	CHECK(mplace_alloc(NULL, 8) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(mplace_realloc(NULL, NULL, 8) == NULL && errno == EINVAL);
	mplace_free(NULL);
	CHECK(mplace_usable_size(NULL) == 0);
	{
		void *m = malloc(32);

		CHECK(mplace_usable_size(m) == 0); /* not ours */
		errno = 0;
		CHECK(mplace_realloc(bind, m, 64) == NULL && errno == EINVAL);
		mplace_free(m); /* documented: handed to free() */
	}
	/* a huge allocation is refused with ENOMEM, not a crash */
	errno = 0;
	CHECK(mplace_alloc(bind, SIZE_MAX - 4096) == NULL && errno == ENOMEM);
	/* what the allocator cannot enforce is refused, not faked */
	CHECK(huge && phys);
	errno = 0;
	CHECK(huge && mplace_alloc(huge, 64) == NULL && errno == EXDEV);
	errno = 0;
	CHECK(phys && mplace_alloc(phys, 64) == NULL && errno == EXDEV);

	mplace_compiled_free(bind);
	mplace_compiled_free(bind2);
	mplace_compiled_free(pref);
	mplace_compiled_free(strict);
	mplace_compiled_free(huge);
	mplace_compiled_free(phys);
	mplace_topo_free(topo);
	return check_status();
}

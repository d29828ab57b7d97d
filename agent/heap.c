/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's malloc: with a heap policy, every malloc-family call goes to
 * jemalloc arenas placed by that policy (lib/alloc.h); without one, to
 * glibc's allocator, as if the agent were not there.
 *
 * Invariants:
 *   - the choice is made once, on the first call (which can come before the
 *     agent's constructor, from another library's) and never changes: a
 *     pointer is always freed by the allocator that made it;
 *   - the agent's own allocations, and lib/alloc.c's (its set and per-thread
 *     tables, made while it creates a set or a thread's tcache), bypass the
 *     heap sets: the thread-local `busy` flag stops the recursion malloc ->
 *     mp_alloc -> calloc -> mp_alloc, and they never touch the private
 *     jemalloc's automatic tcache (MALLOCX_TCACHE_NONE), which belongs to
 *     the thread's primary heap set (lib/alloc.h);
 *   - free never hands a pointer back to lib/alloc.c's foreign-pointer path
 *     (which calls free): pointers of no set are jemalloc default-arena
 *     objects and go to dallocx directly;
 *   - the heap set in use can change (`mplace set heap=`): objects keep the
 *     set that made them, found by address, so frees stay correct.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "agent.h"
#include "alloc.h"
#include "compiled.h"
#include "place.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

#define EXPORT	    __attribute__((visibility("default")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum { HEAP_UNDECIDED, HEAP_GLIBC, HEAP_JEMALLOC };

struct heap {
	struct mp_compiled c;
	struct mp_alloc_ref ref;
};

#define MAX_HEAPS 16
static struct heap heaps[MAX_HEAPS];
static _Atomic unsigned n_heaps;
static struct heap *_Atomic heap_cur;
static _Atomic int heap_mode;
static __thread int busy __attribute__((tls_model("initial-exec")));

bool agent_heap_active(void)
{
	return atomic_load(&heap_mode) == HEAP_JEMALLOC;
}

/* The heap policy from the environment, read directly: this can run before
 * the agent's constructor.  No allocation: getenv and a strict parser. */
static int decide(void)
{
	const char *v;
	int mode = HEAP_GLIBC, expect = HEAP_UNDECIDED;

	if (!getauxval(AT_SECURE) && (v = getenv("MPLACE_AGENT_HEAP")) && *v &&
	    mp_compiled_deserialize(v, &heaps[0].c) == 0) {
		atomic_store(&n_heaps, 1);
		atomic_store(&heap_cur, &heaps[0]);
		mode = HEAP_JEMALLOC;
	}
	if (!atomic_compare_exchange_strong(&heap_mode, &expect, mode))
		return expect;
	return mode;
}

int agent_heap_init(void)
{
	int m = atomic_load(&heap_mode);

	return m ? m : decide();
}

static inline int mode(void)
{
	int m = atomic_load_explicit(&heap_mode, memory_order_relaxed);

	return likely(m) ? m : decide();
}

/* Everything but the fast path: no set or tcache yet, recursion from inside
 * lib/alloc.c, size 0 or huge, alignment. */
static __attribute__((noinline)) void *alloc_slow(size_t n, int extra)
{
	struct heap *h = atomic_load(&heap_cur);
	void *p;

	/* never the automatic tcache: it holds the thread's primary set only */
	if (busy || !h)
		return mallocx(n ? n : 1, extra | MALLOCX_TCACHE_NONE);
	busy = 1;
	p = mp_alloc(&h->c, &h->ref, n, extra);
	busy = 0;
	return p;
}

static inline void *alloc(size_t n, int extra)
{
	struct heap *h = atomic_load_explicit(&heap_cur, memory_order_relaxed);

	if (likely(h)) {
		unsigned s = atomic_load_explicit(&h->ref.set, memory_order_acquire);
		int f = mp_alloc_self->flags[s];

		if (likely(f != 0 && n - 1 < PTRDIFF_MAX))
			return mp_alloc_fast(f, n, extra);
	}
	return alloc_slow(n, extra);
}

static inline void dealloc(void *p)
{
	if (mp_alloc_owner_of(p)) {
		mp_alloc_free(p);
		return;
	}
	if (p)
		dallocx(p, MALLOCX_TCACHE_NONE);
}

static size_t usable(void *p)
{
	return p ? sallocx(p, 0) : 0;
}

EXPORT void *malloc(size_t n)
{
	void *p;

	if (unlikely(mode() != HEAP_JEMALLOC))
		return __libc_malloc(n);
	p = alloc(n, 0);
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

EXPORT void free(void *p)
{
	if (unlikely(mode() != HEAP_JEMALLOC)) {
		__libc_free(p);
		return;
	}
	dealloc(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
	size_t t;
	void *p;

	if (unlikely(mode() != HEAP_JEMALLOC))
		return __libc_calloc(n, size);
	if (__builtin_mul_overflow(n, size, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	p = alloc(t, MALLOCX_ZERO);
	if (!p)
		errno = ENOMEM;
	return p;
}

EXPORT void *realloc(void *p, size_t n)
{
	struct heap *h;
	void *q;
	size_t old;

	if (unlikely(mode() != HEAP_JEMALLOC))
		return __libc_realloc(p, n);
	if (!p)
		return malloc(n);
	if (!n) {
		dealloc(p);
		return NULL;
	}
	h = atomic_load(&heap_cur);
	if (mp_alloc_owner_of(p) && !busy) {
		busy = 1;
		q = mp_alloc_realloc(&h->c, &h->ref, p, n);
		busy = 0;
		if (!q)
			errno = ENOMEM;
		return q;
	}
	if (busy) {
		q = rallocx(p, n, MALLOCX_TCACHE_NONE);
		if (!q)
			errno = ENOMEM;
		return q;
	}
	/* made before the heap set existed: moves into it */
	q = alloc(n, 0);
	if (!q) {
		errno = ENOMEM;
		return NULL;
	}
	old = usable(p);
	memcpy(q, p, old < n ? old : n);
	dealloc(p);
	return q;
}

static void *aligned(size_t align, size_t n)
{
	void *p;

	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	p = alloc(n ? n : 1, MALLOCX_ALIGN(align));
	if (!p)
		errno = ENOMEM;
	return p;
}

EXPORT void *memalign(size_t align, size_t n)
{
	if (unlikely(mode() != HEAP_JEMALLOC))
		return __libc_memalign(align, n);
	return aligned(align, n);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

EXPORT int posix_memalign(void **ret, size_t align, size_t n)
{
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	if (unlikely(mode() != HEAP_JEMALLOC))
		p = __libc_memalign(align, n);
	else
		p = aligned(align, n);
	if (!p)
		return ENOMEM;
	*ret = p;
	return 0;
}

EXPORT void *valloc(size_t n)
{
	return memalign(4096, n);
}

EXPORT void *pvalloc(size_t n)
{
	return memalign(4096, (n + 4095) & ~(size_t)4095);
}

EXPORT size_t malloc_usable_size(void *p)
{
	static size_t (*_Atomic real)(void *);

	if (unlikely(mode() != HEAP_JEMALLOC)) {
		size_t (*f)(void *) = atomic_load(&real);

		/* glibc's: dlsym allocates only through glibc's malloc here */
		if (!f) {
			f = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
			atomic_store(&real, f);
		}
		return f && p ? f(p) : 0;
	}
	return usable(p);
}

/* ---- mplace set heap= ----------------------------------------------------- */

int agent_heap_set(const struct mp_compiled *c, bool migrate, long *ret_moved, long *ret_misplaced)
{
	unsigned n = atomic_load(&n_heaps), old_sets[MAX_HEAPS], n_old = 0;
	long moved = 0, mis_before = 0, mis_after = 0;
	struct heap *h;
	void *p;

	if (mode() != HEAP_JEMALLOC)
		return -EOPNOTSUPP;
	if (n == MAX_HEAPS)
		return -E2BIG;
	for (unsigned i = 0; i < n; i++)
		if (atomic_load(&heaps[i].ref.set))
			old_sets[n_old++] = atomic_load(&heaps[i].ref.set);
	h = &heaps[n];
	h->c = *c;
	memset(&h->c.trace, 0, sizeof(h->c.trace));
	h->c.n_warnings = 0;
	/* create the set now, so a failure is this request's error */
	busy = 1;
	p = mp_alloc(&h->c, &h->ref, 64, 0);
	busy = 0;
	if (!p)
		return -errno;
	dealloc(p);
	atomic_store(&n_heaps, n + 1);
	atomic_store(&heap_cur, h);
	if (migrate) {
		/* the old sets' chunks: their pages move, and their future faults
		 * (objects still live there) follow the new policy */
		for (uint64_t k = 0; k < MP_ALLOC_CHUNKS; k++) {
			unsigned o = atomic_load_explicit(&mp_alloc_owner[k], memory_order_relaxed);
			void *a = (void *)(uintptr_t)(k << MP_ALLOC_CHUNK_SHIFT);
			size_t len = (size_t)1 << MP_ALLOC_CHUNK_SHIFT;
			bool old = false;

			for (unsigned i = 0; i < n_old; i++)
				old |= o == old_sets[i];
			if (!o || !old)
				continue;
			mis_before += agent_count_misplaced(a, len, c);
			mp_place_range(a, len, c, MP_PLACE_MIGRATE | MP_PLACE_NO_CHECK_FREE, NULL);
			mis_after += agent_count_misplaced(a, len, c);
		}
		moved = mis_before - mis_after;
	}
	*ret_moved = moved;
	*ret_misplaced = mis_after;
	return 0;
}

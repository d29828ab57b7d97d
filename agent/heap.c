/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's malloc: with a heap policy, every malloc-family call goes to
 * the private jemalloc (lib/alloc/mpje.h), each thread bound to an arena of the
 * heap's set, whose extents are placed by the heap policy (lib/alloc/alloc.h);
 * without one, to glibc's allocator, as if the agent were not there.
 *
 * The fast path is jemalloc's own: a bound thread's malloc is the private
 * copy's malloc, one thread-local test away, so a program pays for the
 * placement only when jemalloc asks for a new extent.
 *
 * Invariants:
 *   - the choice (glibc or jemalloc) is made once, on the first call (which
 *     can come before the agent's constructor, from another library's) and
 *     never changes: a pointer is always freed by the allocator that made it;
 *   - in jemalloc mode the process has one heap set, for its whole life;
 *     `mplace set heap=` replaces the set's placement
 *     (mp_alloc_set_replace), it does not make another set, so every
 *     thread's automatic tcache holds objects of that one set only;
 *   - a thread is `bound` once lib/alloc/alloc.c has made the heap set its
 *     primary (thread.arena is one of the set's arenas): from then on its
 *     calls go straight to the private copy.  Until then, or when the
 *     environment's MALLOC_CONF forbids binding, they take the explicit
 *     per-set path of lib/alloc/alloc.h, correct and slower;
 *   - lib/alloc/alloc.c allocates its own bookkeeping from the private copy, not
 *     through malloc; the one recursion left (glibc's pthread_setspecific
 *     may calloc while lib/alloc/alloc.c makes a thread's table) is served, under
 *     the `busy` flag, from the heap set's arena without a thread cache.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "agent.h"
#include "alloc/alloc.h"
#include "core/compiled.h"
#include "json.h"
#include "kernel/place.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

#define EXPORT	    __attribute__((visibility("default")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum { HEAP_UNDECIDED, HEAP_GLIBC, HEAP_JEMALLOC };

/* the heap's policy (agent.kind[MP_KIND_HEAP], read once from the
 * environment by whoever asks first), and the set made for it */
#define heap_c (agent.kind[MP_KIND_HEAP].c)
static struct mp_alloc_ref heap_ref;
static _Atomic int heap_mode;
static __thread bool bound __attribute__((tls_model("initial-exec")));
static __thread int busy __attribute__((tls_model("initial-exec")));

bool agent_heap_active(void)
{
	return atomic_load(&heap_mode) == HEAP_JEMALLOC;
}

/* The heap policy from the environment, read directly: this can run before
 * the agent's constructor.  No allocation: getenv and a strict parser. */
static __attribute__((noinline, cold)) int decide(void)
{
	int mode = HEAP_GLIBC, expect = HEAP_UNDECIDED;

	if (agent_env_kind(MP_KIND_HEAP))
		mode = HEAP_JEMALLOC;
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

/* Make the heap set (once) and this thread's entry for it; bind the thread
 * when lib/alloc/alloc.c made the set its primary.  The flags word, 0 on failure
 * (errno set). */
static int enter(void)
{
	int f;

	busy = 1;
	f = mp_alloc_flags(&heap_c, &heap_ref);
	busy = 0;
	if (f && MP_ALLOC_TCACHE_BITS(f) == 0)
		bound = true;
	return f;
}

/* Everything but the bound fast path.  extra: mallocx flags (alignment,
 * zeroing). */
static __attribute__((noinline)) void *alloc_slow(size_t n, int extra)
{
	unsigned a;
	int f;

	if (!n)
		n = 1;
	if (busy) {
		/* inside lib/alloc/alloc.c: the set exists (only thread setup recurses) */
		if (mp_alloc_set_arena(atomic_load(&heap_ref.set), &a) == 0)
			return mallocx(n, extra | MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE);
		return mallocx(n, extra | MALLOCX_TCACHE_NONE);
	}
	if (n > PTRDIFF_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	f = enter();
	if (!f)
		return NULL;
	return mp_alloc_fast(f, n, extra);
}

static inline void *alloc(size_t n, int extra)
{
	if (likely(bound && n - 1 < PTRDIFF_MAX))
		return mallocx(n, extra);
	return alloc_slow(n, extra);
}

static __attribute__((noinline)) void dealloc_slow(void *p)
{
	if (!p)
		return;
	if (!busy && enter() && bound) {
		mpje_free(p);
		return;
	}
	/* objects of the set go back through this thread's entry for it; the
	 * others (made under `busy` before the set existed) bypass caches */
	if (mp_alloc_owner_of(p))
		mp_alloc_free(p);
	else
		dallocx(p, MALLOCX_TCACHE_NONE);
}

static inline void dealloc(void *p)
{
	if (likely(bound)) {
		mpje_free(p);
		return;
	}
	dealloc_slow(p);
}

static size_t usable(void *p)
{
	return p ? sallocx(p, 0) : 0;
}

EXPORT void *malloc(size_t n)
{
	if (likely(bound))
		return mpje_malloc(n);
	if (unlikely(mode() != HEAP_JEMALLOC))
		return __libc_malloc(n);
	return alloc_slow(n, 0);
}

EXPORT void free(void *p)
{
	if (likely(bound)) {
		mpje_free(p);
		return;
	}
	if (unlikely(mode() != HEAP_JEMALLOC)) {
		__libc_free(p);
		return;
	}
	dealloc_slow(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
	size_t t;

	if (likely(bound))
		return mpje_calloc(n, size);
	if (unlikely(mode() != HEAP_JEMALLOC))
		return __libc_calloc(n, size);
	if (__builtin_mul_overflow(n, size, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	return alloc_slow(t, MALLOCX_ZERO);
}

EXPORT void *realloc(void *p, size_t n)
{
	void *q;
	size_t old;

	/* the private copy's realloc(p, 0) frees and returns NULL, like glibc's
	 * (lib/alloc/alloc.c sets zero_realloc:free) */
	if (likely(bound))
		return mpje_realloc(p, n);
	if (unlikely(mode() != HEAP_JEMALLOC))
		return __libc_realloc(p, n);
	if (!p)
		return malloc(n);
	if (!n) {
		/* glibc's meaning, which programs rely on: free, return NULL */
		dealloc(p);
		return NULL;
	}
	if (n > PTRDIFF_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	if (!busy && mp_alloc_owner_of(p)) {
		busy = 1;
		q = mp_alloc_realloc(&heap_c, &heap_ref, p, n);
		busy = 0;
		if (!q)
			errno = ENOMEM;
		return q;
	}
	/* made under `busy`: moves to a fresh object */
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
	return memalign((size_t)getpagesize(), n);
}

EXPORT void *pvalloc(size_t n)
{
	size_t ps = (size_t)getpagesize(), r;

	/* glibc's: rounded up to whole pages, and one page for 0 */
	if (__builtin_add_overflow(n ? n : 1, ps - 1, &r)) {
		errno = ENOMEM;
		return NULL;
	}
	return memalign(ps, r & ~(ps - 1));
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
	long moved = 0, mis_before = 0, mis_after = 0;
	unsigned s;
	int r;

	if (mode() != HEAP_JEMALLOC)
		return -EOPNOTSUPP;
	/* the set exists once anything was allocated; make sure */
	if (!atomic_load(&heap_ref.set) && !enter())
		return -errno;
	r = mp_alloc_set_replace(&heap_ref, c);
	if (r < 0)
		return r;
	s = atomic_load(&heap_ref.set);
	if (migrate) {
		/* the set's chunks: their pages move; new extents already follow
		 * c, and so do later faults of the ranges mp_place_range binds */
		for (uint64_t k = 0; k < MP_ALLOC_CHUNKS; k++) {
			void *a = (void *)(uintptr_t)(k << MP_ALLOC_CHUNK_SHIFT);
			size_t len = (size_t)1 << MP_ALLOC_CHUNK_SHIFT;

			if (atomic_load_explicit(&mp_alloc_owner[k], memory_order_relaxed) != s)
				continue;
			mis_before += agent_count_misplaced(a, len, c);
			mp_place_range(a, len, c, MP_PLACE_MIGRATE | MP_PLACE_NO_CHECK_FREE, NULL);
			mis_after += agent_count_misplaced(a, len, c);
		}
		moved = mis_before - mis_after;
	} else {
		/* pages that fault later, in extents jemalloc already has */
		for (uint64_t k = 0; k < MP_ALLOC_CHUNKS; k++)
			if (atomic_load_explicit(&mp_alloc_owner[k], memory_order_relaxed) == s)
				mp_place_range((void *)(uintptr_t)(k << MP_ALLOC_CHUNK_SHIFT),
					       (size_t)1 << MP_ALLOC_CHUNK_SHIFT, c, MP_PLACE_NO_CHECK_FREE, NULL);
	}
	*ret_moved = moved;
	*ret_misplaced = mis_after;
	return 0;
}

/* ---- show ------------------------------------------------------------------- */

void agent_heap_ranges_json(struct jw *w)
{
	unsigned s = mode() == HEAP_JEMALLOC ? atomic_load(&heap_ref.set) : 0;
	bool first = true;

	if (!s)
		return;
	/* runs of consecutive chunks the heap's set owns: every extent of the
	 * heap lies in one (lib/alloc/alloc.h) */
	for (uint64_t k = 0; k < MP_ALLOC_CHUNKS; k++) {
		uint64_t end = k;

		if (atomic_load_explicit(&mp_alloc_owner[k], memory_order_relaxed) != s)
			continue;
		while (end + 1 < MP_ALLOC_CHUNKS &&
		       atomic_load_explicit(&mp_alloc_owner[end + 1], memory_order_relaxed) == s)
			end++;
		jw_printf(w, "%s{\"start\": \"0x%" PRIx64 "\", \"end\": \"0x%" PRIx64 "\", \"kind\": \"heap\"}",
			  first ? "" : ", ", k << MP_ALLOC_CHUNK_SHIFT, (end + 1) << MP_ALLOC_CHUNK_SHIFT);
		first = false;
		k = end;
	}
}

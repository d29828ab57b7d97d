/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The policy-aware allocator: jemalloc arenas whose extent hooks place every
 * extent they hand to jemalloc by a compiled policy.
 *
 * The fast paths are inline so that public.c's wrappers compile to one load
 * of the arena set cached in the handle, one thread-local load, and one call
 * into the private jemalloc (lib/alloc/mpje.h).  Everything that can take a lock
 * or a syscall lives in alloc.c behind the *_slow functions.
 *
 * Invariants:
 *   - every extent of a set's arenas lies in 1 GiB address-space chunks owned
 *     by that set alone; mp_alloc_owner[addr >> 30] names the owner, so a free
 *     finds the set of any pointer with one load, no lookup in jemalloc;
 *   - a thread's tcache for set s only ever holds objects of set s: objects of
 *     s are freed only into this thread's tcache for s, and that tcache is
 *     filled only from an arena of s (jemalloc's own tcache would hand a
 *     MALLOCX_ARENA caller objects of any arena);
 *   - a thread's first set is its primary: the thread is bound to one of the
 *     set's arenas (thread.arena) and uses the private jemalloc's automatic
 *     tcache for it, so malloc/free of the private copy (lib/alloc/mpje.h), its
 *     fastest paths, serve that set.  Nothing else ever allocates from or
 *     frees into that copy's automatic tcache: every other set has an
 *     explicit tcache, and no caller outside this allocator uses the copy;
 *     the primary's flags word has no tcache bits, and that is how the fast
 *     paths know it;
 *   - a set, once created, lives as long as the process (arenas cannot be
 *     destroyed while objects of them may still be live).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpje.h"

#include "core/combine.h"

/* At most this many distinct placements (arena sets) per process. */
#define MP_ALLOC_MAX_SETS    255
#define MP_ALLOC_CHUNK_SHIFT 30
/* user space is at most 47 bits without LA57; pointers above are not ours */
#define MP_ALLOC_CHUNKS (UINT64_C(1) << (47 - MP_ALLOC_CHUNK_SHIFT))

/* Kept inside each public compiled handle: its set index + 1, 0 until first
 * use.  Written once (under the registry lock), read racily by design. */
struct mp_alloc_ref {
	_Atomic unsigned set;
};

/* One per thread, allocated on its first allocation; freed (and its
 * tcaches destroyed) by a pthread key destructor.  Until then a thread points
 * at an all-zero table, and flags[0] is always 0, so the fast paths need no
 * NULL or "no set yet" test: a zero flags word is the one branch to the slow
 * path. */
struct mp_alloc_thread {
	int flags[MP_ALLOC_MAX_SETS + 1]; /* MALLOCX_ARENA [| MALLOCX_TCACHE], 0: none yet */
	unsigned primary;		  /* the set bound to this thread's arena, 0: none yet */
};

/* The fast paths serve a thread's primary set through the private copy's
 * malloc up to jemalloc's largest small size class (14 KiB with 4 KiB
 * pages), where its thread cache does the work; larger sizes go through
 * mallocx with the set's arena, as for other sets. */
#define MP_ALLOC_FAST_MAX 14336

/* Owner set (+1) of each 1 GiB chunk of the address space. */
extern _Atomic uint8_t mp_alloc_owner[MP_ALLOC_CHUNKS];
extern __thread struct mp_alloc_thread *mp_alloc_self __attribute__((tls_model("initial-exec")));
extern struct mp_alloc_thread mp_alloc_no_thread;

/* The flags for set s in this thread, creating its tcache (and the thread
 * table) as needed; 0 and errno set on failure. */
int mp_alloc_thread_flags_slow(unsigned s);
/* The set for c, matched or created, cached in ref.  Returns s >= 1 or -errno. */
int mp_alloc_set_slow(const struct mp_compiled *c, struct mp_alloc_ref *ref);
/* Free of a pointer whose owner is unknown or whose thread has no tcache. */
void mp_alloc_free_slow(void *p);

/* mallocx flags for the set of ref in this thread, or 0 with errno set. */
static inline int mp_alloc_flags(const struct mp_compiled *c, struct mp_alloc_ref *ref)
{
	unsigned s = atomic_load_explicit(&ref->set, memory_order_acquire);
	int f = mp_alloc_self->flags[s], r;

	if (__builtin_expect(f != 0, 1))
		return f;
	if (!s) {
		r = mp_alloc_set_slow(c, ref);
		if (r < 0) {
			errno = -r;
			return 0;
		}
		s = (unsigned)r;
	}
	return mp_alloc_thread_flags_slow(s);
}

/* The set (+1) owning p, 0 when p is not from a set. */
static inline unsigned mp_alloc_owner_of(const void *p)
{
	uintptr_t k = (uintptr_t)p >> MP_ALLOC_CHUNK_SHIFT;

	if (k >= MP_ALLOC_CHUNKS)
		return 0;
	return atomic_load_explicit(&mp_alloc_owner[k], memory_order_relaxed);
}

/* The tcache part of a flags word: what dallocx and sallocx take. */
#define MP_ALLOC_TCACHE_BITS(f) ((f) & (0xfff << 8))

/* Everything but the fast path of mp_alloc: the set or this thread's tcache
 * not there yet, a size too large, a failed lookup. */
void *mp_alloc_slow(const struct mp_compiled *c, struct mp_alloc_ref *ref, size_t size, int extra);

/*
 * Both exits are tail calls, so the fast path needs no stack frame: one load
 * of the handle's set, one thread-local load, one load of the flags, mallocx.
 * mallocx does not set errno; every way it can fail with a size below
 * PTRDIFF_MAX goes through an extent hook, and the hooks set ENOMEM.
 */
/* An allocation for flags word f (non-zero), size in [1, PTRDIFF_MAX]. */
static inline void *mp_alloc_fast(int f, size_t size, int extra)
{
	/* size 0 wraps around: mallocx(0) is undefined, the callers exclude it */
	if (__builtin_expect(MP_ALLOC_TCACHE_BITS(f) == 0 && !extra && size - 1 < MP_ALLOC_FAST_MAX, 1))
		return mpje_malloc(size);
	return mallocx(size, f | extra);
}

/* The free of p, of a set whose flags word in this thread is f (non-zero). */
static inline void mp_alloc_free_fast(int f, void *p)
{
	if (__builtin_expect(MP_ALLOC_TCACHE_BITS(f) == 0, 1))
		mpje_free(p);
	else
		dallocx(p, MP_ALLOC_TCACHE_BITS(f));
}

static inline void *mp_alloc(const struct mp_compiled *c, struct mp_alloc_ref *ref, size_t size, int extra)
{
	unsigned s = atomic_load_explicit(&ref->set, memory_order_acquire);
	int f = mp_alloc_self->flags[s];

	if (__builtin_expect(f != 0 && size - 1 < PTRDIFF_MAX, 1))
		return mp_alloc_fast(f, size, extra);
	return mp_alloc_slow(c, ref, size, extra);
}

static inline void mp_alloc_free(void *p)
{
	int f = mp_alloc_self->flags[mp_alloc_owner_of(p)];

	if (__builtin_expect(f != 0, 1)) {
		mp_alloc_free_fast(f, p);
		return;
	}
	if (p)
		mp_alloc_free_slow(p);
}

void *mp_alloc_realloc(const struct mp_compiled *c, struct mp_alloc_ref *ref, void *p, size_t size);
size_t mp_alloc_usable_size(const void *p);

/* Apply c to [addr, addr+len): the allocator's and replication's one door to
 * placement.  populate: fault in and verify every page (strict).  -errno. */
int mp_alloc_place(void *addr, size_t len, const struct mp_compiled *c, bool populate);

/* For tests and the benchmark: the set and the jemalloc arena this thread
 * uses for ref (after one allocation), or -errno. */
int mp_alloc_ref_arena(const struct mp_alloc_ref *ref, unsigned *ret_set, unsigned *ret_arena);
/*
 * Place the set of ref by c from now on: extents made after this call follow
 * c; what is already there stays (move it with mp_place_range).  For the
 * agent's `mplace set heap=`, where threads stay bound to the heap's arenas.
 * -EXDEV when c differs in strictness or page order (other hooks), -ENOENT
 * before the set exists.
 */
int mp_alloc_set_replace(struct mp_alloc_ref *ref, const struct mp_compiled *c);
/* An arena of set s (>= 1), for callers that must allocate from the set
 * without a thread cache.  -ENOENT when there is no such set. */
int mp_alloc_set_arena(unsigned s, unsigned *ret_arena);
/* Number of sets created so far. */
unsigned mp_alloc_n_sets(void);

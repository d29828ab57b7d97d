/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Arena sets: one per distinct placement, each a few jemalloc arenas whose
 * extent hooks take address space from 1 GiB chunks the set owns and place
 * every extent by the set's compiled policy before jemalloc uses it.
 *
 * Invariants (see alloc.h for the fast paths that rely on them):
 *   - a chunk belongs to one set for the life of the process; its owner byte
 *     is written before any extent of it reaches jemalloc, so any pointer a
 *     caller holds maps to its set;
 *   - address space is never returned to the kernel (the dalloc hook opts
 *     out, as jemalloc does itself with opt.retain): jemalloc keeps the range
 *     and reuses it; the pages are returned through the decommit and purge
 *     hooks (MADV_DONTNEED / MADV_FREE), at the pace of jemalloc's decay;
 *   - a strict set never lets jemalloc reuse memory behind its back: it has
 *     no purge hooks and no muzzy state, so a released extent is decommitted
 *     and must pass through the commit hook, which populates it and checks
 *     every page's node, before it is used again.  A failed commit makes
 *     mallocx return NULL; nothing is left to fault later under MPOL_BIND,
 *     where the kernel would OOM-kill instead of failing;
 *   - hooks run inside jemalloc with its locks held: they never call
 *     malloc/mallocx and take only the set's own chunk lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "basic/util.h"
#include "kernel/place.h"
#include "core/mpol.h"

#define CHUNK (UINT64_C(1) << MP_ALLOC_CHUNK_SHIFT)
/* Arenas per set: threads are spread over them, so fills and flushes of
 * different threads rarely meet on one arena lock. */
#define ARENAS_PER_SET 4

struct set {
	extent_hooks_t hooks; /* first: the hooks get this pointer back */
	struct mp_compiled c; /* placement fields only: no warnings, no trace */
	/* what the hooks place by: &c, or a replacement (mp_alloc_set_replace),
	 * each copy kept for the life of the process (a hook may still read an
	 * older one) */
	const struct mp_compiled *_Atomic place;
	unsigned idx;
	unsigned n_arenas;
	unsigned arena[ARENAS_PER_SET];
	_Atomic unsigned next; /* round robin of threads over arenas */
	pthread_mutex_t lock;  /* the bump chunk below */
	uintptr_t cur, end;
};

_Atomic uint8_t mp_alloc_owner[MP_ALLOC_CHUNKS];
struct mp_alloc_thread mp_alloc_no_thread; /* never written: all zero */
__thread struct mp_alloc_thread *mp_alloc_self __attribute__((tls_model("initial-exec"))) = &mp_alloc_no_thread;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct set *sets[MP_ALLOC_MAX_SETS + 1];
static _Atomic unsigned n_sets;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static int key_err;
static size_t page_size; /* set before the first arena exists */

/*
 * The private copy's configuration (lib/alloc/mpje.h): realloc(p, 0) frees p and
 * returns NULL, as glibc's does (the agent's realloc is this copy's).
 * jemalloc's "huge" arena needs no setting: a thread bound to a manual arena
 * (a set's) gets its big objects from that arena too.  MALLOC_CONF in the
 * environment still applies on top (primary_init checks what matters).
 */
const char *mpje_malloc_conf = "zero_realloc:free";

/* The allocator's bookkeeping (sets, thread tables): from the private copy's
 * arena 0, never through the process's malloc (which, under the agent, is
 * this allocator: no recursion) and never through a thread cache (the
 * automatic one holds the thread's primary set only). */
static void *internal_calloc(size_t size)
{
	return mallocx(size, MALLOCX_ZERO | MALLOCX_ARENA(0) | MALLOCX_TCACHE_NONE);
}

static void internal_free(void *p)
{
	if (p)
		dallocx(p, MALLOCX_TCACHE_NONE);
}

/* ---- placing an extent -------------------------------------------------- */

/* The one place the allocator applies a policy to memory.  Strict extents are
 * populated and verified page by page; on failure their pages are released. */
int mp_alloc_place(void *addr, size_t len, const struct mp_compiled *c, bool populate)
{
	unsigned flags = populate ? MP_PLACE_POPULATE | MP_PLACE_VERIFY : 0;

	return mp_place_range(addr, len, c, flags, NULL);
}

/* ---- address space ------------------------------------------------------ */

/* Reserve n chunks, chunk aligned, inaccessible and uncharged until an extent
 * is carved from them. */
static uintptr_t reserve(size_t n)
{
	size_t len = n * CHUNK, map = len + CHUNK;
	uintptr_t p, a;
	void *m;

	m = mmap(NULL, map, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return 0;
	p = (uintptr_t)m;
	a = (p + CHUNK - 1) & ~(CHUNK - 1);
	if (a > p)
		munmap(m, a - p);
	if (a + len < p + map)
		munmap((void *)(a + len), p + map - a - len);
	if ((a >> MP_ALLOC_CHUNK_SHIFT) + n > MP_ALLOC_CHUNKS) {
		munmap((void *)a, len);
		return 0;
	}
	return a;
}

static void own(uintptr_t a, size_t n, unsigned idx)
{
	for (size_t i = 0; i < n; i++)
		atomic_store_explicit(&mp_alloc_owner[(a >> MP_ALLOC_CHUNK_SHIFT) + i], (uint8_t)idx,
				      memory_order_release);
}

/* Carve size bytes aligned to align from the set's chunks. */
static uintptr_t carve(struct set *s, size_t size, size_t align)
{
	uintptr_t a = 0, at;
	size_t n;

	pthread_mutex_lock(&s->lock);
	at = (s->cur + align - 1) & ~(uintptr_t)(align - 1);
	if (s->cur && at + size <= s->end && at >= s->cur) {
		a = at;
		s->cur = at + size;
		goto out;
	}
	/* chunk aligned, so any alignment up to 1 GiB holds */
	n = (size + CHUNK - 1) / CHUNK;
	at = reserve(n);
	if (!at)
		goto out;
	own(at, n, s->idx);
	a = at;
	/* a one-chunk extent starts a new bump chunk; a larger one keeps its own */
	if (n == 1) {
		s->cur = at + size;
		s->end = at + CHUNK;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return a;
}

/* ---- extent hooks ------------------------------------------------------- */

static struct set *set_of(extent_hooks_t *h)
{
	return (struct set *)h; /* hooks is the first member */
}

static void *hook_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t align, bool *zero, bool *commit,
			unsigned arena_ind)
{
	struct set *s = set_of(h);
	const struct mp_compiled *c = atomic_load_explicit(&s->place, memory_order_acquire);
	uintptr_t a;

	/* a fixed address is only asked for to grow in place: decline */
	if (new_addr)
		return NULL;
	a = carve(s, size, align < page_size ? page_size : align);
	if (!a)
		goto nomem;
	/* non-strict: bind while the range is still PROT_NONE, because under
	 * mlockall(MCL_FUTURE) the kernel fills it at the mprotect.  (A strict
	 * extent is populated and verified below or at commit: pages filled
	 * at the mprotect elsewhere fail it, ENOMEM, never misplaced.) */
	if (!c->strict && mp_alloc_place((void *)a, size, c, false) < 0)
		goto nomem;
	if (mprotect((void *)a, size, PROT_READ | PROT_WRITE) < 0)
		goto nomem;
	if (c->strict && !*commit) {
		/* the commit hook populates and verifies the part jemalloc uses */
		*zero = true;
		return (void *)a;
	}
	/* strict: capacity checked, every page populated and verified */
	if (c->strict && mp_alloc_place((void *)a, size, c, true) < 0) {
		mprotect((void *)a, size, PROT_NONE);
		goto nomem;
	}
	*zero = true;
	*commit = true;
	return (void *)a;
nomem:
	/* the caller's mallocx returns NULL and does not set errno itself */
	errno = ENOMEM;
	return NULL;
}

static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena_ind)
{
	return true; /* keep the address range: jemalloc retains and reuses it */
}

static void hook_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena_ind)
{
	/* drop the pages, keep the reservation: the chunk stays this set's */
	mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

static bool hook_commit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len, unsigned arena_ind)
{
	struct set *s = set_of(h);

	const struct mp_compiled *c = atomic_load_explicit(&s->place, memory_order_acquire);

	if (!c->strict)
		return false; /* the pages fault in under the range's policy */
	if (mp_alloc_place((char *)addr + off, len, c, true) < 0) {
		errno = ENOMEM; /* see hook_alloc */
		return true;
	}
	return false;
}

static bool hook_decommit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len, unsigned arena_ind)
{
	/* the range keeps its policy (mbind is per range, not per page) */
	return madvise((char *)addr + off, len, MADV_DONTNEED) < 0;
}

static bool hook_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len, unsigned arena_ind)
{
	return madvise((char *)addr + off, len, MADV_FREE) < 0;
}

static bool hook_purge_forced(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len, unsigned arena_ind)
{
	return madvise((char *)addr + off, len, MADV_DONTNEED) < 0;
}

static bool hook_split(extent_hooks_t *h, void *addr, size_t size, size_t a, size_t b, bool committed,
		       unsigned arena_ind)
{
	return false; /* plain anonymous memory splits anywhere */
}

static bool hook_merge(extent_hooks_t *h, void *a, size_t asize, void *b, size_t bsize, bool committed,
		       unsigned arena_ind)
{
	/* jemalloc merges only extents of one arena, hence of one set */
	return false;
}

/* ---- sets --------------------------------------------------------------- */

/* Two compiled policies share a set when they place memory the same way:
 * every field mp_place_range reads (warnings and the trace are not read). */
static bool same_placement(const struct mp_compiled *a, const struct mp_compiled *b)
{
	if (a->mode != b->mode || a->kmode != b->kmode || a->kflags != b->kflags || a->strict != b->strict ||
	    a->order != b->order || a->home != b->home || !mp_mask_equal(&a->nodes, &b->nodes) ||
	    a->has_weights != b->has_weights || a->n_fallback != b->n_fallback || a->phys_lo != b->phys_lo ||
	    a->phys_hi != b->phys_hi)
		return false;
	/* non-strict placement spills in this order when the nodes are full */
	for (unsigned i = 0; i < a->n_fallback && i < MP_COMPILED_MAX; i++)
		if (a->fallback[i] != b->fallback[i])
			return false;
	if (!a->has_weights)
		return true;
	if (a->n_weights != b->n_weights)
		return false;
	for (unsigned i = 0; i < a->n_weights; i++)
		if (a->weight[i] != b->weight[i] || a->weight_node[i] != b->weight_node[i])
			return false;
	return true;
}

static int mallctl_r(const char *name, void *old, size_t *oldlen, void *new, size_t newlen)
{
	int r = mallctl(name, old, oldlen, new, newlen);

	return r ? -r : 0;
}

/* One more arena for s, under the registry lock.  Arenas cannot be taken
 * back: one made and then failing its setup stays, unused. */
static int add_arena(struct set *s)
{
	extent_hooks_t *hp = &s->hooks;
	size_t sz = sizeof(unsigned);
	unsigned ind;
	char name[64];
	int r;

	r = mallctl_r("arenas.create", &ind, &sz, &hp, sizeof(hp));
	if (r < 0)
		return r;
	if (s->c.strict) {
		ssize_t zero = 0;

		snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", ind);
		r = mallctl_r(name, NULL, NULL, &zero, sizeof(zero));
		if (r < 0)
			return r;
	}
	s->arena[s->n_arenas++] = ind;
	return 0;
}

static int set_create(const struct mp_compiled *c, struct set **ret)
{
	struct set *s;
	int r = 0;

	/* hugetlb pages come from per-node pools in fixed sizes; jemalloc splits
	 * and purges extents at base-page granularity, so they cannot back it */
	if (!page_size)
		page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (c->order > MP_ORDER_THP && c->order != page_size)
		return -EXDEV;
	/* only a hugetlb pool can hold memory inside a physical range */
	if (c->strict && (c->phys_lo != 0 || c->phys_hi != UINT64_MAX))
		return -EXDEV;
	s = internal_calloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->hooks = (extent_hooks_t){
		.alloc = hook_alloc,
		.dalloc = hook_dalloc,
		.destroy = hook_destroy,
		.commit = hook_commit,
		.decommit = hook_decommit,
		.purge_lazy = c->strict ? NULL : hook_purge_lazy,
		.purge_forced = c->strict ? NULL : hook_purge_forced,
		.split = hook_split,
		.merge = hook_merge,
	};
	s->c = *c;
	/* the copy must not share the caller's heap parts, which it may free */
	s->c.n_warnings = 0;
	memset(s->c.warnings, 0, sizeof(s->c.warnings));
	mp_trace_init(&s->c.trace);
	atomic_store(&s->place, &s->c);
	pthread_mutex_init(&s->lock, NULL);
	s->idx = atomic_load(&n_sets) + 1;
	/* the first arena now, so a failure is the caller's error; the others
	 * when threads arrive (each costs jemalloc metadata and page faults,
	 * and a single-threaded program never needs them) */
	r = add_arena(s);
	if (r < 0) {
		pthread_mutex_destroy(&s->lock);
		internal_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- fork ------------------------------------------------------------------
 *
 * A child of a multi-threaded process has one thread; a lock another thread
 * held at the fork stays held there for ever, and the child's next new
 * thread or set would wait on it.  The locks are taken before the fork and
 * released on both sides, in the order the code takes them: the registry,
 * then jemalloc's own (its handlers, registered when the private copy
 * initialises), then the sets' chunk locks (taken inside the extent hooks,
 * under jemalloc's).  pthread_atfork runs prepare handlers in the reverse
 * order of registration: so the sets' handlers are registered before the
 * private copy is first used, and the registry's after.
 */
static void fork_sets_prepare(void)
{
	unsigned n = atomic_load(&n_sets);

	for (unsigned i = 1; i <= n; i++)
		pthread_mutex_lock(&sets[i]->lock);
}

static void fork_sets_release(void)
{
	unsigned n = atomic_load(&n_sets);

	for (unsigned i = n; i >= 1; i--)
		pthread_mutex_unlock(&sets[i]->lock);
}

static void fork_registry_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
}

static void fork_registry_release(void)
{
	pthread_mutex_unlock(&registry_lock);
}

static pthread_once_t fork_sets_once = PTHREAD_ONCE_INIT, fork_registry_once = PTHREAD_ONCE_INIT;

static void fork_sets_init(void)
{
	pthread_atfork(fork_sets_prepare, fork_sets_release, fork_sets_release);
}

static void fork_registry_init(void)
{
	pthread_atfork(fork_registry_prepare, fork_registry_release, fork_registry_release);
}

int mp_alloc_set_slow(const struct mp_compiled *c, struct mp_alloc_ref *ref)
{
	unsigned n, s = 0;
	struct set *set;
	int r;

	if (!c || !ref)
		return -EINVAL;
	/* before anything touches the private copy (see "fork" above) */
	pthread_once(&fork_sets_once, fork_sets_init);
	pthread_mutex_lock(&registry_lock);
	s = atomic_load(&ref->set);
	if (s)
		goto out;
	n = atomic_load(&n_sets);
	for (unsigned i = 1; i <= n; i++)
		if (same_placement(atomic_load(&sets[i]->place), c)) {
			s = i;
			goto publish;
		}
	if (n >= MP_ALLOC_MAX_SETS) {
		r = -E2BIG;
		goto fail;
	}
	r = set_create(c, &set);
	if (r < 0)
		goto fail;
	sets[n + 1] = set;
	atomic_store(&n_sets, n + 1);
	s = n + 1;
publish:
	atomic_store_explicit(&ref->set, s, memory_order_release);
out:
	pthread_mutex_unlock(&registry_lock);
	/* the private copy is initialised by now: its handlers run before
	 * these (see "fork" above) */
	pthread_once(&fork_registry_once, fork_registry_init);
	return (int)s;
fail:
	pthread_mutex_unlock(&registry_lock);
	pthread_once(&fork_registry_once, fork_registry_init);
	return r;
}

int mp_alloc_set_replace(struct mp_alloc_ref *ref, const struct mp_compiled *c)
{
	struct mp_compiled *copy;
	struct set *s;
	unsigned i;
	int r = 0;

	if (!ref || !c)
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	i = atomic_load(&ref->set);
	if (!i) {
		r = -ENOENT;
		goto out;
	}
	s = sets[i];
	/* a strict set has other hooks (no purging) and decay settings */
	if (c->strict != s->c.strict || (c->order > MP_ORDER_THP && c->order != page_size)) {
		r = -EXDEV;
		goto out;
	}
	copy = internal_calloc(sizeof(*copy));
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	*copy = *c;
	copy->n_warnings = 0;
	memset(copy->warnings, 0, sizeof(copy->warnings));
	mp_trace_init(&copy->trace);
	atomic_store_explicit(&s->place, copy, memory_order_release);
out:
	pthread_mutex_unlock(&registry_lock);
	return r;
}

int mp_alloc_set_arena(unsigned s, unsigned *ret_arena)
{
	int r = -ENOENT;

	pthread_mutex_lock(&registry_lock);
	if (s && s <= atomic_load(&n_sets) && sets[s]->n_arenas) {
		*ret_arena = sets[s]->arena[0];
		r = 0;
	}
	pthread_mutex_unlock(&registry_lock);
	return r;
}

unsigned mp_alloc_n_sets(void)
{
	return atomic_load(&n_sets);
}

/* ---- threads ------------------------------------------------------------ */

static int tcache_of(int flags)
{
	return ((flags >> 8) & 0xfff) - 2;
}

static void thread_exit(void *arg)
{
	struct mp_alloc_thread *t = arg;

	for (unsigned s = 1; s <= MP_ALLOC_MAX_SETS; s++) {
		unsigned tc;

		if (!t->flags[s] || tcache_of(t->flags[s]) < 0)
			continue;
		/* flushes its objects back to their arenas */
		tc = (unsigned)tcache_of(t->flags[s]);
		mallctl("tcache.destroy", NULL, NULL, &tc, sizeof(tc));
	}
	mp_alloc_self = &mp_alloc_no_thread;
	internal_free(t);
}

static void key_init(void)
{
	key_err = pthread_key_create(&thread_key, thread_exit);
}

/*
 * Whether a thread may be bound to its primary set's arena and use malloc:
 * only when the private copy keeps a thread on the arena it was given.
 * MALLOC_CONF (read by every jemalloc in the process, ours included) can
 * turn on per-CPU arenas, which reassign threads to arenas as they migrate
 * between CPUs; jemalloc leaves threads bound to manual arenas alone, but
 * this is not promised anywhere, so with per-CPU arenas every set gets an
 * explicit tcache instead.  (Its "huge" arena is no concern: a thread bound
 * to a manual arena gets its big objects from that arena; test-alloc checks
 * it.)
 */
static pthread_once_t primary_once = PTHREAD_ONCE_INIT;
static bool primary_ok;

static void primary_init(void)
{
	const char *percpu = NULL;
	size_t sz = sizeof(percpu);

	primary_ok = mallctl("opt.percpu_arena", &percpu, &sz, NULL, 0) == 0 && percpu && !strcmp(percpu, "disabled");
}

int mp_alloc_thread_flags_slow(unsigned s)
{
	struct mp_alloc_thread *t = mp_alloc_self;
	unsigned tc, k;
	size_t sz = sizeof(tc);
	struct set *set;
	int f;

	if (!s || s > atomic_load(&n_sets)) {
		errno = EINVAL;
		return 0;
	}
	if (t == &mp_alloc_no_thread) {
		pthread_once(&key_once, key_init);
		if (key_err) {
			errno = key_err;
			return 0;
		}
		t = internal_calloc(sizeof(*t));
		if (!t) {
			errno = ENOMEM;
			return 0;
		}
		if (pthread_setspecific(thread_key, t)) {
			internal_free(t);
			errno = ENOMEM;
			return 0;
		}
		mp_alloc_self = t;
	}
	if (t->flags[s])
		return t->flags[s];
	pthread_mutex_lock(&registry_lock);
	set = sets[s];
	/* threads are spread over up to ARENAS_PER_SET arenas, made as needed;
	 * if one cannot be made, the ones there are serve */
	k = atomic_fetch_add(&set->next, 1) % ARENAS_PER_SET;
	if (k >= set->n_arenas && add_arena(set) < 0)
		k %= set->n_arenas;
	else if (k >= set->n_arenas)
		k = set->n_arenas - 1;
	pthread_mutex_unlock(&registry_lock);
	/* the thread's first set: bind the thread to the arena, so the private
	 * copy's automatic tcache and its malloc/free fast paths serve it */
	pthread_once(&primary_once, primary_init);
	if (!t->primary && primary_ok && mallctl("thread.arena", NULL, NULL, &set->arena[k], sizeof(unsigned)) == 0) {
		t->primary = s;
		f = MALLOCX_ARENA(set->arena[k]);
	}
	/* jemalloc has a bounded number of explicit tcaches: past it, this
	 * thread goes to the arena directly (correct, only slower) */
	else if (mallctl("tcache.create", &tc, &sz, NULL, 0) == 0)
		f = MALLOCX_ARENA(set->arena[k]) | MALLOCX_TCACHE(tc);
	else
		f = MALLOCX_ARENA(set->arena[k]) | MALLOCX_TCACHE_NONE;
	t->flags[s] = f;
	return f;
}

void mp_alloc_free_slow(void *p)
{
	unsigned s = mp_alloc_owner_of(p);
	int f;

	if (!s) {
		/* not ours: what malloc gave (the documented fallback) */
		free(p);
		return;
	}
	f = mp_alloc_thread_flags_slow(s);
	dallocx(p, f ? MP_ALLOC_TCACHE_BITS(f) : MALLOCX_TCACHE_NONE);
}

/* ---- the rest of the calls ---------------------------------------------- */

void *mp_alloc_slow(const struct mp_compiled *c, struct mp_alloc_ref *ref, size_t size, int extra)
{
	int f;

	if (size > PTRDIFF_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	f = mp_alloc_flags(c, ref);
	if (!f)
		return NULL;
	/* like malloc(0), the smallest object */
	return mallocx(size ? size : 1, f | extra);
}

void *mp_alloc_realloc(const struct mp_compiled *c, struct mp_alloc_ref *ref, void *p, size_t size)
{
	unsigned from;
	size_t old;
	void *q;
	int f;

	if (!p)
		return mp_alloc(c, ref, size, 0);
	from = mp_alloc_owner_of(p);
	if (!from) {
		errno = EINVAL; /* its size is unknown: not ours to move */
		return NULL;
	}
	if (!size) {
		mp_alloc_free(p);
		return NULL;
	}
	f = mp_alloc_flags(c, ref);
	if (!f)
		return NULL;
	if (from == atomic_load_explicit(&ref->set, memory_order_relaxed)) {
		q = rallocx(p, size, f);
		if (!q)
			errno = ENOMEM;
		return q;
	}
	/* another placement: the object moves to memory placed by this one */
	q = mallocx(size, f);
	if (!q) {
		errno = ENOMEM;
		return NULL;
	}
	old = sallocx(p, 0);
	memcpy(q, p, old < size ? old : size);
	mp_alloc_free(p);
	return q;
}

size_t mp_alloc_usable_size(const void *p)
{
	if (!p || !mp_alloc_owner_of(p))
		return 0;
	return sallocx((void *)p, 0);
}

int mp_alloc_ref_arena(const struct mp_alloc_ref *ref, unsigned *ret_set, unsigned *ret_arena)
{
	unsigned s = atomic_load(&ref->set);
	struct mp_alloc_thread *t = mp_alloc_self;

	if (!s || !t->flags[s])
		return -ENOENT;
	if (ret_set)
		*ret_set = s;
	if (ret_arena)
		*ret_arena = (unsigned)(((t->flags[s] >> 20) & 0xfff) - 1);
	return 0;
}

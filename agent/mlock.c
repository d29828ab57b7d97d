/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory about to be pinned (mlock, mlock2, mlockall): placed by the
 * mlocked policy first, and populated, so that the pin takes placed pages.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "alloc/alloc.h"

/* The MCL_FUTURE | MCL_ONFAULT flags of the last successful mlockall (0
 * after munlockall): whether new mappings are pinned, and when. */
static _Atomic int mlock_future;

int agent_mlock_future(void)
{
	return atomic_load_explicit(&mlock_future, memory_order_relaxed);
}

/* ---- mlock, mlockall ---------------------------------------------------- */

/* mlocked: placed (and populated, so the pin takes the placed pages) first. */
EXPORT int mlock(const void *addr, size_t len)
{
	const struct mp_compiled *c = agent.active ? agent_policy(MP_KIND_MLOCKED) : NULL;

	if (c && len) {
		uintptr_t lo = page_down((uintptr_t)addr);
		uintptr_t hi = page_up((uintptr_t)addr + len);

		agent_place_moving("mlocked", (void *)lo, hi - lo, c, NULL);
	}
	return (int)syscall(SYS_mlock, addr, len);
}

EXPORT int mlock2(const void *addr, size_t len, unsigned int flags)
{
	const struct mp_compiled *c = agent.active ? agent_policy(MP_KIND_MLOCKED) : NULL;

	if (c && len) {
		uintptr_t lo = page_down((uintptr_t)addr);
		uintptr_t hi = page_up((uintptr_t)addr + len);

		agent_place_moving("mlocked", (void *)lo, hi - lo, c, NULL);
	}
	return (int)syscall(SYS_mlock2, addr, len, flags);
}

struct lockall_ctx {
	const struct mp_compiled *c;
	bool move; /* MCL_CURRENT: present pages are pinned now, so moved */
	long misplaced;
	unsigned ranges, heap_chunks;
};

/* What mlockall places: the program's private memory that is its own
 * (anonymous, [heap], [stack], the writable data of every object, and
 * anonymous reservations not yet accessible, which glibc's arenas grow
 * into), not text, not shared or file pages, not huge pages, not the heap's
 * arenas.  With MCL_CURRENT the present pages move; with MCL_FUTURE alone
 * the ranges are only bound: their pages to come are the pinned ones. */
static int lockall_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct lockall_ctx *l = d;
	bool anon = !*name || !strcmp(name, "[heap]") || !strcmp(name, "[stack]") || !strncmp(name, "[anon:", 6);
	bool none = perms[0] != 'r' && perms[1] != 'w';

	if (perms[3] != 'p' || perms[2] == 'x' || (none && *name))
		return 0;
	if (!anon && (perms[1] != 'w' || name[0] != '/' || !strncmp(name, "/anon_hugepage", 14)))
		return 0;
	if (mp_alloc_owner_of((void *)lo)) {
		l->heap_chunks++; /* the heap set's: its policy stays (doc/agent.md) */
		return 0;
	}
	l->ranges++;
	if (l->move && !none) {
		agent_place_moving("mlocked: mlockall", (void *)lo, hi - lo, l->c, &l->misplaced);
	} else {
		struct mp_compiled pc = *l->c;

		pc.strict = false;
		agent_place("mlocked: mlockall", (void *)lo, hi - lo, &pc, 0, NULL, NULL);
	}
	return 0;
}

EXPORT int mlockall(int flags)
{
	const struct mp_compiled *c = agent.active ? agent_policy(MP_KIND_MLOCKED) : NULL;
	int r;

	if (c && (flags & (MCL_CURRENT | MCL_FUTURE))) {
		struct lockall_ctx l = {.c = c, .move = flags & MCL_CURRENT};

		agent_maps_foreach(lockall_cb, &l);
		if (l.heap_chunks)
			agent_problem("mlocked: mlockall: the heap's arenas keep the heap policy (%u ranges)",
				      l.heap_chunks);
	}
	r = (int)syscall(SYS_mlockall, flags);
	if (r == 0) {
		atomic_store(&mlock_future, flags & MCL_FUTURE ? flags & (MCL_FUTURE | MCL_ONFAULT) : 0);
		/* lib/alloc/alloc.c binds a non-strict extent before it makes it
		 * accessible (the moment MCL_FUTURE fills it); a strict one is
		 * verified after, and fails where the fill went elsewhere */
		if (c && (flags & MCL_FUTURE) && !(flags & MCL_ONFAULT) && agent_heap_active() &&
		    agent_has(MP_KIND_HEAP) && agent.kind[MP_KIND_HEAP].c.strict)
			agent_problem("mlocked: mlockall(MCL_FUTURE): a strict heap's new extents are filled when "
				      "they are made; where that is not on the heap's nodes, the allocation fails");
		/* brk makes a new mapping next to a [heap] that has a policy
		 * rather than growing it, and glibc's own mmaps are not seen */
		if (c && (flags & MCL_FUTURE) && !agent_heap_active())
			agent_problem("mlocked: mlockall(MCL_FUTURE): glibc's heap growth (brk, its own mmaps) is not "
				      "placed; those pages are where the task policy says");
	}
	return r;
}

EXPORT int munlockall(void)
{
	int r = (int)syscall(SYS_munlockall);

	if (r == 0)
		atomic_store(&mlock_future, 0);
	return r;
}

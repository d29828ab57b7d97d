/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* the interposers define both NAME and NAME64: no redirection of one name
 * to the other */
#undef _FILE_OFFSET_BITS
/*
 * The program's new mappings: anonymous, shared, huge-page and file
 * mappings are placed by their kind's policy as mmap makes them; a mapping
 * the kernel would fill inside mmap is placed before it is filled.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "kernel/place.h"

/* ---- mappings ----------------------------------------------------------- */

static const struct mp_compiled *mapping_policy(int flags, int fd, const char **ret_what)
{
	const struct mp_compiled *c;

	if (flags & MAP_HUGETLB) {
		*ret_what = "hugetlb";
		return agent_policy(MP_KIND_HUGETLB);
	}
	if ((flags & MAP_ANONYMOUS) && (flags & MAP_TYPE) == MAP_PRIVATE) {
		*ret_what = "anon";
		return agent_policy(MP_KIND_ANON);
	}
	if (flags & MAP_ANONYMOUS) {
		*ret_what = "shm";
		return agent_policy(MP_KIND_SHM);
	}
	if ((c = agent_file_of_fd(fd))) {
		*ret_what = "file";
		return c;
	}
	if (fd >= 0 && (flags & MAP_TYPE) == MAP_SHARED && agent_policy(MP_KIND_SHM)) {
		char path[64], target[256];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (!strncmp(target, "/dev/shm/", 9) || !strncmp(target, "/memfd:", 7)) {
				*ret_what = "shm";
				return agent_policy(MP_KIND_SHM);
			}
		}
	}
	return NULL;
}

/* Pages a new mapping gets inside the mmap call itself: MAP_POPULATE,
 * MAP_LOCKED, or mlockall(MCL_FUTURE) without MCL_ONFAULT. */
static bool populated_at_map(int flags)
{
	int f = agent_mlock_future();

	return (flags & (MAP_POPULATE | MAP_LOCKED)) || ((f & MCL_FUTURE) && !(f & MCL_ONFAULT));
}

/* after_map's stages: a new mapping, one the kernel already filled, one
 * made PROT_NONE to be placed before it is filled (bound only). */
enum map_stage {
	MAP_NEW,
	MAP_FILLED,
	MAP_UNFILLED,
};

/* Returns the policy applied, or NULL. */
static const struct mp_compiled *after_map(void *p, size_t len, int flags, int fd, const void *caller,
					   enum map_stage stage)
{
	const struct mp_compiled *c;
	const char *what = NULL;
	size_t ps = (size_t)getpagesize();

	if (!agent.active || agent_is_own_caller(caller))
		return NULL;
	c = mapping_policy(flags, fd, &what);
	/* pinned as it is made (MCL_FUTURE): private anonymous memory is the
	 * mlocked kind's (doc/agent.md, "mlockall") */
	if (what && !strcmp(what, "anon") && (agent_mlock_future() & MCL_FUTURE) && agent_policy(MP_KIND_MLOCKED)) {
		c = agent_policy(MP_KIND_MLOCKED);
		what = "mlocked";
	}
	if (!c)
		return NULL;
	if (!strcmp(what, "file")) {
		agent_file_populate(p, len, c);
		return c;
	}
	if (!strcmp(what, "hugetlb"))
		ps = c->order > (uint64_t)getpagesize() ? c->order : 2UL << 20;
	len = (len + ps - 1) & ~(ps - 1);
	if (stage == MAP_FILLED) {
		char label[64];

		snprintf(label, sizeof(label), "%s: a mapping filled by mmap", what);
		agent_place_moving(label, p, len, c, NULL);
		return c;
	}
	{
		struct mp_place_report rep;
		struct mp_compiled pc = *c;
		int r;

		/* not yet accessible: bound now, filled by the caller, checked then */
		if (stage == MAP_UNFILLED)
			pc.strict = false;
		r = mp_place_range(p, len, &pc, MP_PLACE_NO_CHECK_FREE, &rep);
		if (r < 0)
			agent_problem("%s: a mapping of %zu KiB: %s%s%s", what, len >> 10, agent_strerror(-r),
				      rep.reason[0] ? ": " : "", rep.reason);
	}
	return c;
}

/*
 * A mapping the kernel would fill inside mmap (populated_at_map) is made
 * PROT_NONE first, placed, then given its protection: mprotect of a locked
 * private mapping populates it (under the range policy now set), and
 * MADV_POPULATE_* does the rest, so its pages are placed before they exist
 * and before they are pinned.  Anonymous mappings without MAP_FIXED only: a
 * file's pages are the page cache's, and a fixed mapping replaces memory
 * other threads may use (those are placed after the fact, pages moved).
 */
static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, const void *caller)
{
	bool pop = agent.active && populated_at_map(flags) && !agent_is_own_caller(caller);
	void *p;

	if (pop && prot != PROT_NONE && (flags & MAP_ANONYMOUS) && !(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))) {
		int e;

		const struct mp_compiled *c;

		p = (void *)syscall(SYS_mmap, addr, len, PROT_NONE, flags & ~MAP_POPULATE, fd, off);
		if (p == MAP_FAILED)
			return p;
		c = after_map(p, len, flags, fd, caller, MAP_UNFILLED);
		if (mprotect(p, len, prot) < 0) {
			e = errno;
			munmap(p, len);
			errno = e;
			return MAP_FAILED;
		}
		/* what mprotect did not fill (read-only, shared, MAP_POPULATE
		 * without a lock); a kernel before 5.14 leaves it to faults */
		madvise(p, len, (prot & PROT_WRITE) ? 23 /* MADV_POPULATE_WRITE */ : 22 /* MADV_POPULATE_READ */);
		if (c && c->strict && !(flags & MAP_HUGETLB)) {
			long mis = agent_count_misplaced(p, page_up(len), c);

			if (mis)
				agent_problem("strict: %ld pages of a mapping filled by mmap are not on the policy's "
					      "nodes",
					      mis);
		}
		return p;
	}
	p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		after_map(p, len, flags, fd, caller, pop && (flags & MAP_ANONYMOUS) ? MAP_FILLED : MAP_NEW);
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

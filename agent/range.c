/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The program's ranges that exist when a policy comes: the main stack,
 * .data/.bss, text, anonymous memory, placed (and moved with migrate), and
 * counted page by page afterwards.
 */
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"
#include "alloc/alloc.h"
#include "kernel/place.h"

long agent_count_misplaced(void *addr, size_t len, const struct mp_compiled *c)
{
	return mp_place_misplaced(addr, len, c, NULL);
}

/* ---- placing ranges that exist ------------------------------------------ */

int agent_place(const char *what, void *addr, size_t len, const struct mp_compiled *c, unsigned flags, long *ret_moved,
		long *ret_misplaced)
{
	struct mp_place_report rep;
	long before = 0, after;
	int r;

	if (flags & MP_PLACE_MIGRATE)
		before = agent_count_misplaced(addr, len, c);
	r = mp_place_range(addr, len, c, flags | MP_PLACE_NO_CHECK_FREE, &rep);
	if (r < 0) {
		agent_problem("%s: %s%s%s", what, agent_strerror(-r), rep.reason[0] ? ": " : "", rep.reason);
		return r;
	}
	after = (flags & MP_PLACE_MIGRATE) ? agent_count_misplaced(addr, len, c) : 0;
	if (ret_moved)
		*ret_moved += before - after;
	if (ret_misplaced)
		*ret_misplaced += after;
	if (after)
		agent_problem("%s: %ld pages could not be moved to the policy's nodes", what, after);
	return 0;
}

struct seg_ctx {
	enum mp_kind kind;
	const struct mp_compiled *c;
	unsigned flags;
	long moved, misplaced;
	int err;
};

struct cow_ctx {
	uintptr_t lo, hi;
	int err;
};

static int cow_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct cow_ctx *x = d;

	if (perms[1] != 'w' || perms[3] != 'p' || hi <= x->lo || lo >= x->hi)
		return 0;
	lo = lo < x->lo ? x->lo : lo;
	hi = hi > x->hi ? x->hi : hi;
	if (madvise((void *)lo, hi - lo, 23 /* MADV_POPULATE_WRITE */) < 0 && !x->err)
		x->err = errno;
	return 0;
}

/*
 * The program's data pages it has not written yet are the file's page cache
 * (copy on write), shared and not to be moved: write-fault them (without
 * writing: MADV_POPULATE_WRITE, 5.14) so that each becomes the program's own
 * page, made under the range policy already set.
 */
static void data_own(uintptr_t lo, uintptr_t hi)
{
	struct cow_ctx x = {.lo = lo, .hi = hi};

	agent_maps_foreach(cow_cb, &x);
	if (x.err)
		agent_problem(
			"data: its pages not yet written stay the file's, where they are: MADV_POPULATE_WRITE: %s",
			agent_strerror(x.err));
}

/* The main program's segments: data is PT_LOAD writable, text executable. */
static int seg_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct seg_ctx *s = data;
	uintptr_t ps = (uintptr_t)getpagesize();

	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		bool want = ph->p_type == PT_LOAD &&
			    (s->kind == MP_KIND_DATA ? (ph->p_flags & PF_W) : (ph->p_flags & PF_X));
		uintptr_t lo, hi;

		if (!want)
			continue;
		lo = (info->dlpi_addr + ph->p_vaddr) & ~(ps - 1);
		hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + ps - 1) & ~(ps - 1);
		if (s->kind == MP_KIND_DATA) {
			struct mp_compiled pc = *s->c;

			/* bound first: the pages data_own makes are made there */
			pc.strict = false;
			mp_place_range((void *)lo, hi - lo, &pc, MP_PLACE_NO_CHECK_FREE, NULL);
			data_own(lo, hi);
		}
		if (agent_place(s->kind == MP_KIND_DATA ? "data" : "text", (void *)lo, hi - lo, s->c, s->flags,
				&s->moved, &s->misplaced) < 0)
			s->err = -EIO;
	}
	return 1; /* the first object is the program itself */
}

struct anon_ctx {
	const struct mp_compiled *c;
	long moved, misplaced;
};

static int anon_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct anon_ctx *a = d;

	/* the program's anonymous private memory; the heap's chunks are its own kind */
	if (*name || perms[3] != 'p' || perms[0] != 'r' || mp_alloc_owner_of((void *)lo))
		return 0;
	agent_place("anon", (void *)lo, hi - lo, a->c, MP_PLACE_MIGRATE, &a->moved, &a->misplaced);
	return 0;
}

int agent_place_existing(enum mp_kind k, const struct mp_compiled *c, bool migrate, long *ret_moved,
			 long *ret_misplaced)
{
	unsigned flags = migrate ? MP_PLACE_MIGRATE : 0;
	long moved = 0, mis = 0;
	void *lo;
	size_t len;
	int r = 0;

	switch (k) {
	case MP_KIND_STACK:
		r = agent_maps_find("[stack]", &lo, &len);
		if (r < 0) {
			agent_problem("stack: the main thread's stack is not in /proc/self/maps: %s",
				      agent_strerror(-r));
			return r;
		}
		r = agent_place("stack", lo, len, c, flags, &moved, &mis);
		break;
	case MP_KIND_DATA:
	case MP_KIND_TEXT: {
		struct seg_ctx s = {.kind = k, .c = c, .flags = flags};

		dl_iterate_phdr(seg_cb, &s);
		moved = s.moved;
		mis = s.misplaced;
		r = s.err;
		break;
	}
	case MP_KIND_ANON: {
		struct anon_ctx a = {.c = c};

		if (!migrate)
			return 0; /* new mappings follow; nothing to move */
		r = agent_maps_foreach(anon_cb, &a);
		moved = a.moved;
		mis = a.misplaced;
		break;
	}
	default:
		break;
	}
	if (ret_moved)
		*ret_moved = moved;
	if (ret_misplaced)
		*ret_misplaced = mis;
	return r;
}

/* An existing range's pages are moved, never released: a strict policy is
 * applied the non-strict way there and what stays elsewhere is reported. */
int agent_place_moving(const char *what, void *addr, size_t len, const struct mp_compiled *c, long *ret_misplaced)
{
	struct mp_compiled pc = *c;

	pc.strict = false;
	return agent_place(what, addr, len, &pc, MP_PLACE_MIGRATE, NULL, ret_misplaced);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Applying a compiled policy to memory and checking where the pages are.
 * The layer between combine/resolve (which know scopes, not the kernel) and
 * sys.c (which knows the kernel, not scopes).
 *
 * Invariants:
 *   - every placement is verified when asked (MP_PLACE_VERIFY), page by page
 *     with move_pages, never by counters; the report says what was requested
 *     and what was achieved;
 *   - strict never hands the process to the OOM killer or a later SIGBUS:
 *     capacity is checked per node first, pages are populated under a mode
 *     that can fall back, each page's node is checked, and on any page outside
 *     the placement nodes the range is released and -ENOMEM returned; only
 *     then is the range bound for its future faults;
 *   - a non-strict placement falls back as the compiled policy says and the
 *     report records it (fell_back, and pages per node);
 *   - split and weights differing from the kernel's sysfs table (or a kernel
 *     without weighted interleave) are done by binding consecutive chunks,
 *     exactly in proportion at chunk granularity.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/combine.h"

#define MP_PLACE_POPULATE      (1u << 0) /* fault the pages in now */
#define MP_PLACE_VERIFY	       (1u << 1) /* check each page's node afterwards (implies the pages exist) */
#define MP_PLACE_MIGRATE       (1u << 2) /* move pages already present (MPOL_MF_MOVE), as 'migrate' does */
#define MP_PLACE_NO_CHECK_FREE (1u << 3) /* skip the per-node free-memory check (the caller did it) */

/* How a compiled policy was carried out. */
enum mp_backend {
	MP_BACKEND_NONE = 0,
	MP_BACKEND_KERNEL,	    /* one mbind with the kernel's own mode */
	MP_BACKEND_KERNEL_WEIGHTED, /* MPOL_WEIGHTED_INTERLEAVE with the sysfs table */
	MP_BACKEND_CHUNKS,	    /* user space: consecutive chunks bound per node */
	MP_BACKEND_STRICT_POPULATE, /* populated under prefer-many, checked, then bound */
};

struct mp_place_report {
	enum mp_backend backend;
	uint64_t pages;			    /* pages of the range (in the placement's page size) */
	uint64_t present;		    /* pages that exist (after populate) */
	uint64_t per_node[MP_COMPILED_MAX]; /* pages on node i (i < MP_COMPILED_MAX) */
	uint64_t elsewhere;		    /* pages on nodes >= MP_COMPILED_MAX */
	uint64_t misplaced;		    /* present pages not on the placement nodes */
	bool fell_back;			    /* non-strict: some pages went to fallback nodes */
	char reason[256];		    /* why, when misplaced or fell back or failed */
};

/*
 * Apply c to [addr, addr+len) (page aligned).  Returns 0, or -errno:
 * -ENOMEM (strict and the memory could not be had on the placement nodes:
 * the range's pages have been released), -EXDEV (cannot be enforced here,
 * reason in ret->reason), -EOPNOTSUPP (the kernel lacks the mode), -EINVAL.
 * ret may be NULL.
 */
int mp_place_range(void *addr, size_t len, const struct mp_compiled *c, unsigned flags, struct mp_place_report *ret);

/* Pages per node of a range, and optionally the node of each page
 * (ret_node_of[i], -errno for a page that is not present). */
int mp_place_where(const void *addr, size_t len, size_t page_size, uint64_t *ret_per_node, size_t n_nodes,
		   int *ret_node_of);

/* mmap anonymous memory of len placed by c (huge pages when c->order asks). */
int mp_place_map(const struct mp_compiled *c, size_t len, unsigned flags, void **ret_addr, struct mp_place_report *ret);
int mp_place_unmap(void *addr, size_t len, const struct mp_compiled *c);

/* One chunk of a placement plan: [off, off + len) of the range goes to node
 * (-1: the policy's whole node set) under the kernel mode kmode (MPOL_*). */
struct mp_place_chunk {
	uint64_t off, len;
	int node;
	int kmode;
};

/*
 * The plan mp_place_range carries out for a range of len bytes, before any
 * free-memory fallback: consecutive chunks covering the range.  kernel_wi:
 * the kernel's weighted interleave may be used (it then reads the sysfs
 * table); false plans the user-space emulation.  Returns the number of chunks
 * (<= max) or -errno (-E2BIG when max is too small).  For tests and tools.
 */
int mp_place_plan(const struct mp_compiled *c, size_t len, size_t page_size, bool kernel_wi, struct mp_place_chunk *ret,
		  unsigned max, enum mp_backend *ret_backend);

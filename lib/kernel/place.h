/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The one door from a compiled policy to the kernel: the task policy,
 * range policies, populating under a policy, and where the pages are.  The
 * layer between combine/resolve (which know scopes, not the kernel) and
 * sys.c (which knows the kernel, not scopes); tools/ and agent/ reach the
 * kernel's memory-policy calls only through here (doc/design.md, "Layers").
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

/* ---- the task policy --------------------------------------------------- */

/* A thread's task policy: the kernel mode with its flags, and its nodes
 * (empty for default and local, which take no node mask). */
struct mp_task_policy {
	int mode;
	struct mp_nodemask nodes;
};

/* The task policy c compiles to.  No system call. */
void mp_task_policy_of(const struct mp_compiled *c, struct mp_task_policy *ret);

/*
 * Set the calling thread's task policy (set_mempolicy acts on the caller
 * only; it is inherited by the threads and children made after).  default
 * and local take no node mask, every other mode its nodes: one convention
 * for every caller.  Async-signal-safe: the agent sets every thread's from
 * a signal handler.  0 or -errno (-EINVAL: a mode this kernel lacks).
 */
int mp_place_task(const struct mp_task_policy *t);
/* The same for a compiled policy. */
int mp_place_task_compiled(const struct mp_compiled *c);
/* The calling thread's task policy now.  *ret untouched on failure. */
int mp_place_task_get(struct mp_task_policy *ret);
/* The nodes the calling thread may allocate on (its cpuset's mems). */
int mp_place_mems_allowed(struct mp_nodemask *ret);
/* The node the next interleaved page of the thread goes to (the kernel
 * answers only under interleave). */
int mp_place_task_next_node(int *ret);

/*
 * Run fn(arg) with c as the calling thread's task policy, and put back the
 * thread's exact task policy (mode, flags, nodes) after: how a file's page
 * cache is placed (the kernel ignores a range policy there), by faulting or
 * reading it in under c.  Every signal is blocked meanwhile, so that no
 * handler of the program allocates under c.  Returns fn's result, or -errno
 * when c could not be set (fn not run) or the old policy not put back.
 */
int mp_place_under(const struct mp_compiled *c, int (*fn)(void *arg), void *arg);

/* ---- ranges -------------------------------------------------------------- */

/*
 * One mbind of [addr, addr+len) with c's kernel mode and nodes, as numactl
 * binds a segment: no plan, no move, no check; NUMA balancing is left out
 * (a task flag).  strict: MPOL_MF_STRICT.  0 or -errno.
 */
int mp_place_range_kernel(void *addr, size_t len, const struct mp_compiled *c, bool strict);

/* The kernel policy of the range holding addr, and its nodes (either may be
 * NULL), and the node of the page at addr (faulting it in, as
 * get_mempolicy(MPOL_F_NODE | MPOL_F_ADDR) does). */
int mp_place_policy_at(const void *addr, int *ret_mode, struct mp_nodemask *ret_nodes);
int mp_place_node_at(const void *addr, int *ret_node);

/* Present pages of [addr, addr+len) (page aligned) not on c's placement
 * nodes: 0 when c names none (default, local: every node is right) and when
 * nothing could be asked.  ret_present (may be NULL): the present pages. */
long mp_place_misplaced(const void *addr, size_t len, const struct mp_compiled *c, uint64_t *ret_present);

/* Move every page of process pid from the nodes in from to those in to
 * (migrate_pages): the pages that could not be moved, or -errno (-EPERM:
 * another user's process needs CAP_SYS_NICE). */
long mp_place_migrate_process(int pid, const struct mp_nodemask *from, const struct mp_nodemask *to);

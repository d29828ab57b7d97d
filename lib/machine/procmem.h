/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * A process's memory map as `mplace show` needs it: each range of
 * /proc/PID/maps with its kind of memory, the kernel policy in force
 * (/proc/PID/numa_maps), and the pages on each node.
 *
 * Parsing is separate from reading so that tests replay recorded text: the
 * parser is pure; mp_procmem_load() reads the files; mp_procmem_count()
 * asks the kernel where each present page is (move_pages with no target
 * nodes), and falls back to numa_maps' per-node counts only when the kernel
 * refuses, saying so in ->method.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/nodemask.h"
#include "core/config.h"

/* Pages are counted per node for nodes below this; the rest go to ->elsewhere. */
#define MP_PM_NODES 64

/* Which kind of memory a range holds; MP_KIND_* of config.h, plus: */
#define MP_PM_KIND_SPECIAL MP_KIND__COUNT /* [vdso], [vvar], [vsyscall] */

enum mp_pm_method {
	MP_PM_NONE = 0,	  /* nothing counted yet */
	MP_PM_MOVE_PAGES, /* every present page asked with move_pages */
	MP_PM_NUMA_MAPS,  /* the kernel's N<node>= counts in numa_maps */
};

struct mp_pm_range {
	uint64_t start, end;
	char perms[5]; /* "rw-p" */
	uint64_t offset;
	uint64_t inode;
	char *path;		   /* NULL for anonymous memory */
	int kind;		   /* enum mp_kind, or MP_PM_KIND_SPECIAL */
	bool locked;		   /* smaps Locked: > 0 */
	bool huge;		   /* numa_maps "huge": hugetlbfs */
	bool thread_stack;	   /* holds a thread's stack pointer */
	bool in_numa_maps;	   /* numa_maps had a line for it */
	char kpolicy[64];	   /* numa_maps' policy text: "default", "bind:0-1" */
	int kmode;		   /* MP_MPOL_* parsed from kpolicy, -1 unknown */
	struct mp_nodemask knodes; /* its nodes (empty for default/local) */
	uint64_t page_size;	   /* numa_maps kernelpagesize_kB, else 4096 */
	uint64_t nm_present;	   /* numa_maps: sum of its N<node>= counts */
	uint64_t nm_node[MP_PM_NODES];
	/* counted pages (by mp_procmem_count, or copied from numa_maps) */
	uint64_t present;
	uint64_t per_node[MP_PM_NODES];
	uint64_t elsewhere; /* pages on nodes >= MP_PM_NODES */
	bool nm_counted;    /* too large to ask page by page: numa_maps' counts */
	bool nm_whole;	    /* split by mp_procmem_split: the first half has the
			     * mapping's numa_maps counts, the second none */
};

struct mp_procmem {
	int pid;
	char *comm, *exe; /* may be NULL */
	unsigned n;
	struct mp_pm_range *r;
	enum mp_pm_method method;
	int refused; /* the -errno move_pages gave when method is NUMA_MAPS */
};

const char *mp_pm_kind_name(int kind);

/*
 * Parse a numa_maps policy ("bind:0-1", "prefer (many):0-1",
 * "interleave=static:0-3", "default", "local") into a kernel mode and its
 * nodes.  -EINVAL when it is not one; outputs untouched then.
 */
int mp_pm_parse_kpolicy(const char *s, int *ret_mode, struct mp_nodemask *ret_nodes);

/*
 * Parse maps text, and optionally numa_maps and smaps text (NULL: absent),
 * into *ret.  exe is the executable's path (for text and data), or NULL;
 * stack_sp lists thread stack pointers (n_sp of them).  Returns 0 or -EINVAL
 * (a malformed maps line) / -ENOMEM; *ret untouched on failure.
 */
int mp_procmem_parse(const char *maps, const char *numa_maps, const char *smaps, const char *exe,
		     const uint64_t *stack_sp, unsigned n_sp, struct mp_procmem *ret);

/*
 * Read /proc/PID/{maps,numa_maps,smaps,exe,comm,task/} (under root, NULL for
 * the live system; pid 0 is the caller).  -ESRCH when the process does not
 * exist or exited while being read, -EACCES/-EPERM when it may not be
 * inspected, -ENODATA when it has no user memory (a kernel thread, a
 * zombie); *ret untouched on failure.
 */
int mp_procmem_load(const char *root, int pid, struct mp_procmem *ret);

/*
 * Count every present page per node with move_pages(pid, ..., NULL nodes).
 * When the kernel refuses (-EPERM, -EACCES, -ENOSYS), use numa_maps' counts
 * instead and set method MP_PM_NUMA_MAPS with the error in ->refused.
 * Returns 0, or -ESRCH when the process went away.
 */
int mp_procmem_count(struct mp_procmem *pm);

/*
 * Split the range that contains addr (not at its start) in two at addr, so
 * that a part of a mapping can be labelled apart (the agent's heap inside
 * a mapping the kernel merged with its neighbour).  Before counting.
 * Returns 1 when a range was split, 0 when none straddles addr, -ENOMEM.
 */
int mp_procmem_split(struct mp_procmem *pm, uint64_t addr);

/* Copy numa_maps' counts into the counted fields (method MP_PM_NUMA_MAPS). */
void mp_procmem_use_numa_maps(struct mp_procmem *pm, int refused);

void mp_procmem_free(struct mp_procmem *pm);

/* ---- many processes, cheaply (mplace top) ------------------------------------ */

/* The process ids under root's /proc (NULL: live), ascending, in *ret (to
 * free).  Returns 0 or -errno. */
int mp_proc_pids(const char *root, int **ret, unsigned *ret_n);

/*
 * What tells, without reading a process's map, whether its memory may have
 * changed since it was last read: its faults, its CPU time and its resident
 * size (/proc/PID/stat), and its start time, which tells a reused pid.  A
 * process that has not run keeps its stamp; pages another process or the
 * kernel moved for it (migration, demotion) do not change it.
 */
struct mp_pm_stamp {
	uint64_t faults; /* minor + major */
	uint64_t cpu;	 /* utime + stime, clock ticks */
	uint64_t start;	 /* starttime, clock ticks after boot */
	uint64_t rss;	 /* pages */
};

/* -ESRCH when the process is gone; ret untouched on failure. */
int mp_procmem_stamp(const char *root, int pid, struct mp_pm_stamp *ret);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The kernel's memory-policy system calls, raw.  sys.c is the only file that
 * issues them; every call returns 0 (or a count) or -errno and never touches
 * errno-based error reporting on behalf of its caller.
 *
 * Only the kernel door (place.c) and the machine's readers (probe.c,
 * procmem.c) include this header; everything else goes through place.h
 * (doc/design.md, "Layers").  The ABI's constants are core/mpol.h.
 */
#include <stddef.h>
#include <sys/types.h>

#include "basic/nodemask.h"
#include "core/mpol.h"

/* Bits in an unsigned long, for sizing raw mask arrays. */
#define MP_ULONG_BITS  (8 * sizeof(unsigned long))
#define MP_MASK_ULONGS (MP_MAX_NODES / MP_ULONG_BITS)

/*
 * The maxnode argument for a mask of nbits meaningful bits.  See sys.c for
 * the kernel's rule; every caller goes through this helper.
 */
unsigned long mp_sys_maxnode(unsigned long nbits);

/* ---- raw calls: masks as the kernel wants them (arrays of unsigned long) -- */

int mp_sys_set_mempolicy(int mode, const unsigned long *mask, unsigned long maxnode);
int mp_sys_get_mempolicy(int *mode, unsigned long *mask, unsigned long maxnode, void *addr, unsigned long flags);
int mp_sys_mbind(void *addr, unsigned long len, int mode, const unsigned long *mask, unsigned long maxnode,
		 unsigned flags);
/* Returns the number of pages that could not be moved (>= 0) or -errno. */
long mp_sys_migrate_pages(pid_t pid, unsigned long maxnode, const unsigned long *old_nodes,
			  const unsigned long *new_nodes);
/* nodes NULL: query, status[i] = node of pages[i] or -errno for that page. */
int mp_sys_move_pages(pid_t pid, unsigned long count, void **pages, const int *nodes, int *status, int flags);
int mp_sys_set_mempolicy_home_node(unsigned long start, unsigned long len, unsigned long home_node,
				   unsigned long flags);

/* ---- wrappers taking struct mp_nodemask (NULL = no mask) ----------------- */

int mp_sys_set_policy(int mode, const struct mp_nodemask *nodes);
/* *ret_mode and *ret_nodes (either may be NULL) are set only on success. */
int mp_sys_get_policy(int *ret_mode, struct mp_nodemask *ret_nodes, void *addr, unsigned long flags);
int mp_sys_mbind_mask(void *addr, size_t len, int mode, const struct mp_nodemask *nodes, unsigned flags);
long mp_sys_migrate_pages_mask(pid_t pid, const struct mp_nodemask *from, const struct mp_nodemask *to);

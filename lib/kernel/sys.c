/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The syscall boundary: the only file that issues memory-policy system calls
 * (set_mempolicy, get_mempolicy, mbind, migrate_pages, move_pages,
 * set_mempolicy_home_node).  They are made raw through syscall(2), without
 * libnuma, and every function returns 0 (or a count) or -errno.  Nothing here
 * knows about scopes or policies; it only speaks the kernel's ABI.
 *
 * Invariant: every maxnode handed to the kernel comes from mp_sys_maxnode(),
 * so the kernel's off-by-one convention is encoded exactly once.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys.h"

/*
 * set_mempolicy_home_node arrived in Linux 5.17 with the same number on every
 * architecture that uses the unified table (450); older C library headers
 * lack it.
 */
#ifndef __NR_set_mempolicy_home_node
#define __NR_set_mempolicy_home_node 450
#endif

_Static_assert(MP_MAX_NODES % (8 * sizeof(unsigned long)) == 0, "node masks are whole unsigned longs");

/*
 * The kernel's get_nodes() (mm/mempolicy.c) starts with "--maxnode" and then
 * reads that many bits from the user's array: maxnode counts one more than
 * the number of bits it will look at.  Passing exactly the number of bits in
 * the mask silently drops the highest node, so callers pass nbits + 1 (which
 * is also what numactl does).  On the way out, copy_nodes_to_user() writes
 * ALIGN(maxnode - 1, BITS_PER_LONG) bits, and get_mempolicy rejects a
 * maxnode below nr_node_ids, so a full MP_MAX_NODES mask is always safe:
 * MP_MAX_NODES equals the largest MAX_NUMNODES distributions build with, and
 * the kernel only requires bits above its own MAX_NUMNODES to be zero.
 */
unsigned long mp_sys_maxnode(unsigned long nbits)
{
	return nbits + 1;
}

static int ret_errno(long r)
{
	return r < 0 ? -errno : (int)r;
}

int mp_sys_set_mempolicy(int mode, const unsigned long *mask, unsigned long maxnode)
{
	return ret_errno(syscall(SYS_set_mempolicy, mode, mask, maxnode));
}

int mp_sys_get_mempolicy(int *mode, unsigned long *mask, unsigned long maxnode, void *addr, unsigned long flags)
{
	return ret_errno(syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags));
}

int mp_sys_mbind(void *addr, unsigned long len, int mode, const unsigned long *mask, unsigned long maxnode,
		 unsigned flags)
{
	return ret_errno(syscall(SYS_mbind, addr, len, mode, mask, maxnode, flags));
}

long mp_sys_migrate_pages(pid_t pid, unsigned long maxnode, const unsigned long *old_nodes,
			  const unsigned long *new_nodes)
{
	long r = syscall(SYS_migrate_pages, pid, maxnode, old_nodes, new_nodes);

	return r < 0 ? -errno : r;
}

int mp_sys_move_pages(pid_t pid, unsigned long count, void **pages, const int *nodes, int *status, int flags)
{
	return ret_errno(syscall(SYS_move_pages, pid, count, pages, nodes, status, flags));
}

int mp_sys_set_mempolicy_home_node(unsigned long start, unsigned long len, unsigned long home_node, unsigned long flags)
{
	return ret_errno(syscall(__NR_set_mempolicy_home_node, start, len, home_node, flags));
}

/* struct mp_nodemask holds 64-bit words; the kernel wants unsigned longs in
 * native order.  Converting by bit keeps this right on 32-bit big-endian. */
static void to_ulongs(const struct mp_nodemask *m, unsigned long *out)
{
	for (unsigned i = 0; i < MP_MASK_ULONGS; i++)
		out[i] = 0;
	mp_mask_foreach(n, m)
		out[n / MP_ULONG_BITS] |= 1UL << (n % MP_ULONG_BITS);
}

static void from_ulongs(const unsigned long *in, struct mp_nodemask *m)
{
	mp_mask_zero(m);
	for (unsigned n = 0; n < MP_MAX_NODES; n++)
		if ((in[n / MP_ULONG_BITS] >> (n % MP_ULONG_BITS)) & 1)
			mp_mask_set(m, n);
}

int mp_sys_set_policy(int mode, const struct mp_nodemask *nodes)
{
	unsigned long raw[MP_MASK_ULONGS];

	if (!nodes)
		return mp_sys_set_mempolicy(mode, NULL, 0);
	to_ulongs(nodes, raw);
	return mp_sys_set_mempolicy(mode, raw, mp_sys_maxnode(MP_MAX_NODES));
}

int mp_sys_get_policy(int *ret_mode, struct mp_nodemask *ret_nodes, void *addr, unsigned long flags)
{
	unsigned long raw[MP_MASK_ULONGS];
	int mode = 0, r;

	r = mp_sys_get_mempolicy(&mode, ret_nodes ? raw : NULL, ret_nodes ? mp_sys_maxnode(MP_MAX_NODES) : 0, addr,
				 flags);
	if (r < 0)
		return r;
	if (ret_mode)
		*ret_mode = mode;
	if (ret_nodes)
		from_ulongs(raw, ret_nodes);
	return 0;
}

int mp_sys_mbind_mask(void *addr, size_t len, int mode, const struct mp_nodemask *nodes, unsigned flags)
{
	unsigned long raw[MP_MASK_ULONGS];

	if (!nodes)
		return mp_sys_mbind(addr, len, mode, NULL, 0, flags);
	to_ulongs(nodes, raw);
	return mp_sys_mbind(addr, len, mode, raw, mp_sys_maxnode(MP_MAX_NODES), flags);
}

long mp_sys_migrate_pages_mask(pid_t pid, const struct mp_nodemask *from, const struct mp_nodemask *to)
{
	unsigned long rf[MP_MASK_ULONGS], rt[MP_MASK_ULONGS];

	if (!from || !to)
		return -EINVAL;
	to_ulongs(from, rf);
	to_ulongs(to, rt);
	return mp_sys_migrate_pages(pid, mp_sys_maxnode(MP_MAX_NODES), rf, rt);
}

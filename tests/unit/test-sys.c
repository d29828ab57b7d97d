/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The syscall boundary against the running kernel: set/get round trips for
 * every mode the kernel accepts, the maxnode rule, and mbind + move_pages on
 * a real mapping.  Works on one node; uses the first node this task may
 * allocate on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/util.h"
#include "check.h"
#include "kernel/sys.h"

static int first_node;

static void test_maxnode(void)
{
	unsigned long raw[MP_MASK_ULONGS] = {0};
	int mode = -1, r;

	CHECK(mp_sys_maxnode(1) == 2);
	CHECK(mp_sys_maxnode(MP_MAX_NODES) == MP_MAX_NODES + 1);
	raw[first_node / MP_ULONG_BITS] = 1UL << (first_node % MP_ULONG_BITS);
	/* the computed maxnode for a mask whose highest node is first_node */
	r = mp_sys_set_mempolicy(MP_MPOL_BIND, raw, mp_sys_maxnode(first_node + 1));
	CHECK_MSG(r == 0, "bind with computed maxnode: %d", r);
	memset(raw, 0, sizeof(raw));
	r = mp_sys_get_mempolicy(&mode, raw, mp_sys_maxnode(MP_MAX_NODES), NULL, 0);
	CHECK(r == 0 && mode == MP_MPOL_BIND);
	CHECK((raw[first_node / MP_ULONG_BITS] >> (first_node % MP_ULONG_BITS)) & 1);
	/* One bit short (maxnode = nbits, the classic mistake): the kernel
	 * reads nothing of node first_node, so the mask is empty and BIND is
	 * refused.  This is the rule mp_sys_maxnode() encodes. */
	raw[first_node / MP_ULONG_BITS] = 1UL << (first_node % MP_ULONG_BITS);
	r = mp_sys_set_mempolicy(MP_MPOL_BIND, raw, first_node + 1);
	CHECK_MSG(r == -EINVAL, "bind with maxnode one short: %d", r);
	CHECK(mp_sys_set_mempolicy(MP_MPOL_DEFAULT, NULL, 0) == 0);
}

static void test_round_trip(void)
{
	static const struct {
		int mode;
		bool mask;
		bool required; /* in every kernel this project supports (>= 4.x) */
		int flags;
	} cases[] = {
		{MP_MPOL_DEFAULT, false, true, 0},
		{MP_MPOL_LOCAL, false, true, 0},
		{MP_MPOL_PREFERRED, true, true, 0},
		{MP_MPOL_BIND, true, true, 0},
		{MP_MPOL_INTERLEAVE, true, true, 0},
		{MP_MPOL_BIND, true, true, MP_MPOL_F_STATIC_NODES},
		{MP_MPOL_INTERLEAVE, true, true, MP_MPOL_F_RELATIVE_NODES},
		{MP_MPOL_PREFERRED_MANY, true, false, 0},	       /* 5.15 */
		{MP_MPOL_WEIGHTED_INTERLEAVE, true, false, 0},	       /* 6.9 */
		{MP_MPOL_BIND, true, false, MP_MPOL_F_NUMA_BALANCING}, /* 5.12 */
	};
	unsigned accepted = 0;

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_nodemask set, got;
		int mode = -1, r;

		mp_mask_zero(&set);
		mp_mask_set(&set, first_node);
		r = mp_sys_set_policy(cases[i].mode | cases[i].flags, cases[i].mask ? &set : NULL);
		if (r == -EINVAL && !cases[i].required) {
			printf("mode %d flags %#x: not accepted by this kernel\n", cases[i].mode, cases[i].flags);
			continue;
		}
		CHECK_MSG(r == 0, "set mode %d flags %#x: %d", cases[i].mode, cases[i].flags, r);
		if (r < 0)
			continue;
		accepted++;
		mp_mask_zero(&got);
		mp_mask_zero(&got);
		mp_mask_set(&got, 77); /* must be overwritten */
		r = mp_sys_get_policy(&mode, &got, NULL, 0);
		CHECK_MSG(r == 0, "get: %d", r);
		CHECK_MSG(mode == (cases[i].mode | cases[i].flags), "mode %d flags %#x: got %#x", cases[i].mode,
			  cases[i].flags, mode);
		if (cases[i].mask)
			CHECK_MSG(mp_mask_equal(&got, &set), "mode %d: mask differs", cases[i].mode);
		else
			CHECK_MSG(mp_mask_empty(&got), "mode %d: mask not empty", cases[i].mode);
	}
	CHECK(accepted >= 7);
	CHECK(mp_sys_set_policy(MP_MPOL_DEFAULT, NULL) == 0);
}

static void test_errors(void)
{
	struct mp_nodemask m;
	int mode = 12345;

	mp_mask_zero(&m);
	mp_mask_set(&m, 5);
	/* -errno, not -1 with errno */
	CHECK(mp_sys_set_mempolicy(99, NULL, 0) == -EINVAL);
	/* bind to nothing */
	CHECK(mp_sys_set_policy(MP_MPOL_BIND, NULL) == -EINVAL);
	/* outputs untouched on failure (an unknown flag bit) */
	CHECK(mp_sys_get_policy(&mode, &m, NULL, 1UL << 10) == -EINVAL);
	CHECK(mode == 12345 && mp_mask_test(&m, 5) && mp_mask_weight(&m) == 1);
	/* MPOL_F_ADDR on an address with no mapping */
	CHECK(mp_sys_get_policy(&mode, NULL, (void *)8, MP_MPOL_F_ADDR) == -EFAULT);
	CHECK(mp_sys_migrate_pages_mask(0, NULL, &m) == -EINVAL);
}

static void test_mbind_move_pages(void)
{
	enum { PAGES = 16 };
	long psz = sysconf(_SC_PAGESIZE);
	void *pages[PAGES];
	int status[PAGES], mode = -1, node = -1, r;
	struct mp_nodemask m, got;
	char *p;

	p = mmap(NULL, PAGES * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	mp_mask_zero(&m);
	mp_mask_set(&m, first_node);
	r = mp_sys_mbind_mask(p, PAGES * psz, MP_MPOL_BIND, &m, MP_MPOL_MF_STRICT | MP_MPOL_MF_MOVE);
	CHECK_MSG(r == 0, "mbind: %d", r);
	memset(p, 1, PAGES * psz);
	for (int i = 0; i < PAGES; i++) {
		pages[i] = p + (long)i * psz;
		status[i] = -12345;
	}
	r = mp_sys_move_pages(0, PAGES, pages, NULL, status, 0);
	CHECK_MSG(r == 0, "move_pages query: %d", r);
	for (int i = 0; i < PAGES; i++)
		CHECK_MSG(status[i] == first_node, "page %d on node %d", i, status[i]);
	/* the range's policy reads back */
	r = mp_sys_get_policy(&mode, &got, p, MP_MPOL_F_ADDR);
	CHECK(r == 0 && mode == MP_MPOL_BIND && mp_mask_equal(&got, &m));
	/* and the node of its first page */
	r = mp_sys_get_mempolicy(&node, NULL, 0, p, MP_MPOL_F_ADDR | MP_MPOL_F_NODE);
	CHECK(r == 0 && node == first_node);
	/* moving to the node they are on is a no-op that reports the node */
	{
		int nodes[PAGES];

		for (int i = 0; i < PAGES; i++)
			nodes[i] = first_node;
		r = mp_sys_move_pages(0, PAGES, pages, nodes, status, MP_MPOL_MF_MOVE);
		if (r == -EPERM)
			printf("move_pages with MPOL_MF_MOVE: no permission here\n");
		else
			CHECK_MSG(r == 0 && status[0] == first_node, "move_pages: %d status %d", r, status[0]);
	}
	/* set_mempolicy_home_node on the bound range: 0, or ENOSYS before 5.17 */
	r = mp_sys_set_mempolicy_home_node((unsigned long)p, PAGES * psz, first_node, 0);
	CHECK_MSG(r == 0 || r == -ENOSYS, "home node: %d", r);
	if (r == -ENOSYS)
		printf("set_mempolicy_home_node: not in this kernel\n");
	/* a bad flag is -EINVAL there (not ENOSYS) when the call exists */
	if (r == 0)
		CHECK(mp_sys_set_mempolicy_home_node((unsigned long)p, PAGES * psz, first_node, 1) == -EINVAL);
	/* migrate our own pages from the node to itself: nothing left behind */
	{
		long left = mp_sys_migrate_pages_mask(0, &m, &m);

		CHECK_MSG(left == 0 || left == -EPERM, "migrate_pages: %ld", left);
	}
	munmap(p, PAGES * psz);
}

int main(void)
{
	struct mp_nodemask allowed;
	int r;

	r = mp_sys_get_policy(NULL, &allowed, NULL, MP_MPOL_F_MEMS_ALLOWED);
	if (r == -ENOSYS)
		CHECK_SKIP("the kernel has no NUMA system calls (CONFIG_NUMA off)");
	/* container seccomp profiles allow these only with CAP_SYS_NICE */
	if (r == -EPERM)
		CHECK_SKIP("memory-policy system calls are not permitted here (seccomp?)");
	CHECK_MSG(r == 0, "get_mempolicy(MPOL_F_MEMS_ALLOWED): %d", r);
	if (r < 0 || mp_mask_empty(&allowed))
		return check_status();
	first_node = mp_mask_next(&allowed, 0);
	test_maxnode();
	test_round_trip();
	test_errors();
	test_mbind_move_pages();
	return check_status();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The kernel's memory-policy ABI constants, as data: a compiled policy
 * carries its kernel mode and flags in these terms, and the pure core,
 * the tools and the tests name them without any system call (those are
 * kernel/).
 *
 * The constants carry an MP_ prefix so this header can be included next to
 * <numaif.h> or <linux/mempolicy.h> without clashing.  Values are the uapi
 * ones (include/uapi/linux/mempolicy.h); they are ABI and never change.
 */

/* Policy modes (set_mempolicy, mbind; get_mempolicy returns them). */
#define MP_MPOL_DEFAULT		    0
#define MP_MPOL_PREFERRED	    1
#define MP_MPOL_BIND		    2
#define MP_MPOL_INTERLEAVE	    3
#define MP_MPOL_LOCAL		    4
#define MP_MPOL_PREFERRED_MANY	    5
#define MP_MPOL_WEIGHTED_INTERLEAVE 6

/* Mode flags, or'ed into the mode argument. */
#define MP_MPOL_F_STATIC_NODES	 (1 << 15)
#define MP_MPOL_F_RELATIVE_NODES (1 << 14)
#define MP_MPOL_F_NUMA_BALANCING (1 << 13)
#define MP_MPOL_MODE_FLAGS	 (MP_MPOL_F_STATIC_NODES | MP_MPOL_F_RELATIVE_NODES | MP_MPOL_F_NUMA_BALANCING)

/* get_mempolicy flags. */
#define MP_MPOL_F_NODE	       (1 << 0)
#define MP_MPOL_F_ADDR	       (1 << 1)
#define MP_MPOL_F_MEMS_ALLOWED (1 << 2)

/* mbind and move_pages flags. */
#define MP_MPOL_MF_STRICT   (1 << 0)
#define MP_MPOL_MF_MOVE	    (1 << 1)
#define MP_MPOL_MF_MOVE_ALL (1 << 2)

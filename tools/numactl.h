/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * numactl's process options, parsed and translated once for the two
 * commands that take them: `mplace numactl` (tools/cmd-numactl.c, where
 * these live) and `mplace run` (tools/cmd-run.c).  A memory option becomes
 * mplace policy text in numactl's form (mp_policy_parse_as(MP_FORM_NUMACTL));
 * -N/-C become a CPU set.  Nothing here prints or exits: errors are -EINVAL
 * with the reason in the caller's buffer, and outputs are untouched then.
 */
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "basic/nodemask.h"
#include "core/policy.h"
#include "machine/topo.h"

/* The process options' short letters (for getopt) and long names. */
#define NUMACTL_PROC_SHORT "i:w:m:p:P:lN:C:b"
#define NUMACTL_PROC_LONG                                                                                     \
	{"interleave", required_argument, NULL, 'i'}, {"weighted-interleave", required_argument, NULL, 'w'},  \
		{"membind", required_argument, NULL, 'm'}, {"preferred", required_argument, NULL, 'p'},       \
		{"preferred-many", required_argument, NULL, 'P'}, {"localalloc", no_argument, NULL, 'l'},     \
		{"cpunodebind", required_argument, NULL, 'N'}, {"physcpubind", required_argument, NULL, 'C'}, \
	{                                                                                                     \
		"balancing", no_argument, NULL, 'b'                                                           \
	}

/* Is opt one of the memory options (m i w p P l)? */
bool numactl_is_memory_option(int opt);
/* "--membind" for 'm', ... "--cpunodebind" for 'N'; NULL for others. */
const char *numactl_option_name(int opt);

/*
 * A memory option (opt one of m i w p P l; nodes NULL for l) as an mplace
 * policy, with --balancing when asked.  Checks what numactl checks before
 * mplace's parser sees it: a node number that is not online on topo is
 * invalid (mplace's resolver would only leave it out), and --preferred takes
 * one node.  Returns 0 or -EINVAL with the reason in why.
 */
int numactl_memory_policy(const struct mp_topo *topo, int opt, const char *nodes, bool balancing, struct mp_policy *ret,
			  char *why, size_t why_size);

/*
 * The CPUs of -N NODES: nodes in numactl's forms (all, LIST, !LIST, +LIST
 * relative to 'within'), restricted to 'within' (the cpuset's nodes) unless
 * all.  Returns 0 or -EINVAL (malformed, no such node, or no CPUs).
 */
int numactl_cpunodes(const struct mp_topo *topo, const struct mp_nodemask *within, bool all, const char *nodes,
		     cpu_set_t *ret, char *why, size_t why_size);

/* The CPUs of -C CPUS, restricted to the current affinity unless all. */
int numactl_physcpus(const char *cpus, bool all, cpu_set_t *ret, char *why, size_t why_size);

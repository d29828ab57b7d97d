/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Replication: one copy of read-mostly data on each node of a policy, and the
 * copy nearest to the CPU a thread runs on.
 *
 * Invariants:
 *   - copy i lives on node[i]: it is mapped, bound to that one node and
 *     populated through the placement layer; a strict policy fails with
 *     -ENOMEM rather than keep a copy elsewhere, a non-strict one keeps it and
 *     counts the pages that landed elsewhere in misplaced[i];
 *   - the CPU to copy table is fixed at creation from the topology: each CPU
 *     reads the copy on its own node, or the nearest one by distance;
 *   - updates write every copy in place: readers that must not see a torn
 *     copy synchronise with the writer themselves (as with any shared data).
 */
#include <stddef.h>
#include <stdint.h>

#include "core/combine.h"
#include "machine/topo.h"

struct mp_replica {
	size_t len;
	unsigned n;		   /* copies */
	int node[MP_COMPILED_MAX]; /* node of copy i */
	void *copy[MP_COMPILED_MAX];
	uint64_t misplaced[MP_COMPILED_MAX]; /* pages of copy i not on node[i] */
	struct mp_compiled one;		     /* the policy of copy 0; others differ in the node */
	unsigned n_cpus;
	uint16_t *copy_of_cpu; /* n_cpus entries */
};

/* One copy of src[0, len) on each node of c (each memory node when c names
 * none).  topo NULL: the live machine.  -EINVAL, -ENOMEM, -E2BIG, or what
 * placement returns. */
int mp_replicate(const struct mp_compiled *c, const struct mp_topo *topo, const void *src, size_t len,
		 struct mp_replica **ret);
/* The copy for the calling thread's CPU. */
const void *mp_replica_local(const struct mp_replica *r);
/* Rewrite every copy from src (len must be the replica's). */
int mp_replica_update(struct mp_replica *r, const void *src, size_t len);
void mp_replica_free(struct mp_replica *r);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The compiled policy (resolve.c makes it from a folded policy and a
 * machine), and its one line of text, so that `mplace run` (or the
 * daemon) can hand it to the preload agent through the environment or a
 * socket, and the agent can apply it at process start without reading the
 * topology or resolving anything.
 *
 *   mplace-compiled/1 mode=weighted-interleave kmode=6 kflags=0 nodes=1,3 allowed=1,3
 *     strict=0 narrows=0 fallback=- weights=1:4,3:1 order=0 omask=- phys=0-ffffffffffffffff
 *     am=off rep=0 mig=1 home=-1
 *
 * Only placement fields travel; warnings and the trace stay with whoever
 * resolved.  The parser accepts exactly the lines the writer makes: every
 * key once, in this order, each value in the writer's one spelling (node
 * lists ascending with ranges, no leading zeros, lower-case hex, "-" for
 * none) and within what the placement code can carry out (weights 1-65535).
 * It never allocates: it is safe in the agent before main and after fork.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/nodemask.h"
#include "policy.h"
#include "trace.h"

/* The compiled policy: a folded policy resolved against a machine, in the
 * kernel's terms, with everything it needs to be applied and nothing that
 * needs the machine again (resolve.c makes it). */
#define MP_MAX_WARNINGS 16
/* Weighted and fallback lists hold at most this many nodes; more is -E2BIG. */
#define MP_COMPILED_MAX 64

struct mp_compiled {
	enum mp_mode mode;	    /* as resolved (interleave with weights becomes weighted-interleave) */
	int kmode;		    /* MPOL_* for the kernel */
	unsigned kflags;	    /* MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING */
	struct mp_nodemask nodes;   /* placement nodes (empty for default/local) */
	struct mp_nodemask allowed; /* everything the constraints allow */
	bool strict;
	/* allowed is narrower than the cgroup's mems: the kernel's own fallback
	 * (preferred, interleave on a full node) could leave it; only bind cannot */
	bool allow_narrows;
	unsigned n_fallback;
	int fallback[MP_COMPILED_MAX]; /* fallback order, nearest first */
	bool has_weights;
	uint16_t weight[MP_COMPILED_MAX]; /* by position in 'weight_node' */
	int weight_node[MP_COMPILED_MAX];
	unsigned n_weights;
	uint64_t order;		/* 0 = base pages, MP_ORDER_THP, or page size */
	unsigned n_order_masks; /* per-page-size node constraints (order.2M=0-1) */
	struct {
		uint64_t page_size;
		struct mp_nodemask nodes; /* allowed nodes for pages of that size */
	} order_masks[8];
	uint64_t phys_lo, phys_hi; /* 0, UINT64_MAX when unconstrained */
	enum mp_automigrate automigrate;
	bool replicate, migrate;
	int home; /* -1 none */
	unsigned n_warnings;
	char *warnings[MP_MAX_WARNINGS];
	struct mp_trace trace; /* fold steps (copied) + resolution notes */
};

/* Frees its warnings and trace (the placement fields need no freeing). */
void mp_compiled_free(struct mp_compiled *c);

/* Split plan: for a range of len bytes in units of 'unit' bytes, the length given to
 * each weighted node in order.  Returns number of chunks written (<= max). */
unsigned mp_compiled_split(const struct mp_compiled *c, uint64_t len, uint64_t unit, int *ret_node, uint64_t *ret_len,
			   unsigned max);

/* Writes into buf (snprintf semantics: returns the length it needs). */
int mp_compiled_serialize(const struct mp_compiled *c, char *buf, size_t size);
/* -EINVAL on any deviation from what mp_compiled_serialize writes; *ret is
 * untouched then.  ret's warnings and trace are left empty. */
int mp_compiled_deserialize(const char *s, struct mp_compiled *ret);

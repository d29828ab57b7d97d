/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Combining policies from general to specific scope, and resolving the result
 * against a machine.  PURE: no syscalls, no file I/O; the topology and the
 * cgroup's allowed nodes come in as data.
 *
 * The fold (mp_policy_combine):
 *   - constraints intersect: allow lists are conjoined, physical ranges
 *     intersected, per-order node sets conjoined; a specific scope can never
 *     escape a general constraint;
 *   - placement, flags and behaviour: the specific value where it is set,
 *     else the general one.
 * It is associative and the empty policy is its identity.
 */
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "policy.h"
#include "machine/topo.h"

/* acc = acc (+) s.  Returns 0 or -ENOMEM (acc then unchanged). */
int mp_policy_combine(struct mp_policy *acc, const struct mp_policy *s);

/* What a process looks like to the configuration's selectors. */
struct mp_selector {
	const char *exe;    /* absolute path, or NULL */
	const char *comm;   /* or NULL */
	const char *unit;   /* systemd unit, or NULL */
	const char *cgroup; /* "/db.slice/x.service", or NULL */
	const char *device; /* for device scopes: "pci:0000:3b:00.0", or NULL */
	int pid;	    /* > 0 when a pid was named */
	enum mp_kind kind;
	const char *path; /* for kind file / shm: the object's path or name */
};

/* One step of a fold or of a resolution, for `mplace explain`. */
struct mp_trace_step {
	char *scope;  /* "system", "cgroup /db.slice", "exe /usr/bin/postgres", "command line", "resolve" */
	char *origin; /* "mplace.conf:12:9", or NULL */
	char *key;    /* "policy", "heap", "allow", or NULL for resolution notes */
	char *text;   /* the policy text of this step, or NULL */
	char *effect; /* what it set / narrowed / why a node was chosen or refused */
};

/* Which policy field a fold step set; for naming the scope behind an error. */
enum mp_field {
	MP_FIELD_MODE,
	MP_FIELD_NODES,
	MP_FIELD_PHYS,
	MP_FIELD_STRICT,
	MP_FIELD_FALLBACK,
	MP_FIELD_WEIGHTS,
	MP_FIELD_ORDER,
	MP_FIELD_AUTOMIGRATE,
	MP_FIELD_REPLICATE,
	MP_FIELD_HOME,
	MP_FIELD_NODEFLAGS,
	MP_FIELD_MIGRATE,
	MP_FIELD__COUNT,
};

struct mp_trace {
	unsigned n;
	struct mp_trace_step *steps;
	/* provenance: index of the step that last set each field, -1 none */
	int field_step[MP_FIELD__COUNT];
	unsigned n_allow;
	int *allow_step; /* per entry of the folded policy's allow list */
	unsigned n_order_nodes;
	int *order_nodes_step; /* per entry of order_nodes */
};

void mp_trace_init(struct mp_trace *t);
/* Copy; -ENOMEM. */
int mp_trace_copy(struct mp_trace *dst, const struct mp_trace *src);

void mp_trace_free(struct mp_trace *t);

/*
 * Fold every rule of cfg that matches sel, most general first, then expr (the
 * most specific, "command line"; may be NULL).  *ret is a new policy; the
 * trace (may be NULL) gets one step per contributing rule.
 */
int mp_fold(const struct mp_config *cfg, const struct mp_selector *sel, const struct mp_policy *expr,
	    struct mp_policy *ret, struct mp_trace *trace);

/* ---- resolution -------------------------------------------------------- */

struct mp_resolve_ctx {
	const struct mp_topo *topo;
	const struct mp_cgroup *cgroup;	    /* NULL: no cpuset restriction */
	int local_node;			    /* node of the running CPU; -1 = first CPU node */
	const char *device;		    /* the scope's device for bare "near", or NULL */
	const struct mp_features *features; /* the kernel's, or NULL when unknown */
};

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

void mp_compiled_free(struct mp_compiled *c);

/*
 * Resolve a folded policy.  On success *ret is filled (its trace starts with a
 * copy of fold_trace, may be NULL).  When a strict policy cannot be met,
 * returns -EXDEV (or -ENOENT for a node that does not exist) and fills diag
 * with a message naming the scope, origin and reason; *ret is untouched.
 */
int mp_resolve(const struct mp_policy *p, const struct mp_trace *fold_trace, const struct mp_resolve_ctx *ctx,
	       struct mp_compiled *ret, struct mp_diag *diag);

/* Parse text (any accepted spelling) and resolve it against ctx, without a
 * fold: what tests, benchmarks and one-policy callers need.  Errors as
 * mp_policy_parse and mp_resolve; diag (may be NULL) says which. */
int mp_compile(const char *text, const struct mp_resolve_ctx *ctx, struct mp_compiled *ret, struct mp_diag *diag);

/* Split plan: for a range of len bytes in units of 'unit' bytes, the length given to
 * each weighted node in order.  Returns number of chunks written (<= max). */
unsigned mp_compiled_split(const struct mp_compiled *c, uint64_t len, uint64_t unit, int *ret_node, uint64_t *ret_len,
			   unsigned max);

/*
 * The one-line account of where a resolved policy came from, as the agent's
 * problems and `mplace run`'s MPLACE_AGENT_SOURCE_* give it:
 * "CANONICAL (scope at origin, ...)", "default" for an empty canonical form
 * and "(default)" when no scope of fold_trace contributed.  *ret_text is
 * malloc'd.  Returns 0 or -ENOMEM (*ret_text untouched).
 */
int mp_source_text(const struct mp_compiled *c, const struct mp_trace *fold_trace, char **ret_text);

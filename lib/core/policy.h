/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The policy model: a partial record in which every field may be unset.
 * Unset means "inherit from the more general scope"; it is not the default.
 *
 * Node sets are kept as the user's intent (terms such as "tier:fast" or
 * "near:pci:0000:3b:00.0") and only become node masks at resolution time
 * (combine.c), against a topology.
 *
 * Every policy is in canonical form after mp_policy_parse(): node-set terms
 * normalised (explicit node lists merged), lists deduplicated, presets
 * expanded.  Hence mp_policy_equal() is structural equality and
 * parse(format(p)) == p.
 */
#include <stdbool.h>
#include <stdint.h>

#include "basic/nodemask.h"

/* ---- node-set expressions (intent) ------------------------------------ */

enum mp_ns_atom {
	MP_NS_LIST,	 /* explicit nodes: "0-3,7"                       */
	MP_NS_ALL,	 /* "all": every node with memory                 */
	MP_NS_CPUSET,	 /* "cpuset": the cgroup's allowed mems           */
	MP_NS_LOCAL,	 /* "local": the node of the running CPU          */
	MP_NS_CPU_NODES, /* "cpu-nodes": nodes that have CPUs             */
	MP_NS_TIER,	 /* "tier:fast" / "tier:slow" / "tier:N"          */
	MP_NS_BEST,	 /* "best:bandwidth|latency|capacity"             */
	MP_NS_NEAR,	 /* "near:pci:BDF", "near:net:IF", "near:block:DEV", "near" (the scope's device) */
	MP_NS_DIST,	 /* "dist<=N": within distance N of the local node */
	MP_NS_RELATIVE,	 /* "+0-1": indices into the cpuset's allowed nodes */
	MP_NS_GPU_NODES, /* "gpu-nodes": nodes that are a GPU's memory      */
};

enum mp_tier_sel { MP_TIER_FAST = -1, MP_TIER_SLOW = -2 }; /* else arg = tier rank, 0 fastest */
enum mp_best_sel { MP_BEST_BANDWIDTH, MP_BEST_LATENCY, MP_BEST_CAPACITY };

struct mp_ns_term {
	uint8_t atom;		 /* enum mp_ns_atom */
	bool neg;		 /* "!term": subtract */
	int32_t arg;		 /* tier selector, best selector, distance */
	char *str;		 /* MP_NS_NEAR: "pci:0000:3b:00.0" etc., NULL for bare "near" */
	struct mp_nodemask mask; /* MP_NS_LIST, MP_NS_RELATIVE */
};

/*
 * Value of a node set: (union of positive terms, or "all" if there is none)
 * minus the union of negative terms.  Canonical order: the merged positive
 * list, other positive terms in input order, the merged negative list, other
 * negative terms in input order; duplicates dropped.
 */
struct mp_nodeset {
	unsigned n;
	struct mp_ns_term *terms;
};

/* ---- the policy -------------------------------------------------------- */

enum mp_mode {
	MP_MODE_UNSET = 0,
	MP_MODE_DEFAULT,
	MP_MODE_LOCAL,
	MP_MODE_BIND,
	MP_MODE_PREFER,
	MP_MODE_PREFER_MANY,
	MP_MODE_INTERLEAVE,
	MP_MODE_WEIGHTED_INTERLEAVE,
	MP_MODE_SPLIT,
};

enum mp_automigrate {
	MP_AM_UNSET = 0,
	MP_AM_OFF,
	MP_AM_AUTO, /* "automigrate": the best mechanism the kernel has */
	MP_AM_BALANCING,
	MP_AM_DAMON,
	MP_AM_TOUCH,
};

enum mp_nodeflags { MP_NF_UNSET = 0, MP_NF_NONE, MP_NF_STATIC, MP_NF_RELATIVE };
enum mp_tristate { MP_UNSET = 0, MP_NO, MP_YES };
enum mp_weights_kind { MP_W_UNSET = 0, MP_W_AUTO, MP_W_LIST };
enum mp_fallback_kind { MP_FB_UNSET = 0, MP_FB_NONE, MP_FB_NODES };

#define MP_ORDER_THP UINT64_C(1) /* order=thp; other values are page sizes in bytes */

struct mp_weight {
	uint16_t node;
	uint16_t weight; /* 1..255, as the kernel's weighted interleave */
};

struct mp_order_constraint {
	uint64_t page_size; /* bytes: 4096, 2M, 1G, or MP_ORDER_THP */
	struct mp_nodeset nodes;
};

struct mp_policy {
	/* placement */
	enum mp_mode mode;
	bool nodes_set;
	struct mp_nodeset nodes;

	/* constraints: intersect when combined; never widened */
	unsigned n_allow;
	struct mp_nodeset *allow; /* conjunction */
	bool phys_set;
	uint64_t phys_lo, phys_hi; /* [lo, hi) */
	unsigned n_order_nodes;
	struct mp_order_constraint *order_nodes; /* sorted by page_size; conjunction per size */

	/* behaviour */
	enum mp_tristate strict;
	enum mp_fallback_kind fallback;
	struct mp_nodeset fallback_nodes;
	enum mp_weights_kind weights;
	unsigned n_weights;
	struct mp_weight *weight_list; /* sorted by node, unique */
	uint64_t order;		       /* 0 unset, MP_ORDER_THP, or page size */
	enum mp_automigrate automigrate;
	enum mp_tristate replicate;
	int home; /* -1 unset */
	enum mp_nodeflags nodeflags;
	enum mp_tristate migrate;
};

/* A parse or resolution error with its position, for tools to print. */
struct mp_diag {
	unsigned pos;	/* byte offset in the parsed text (0-based) */
	char msg[256];	/* what is wrong */
	char hint[256]; /* what would be right, or "" */
};

/* Input spellings mp_policy_parse_as() understands. */
enum mp_form {
	MP_FORM_AUTO = 0, /* detect from the text */
	MP_FORM_MPLACE,	  /* mode[:nodes] {option}                  */
	MP_FORM_NUMACTL,  /* --membind=0-1, -i all, -p 1, -P, -w, -l, -b */
	MP_FORM_MPOL,	  /* tmpfs mpol=: interleave=static:0-3     */
	MP_FORM_SYSTEMD,  /* NUMAPolicy=bind NUMAMask=0-1           */
	MP_FORM_OCI,	  /* {"mode":"MPOL_BIND","nodes":"0-1",...}  */
};

void mp_policy_init(struct mp_policy *p);				/* the empty policy */
void mp_policy_free(struct mp_policy *p);				/* leaves p empty */
int mp_policy_copy(struct mp_policy *dst, const struct mp_policy *src); /* dst must be uninitialised or freed */
bool mp_policy_equal(const struct mp_policy *a, const struct mp_policy *b);
bool mp_policy_is_empty(const struct mp_policy *p);

void mp_nodeset_init(struct mp_nodeset *ns);
void mp_nodeset_free(struct mp_nodeset *ns);
int mp_nodeset_copy(struct mp_nodeset *dst, const struct mp_nodeset *src);
bool mp_nodeset_equal(const struct mp_nodeset *a, const struct mp_nodeset *b);

/*
 * Parse a node-set expression ("0-3,!2", "tier:fast", "+0-1").  On success the
 * result is canonical.  On error returns -EINVAL, fills diag (may be NULL) and
 * leaves *ret untouched.
 */
int mp_nodeset_parse(const char *s, size_t len, struct mp_nodeset *ret, struct mp_diag *diag);
/*
 * numactl's node string, one term: "all", "LIST", "!LIST" (every node but
 * LIST), "+LIST" (positions within the allowed nodes), "!+LIST", and
 * libnuma's devices "netdev:IF", "pci:BDF", "block:DEV".  The one reader of
 * it: `mplace numactl` uses it for -N and -C too.  base: the string's offset
 * for diag.  0 or -EINVAL/-ENOMEM, *ret untouched on error.
 */
int mp_numactl_nodes_parse(const char *s, size_t len, size_t base, struct mp_nodeset *ret, struct mp_diag *diag);
/* Canonical text; malloc'ed, NULL on ENOMEM. */
char *mp_nodeset_format(const struct mp_nodeset *ns);

/*
 * Parse a policy in any accepted spelling.  On success *ret holds a canonical
 * policy (caller frees).  On error: -EINVAL, diag filled, *ret untouched.
 */
int mp_policy_parse(const char *text, struct mp_policy *ret, struct mp_diag *diag);
int mp_policy_parse_as(enum mp_form form, const char *text, struct mp_policy *ret, struct mp_diag *diag);

/* Canonical one-line form ("" for the empty policy); malloc'ed, NULL on ENOMEM. */
char *mp_policy_format(const struct mp_policy *p);

/*
 * The parts of a machine's description resolving p reads beyond its nodes,
 * CPUs, memory and distances, as MP_TOPO_* bits (machine/topo.h): devices
 * for near:, HMAT for best:bandwidth|latency and weights=auto, the kernel's
 * tiers for tier:, physical blocks for phys, huge page pools for a hugetlb
 * order.  A caller that resolves only such policies may load the rest
 * (mp_topo_load_parts) and leave these out: mplace run does, so that
 * starting a program costs what its policies need.
 */
unsigned mp_policy_topo_parts(const struct mp_policy *p);

const char *mp_mode_name(enum mp_mode m);
const char *mp_automigrate_name(enum mp_automigrate a);

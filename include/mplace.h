/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef MPLACE_H
#define MPLACE_H
/*
 * libmplace: one scheme for saying where memory lives on Linux.
 *
 * Conventions: every call returns int, >= 0 on success and a negative errno on
 * failure; outputs come last as ret_* and are untouched on failure.
 *   -EINVAL     bad argument or policy text
 *   -ENOENT     no such node or device
 *   -EOPNOTSUPP the kernel lacks the feature
 *   -EXDEV      valid, but cannot be enforced here (see the reason)
 *   -EPERM      privilege needed
 *   -ENOMEM     memory could not be had within the policy
 * The library never prints and never exits; where a reason helps, calls fill a
 * struct mplace_error the caller passes (it may be NULL).
 *
 * Calls that may grow take an options struct whose first member, sz, is its
 * size; declare it with MPLACE_OPTS, which sets sz and zeroes the members
 * not named.  Zero is every member's default.  A struct only grows at its
 * end, so a program and the library may come from different versions of this
 * header (libbpf's rule for its opts):
 *   - an older program's smaller struct is accepted, and the members it
 *     lacks read as zero;
 *   - a newer program's larger struct is accepted when every byte past the
 *     members this library knows is zero; otherwise the call fails with
 *     -EINVAL, outputs untouched, and err names the struct: an option this
 *     library cannot honour is refused, never silently ignored;
 *   - a sz smaller than sz itself, or one that ends inside a member, is the
 *     size of no version of the struct: -EINVAL.
 * opts may be NULL where a call says so: every option at its default.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPLACE_PUBLIC __attribute__((visibility("default")))

#define MPLACE_OPTS(type, name, ...) struct type name = {.sz = sizeof(struct type), __VA_ARGS__}

struct mplace_policy;	/* a parsed, canonical policy: a partial record */
struct mplace_topo;	/* a machine: nodes, distances, HMAT, tiers, devices */
struct mplace_compiled; /* a policy resolved against a machine */

/* Why a call failed, for people. */
struct mplace_error {
	size_t sz;	   /* sizeof(struct mplace_error), set by the caller */
	unsigned pos;	   /* byte offset in the parsed text, when parsing */
	char message[256]; /* what is wrong */
	char hint[256];	   /* what would be right, or "" */
};

/* "0.1.0" */
MPLACE_PUBLIC const char *mplace_version(void);

/* ---- policies ----------------------------------------------------------- */

/* Parse a policy in any accepted spelling: mplace's own ("bind:0-1 strict"),
 * numactl options, tmpfs mpol=, systemd NUMAPolicy=, or an OCI memoryPolicy
 * object.  -EINVAL with err filled when it does not parse. */
MPLACE_PUBLIC int mplace_policy_parse(const char *text, struct mplace_policy **ret_policy, struct mplace_error *err);
/* The canonical text, malloc'ed (free it with free()).  -ENOMEM. */
MPLACE_PUBLIC int mplace_policy_format(const struct mplace_policy *policy, char **ret_text);
/* acc = acc folded with the more specific s: constraints intersect, everything
 * else comes from s where s sets it.  -ENOMEM (acc unchanged). */
MPLACE_PUBLIC int mplace_policy_combine(struct mplace_policy *acc, const struct mplace_policy *s);
MPLACE_PUBLIC void mplace_policy_free(struct mplace_policy *policy);

/* ---- machines ----------------------------------------------------------- */

/* root: NULL for the live system, or a directory holding sys/ and proc/. */
MPLACE_PUBLIC int mplace_topo_load(const char *root, struct mplace_topo **ret_topo);
/* Node ids with memory, ascending; returns how many there are (may exceed n). */
MPLACE_PUBLIC int mplace_topo_nodes(const struct mplace_topo *topo, int *ret_nodes, size_t n);
MPLACE_PUBLIC void mplace_topo_free(struct mplace_topo *topo);

/* ---- resolution --------------------------------------------------------- */

struct mplace_resolve_opts {
	size_t sz;
	const char *cgroup; /* its cpuset.mems restrict the result; NULL: none */
	const char *root;   /* where to read the cgroup: NULL for the live system */
	int has_local_node; /* nonzero: local_node is the node the memory's user
				 * runs on; zero: the first node with CPUs */
	int local_node;
	const char *device; /* the device for bare "near" */
};

/* Resolve policy against topo.  A strict policy that cannot be met fails
 * with -ENOENT (no such node) or -EXDEV (refused by a constraint), err saying
 * which and why.  opts may be NULL. */
MPLACE_PUBLIC int mplace_resolve(const struct mplace_policy *policy, const struct mplace_topo *topo,
				 const struct mplace_resolve_opts *opts, struct mplace_compiled **ret_compiled,
				 struct mplace_error *err);
/* The placement nodes, ascending; returns how many there are (may exceed n). */
MPLACE_PUBLIC int mplace_compiled_nodes(const struct mplace_compiled *c, int *ret_nodes, size_t n);
/* The mode as a name: "bind", "weighted-interleave", ... */
MPLACE_PUBLIC const char *mplace_compiled_mode(const struct mplace_compiled *c);
/* Number of warnings, and the i-th (valid until the compiled policy is freed). */
MPLACE_PUBLIC int mplace_compiled_warnings(const struct mplace_compiled *c);
MPLACE_PUBLIC const char *mplace_compiled_warning(const struct mplace_compiled *c, int i);
/* The concrete policy in mplace's canonical form, malloc'ed. */
MPLACE_PUBLIC int mplace_compiled_format(const struct mplace_compiled *c, char **ret_text);
MPLACE_PUBLIC void mplace_compiled_free(struct mplace_compiled *c);

/* ---- placement: applying a compiled policy to memory, and checking it --- */

/* Flags for mplace_bind and mplace_map. */
#define MPLACE_POPULATE	     (1u << 0) /* fault the pages in now */
#define MPLACE_VERIFY	     (1u << 1) /* check each present page's node afterwards */
#define MPLACE_MIGRATE	     (1u << 2) /* move pages already present */
#define MPLACE_NO_CHECK_FREE (1u << 3) /* skip the per-node free-memory check */

/* How the placement was carried out (mplace_place_report.backend). */
#define MPLACE_BACKEND_KERNEL	       1 /* one mbind with the kernel's own mode */
#define MPLACE_BACKEND_KERNEL_WEIGHTED 2 /* the kernel's weighted interleave (its sysfs table) */
#define MPLACE_BACKEND_CHUNKS	       3 /* consecutive chunks bound per node, in user space */
#define MPLACE_BACKEND_STRICT_POPULATE 4 /* populated under prefer-many, checked, then bound */

#define MPLACE_REPORT_NODES 64

/* What a placement requested against what it achieved.  Set sz to
 * sizeof(struct mplace_place_report); filled on success and on failure
 * (reason says why).  Counts are in the placement's page size. */
struct mplace_place_report {
	size_t sz;
	int backend;
	int fell_back;	    /* non-strict: some pages went to fallback nodes */
	uint64_t pages;	    /* pages in the range */
	uint64_t present;   /* pages that exist */
	uint64_t misplaced; /* present pages not where the plan put them */
	uint64_t elsewhere; /* pages on nodes >= MPLACE_REPORT_NODES */
	uint64_t per_node[MPLACE_REPORT_NODES];
	char reason[256]; /* why pages are elsewhere, or why the call failed */
};

struct mplace_compile_opts {
	size_t sz;
	const char *cgroup; /* restrict to this cgroup's cpuset.mems; NULL: the caller's own cgroup */
	int has_local_node; /* nonzero: local_node is where the memory's user runs;
			     * zero: the node of the CPU the caller runs on */
	int local_node;
	const char *device; /* the device for bare "near" */
};

/* Parse policy_text and resolve it against the live machine (its topology,
 * the cgroup's allowed nodes, what the kernel supports).  -EINVAL (does not
 * parse), -ENOENT, -EXDEV (a strict policy that cannot be met), err says
 * why.  opts may be NULL. */
MPLACE_PUBLIC int mplace_compile(const char *policy_text, const struct mplace_compile_opts *opts,
				 struct mplace_compiled **ret_compiled, struct mplace_error *err);

/* Apply c to [addr, addr + len), which must be aligned to the policy's page
 * size.  -ENOMEM: strict (or bind with nowhere to fall back) and the memory
 * could not be had on the placement nodes; the range's pages have been
 * released.  -EOPNOTSUPP: the kernel lacks what the policy needs (home node,
 * weighted interleave mode).  -EXDEV: cannot be enforced on a range.  report
 * may be NULL. */
MPLACE_PUBLIC int mplace_bind(void *addr, size_t len, const struct mplace_compiled *c, unsigned flags,
			      struct mplace_place_report *report);

/* Where the pages of [addr, addr + len) are, asked page by page (page_size
 * apart; 0 means the base page size): ret_per_node[i] counts the pages on
 * node i < n_nodes; ret_node_of (may be NULL, else len / page_size entries)
 * gets each page's node or -ENOENT when it is not present.  Returns the
 * number of present pages, or -errno. */
MPLACE_PUBLIC int mplace_where(const void *addr, size_t len, size_t page_size, uint64_t *ret_per_node, size_t n_nodes,
			       int *ret_node_of);

/* Map len bytes of anonymous memory placed by c: huge pages when its order
 * asks (THP aligned and advised; hugetlb from the per-node pools, -ENOMEM
 * naming the node and pool when it is empty).  Strict policies are populated
 * and checked before this returns.  report may be NULL. */
MPLACE_PUBLIC int mplace_map(const struct mplace_compiled *c, size_t len, unsigned flags, void **ret_addr,
			     struct mplace_place_report *report);
/* Unmap what mplace_map returned (same c and len). */
MPLACE_PUBLIC int mplace_unmap(void *addr, size_t len, const struct mplace_compiled *c);

/* ---- allocation with a policy ------------------------------------------- */
/*
 * malloc-style calls that place the memory by a compiled policy.  Each
 * distinct placement gets its own jemalloc arenas, whose pages are placed
 * before jemalloc uses them; the handle caches which arenas, so after the
 * first call an allocation costs what mallocx does.  The handle may be freed
 * while its allocations live.  On failure they return NULL with errno:
 *   EINVAL  NULL policy, or an alignment that is not a power of two
 *   ENOMEM  no memory within the policy (a strict policy fails here instead
 *           of leaving the process to the OOM killer)
 *   EXDEV   the policy asks for hugetlb pages (order=2M|1G), which the
 *           allocator cannot split (use mplace_map), or for a strict
 *           physical range (phys<4G strict), which only a pool can keep
 *   E2BIG   more than 255 distinct placements in one process
 * Linking libmplace links jemalloc (see doc/allocator.md for what that means
 * for the program's own malloc).
 */
MPLACE_PUBLIC void *mplace_alloc(const struct mplace_compiled *policy, size_t size);
MPLACE_PUBLIC void *mplace_calloc(const struct mplace_compiled *policy, size_t n, size_t size);
/* ptr NULL: like mplace_alloc; size 0: frees ptr and returns NULL.  The
 * object moves when policy places memory differently from ptr's. */
MPLACE_PUBLIC void *mplace_realloc(const struct mplace_compiled *policy, void *ptr, size_t size);
MPLACE_PUBLIC void *mplace_aligned_alloc(const struct mplace_compiled *policy, size_t align, size_t size);
/* Any pointer the calls above returned, from any thread; NULL is a no-op.
 * A pointer they did not return is handed to free(). */
MPLACE_PUBLIC void mplace_free(void *ptr);
/* Bytes usable at ptr (>= the size asked); 0 for NULL or a foreign pointer. */
MPLACE_PUBLIC size_t mplace_usable_size(const void *ptr);

/* ---- replication -------------------------------------------------------- */

struct mplace_replica; /* copies of read-mostly data, one per node */

/* Copy src[0, len) to each node of policy (each memory node when it names
 * none), each copy bound to its node and checked page by page.  -EINVAL,
 * -ENOMEM (strict, and a node could not hold its copy), -E2BIG. */
MPLACE_PUBLIC int mplace_replicate(const struct mplace_compiled *policy, const void *src, size_t len,
				   struct mplace_replica **ret_replica);
/* The copy on the calling thread's node (or the nearest one). */
MPLACE_PUBLIC const void *mplace_replica_local(const struct mplace_replica *r);
/* Number of copies; with ret_node, the node of copy i (i < the number). */
MPLACE_PUBLIC int mplace_replica_copies(const struct mplace_replica *r, int i, int *ret_node);
/* Rewrite every copy from src; len must be the replicated length.  Readers
 * that must not see a half-written copy synchronise with the caller. */
MPLACE_PUBLIC int mplace_replica_update(struct mplace_replica *r, const void *src, size_t len);
MPLACE_PUBLIC void mplace_replica_free(struct mplace_replica *r);

#ifdef __cplusplus
}
#endif
#endif

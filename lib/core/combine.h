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

#include "compiled.h"
#include "config.h"
#include "policy.h"
#include "trace.h"
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
	/* every scope of the configuration selects it: for a caller that chose
	 * the scopes itself (mplaced's snapshot folds [system] with one scope) */
	bool match_all;
	/* the name of the scope of the caller's expression in traces and
	 * sources; NULL: "command line" */
	const char *expr_label;
};

/* Does scope sc select the process (or object) sel describes?  sel->kind
 * plays no part: a scope is selected whatever its keys. */
bool mp_scope_matches(const struct mp_scope *sc, const struct mp_selector *sel);

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
	/* or, when features is NULL: asked for them only when a policy needs
	 * them (automigrate), since probing the kernel costs a thread and dozens
	 * of system calls that most resolutions do not need (machine/live.c) */
	const struct mp_features *(*get_features)(void *arg);
	void *features_arg;
};

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

/*
 * The one-line account of where a resolved policy came from, as the agent's
 * problems and `mplace run`'s MPLACE_AGENT_SOURCE_* give it:
 * "CANONICAL (scope at origin, ...)", "default" for an empty canonical form
 * and "(default)" when no scope of fold_trace contributed.  *ret_text is
 * malloc'd.  Returns 0 or -ENOMEM (*ret_text untouched).
 */
int mp_source_text(const struct mp_compiled *c, const struct mp_trace *fold_trace, char **ret_text);

/*
 * What the agent is given for one kind of memory of a process: fold cfg for
 * sel (sel->kind, sel->path) with expr on top (may be NULL), and when
 * something asks for that kind (for MP_KIND_ALL: the folded policy is not
 * empty; for a kind: a scope's key for it, or expr_sets_kind), resolve it.
 * Returns 1 with *ret compiled and *ret_src its mp_source_text (malloc'd),
 * 0 when nothing asks for the kind, or an error as mp_fold or mp_resolve
 * (diag says which).  `mplace run` and mplaced both give agents their
 * policies with it, so that the two never disagree.
 */
int mp_resolve_kind(const struct mp_config *cfg, const struct mp_selector *sel, const struct mp_policy *expr,
		    bool expr_sets_kind, const struct mp_resolve_ctx *ctx, struct mp_compiled *ret, char **ret_src,
		    struct mp_diag *diag);

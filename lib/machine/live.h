/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The live context a policy is resolved against: the machine's topology,
 * the process's (or a named) cgroup and the kernel's features, loaded
 * together through one injectable root, and the mp_resolve_ctx made of them.
 */
#include <stdbool.h>

#include "core/combine.h"
#include "topo.h"

struct mp_live {
	const char *root;     /* as given to mp_live_load: it outlives l */
	struct mp_topo *topo; /* always there after a successful load */
	struct mp_cgroup cg;  /* valid when have_cg */
	bool have_cg;
	int cg_err;		 /* why have_cg is false (-errno); 0 when it is true */
	struct mp_features feat; /* valid when have_feat */
	bool have_feat;
	bool feat_tried; /* probed (or tried): the features are asked for once */
};

/*
 * Load the topology under root (NULL or "/": the live system), and the
 * cgroup named by cgroup_path (when not NULL) or else that of pid (0: this
 * process).  Returns 0 or -errno.  The kernel's features are probed later,
 * when first needed (mp_live_features): a probe costs a thread and dozens
 * of system calls that most commands never use.
 *
 * Only the topology is fatal: without it nothing can be resolved, and its
 * -errno is returned with *ret untouched.  A cgroup that cannot be read
 * only leaves it absent (have_cg false), as every resolver treats a missing
 * one: no cpuset restriction.  Its -errno is kept in cg_err, so a caller
 * that was given an explicit cgroup can report it, where and when it
 * chooses to.
 */
int mp_live_load(const char *root, int pid, const char *cgroup_path, struct mp_live *ret);
/* The same, the topology without the parts in skip (MP_TOPO_*). */
int mp_live_load_parts(const char *root, int pid, const char *cgroup_path, unsigned skip, struct mp_live *ret);

/* The kernel's features under l's root, probed on the first call; NULL when
 * they cannot be had (have_feat false). */
const struct mp_features *mp_live_features(struct mp_live *l);

/* The resolve context of l: its topology, its cgroup when present (NULL
 * otherwise), its features when probed, or else mp_live_features to probe
 * them when a policy needs them, local_node -1 (the first CPU node) and no
 * device.  It points into l, so it lives no longer than l. */
void mp_live_resolve_ctx(struct mp_live *l, struct mp_resolve_ctx *ret);

/* Free what l holds and zero it; a zeroed struct mp_live is a no-op. */
void mp_live_free(struct mp_live *l);

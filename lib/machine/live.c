/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading the live context (topology, cgroup, kernel features) that every
 * resolver of a policy against a machine needs, so the library, the agent
 * and the tools assemble it one way.
 *
 * Invariants: the parts are loaded in the order topology, cgroup, features;
 * only a missing topology fails the load, and then *ret is untouched; a
 * missing cgroup or feature set is an absent part, never a guessed one.
 */
#include <errno.h>
#include <string.h>

#include "live.h"

int mp_live_load(const char *root, int pid, const char *cgroup_path, struct mp_live *ret)
{
	struct mp_live l;
	int r;

	if (!ret)
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	r = mp_topo_load(root, &l.topo);
	if (r < 0)
		return r;
	r = cgroup_path ? mp_cgroup_load_path(root, cgroup_path, &l.cg) : mp_cgroup_load(root, pid, &l.cg);
	l.have_cg = r >= 0;
	l.cg_err = r < 0 ? r : 0;
	l.have_feat = mp_features_probe(root, &l.feat) >= 0;
	*ret = l;
	return 0;
}

void mp_live_resolve_ctx(const struct mp_live *l, struct mp_resolve_ctx *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->topo = l->topo;
	ret->cgroup = l->have_cg ? &l->cg : NULL;
	ret->local_node = -1;
	ret->features = l->have_feat ? &l->feat : NULL;
}

void mp_live_free(struct mp_live *l)
{
	if (!l)
		return;
	if (l->have_cg)
		mp_cgroup_free(&l->cg);
	mp_topo_free(l->topo);
	memset(l, 0, sizeof(*l));
}

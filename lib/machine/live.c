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
	return mp_live_load_parts(root, pid, cgroup_path, 0, ret);
}

int mp_live_load_parts(const char *root, int pid, const char *cgroup_path, unsigned skip, struct mp_live *ret)
{
	struct mp_live l;
	int r;

	if (!ret)
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	r = mp_topo_load_parts(root, skip, &l.topo);
	if (r < 0)
		return r;
	r = cgroup_path ? mp_cgroup_load_path(root, cgroup_path, &l.cg) : mp_cgroup_load(root, pid, &l.cg);
	l.have_cg = r >= 0;
	l.cg_err = r < 0 ? r : 0;
	/* kept for the features, probed later under the same root */
	l.root = root;
	*ret = l;
	return 0;
}

const struct mp_features *mp_live_features(struct mp_live *l)
{
	if (!l->feat_tried) {
		l->feat_tried = true;
		l->have_feat = mp_features_probe(l->root, &l->feat) >= 0;
	}
	return l->have_feat ? &l->feat : NULL;
}

static const struct mp_features *get_features(void *arg)
{
	return mp_live_features(arg);
}

void mp_live_resolve_ctx(struct mp_live *l, struct mp_resolve_ctx *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->topo = l->topo;
	ret->cgroup = l->have_cg ? &l->cg : NULL;
	ret->local_node = -1;
	ret->features = l->have_feat ? &l->feat : NULL;
	if (!l->feat_tried) {
		ret->get_features = get_features;
		ret->features_arg = l;
	}
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

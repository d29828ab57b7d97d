/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replicas of read-mostly data, one per node of a policy (see replicate.h for
 * the invariants).  Each copy is mapped with a one-node bind derived from the
 * caller's policy (same strictness and page order), so the placement layer
 * does the mapping, the capacity check and the verification.
 *
 * The local lookup is sched_getcpu() and a table load.  glibc (2.35 and
 * later) answers sched_getcpu from the thread's rseq area, which the kernel
 * keeps current as the thread migrates: that is the per-thread cache, and it
 * is never stale, unlike a node remembered at the thread's first call.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "kernel/place.h"
#include "replicate.h"
#include "core/mpol.h"

/* c turned into "bind to node n", keeping what says how (strict, order). */
static void one_node(struct mp_compiled *out, const struct mp_compiled *c, int n)
{
	*out = *c;
	out->mode = MP_MODE_BIND;
	out->kmode = MP_MPOL_BIND;
	out->kflags = 0;
	mp_mask_zero(&out->nodes);
	mp_mask_set(&out->nodes, (unsigned)n);
	out->has_weights = false;
	out->n_weights = 0;
	out->n_fallback = 0;
	out->home = -1;
	out->migrate = false;
	out->replicate = false;
	/* a copy of a compiled policy, not the owner of its heap parts */
	out->n_warnings = 0;
	memset(out->warnings, 0, sizeof(out->warnings));
	mp_trace_init(&out->trace);
}

/* For each CPU, the copy on its node, or the nearest copy by distance. */
static int cpu_table(struct mp_replica *r, const struct mp_topo *t)
{
	int max_cpu = -1;

	for (unsigned i = 0; i < t->n_nodes; i++)
		for (unsigned k = 0; k < t->nodes[i].n_cpus; k++)
			if (t->nodes[i].cpus[k] > max_cpu)
				max_cpu = t->nodes[i].cpus[k];
	r->n_cpus = (unsigned)(max_cpu + 1);
	if (!r->n_cpus)
		return 0;
	r->copy_of_cpu = calloc(r->n_cpus, sizeof(*r->copy_of_cpu));
	if (!r->copy_of_cpu)
		return -ENOMEM;
	for (unsigned i = 0; i < t->n_nodes; i++) {
		const struct mp_node *nd = &t->nodes[i];
		unsigned best = 0;
		int best_d = -1;

		for (unsigned j = 0; j < r->n; j++) {
			int d = r->node[j] == nd->id ? 0 : mp_topo_distance(t, nd->id, r->node[j]);

			/* unknown distance (-1) ranks after every known one */
			if (d < 0)
				d = 1 << 30;
			if (best_d < 0 || d < best_d) {
				best_d = d;
				best = j;
			}
		}
		for (unsigned k = 0; k < nd->n_cpus; k++)
			r->copy_of_cpu[nd->cpus[k]] = (uint16_t)best;
	}
	return 0;
}

void mp_replica_free(struct mp_replica *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++) {
		struct mp_compiled c;

		one_node(&c, &r->one, r->node[i]);
		mp_place_unmap(r->copy[i], r->len, &c);
	}
	free(r->copy_of_cpu);
	free(r);
}

int mp_replicate(const struct mp_compiled *c, const struct mp_topo *topo, const void *src, size_t len,
		 struct mp_replica **ret)
{
	struct mp_topo *own = NULL;
	struct mp_nodemask nodes;
	struct mp_replica *r;
	int err;

	if (!c || !src || !len || !ret)
		return -EINVAL;
	if (!topo) {
		err = mp_topo_load(NULL, &own);
		if (err < 0)
			return err;
		topo = own;
	}
	nodes = c->nodes;
	/* every node of the machine's own memory: a GPU's is no place for a copy */
	if (mp_mask_empty(&nodes))
		mp_mask_andnot(&nodes, &topo->memory, &topo->gpu_memory);
	if (mp_mask_weight(&nodes) > MP_COMPILED_MAX) {
		err = -E2BIG;
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	r->len = len;
	one_node(&r->one, c, mp_mask_next(&nodes, 0));
	mp_mask_foreach(n, &nodes) {
		struct mp_compiled cn;
		struct mp_place_report rep;
		uint64_t *per;
		size_t ps = (size_t)sysconf(_SC_PAGESIZE);
		void *p;

		one_node(&cn, c, n);
		/* strict: capacity checked, every page verified, -ENOMEM otherwise */
		err = mp_place_map(&cn, len, cn.strict ? MP_PLACE_POPULATE | MP_PLACE_VERIFY : 0, &p, &rep);
		if (err < 0)
			goto fail;
		r->node[r->n] = n;
		r->copy[r->n] = p;
		r->n++;
		memcpy(p, src, len);
		/* the copy is written: count what did not land on its node */
		per = calloc(MP_MAX_NODES, sizeof(*per));
		if (!per) {
			err = -ENOMEM;
			goto fail;
		}
		err = mp_place_where(p, (len + ps - 1) / ps * ps, ps, per, MP_MAX_NODES, NULL);
		if (err >= 0)
			r->misplaced[r->n - 1] = (len + ps - 1) / ps - per[n];
		free(per);
		if (err < 0)
			goto fail;
	}
	err = cpu_table(r, topo);
	if (err < 0)
		goto fail;
	*ret = r;
	err = 0;
	goto out;
fail:
	mp_replica_free(r);
out:
	mp_topo_free(own);
	return err;
}

const void *mp_replica_local(const struct mp_replica *r)
{
	int cpu = sched_getcpu();

	if (cpu < 0 || (unsigned)cpu >= r->n_cpus)
		return r->copy[0];
	return r->copy[r->copy_of_cpu[cpu]];
}

int mp_replica_update(struct mp_replica *r, const void *src, size_t len)
{
	if (!r || !src || len != r->len)
		return -EINVAL;
	for (unsigned i = 0; i < r->n; i++)
		memcpy(r->copy[i], src, len);
	return 0;
}

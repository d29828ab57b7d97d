/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System V shared memory: a segment's policy is the segment's (shared),
 * set when this process attaches it, by the shm or hugetlb policy.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "kernel/place.h"

/* ---- System V shared memory --------------------------------------------- */

/* Segments this process created with SHM_HUGETLB (id + 1; 0 free).  Ids
 * carry a sequence number, so one is not reused for another segment until
 * the counter wraps. */
#define HUGE_SHM_IDS 64
static _Atomic int huge_shm[HUGE_SHM_IDS];

EXPORT int shmget(key_t key, size_t size, int flags)
{
	int id = (int)syscall(SYS_shmget, key, size, flags);

	if (id >= 0 && (flags & SHM_HUGETLB)) {
		for (unsigned i = 0; i < HUGE_SHM_IDS; i++) {
			int z = 0;

			if (atomic_load(&huge_shm[i]) == id + 1 ||
			    atomic_compare_exchange_strong(&huge_shm[i], &z, id + 1))
				break;
		}
	}
	return id;
}

static bool huge_shm_known(int id)
{
	for (unsigned i = 0; i < HUGE_SHM_IDS; i++)
		if (atomic_load(&huge_shm[i]) == id + 1)
			return true;
	return false;
}

/* A segment's page size: 2 MiB for one this process made with SHM_HUGETLB
 * (unless smaps says otherwise), else what smaps says of the mapping at p;
 * segments made by other processes are known only this way. */
static size_t shm_page_size(int id, void *p)
{
	unsigned long sum, kps;

	if (agent_smaps((uintptr_t)p, (uintptr_t)p + 1, "KernelPageSize:", &sum, &kps) == 0 && kps >= 4)
		return (size_t)kps << 10;
	return huge_shm_known(id) ? (size_t)2 << 20 : (size_t)getpagesize();
}

EXPORT void *shmat(int id, const void *addr, int flags)
{
	void *p = (void *)syscall(SYS_shmat, id, addr, flags);
	const struct mp_compiled *c;
	struct mp_compiled pc;
	struct shmid_ds ds;
	struct mp_place_report rep;
	const char *what = "shm";
	size_t ps, len;
	int r;

	if (p == (void *)-1 || !agent.active ||
	    (!agent_policy(MP_KIND_SHM) && !agent_policy(MP_KIND_HUGETLB) && !huge_shm_known(id)))
		return p;
	if (shmctl(id, IPC_STAT, &ds) < 0)
		return p;
	ps = shm_page_size(id, p);
	if (ps > (size_t)getpagesize()) {
		what = "hugetlb";
		c = agent_policy(MP_KIND_HUGETLB);
	} else {
		c = agent_policy(MP_KIND_SHM);
	}
	if (!c)
		return p;
	pc = *c;
	/* the segment's own page size, whatever the policy's order says */
	pc.order = ps > (size_t)getpagesize() ? ps : (c->order == MP_ORDER_THP ? MP_ORDER_THP : 0);
	len = (ds.shm_segsz + ps - 1) & ~(ps - 1);
	/* a segment's policy is the segment's (shared), so it travels with it */
	r = mp_place_range(p, len, &pc, MP_PLACE_NO_CHECK_FREE, &rep);
	if (r < 0)
		agent_problem("%s: segment %d: %s%s%s", what, id, agent_strerror(-r), rep.reason[0] ? ": " : "",
			      rep.reason);
	else if (ps > (size_t)getpagesize() && c->order > MP_ORDER_THP && c->order != ps)
		agent_problem("hugetlb: segment %d has %zu KiB pages, not the %lu KiB the policy's order names", id,
			      ps >> 10, (unsigned long)(c->order >> 10));
	return p;
}

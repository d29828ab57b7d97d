/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork while other threads are inside the allocator's registry: the child
 * (one thread) must still be able to make a set and start a thread that
 * allocates.  Without the allocator's pthread_atfork handlers a lock held by
 * a thread that does not exist in the child stays held, and the child hangs;
 * an alarm turns the hang into a failure.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "check.h"
#include "core/combine.h"
#include "machine/topo.h"

#define SPINNERS 2
#define FORKS	 200

static struct mp_compiled pol[3];
static _Atomic bool stop;

/* Takes and drops the registry lock as fast as it can (a set lookup), and
 * now and then an extent (a set's chunk lock, inside jemalloc's). */
static void *spin(void *arg)
{
	unsigned i = 0, a;

	(void)arg;
	while (!atomic_load(&stop)) {
		struct mp_alloc_ref ref = {0};
		void *p;

		mp_alloc_set_slow(&pol[0], &ref);
		mp_alloc_set_arena(1, &a);
		p = mp_alloc(&pol[i % 2], &ref, ((i % 64) + 1) << 12, 0);
		mp_alloc_free(p);
		i++;
	}
	return NULL;
}

static void *child_thread(void *arg)
{
	struct mp_alloc_ref ref = {0};
	void *p = mp_alloc(&pol[2], &ref, 100, 0);

	*(void **)arg = p;
	return NULL;
}

/* In the child: a set never seen before, and a thread's first allocation. */
static int child(void)
{
	struct mp_alloc_ref ref = {0};
	void *p = NULL, *q;
	pthread_t t;

	alarm(10);
	q = mp_alloc(&pol[2], &ref, 64, 0);
	if (!q || pthread_create(&t, NULL, child_thread, &p) || pthread_join(t, NULL) || !p)
		return 1;
	mp_alloc_free(p);
	mp_alloc_free(q);
	return 0;
}

int main(void)
{
	struct mp_resolve_ctx ctx = {.local_node = -1};
	pthread_t th[SPINNERS];
	struct mp_topo *topo;
	unsigned hung = 0, failed = 0;
	char text[3][48];
	int node;

	if (mp_topo_load(NULL, &topo) < 0 || !topo->n_nodes)
		CHECK_SKIP("no NUMA topology in /sys on this host");
	node = mp_mask_next(&topo->memory, 0);
	snprintf(text[0], sizeof(text[0]), "bind:%d", node);
	snprintf(text[1], sizeof(text[1]), "prefer:%d", node);
	/* the child's own: a placement no thread of the parent uses */
	snprintf(text[2], sizeof(text[2]), "bind:%d weights=%d:1", node, node);
	ctx.topo = topo;
	for (int i = 0; i < 3; i++)
		if (mp_compile(text[i], &ctx, &pol[i], NULL) < 0) {
			CHECK_MSG(false, "compile %s", text[i]);
			return check_status();
		}
	for (int i = 0; i < SPINNERS; i++)
		CHECK(pthread_create(&th[i], NULL, spin, NULL) == 0);
	usleep(20000);
	for (int i = 0; i < FORKS; i++) {
		int st;
		pid_t pid = fork();

		if (pid == 0)
			_exit(child());
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			failed++;
			continue;
		}
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
			hung++;
		else if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < SPINNERS; i++)
		pthread_join(th[i], NULL);
	CHECK_MSG(hung == 0, "%u of %d children hung in the allocator after fork", hung, FORKS);
	CHECK_MSG(failed == 0, "%u of %d children failed", failed, FORKS);
	for (int i = 0; i < 3; i++)
		mp_compiled_free(&pol[i]);
	mp_topo_free(topo);
	return check_status();
}

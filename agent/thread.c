/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The program's threads: each starts under the task policy with its stack
 * placed by the stack policy (a trampoline around its start routine), and
 * the program's threads are counted so that the agent's control thread
 * never keeps a process alive.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"
#include "kernel/place.h"

/* ---- threads ------------------------------------------------------------ */

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static pthread_create_fn real_pthread_create;

struct tramp {
	void *(*start)(void *);
	void *arg;
};

static void place_own_stack(void)
{
	const struct mp_compiled *c = agent_policy(MP_KIND_STACK);

	/* pinned since it was made (mlockall(MCL_FUTURE)): the mlocked kind's */
	if ((agent_mlock_future() & MCL_FUTURE) && agent_policy(MP_KIND_MLOCKED))
		c = agent_policy(MP_KIND_MLOCKED);
	pthread_attr_t a;
	void *lo;
	size_t len, ps = (size_t)sysconf(_SC_PAGESIZE);

	if (!c || pthread_getattr_np(pthread_self(), &a))
		return;
	if (pthread_attr_getstack(&a, &lo, &len) == 0) {
		uintptr_t l = ((uintptr_t)lo + ps - 1) & ~(ps - 1);
		uintptr_t h = ((uintptr_t)lo + len) & ~(ps - 1);

		/* the pages this thread touched so far move too */
		if (h > l)
			agent_place("stack of a new thread", (void *)l, h - l, c, MP_PLACE_MIGRATE, NULL, NULL);
	}
	pthread_attr_destroy(&a);
}

/*
 * The program's threads, counted, so that the agent's control thread never
 * keeps a process alive: a process whose threads all end by pthread_exit
 * (main() calling pthread_exit, a child forked from a thread) ends when the
 * last of them does, and glibc then calls exit(0) in that last thread.
 * When the count reaches 0 the ending thread stops the control thread and
 * joins it first, so the ending thread is still the last, and exit(0) and
 * the program's atexit handlers run in a thread of the program's.
 * Threads made before the agent or without pthread_create (glibc's own)
 * are not counted: the control thread may then stop early, which loses
 * only the socket.
 */
static _Atomic int program_threads = 1; /* the main thread */
static __thread bool counted __attribute__((tls_model("initial-exec")));

static void thread_end(void *unused)
{
	(void)unused;
	if (!counted)
		return;
	counted = false;
	if (atomic_fetch_sub(&program_threads, 1) == 1)
		agent_ctl_stop();
}

static void *trampoline(void *p)
{
	struct tramp t = *(struct tramp *)p;
	void *ret;

	free(p);
	counted = true;
	agent_task_apply();
	place_own_stack();
	/* runs on return, pthread_exit and cancellation alike */
	pthread_cleanup_push(thread_end, NULL);
	ret = t.start(t.arg);
	pthread_cleanup_pop(1);
	return ret;
}

typedef void (*pthread_exit_fn)(void *) __attribute__((noreturn));

EXPORT __attribute__((noreturn)) void pthread_exit(void *ret)
{
	static pthread_exit_fn real;

	if (!real)
		real = (pthread_exit_fn)dlsym(RTLD_NEXT, "pthread_exit");
	thread_end(NULL);
	real(ret);
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
	struct tramp *t;
	int r;

	if (!real_pthread_create)
		real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
	if (!real_pthread_create)
		return EAGAIN;
	/* nothing to do in the thread, and no control thread to stop after it */
	if (!agent.active ||
	    (!agent_task_active() && !agent_policy(MP_KIND_STACK) &&
	     !((agent_mlock_future() & MCL_FUTURE) && agent_policy(MP_KIND_MLOCKED)) && !agent_ctl_wanted()))
		return real_pthread_create(th, attr, start, arg);
	t = malloc(sizeof(*t));
	if (!t)
		return EAGAIN;
	t->start = start;
	t->arg = arg;
	atomic_fetch_add(&program_threads, 1);
	r = real_pthread_create(th, attr, trampoline, t);
	if (r) {
		atomic_fetch_sub(&program_threads, 1);
		free(t);
	} else {
		agent_ctl_thread_made();
	}
	return r;
}

int agent_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
	if (!real_pthread_create)
		real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
	return real_pthread_create ? real_pthread_create(th, attr, start, arg) : EAGAIN;
}

void agent_threads_init(void)
{
	counted = true; /* the main thread */
}

void agent_threads_forked(void)
{
	/* the forking thread is the child's only one */
	atomic_store(&program_threads, 1);
	counted = true;
}

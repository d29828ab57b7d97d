/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The program's task policy: every thread's own (set_mempolicy acts on the
 * caller only), set in each thread as it starts (thread.c) and, on `mplace
 * set policy=`, in every thread at once with a real-time signal the
 * program does not use.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "basic/util.h"
#include "kernel/place.h"

/* ---- task policy -------------------------------------------------------- */

/* The task policy every thread of the program gets (task_set false: none,
 * the kernel's default is left alone). */
static struct mp_task_policy task;
static bool task_set;

static int task_apply(void)
{
	return task_set ? mp_place_task(&task) : 0;
}

bool agent_task_active(void)
{
	return task_set;
}

void agent_task_init(const struct mp_compiled *c)
{
	mp_task_policy_of(c, &task);
	task_set = true;
	agent_task_apply();
}

int agent_task_apply(void)
{
	int r = task_apply();

	if (r < 0)
		agent_problem("task policy of thread %d: %s", (int)gettid(), agent_strerror(-r));
	return r;
}

/* `mplace set policy=`: every thread sets its own policy (set_mempolicy acts
 * on the caller only), asked with a real-time signal the program does not use. */
static _Atomic int task_acks;
static int task_signal;

static void task_handler(int sig)
{
	int e = errno;

	task_apply();
	atomic_fetch_add(&task_acks, 1);
	errno = e;
}

int agent_task_set_all(const struct mp_compiled *c)
{
	struct sigaction sa = {0}, old;
	char buf[4096];
	int fd, sent = 0, self = (int)gettid();
	ssize_t n;

	mp_task_policy_of(c, &task);
	task_set = true;
	if (!task_signal) {
		for (int s = SIGRTMAX; s > SIGRTMIN + 4; s--) {
			if (sigaction(s, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
			    !(old.sa_flags & SA_SIGINFO)) {
				task_signal = s;
				break;
			}
		}
		if (!task_signal)
			return -EBUSY;
		sa.sa_handler = task_handler;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(task_signal, &sa, NULL) < 0)
			return -errno;
	}
	atomic_store(&task_acks, 0);
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (ssize_t o = 0; o < n;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *de = (void *)(buf + o);
			uint64_t tid;

			o += de->reclen;
			if (mp_parse_uint(de->name, strlen(de->name), INT32_MAX, &tid) < 0)
				continue;
			if ((int)tid == self) {
				task_apply();
				continue;
			}
			if (syscall(SYS_tgkill, getpid(), (int)tid, task_signal) == 0)
				sent++;
		}
	}
	close(fd);
	for (int i = 0; i < 200 && atomic_load(&task_acks) < sent; i++)
		usleep(1000);
	if (atomic_load(&task_acks) < sent)
		agent_problem("set policy: %d of %d threads did not answer (blocked the signal %d?)",
			      sent - atomic_load(&task_acks), sent, task_signal);
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A storm of short-lived processes under the system agent (doc/daemon.md,
 * "The system agent"): bench/exec-storm.sh drives it against a daemon.
 *
 *   bench-exec-storm --child            what each process runs: reports, on
 *                                       fd 3, the time its main began, the
 *                                       agent's state and the kernel policy
 *                                       of a fresh heap page
 *   bench-exec-storm N WORKERS H S      runs N of them, WORKERS at a time,
 *                                       and prints execs/s, p50/p99 from fork
 *                                       to main (exec, the loader, the
 *                                       agent's start: the policy is applied
 *                                       before main), and "missed": processes
 *                                       whose heap page's policy mode is not
 *                                       H or whose stack's is not S (-1: not
 *                                       checked)
 *
 * The kernel's policy of an address is asked with get_mempolicy directly:
 * a benchmark checks the library from outside.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct report {
	uint64_t main_ns;
	int agent_state; /* mplace_agent_state, -1 without the agent */
	int heap_mode;	 /* MPOL_* of a fresh heap page, -1 unknown */
	int stack_mode;	 /* and of the stack */
};

static int child(void)
{
	struct report r = {.main_ns = now_ns(), .agent_state = -1, .heap_mode = -1, .stack_mode = -1};
	volatile char here[64];
	int *state = dlsym(RTLD_DEFAULT, "mplace_agent_state");
	char *p = malloc(1 << 16);
	int mode;

	if (state)
		r.agent_state = *state;
	if (p) {
		p[100] = 1;
		/* get_mempolicy(&mode, NULL, 0, p, MPOL_F_ADDR) */
		if (syscall(SYS_get_mempolicy, &mode, NULL, 0UL, p + 100, 2UL) == 0)
			r.heap_mode = mode;
	}
	here[0] = 1;
	if (syscall(SYS_get_mempolicy, &mode, NULL, 0UL, here, 2UL) == 0)
		r.stack_mode = mode;
	return write(3, &r, sizeof(r)) == sizeof(r) ? 0 : 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One worker: n processes in turn; latencies into lat, misses counted. */
static int worker(const char *self, unsigned n, int expect, int expect_stack, int out)
{
	for (unsigned i = 0; i < n; i++) {
		struct report r;
		uint64_t t0, rec[2];
		int fds[2], st;
		pid_t pid;

		if (pipe(fds) < 0)
			return 1;
		t0 = now_ns();
		pid = fork();
		if (pid == 0) {
			dup2(fds[1], 3);
			execl(self, self, "--child", (char *)NULL);
			_exit(127);
		}
		close(fds[1]);
		if (pid < 0 || read(fds[0], &r, sizeof(r)) != sizeof(r)) {
			r.main_ns = t0;
			r.heap_mode = -2;
		}
		close(fds[0]);
		waitpid(pid, &st, 0);
		rec[0] = r.main_ns - t0;
		rec[1] = (expect >= 0 && r.heap_mode != expect) || (expect_stack >= 0 && r.stack_mode != expect_stack);
		if (write(out, rec, sizeof(rec)) != sizeof(rec))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n, workers, missed = 0, got = 0;
	uint64_t *lat, t0, t1, rec[2];
	int expect, expect_stack, fds[2];
	char self[4096];

	if (argc == 2 && !strcmp(argv[1], "--child"))
		return child();
	if (argc != 5) {
		fprintf(stderr, "usage: bench-exec-storm N WORKERS HEAP_MODE STACK_MODE | --child\n");
		return 2;
	}
	n = (unsigned)atoi(argv[1]);
	workers = (unsigned)atoi(argv[2]);
	expect = atoi(argv[3]);
	expect_stack = atoi(argv[4]);
	lat = calloc(n, sizeof(*lat));
	if (!lat || !workers || pipe(fds) < 0)
		return 1;
	/* by its own path, not /proc/self/exe: the children's comm is their
	 * program's name, which a [comm] scope selects */
	{
		ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (k <= 0)
			return 1;
		self[k] = '\0';
	}
	t0 = now_ns();
	for (unsigned w = 0; w < workers; w++)
		if (fork() == 0) {
			close(fds[0]);
			_exit(worker(self, n / workers + (w < n % workers), expect, expect_stack, fds[1]));
		}
	close(fds[1]);
	while (got < n && read(fds[0], rec, sizeof(rec)) == sizeof(rec)) {
		lat[got++] = rec[0];
		missed += (unsigned)rec[1];
	}
	while (wait(NULL) > 0)
		;
	t1 = now_ns();
	qsort(lat, got, sizeof(*lat), cmp_u64);
	printf("%u processes, %.0f execs/s, fork to main p50 %.0f us p99 %.0f us, missed %u\n", got,
	       got / ((double)(t1 - t0) / 1e9), got ? lat[got / 2] / 1e3 : 0, got ? lat[got * 99 / 100] / 1e3 : 0,
	       missed + (n - got));
	free(lat);
	return 0;
}

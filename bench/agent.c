/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the preload agent costs (doc/agent.md):
 *   - process start: `true` bare, under the agent with no policy, and under
 *     the agent with heap, stack and task policies, started with posix_spawn
 *     and waited for, many times in turn; medians and the added time;
 *   - an allocation-heavy program (this binary with --work: malloc, realloc
 *     and free of mixed sizes over a live set) under the agent with a heap
 *     policy against the same program with plain jemalloc preloaded; the two
 *     run in turn, each pair's ratio taken, the median printed.
 *
 * The allocation program times itself in CPU time; with --cpu, process start
 * is the child's CPU time (wait4) instead of wall time, steadier on a loaded
 * machine.
 *
 *   bench-agent [--repeats N] [--agent PATH] [--quick] [--cpu]
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include "core/combine.h"
#include "core/compiled.h"
#include "machine/topo.h"

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The allocation-heavy program: a live set of 4096 objects of 16 B to 4 KiB,
 * replaced, grown and freed in a fixed pseudo-random order. */
static int work(unsigned long rounds)
{
	enum { LIVE = 4096 };
	static void *live[LIVE];
	uint64_t x = 88172645463325252ull, t0 = cpu_ns(), sum = 0;

	for (unsigned long i = 0; i < rounds; i++) {
		unsigned k;
		size_t sz;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (unsigned)(x % LIVE);
		sz = 16 + (size_t)((x >> 20) % 4080);
		if ((x >> 40) % 8 == 0 && live[k]) {
			void *q = realloc(live[k], sz);

			if (!q)
				return 1;
			live[k] = q;
		} else {
			free(live[k]);
			live[k] = malloc(sz);
			if (!live[k])
				return 1;
		}
		((char *)live[k])[0] = (char)i;
		sum += ((unsigned char *)live[k])[0];
	}
	for (unsigned k = 0; k < LIVE; k++)
		free(live[k]);
	printf("%" PRIu64 " %" PRIu64 "\n", cpu_ns() - t0, sum);
	return 0;
}

/* Run argv with extra environment entries; returns the wall time in ns, or
 * 0 on failure.  out: the child's stdout first line, when not NULL. */
static bool cpu;
static int out_fd = 1;	 /* which of the child's outputs `out` reads */
static long last_minflt; /* the last child's minor page faults (wait4) */

static uint64_t spawn(char *const argv[], char *const *extra, unsigned n_extra, char *out, size_t out_size)
{
	char *envp[512];
	unsigned n = 0;
	posix_spawn_file_actions_t fa;
	int p[2] = {-1, -1}, st;
	struct rusage ru;
	pid_t pid;
	uint64_t t0, t;

	for (char **e = environ; *e && n < 400; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) && strncmp(*e, "MPLACE_", 7))
			envp[n++] = *e;
	for (unsigned i = 0; i < n_extra; i++)
		envp[n++] = extra[i];
	envp[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (out) {
		if (pipe(p) < 0)
			return 0;
		posix_spawn_file_actions_adddup2(&fa, p[1], out_fd);
		posix_spawn_file_actions_addclose(&fa, p[0]);
		if (out_fd != 1)
			posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	}
	t0 = now_ns();
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp)) {
		posix_spawn_file_actions_destroy(&fa);
		return 0;
	}
	if (out) {
		ssize_t r;
		size_t o = 0;

		close(p[1]);
		while (o + 1 < out_size && (r = read(p[0], out + o, out_size - o - 1)) > 0)
			o += (size_t)r;
		out[o] = '\0';
		close(p[0]);
	}
	if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		t = 0;
	else
		t = now_ns() - t0;
	last_minflt = ru.ru_minflt;
	/* the child's CPU time: steadier than wall time on a shared machine */
	if (t && cpu)
		t = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
		    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u + 1;
	posix_spawn_file_actions_destroy(&fa);
	return t;
}

/* User-space instructions of one run of argv under callgrind (the dynamic
 * loader, constructors, the program): the same count on a quiet or a busy
 * machine, unlike time.  0 when valgrind is not there or the run failed. */
static uint64_t instructions(char *const argv[], char *const *extra, unsigned n_extra)
{
	char *vg[16] = {"/usr/bin/valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"};
	char out[8192], *c;
	unsigned k = 3;
	uint64_t n = 0;

	if (access(vg[0], X_OK) < 0)
		return 0;
	for (unsigned i = 0; argv[i] && k < 15; i++)
		vg[k++] = argv[i];
	vg[k] = NULL;
	out_fd = 2;
	if (spawn(vg, extra, n_extra, out, sizeof(out)) && (c = strstr(out, "Collected : ")))
		n = strtoull(c + 12, NULL, 10);
	out_fd = 1;
	return n;
}

/* What this machine charges for the two things process start is made of
 * besides instructions: a minor fault on a fresh anonymous page, and a
 * trivial system call (CPU time each, median of 5). */
static void machine_costs(double *ret_fault_us, double *ret_syscall_us)
{
	enum { PAGES = 8192, CALLS = 100000 };
	double f[5], c[5];

	for (int k = 0; k < 5; k++) {
		char *p = mmap(NULL, (size_t)PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t t0;

		if (p == MAP_FAILED) {
			*ret_fault_us = *ret_syscall_us = 0;
			return;
		}
		/* no transparent huge pages: one fault per 4 KiB page */
		madvise(p, (size_t)PAGES * 4096, MADV_NOHUGEPAGE);
		t0 = cpu_ns();
		for (size_t i = 0; i < PAGES; i++)
			p[i * 4096] = 1;
		f[k] = (double)(cpu_ns() - t0) / PAGES / 1e3;
		munmap(p, (size_t)PAGES * 4096);
		t0 = cpu_ns();
		for (int i = 0; i < CALLS; i++)
			syscall(SYS_getppid);
		c[k] = (double)(cpu_ns() - t0) / CALLS / 1e3;
	}
	qsort(f, 5, sizeof(double), cmp_dbl);
	qsort(c, 5, sizeof(double), cmp_dbl);
	*ret_fault_us = f[2];
	*ret_syscall_us = c[2];
}

static int heap_policy(char *buf, size_t size)
{
	struct mp_topo *topo;
	struct mp_policy p;
	struct mp_compiled c;
	struct mp_resolve_ctx ctx = {0};
	struct mp_diag d = {0};
	char text[32];
	int r;

	r = mp_topo_load(NULL, &topo);
	if (r < 0)
		return r;
	snprintf(text, sizeof(text), "bind:%d", topo->nodes[0].id);
	r = mp_policy_parse(text, &p, &d);
	if (r == 0) {
		ctx.topo = topo;
		ctx.local_node = -1;
		r = mp_resolve(&p, NULL, &ctx, &c, &d);
		if (r == 0) {
			mp_compiled_serialize(&c, buf, size);
			mp_compiled_free(&c);
		}
		mp_policy_free(&p);
	}
	mp_topo_free(topo);
	return r;
}

int main(int argc, char **argv)
{
	unsigned repeats = 201, pairs = 21;
	unsigned long rounds = 20000000;
	char agent[4096] = "", jemalloc[4096] = "", self[4096], pol[2048];
	char pre_agent[4200], pre_je[4200], pre_empty[4200], env_heap[2100], env_stack[2100], env_pol[2100];
	Dl_info di;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--work") && i + 1 < argc)
			return work(strtoul(argv[i + 1], NULL, 10));
		if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
			repeats = (unsigned)strtoul(argv[++i], NULL, 10) | 1;
		else if (!strcmp(argv[i], "--agent") && i + 1 < argc)
			snprintf(agent, sizeof(agent), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--cpu"))
			cpu = true;
		else if (!strcmp(argv[i], "--quick")) {
			repeats = 51;
			pairs = 7;
			rounds = 5000000;
		} else {
			fprintf(stderr, "usage: %s [--repeats N] [--agent PATH] [--quick] [--cpu]\n", argv[0]);
			return 2;
		}
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	if (!agent[0]) {
		char *slash = strrchr(self, '/');

		snprintf(agent, sizeof(agent), "%.*s/../agent/libmplace-preload.so", (int)(slash - self), self);
	}
	if (access(agent, R_OK) < 0) {
		fprintf(stderr, "no agent at %s (--agent PATH)\n", agent);
		return 1;
	}
	if (!dladdr((void *)mallocx, &di) || !di.dli_fname) {
		fprintf(stderr, "cannot find libjemalloc.so.2\n");
		return 1;
	}
	snprintf(jemalloc, sizeof(jemalloc), "%s", di.dli_fname);
	if (heap_policy(pol, sizeof(pol)) < 0) {
		fprintf(stderr, "cannot resolve a heap policy here\n");
		return 1;
	}
	snprintf(pre_agent, sizeof(pre_agent), "LD_PRELOAD=%s", agent);
	snprintf(pre_je, sizeof(pre_je), "LD_PRELOAD=%s", jemalloc);
	{
		char *slash = strrchr(self, '/');

		/* built next to this benchmark: what preloading costs at all */
		snprintf(pre_empty, sizeof(pre_empty), "LD_PRELOAD=%.*s/libbench-empty.so", (int)(slash - self), self);
		if (access(pre_empty + 11, R_OK) < 0) {
			fprintf(stderr, "no %s\n", pre_empty + 11);
			return 1;
		}
	}
	snprintf(env_heap, sizeof(env_heap), "MPLACE_AGENT_HEAP=%s", pol);
	snprintf(env_stack, sizeof(env_stack), "MPLACE_AGENT_STACK=%s", pol);
	snprintf(env_pol, sizeof(env_pol), "MPLACE_AGENT_POLICY=%s", pol);

	/* ---- start */
	{
		char *true_argv[] = {"/bin/true", NULL};
		char *none[] = {NULL};
		char *empty[] = {pre_empty};
		char *bare_agent[] = {pre_agent};
		char *full[] = {pre_agent, env_heap, env_stack, env_pol};
		char *je[] = {pre_je};
		char *const *envs[5] = {none, empty, bare_agent, full, je};
		const unsigned n_envs[5] = {0, 1, 1, 4, 1};
		const char *names[5] = {"bare", "an empty library preloaded", "agent, no policy",
					"agent, heap+stack+policy", "jemalloc preloaded"};
		uint64_t *t[5], *flt[5], ins[5];
		double med[5], mflt[5];

		for (int k = 0; k < 5; k++) {
			t[k] = calloc(repeats, sizeof(uint64_t));
			flt[k] = calloc(repeats, sizeof(uint64_t));
		}
		for (unsigned r = 0; r < repeats; r++)
			for (int k = 0; k < 5; k++) {
				t[k][r] = spawn(true_argv, envs[k], n_envs[k], NULL, 0);
				flt[k][r] = (uint64_t)last_minflt;
				if (!t[k][r]) {
					fprintf(stderr, "%s: /bin/true failed\n", names[k]);
					return 1;
				}
			}
		for (int k = 0; k < 5; k++)
			ins[k] = instructions(true_argv, envs[k], n_envs[k]);
		printf("process start (/bin/true, median of %u, %s; minor page faults, median; user-space "
		       "instructions by callgrind):\n",
		       repeats, cpu ? "CPU time" : "wall time");
		for (int k = 0; k < 5; k++) {
			qsort(t[k], repeats, sizeof(uint64_t), cmp_u64);
			qsort(flt[k], repeats, sizeof(uint64_t), cmp_u64);
			med[k] = (double)t[k][repeats / 2] / 1e3;
			mflt[k] = (double)flt[k][repeats / 2];
			printf("  %-28s %8.1f us  %5.0f faults  %9" PRIu64 " instructions\n", names[k], med[k], mflt[k],
			       ins[k]);
			free(t[k]);
			free(flt[k]);
		}
		printf("  agent with policies adds    %8.1f us  %5.0f faults  %9" PRId64
		       " instructions (target: under 1000 us)\n",
		       med[3] - med[0], mflt[3] - mflt[0], (int64_t)(ins[3] - ins[0]));
		printf("    of which any preloaded library costs here %8.1f us; the agent beyond that %8.1f us\n",
		       med[1] - med[0], med[3] - med[1]);
		{
			double fault_us, sys_us;

			machine_costs(&fault_us, &sys_us);
			printf("  this machine: a minor fault costs %.2f us of CPU, a getppid() %.3f us\n", fault_us,
			       sys_us);
		}
	}

	/* ---- start, against numactl (issue #10): child CPU time, median of
	 * three runs of 60 alternating pairs; minor faults of the whole
	 * command, median */
	{
		char tool[4200], agent_env[4200];
		char *numactl_argv[] = {"/usr/bin/numactl", "-m", "0", "/bin/true", NULL};
		char *mnuma_argv[] = {tool, "numactl", "-m", "0", "/bin/true", NULL};
		char *run_pol_argv[] = {tool, "run", "--no-config", "--policy", "bind:0", "--", "/bin/true", NULL};
		char *run_heap_argv[] = {tool, "run", "--no-config", "--heap", "bind:0", "--", "/bin/true", NULL};
		char *true_argv[] = {"/bin/true", NULL};
		char *const *cmd[5] = {numactl_argv, mnuma_argv, run_pol_argv, run_heap_argv, NULL};
		const char *what[4] = {"numactl -m 0 /bin/true", "mplace numactl -m 0 /bin/true",
				       "mplace run --policy bind:0 -- /bin/true",
				       "mplace run --heap bind:0 -- /bin/true"};
		static const double cpu_target[4] = {0, 1.00, 1.05, 1.25}, flt_target[4] = {0, 1.00, 1.10, 1.40};
		char *ag_env[] = {agent_env};
		char *empty[] = {pre_empty};
		char *bare_agent[] = {pre_agent};
		enum { PAIRS = 60, RUNS = 3 };
		double ratio[4][RUNS];
		uint64_t flt[4][RUNS * PAIRS], fe[RUNS * PAIRS], fa[RUNS * PAIRS];
		bool saved_cpu = cpu;
		char *slash = strrchr(self, '/');

		snprintf(tool, sizeof(tool), "%.*s/../tools/mplace", (int)(slash - self), self);
		snprintf(agent_env, sizeof(agent_env), "MPLACE_AGENT_PATH=%s", agent);
		if (access("/usr/bin/numactl", X_OK) < 0 || access(tool, X_OK) < 0) {
			printf("start against numactl: skipped (no /usr/bin/numactl or no %s)\n", tool);
			goto alloc;
		}
		cpu = true;
		for (int run = 0; run < RUNS; run++) {
			uint64_t t[4][PAIRS];

			for (int p = 0; p < PAIRS; p++)
				for (int k = 0; k < 4; k++) {
					/* alternate the order, so that drift hits each */
					int c = p % 2 ? 3 - k : k;

					t[c][p] = spawn(cmd[c], ag_env, 1, NULL, 0);
					flt[c][run * PAIRS + p] = (uint64_t)last_minflt;
					if (!t[c][p]) {
						fprintf(stderr, "%s failed\n", what[c]);
						return 1;
					}
				}
			for (int k = 0; k < 4; k++)
				qsort(t[k], PAIRS, sizeof(uint64_t), cmp_u64);
			for (int k = 1; k < 4; k++)
				ratio[k][run] = (double)t[k][PAIRS / 2] / (double)t[0][PAIRS / 2];
		}
		for (int p = 0; p < RUNS * PAIRS; p++) {
			spawn(true_argv, empty, 1, NULL, 0);
			fe[p] = (uint64_t)last_minflt;
			spawn(true_argv, bare_agent, 1, NULL, 0);
			fa[p] = (uint64_t)last_minflt;
		}
		cpu = saved_cpu;
		for (int k = 0; k < 4; k++)
			qsort(flt[k], RUNS * PAIRS, sizeof(uint64_t), cmp_u64);
		qsort(fe, RUNS * PAIRS, sizeof(uint64_t), cmp_u64);
		qsort(fa, RUNS * PAIRS, sizeof(uint64_t), cmp_u64);
		printf("start against numactl (child CPU time: median of %d runs of %d alternating pairs; minor "
		       "faults of the whole command, median):\n",
		       RUNS, PAIRS);
		printf("  %-40s %5" PRIu64 " faults\n", what[0], flt[0][RUNS * PAIRS / 2]);
		for (int k = 1; k < 4; k++) {
			double r = ratio[k][0], a = ratio[k][1], b = ratio[k][2];
			double med = r < a ? (a < b ? a : (r < b ? b : r)) : (r < b ? r : (a < b ? b : a));
			double fr = (double)flt[k][RUNS * PAIRS / 2] / (double)flt[0][RUNS * PAIRS / 2];

			printf("  %-40s %5" PRIu64 " faults (%.2fx, target <= %.2fx)  CPU %.3fx numactl's "
			       "(target <= %.2f)%s\n",
			       what[k], flt[k][RUNS * PAIRS / 2], fr, flt_target[k], med, cpu_target[k],
			       fr <= flt_target[k] && med <= cpu_target[k] ? "" : "  NOT MET");
		}
		printf("  %-40s %5" PRIu64 " faults, an empty library %" PRIu64 " (target: at most 10 more)%s\n",
		       "the agent preloaded with no policy", fa[RUNS * PAIRS / 2], fe[RUNS * PAIRS / 2],
		       fa[RUNS * PAIRS / 2] <= fe[RUNS * PAIRS / 2] + 10 ? "" : "  NOT MET");
	}
alloc:
	/* ---- allocation-heavy program */
	{
		char rounds_s[32], out[256];
		char *work_argv[] = {self, "--work", rounds_s, NULL};
		char *je[] = {pre_je};
		char *ag[] = {pre_agent, env_heap};
		double *ratio = calloc(pairs, sizeof(double));
		uint64_t tj = 0, ta = 0, sj = 0, sa = 0;

		snprintf(rounds_s, sizeof(rounds_s), "%lu", rounds);
		for (unsigned r = 0; r < pairs; r++) {
			/* alternate which goes first, so drift hits both */
			for (int k = 0; k < 2; k++) {
				bool agent_turn = (k == 0) == (r % 2 == 0);

				if (!spawn(work_argv, agent_turn ? ag : je, agent_turn ? 2 : 1, out, sizeof(out)) ||
				    sscanf(out, "%" SCNu64 " %" SCNu64, agent_turn ? &ta : &tj,
					   agent_turn ? &sa : &sj) != 2) {
					fprintf(stderr, "the allocation program failed under %s\n",
						agent_turn ? "the agent" : "jemalloc");
					return 1;
				}
			}
			if (sa != sj) {
				fprintf(stderr, "the two runs computed different results\n");
				return 1;
			}
			ratio[r] = (double)ta / (double)tj;
		}
		qsort(ratio, pairs, sizeof(double), cmp_dbl);
		printf("allocation-heavy program (%lu malloc/realloc/free, %u paired runs):\n", rounds, pairs);
		printf("  last pair: jemalloc %.1f ms, agent (heap %s) %.1f ms\n", (double)tj / 1e6,
		       strstr(pol, "mode=") ? "bind" : "?", (double)ta / 1e6);
		printf("  ratio agent/jemalloc, median %.3f (min %.3f, max %.3f; target: under 1.03)\n",
		       ratio[pairs / 2], ratio[0], ratio[pairs - 1]);
		free(ratio);
		/* the same program, counted: a figure the machine's load cannot move */
		snprintf(rounds_s, sizeof(rounds_s), "%lu", rounds / 20);
		{
			uint64_t ij = instructions(work_argv, je, 1), ia = instructions(work_argv, ag, 2);

			if (ij && ia)
				printf("  instructions, %lu rounds: jemalloc %" PRIu64 ", agent %" PRIu64
				       ", ratio %.3f\n",
				       rounds / 20, ij, ia, (double)ia / (double)ij);
		}
	}
	return 0;
}

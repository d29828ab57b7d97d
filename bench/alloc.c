/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-alloc: allocation and free with a policy, against the allocators a
 * program would otherwise use, all in the same run.
 *
 *   mplace     mplace_alloc/mplace_free under "bind:N" (N: the first memory node)
 *   mallocx    jemalloc mallocx(MALLOCX_ARENA(a))/dallocx on a plain arena
 *              created with arenas.create (the floor: what mplace adds to)
 *   mallocx+tcache  the same with an explicit tcache (tcache.create,
 *              MALLOCX_TCACHE) as mplace uses: what jemalloc itself charges
 *              for it, apart from mplace's own lookup
 *   jemalloc   malloc/free: this program links libjemalloc.so.2, which then
 *              is its malloc: jemalloc's fastest path, automatic arena and
 *              tcache (what mplace's thread-primary set uses, in its own copy)
 *   glibc      __libc_malloc/__libc_free: glibc's allocator itself
 *   memkind    memkind_malloc/memkind_free on MEMKIND_REGULAR: memkind's
 *              static kind bound (MPOL_BIND, per extent) to the nodes with
 *              CPUs.  memkind_create_kind() refuses MEMTYPE_DEFAULT with
 *              POLICY_BIND_LOCAL (only PREFERRED_LOCAL is implemented for
 *              it), so REGULAR is memkind's bound kind for ordinary DRAM
 *   numa       numa_alloc_onnode(N)/numa_free: mmap and mbind per call
 *
 * Cases: one thread, two threads at once, and a cross-thread free (one thread
 * allocates, another frees, through a ring).  Sizes 16 B to 64 KiB.  Each
 * figure is the median over repeats of the time per allocation+free pair; the
 * allocators take turns inside each repeat so a noisy neighbour hits all of
 * them alike.  The headline ratios (64 B, one thread) are medians of ratios
 * taken inside paired back-to-back trials (see paired_ratios).
 *
 *   bench-alloc [--json] [--repeats N] [--quick]
 *   bench-alloc --loop mplace|mallocx|mallocx-tcache|jemalloc N    the 64-byte loop
 *       alone, for valgrind --tool=callgrind --toggle-collect=loop_mplace (or
 *       loop_mallocx, loop_mallocx_tc, loop_jemalloc)
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jemalloc/jemalloc.h>
#include <memkind.h>
#include <numa.h>

#include "mplace.h"

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);

enum alloc_id { A_MPLACE, A_MALLOCX, A_MALLOCX_TC, A_JEMALLOC, A_GLIBC, A_MEMKIND, A_NUMA, A__N };
static const char *const names[A__N] = {"mplace", "mallocx", "mallocx+tcache",	 "jemalloc",
					"glibc",  "memkind", "numa_alloc_onnode"};

enum case_id { C_1T, C_2T, C_XFREE, C__N };
static const char *const case_names[C__N] = {"1 thread", "2 threads", "cross-thread free"};
static const char *const case_keys[C__N] = {"1t", "2t", "xfree"};

static const size_t sizes[] = {16, 64, 256, 1024, 4096, 16384, 65536};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static struct mplace_compiled *policy;
static unsigned plain_arena;
static __thread int plain_tc_flags; /* MALLOCX_ARENA | MALLOCX_TCACHE, per thread */
static memkind_t kind;
static int node;

/* The pairs per timed loop: calibrated per allocator, case and size so one
 * loop takes about budget_ns (numa_alloc_onnode's syscalls, glibc's heap
 * trimming for big batches), capped at max_iters; times are per pair. */
static double budget_ns = 5e6;
static unsigned max_iters = 400000;
#define BATCH 64 /* objects live at once in a loop: more than a LIFO of one */

/* This thread's explicit tcache for the plain arena; threads of the bench
 * are few, their tcaches are left to process exit. */
static int plain_tc(void)
{
	unsigned tc;
	size_t sz = sizeof(tc);

	if (mallctl("tcache.create", &tc, &sz, NULL, 0))
		abort();
	plain_tc_flags = MALLOCX_ARENA(plain_arena) | MALLOCX_TCACHE(tc);
	return plain_tc_flags;
}

static void plain_tc_destroy(void)
{
	unsigned tc = (unsigned)(((plain_tc_flags >> 8) & 0xfff) - 2);

	if (plain_tc_flags)
		mallctl("tcache.destroy", NULL, NULL, &tc, sizeof(tc));
	plain_tc_flags = 0;
}

static inline void *do_alloc(enum alloc_id a, size_t n)
{
	switch (a) {
	case A_MPLACE:
		return mplace_alloc(policy, n);
	case A_MALLOCX:
		return mallocx(n, MALLOCX_ARENA(plain_arena));
	case A_MALLOCX_TC:
		return mallocx(n, plain_tc_flags ? plain_tc_flags : plain_tc());
	case A_JEMALLOC:
		return malloc(n);
	case A_GLIBC:
		return __libc_malloc(n);
	case A_MEMKIND:
		return memkind_malloc(kind, n);
	case A_NUMA:
		return numa_alloc_onnode(n, node);
	default:
		return NULL;
	}
}

static inline void do_free(enum alloc_id a, void *p, size_t n)
{
	switch (a) {
	case A_MPLACE:
		mplace_free(p);
		break;
	case A_MALLOCX:
		dallocx(p, 0);
		break;
	case A_MALLOCX_TC:
		dallocx(p, plain_tc_flags & (0xfff << 8));
		break;
	case A_JEMALLOC:
		free(p);
		break;
	case A_GLIBC:
		__libc_free(p);
		break;
	case A_MEMKIND:
		memkind_free(kind, p);
		break;
	case A_NUMA:
		numa_free(p, n);
		break;
	default:
		break;
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* n pairs, BATCH objects at a time; returns ns per pair. */
static double run_loop(enum alloc_id a, size_t size, unsigned n)
{
	void *v[BATCH];
	double t0 = now_ns();

	for (unsigned i = 0; i < n; i += BATCH) {
		for (unsigned k = 0; k < BATCH; k++) {
			v[k] = do_alloc(a, size);
			if (!v[k])
				abort();
			*(volatile char *)v[k] = 1;
		}
		for (unsigned k = 0; k < BATCH; k++)
			do_free(a, v[k], size);
	}
	return (now_ns() - t0) / (double)(n / BATCH * BATCH);
}

/* The loops callgrind counts, one function per allocator so
 * --toggle-collect can select it; not inlined for that reason. */
__attribute__((noinline)) static void loop_mplace(unsigned n)
{
	run_loop(A_MPLACE, 64, n);
}

__attribute__((noinline)) static void loop_mallocx(unsigned n)
{
	run_loop(A_MALLOCX, 64, n);
}

__attribute__((noinline)) static void loop_mallocx_tc(unsigned n)
{
	run_loop(A_MALLOCX_TC, 64, n);
}

__attribute__((noinline)) static void loop_jemalloc(unsigned n)
{
	run_loop(A_JEMALLOC, 64, n);
}

struct thread_arg {
	enum alloc_id a;
	size_t size;
	unsigned n;
	double ns;
	pthread_barrier_t *bar;
};

static void *two_threads_worker(void *p)
{
	struct thread_arg *t = p;

	pthread_barrier_wait(t->bar);
	t->ns = run_loop(t->a, t->size, t->n);
	plain_tc_destroy();
	return NULL;
}

static double run_2t(enum alloc_id a, size_t size, unsigned n)
{
	pthread_barrier_t bar;
	struct thread_arg t[2];
	pthread_t th[2];

	pthread_barrier_init(&bar, NULL, 2);
	for (int i = 0; i < 2; i++) {
		t[i] = (struct thread_arg){.a = a, .size = size, .n = n, .bar = &bar};
		if (pthread_create(&th[i], NULL, two_threads_worker, &t[i]))
			abort();
	}
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	pthread_barrier_destroy(&bar);
	/* each thread's own time per pair, averaged */
	return (t[0].ns + t[1].ns) / 2;
}

/* Cross-thread free: a single-producer single-consumer ring. */
#define RING 1024
struct ring {
	void *slot[RING];
	_Atomic unsigned head, tail;
	enum alloc_id a;
	size_t size;
	unsigned n;
};

static void *consumer(void *p)
{
	struct ring *r = p;

	for (unsigned i = 0; i < r->n; i++) {
		unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);

		while (atomic_load_explicit(&r->head, memory_order_acquire) == t)
			sched_yield(); /* the producer may share this CPU */
		do_free(r->a, r->slot[t % RING], r->size);
		atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	}
	plain_tc_destroy();
	return NULL;
}

static double run_xfree(enum alloc_id a, size_t size, unsigned n)
{
	struct ring *r = calloc(1, sizeof(*r));
	pthread_t th;
	double t0;

	if (!r)
		abort();
	r->a = a;
	r->size = size;
	r->n = n;
	t0 = now_ns();
	if (pthread_create(&th, NULL, consumer, r))
		abort();
	for (unsigned i = 0; i < n; i++) {
		unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
		void *o;

		while (h - atomic_load_explicit(&r->tail, memory_order_acquire) >= RING)
			sched_yield();
		o = do_alloc(a, size);
		if (!o)
			abort();
		*(volatile char *)o = 1;
		r->slot[h % RING] = o;
		atomic_store_explicit(&r->head, h + 1, memory_order_release);
	}
	pthread_join(th, NULL);
	t0 = (now_ns() - t0) / n;
	free(r);
	return t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * The headline ratios, 64 B on one thread, as medians of paired trials: each
 * trial times mplace and each baseline back to back (about a millisecond
 * each, the order rotating), and the ratio is taken inside the trial.  A
 * neighbour that slows the machine for a while then slows both sides of a
 * pair alike, which the medians of separately timed loops do not cancel.
 */
#define PAIRED 201
static void paired_ratios(const unsigned *n, double *ret_vs_mallocx, double *ret_vs_tc, double *ret_vs_memkind,
			  double *ret_vs_je)
{
	static const enum alloc_id who[5] = {A_MPLACE, A_MALLOCX, A_MALLOCX_TC, A_MEMKIND, A_JEMALLOC};
	static double r_mallocx[PAIRED], r_tc[PAIRED], r_memkind[PAIRED], r_je[PAIRED];

	for (unsigned t = 0; t < PAIRED; t++) {
		double ns[A__N];

		for (unsigned k = 0; k < 5; k++) {
			enum alloc_id a = who[(k + t) % 5];

			ns[a] = run_loop(a, 64, n[a]);
		}
		r_mallocx[t] = ns[A_MPLACE] / ns[A_MALLOCX];
		r_tc[t] = ns[A_MPLACE] / ns[A_MALLOCX_TC];
		r_memkind[t] = ns[A_MPLACE] / ns[A_MEMKIND];
		r_je[t] = ns[A_MPLACE] / ns[A_JEMALLOC];
	}
	*ret_vs_mallocx = median(r_mallocx, PAIRED);
	*ret_vs_tc = median(r_tc, PAIRED);
	*ret_vs_memkind = median(r_memkind, PAIRED);
	*ret_vs_je = median(r_je, PAIRED);
}

static int setup(void)
{
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_policy *p;
	struct mplace_topo *t;
	size_t sz = sizeof(plain_arena);
	char text[32];
	int r, nodes[1];

	r = mplace_topo_load(NULL, &t);
	if (r < 0 || mplace_topo_nodes(t, nodes, 1) < 1) {
		fprintf(stderr, "bench-alloc: error: no NUMA topology: %s\n", strerror(r < 0 ? -r : ENOENT));
		return -1;
	}
	node = nodes[0];
	snprintf(text, sizeof(text), "bind:%d", node);
	r = mplace_policy_parse(text, &p, &err);
	if (r >= 0)
		r = mplace_resolve(p, t, NULL, &policy, &err);
	if (r < 0) {
		fprintf(stderr, "bench-alloc: error: %s: %s\n", text, err.message);
		return -1;
	}
	mplace_policy_free(p);
	mplace_topo_free(t);
	if (mallctl("arenas.create", &plain_arena, &sz, NULL, 0)) {
		fprintf(stderr, "bench-alloc: error: jemalloc arenas.create failed\n");
		return -1;
	}
	kind = MEMKIND_REGULAR;
	r = memkind_check_available(kind);
	if (r) {
		fprintf(stderr, "bench-alloc: error: MEMKIND_REGULAR is not available (%d)\n", r);
		return -1;
	}
	if (numa_available() < 0) {
		fprintf(stderr, "bench-alloc: error: libnuma says NUMA is not available\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"repeats", required_argument, NULL, 'r'},
		{"quick", no_argument, NULL, 'q'},
		{"loop", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	static double res[C__N][A__N][N_SIZES];
	static unsigned n_of[C__N][A__N][N_SIZES];
	double *rep;
	bool json = false;
	const char *loop = NULL;
	unsigned repeats = 11;
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			json = true;
			break;
		case 'r':
			errno = 0;
			repeats = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !repeats || repeats > 1000) {
				fprintf(stderr, "bench-alloc: error: --repeats wants 1-1000\n");
				return 2;
			}
			break;
		case 'q':
			budget_ns /= 10;
			break;
		case 'l':
			loop = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: bench-alloc [--json] [--repeats N] [--quick] | --loop mplace|mallocx|mallocx-tcache|jemalloc N\n");
			return 2;
		}
	}
	if (setup() < 0)
		return 1;
	if (loop) {
		unsigned long n;

		if (optind >= argc || (errno = 0, n = strtoul(argv[optind], &end, 10), errno || *end || !n)) {
			fprintf(stderr, "bench-alloc: error: --loop wants a count\n");
			return 2;
		}
		/* warm up outside the counted function: arenas, tcaches, slabs */
		run_loop(A_MPLACE, 64, 4096);
		run_loop(A_MALLOCX, 64, 4096);
		run_loop(A_MALLOCX_TC, 64, 4096);
		run_loop(A_JEMALLOC, 64, 4096);
		if (!strcmp(loop, "mplace"))
			loop_mplace((unsigned)n);
		else if (!strcmp(loop, "mallocx"))
			loop_mallocx((unsigned)n);
		else if (!strcmp(loop, "mallocx-tcache"))
			loop_mallocx_tc((unsigned)n);
		else if (!strcmp(loop, "jemalloc"))
			loop_jemalloc((unsigned)n);
		else {
			fprintf(stderr, "bench-alloc: error: --loop mplace, mallocx, mallocx-tcache or jemalloc\n");
			return 2;
		}
		return 0;
	}

	rep = calloc((size_t)repeats * C__N * A__N * N_SIZES, sizeof(*rep));
	if (!rep)
		return 1;
#define REP(c, a, s, r) rep[(((size_t)(c)*A__N + (a)) * N_SIZES + (s)) * repeats + (r)]
	/* warm up every allocator, and size each loop from a pilot run */
	for (int a = 0; a < A__N; a++)
		for (size_t s = 0; s < N_SIZES; s++) {
			double ns;

			run_loop(a, sizes[s], 8 * BATCH);
			ns = run_loop(a, sizes[s], 8 * BATCH);
			for (int c = 0; c < C__N; c++) {
				double n = budget_ns / (ns > 1 ? ns : 1) / (c == C_1T ? 1 : 2);

				n = n > max_iters ? max_iters : n < 2 * BATCH ? 2 * BATCH : n;
				n_of[c][a][s] = (unsigned)n / BATCH * BATCH;
			}
		}
	for (unsigned r = 0; r < repeats; r++)
		for (int c = 0; c < C__N; c++)
			for (size_t s = 0; s < N_SIZES; s++)
				for (int a = 0; a < A__N; a++) {
					unsigned n = n_of[c][a][s];

					REP(c, a, s, r) = c == C_1T   ? run_loop(a, sizes[s], n)
							  : c == C_2T ? run_2t(a, sizes[s], n)
								      : run_xfree(a, sizes[s], n);
				}
	for (int c = 0; c < C__N; c++)
		for (int a = 0; a < A__N; a++)
			for (size_t s = 0; s < N_SIZES; s++) {
				qsort(&REP(c, a, s, 0), repeats, sizeof(double), cmp_double);
				res[c][a][s] = REP(c, a, s, repeats / 2);
			}
	free(rep);

	{
		size_t s64 = 1; /* sizes[1] == 64 */
		double m = res[C_1T][A_MPLACE][s64];
		double numa_vs = res[C_1T][A_NUMA][s64] / m;
		double vs_mallocx, vs_tc, vs_memkind, vs_je;
		unsigned n1ms[A__N];

		/* about 1 ms per loop: a fifth of the calibrated 5 ms */
		for (int a = 0; a < A__N; a++)
			n1ms[a] = n_of[C_1T][a][s64] / 5 / BATCH * BATCH + BATCH;
		paired_ratios(n1ms, &vs_mallocx, &vs_tc, &vs_memkind, &vs_je);

		if (json) {
			printf("{\"unit\":\"ns per allocation+free\",\"repeats\":%u,\"node\":%d,"
			       "\"memkind_kind\":\"MEMKIND_REGULAR\",\"results\":[",
			       repeats, node);
			for (int c = 0, first = 1; c < C__N; c++)
				for (int a = 0; a < A__N; a++)
					for (size_t s = 0; s < N_SIZES; s++, first = 0)
						printf("%s{\"case\":\"%s\",\"allocator\":\"%s\",\"size\":%zu,\"ns\":%.2f}",
						       first ? "" : ",", case_keys[c], names[a], sizes[s],
						       res[c][a][s]);
			printf("],\"paired_trials\":%d,\"ratios\":{\"mplace_vs_mallocx\":%.4f,\"mplace_vs_memkind\":%.4f,"
			       "\"numa_alloc_onnode_vs_mplace\":%.1f,\"mplace_vs_mallocx_tcache\":%.4f,"
			       "\"mplace_vs_jemalloc_malloc\":%.4f}}\n",
			       PAIRED, vs_mallocx, vs_memkind, numa_vs, vs_tc, vs_je);
			return 0;
		}
		printf("ns per allocation+free, median of %u repeats; policy bind:%d; memkind kind: "
		       "MEMKIND_REGULAR (bound to the nodes with CPUs)\n",
		       repeats, node);
		for (int c = 0; c < C__N; c++) {
			printf("\n%s\n%8s", case_names[c], "size");
			for (int a = 0; a < A__N; a++)
				printf(" %17s", names[a]);
			printf(" %14s %14s %14s\n", "mplace/mallocx", "mplace/memkind", "numa/mplace");
			for (size_t s = 0; s < N_SIZES; s++) {
				printf("%8zu", sizes[s]);
				for (int a = 0; a < A__N; a++)
					printf(" %17.2f", res[c][a][s]);
				printf(" %14.3f %14.3f %14.1f\n", res[c][A_MPLACE][s] / res[c][A_MALLOCX][s],
				       res[c][A_MPLACE][s] / res[c][A_MEMKIND][s],
				       res[c][A_NUMA][s] / res[c][A_MPLACE][s]);
			}
		}
		printf("\n64 B, one thread, medians of %d paired trials (numa: of the table): mplace/mallocx %.3f (target <= 1.10), mplace/memkind %.3f (target < 1), "
		       "numa_alloc_onnode/mplace %.1f (target >= 50); mplace/(mallocx+tcache) %.3f, "
		       "mplace/(jemalloc's malloc) %.3f\n",
		       PAIRED, vs_mallocx, vs_memkind, numa_vs, vs_tc, vs_je);
	}
	return 0;
}

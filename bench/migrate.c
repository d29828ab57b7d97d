/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How fast mplace moves pages that are already present, against the kernel's
 * own calls on the same memory: mp_place_range(..., MP_PLACE_MIGRATE), which
 * is one mbind(MPOL_MF_MOVE) per chunk plus the page-by-page check, against
 * migrate_pages(2) (the whole process from one node to another) and
 * move_pages(2) with target nodes (in batches of 4096 pages).
 *
 * Each round maps N MiB, populates it on the source node, moves it, and
 * checks that every page reached the target (a method that did not move
 * everything is reported, never timed as if it had).  Prints the median of
 * the rounds and the ratios; under emulation (the VM test bed) only the
 * ratios mean anything.  Needs two memory nodes; exit 77 otherwise.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"
#include "core/combine.h"
#include "kernel/place.h"
#include "kernel/sys.h"

#define PAGE	   4096UL
#define MOVE_BATCH 4096

static struct mp_topo *topo;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int compile(const char *text, struct mp_compiled *ret)
{
	struct mp_resolve_ctx ctx = {.topo = topo, .local_node = -1};
	struct mp_diag d = {0};
	int r;

	r = mp_compile(text, &ctx, ret, &d);
	if (r < 0)
		fprintf(stderr, "bench-migrate: error: %s: %s\n", text, d.msg);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum method { M_MPLACE, M_MIGRATE_PAGES, M_MOVE_PAGES, M__COUNT };
static const char *const method_name[] = {"mp_place_range(MIGRATE)", "migrate_pages", "move_pages"};

/* One round: fresh memory on 'from', moved to 'to' by m.  Returns seconds,
 * or a negative value when not every page arrived. */
static double round_of(enum method m, bool thp, size_t len, int from, int to, const struct mp_compiled *c_from,
		       const struct mp_compiled *c_to, void **pages, int *nodes, int *status)
{
	uint64_t per[MP_COMPILED_MAX] = {0};
	struct mp_nodemask mf, mt;
	size_t n = len / PAGE;
	double t0, t1;
	void *p = NULL;
	int r = 0;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	/* base pages, or whatever THP policy the system has */
	if (!thp)
		madvise(p, len, MADV_NOHUGEPAGE);
	if (mp_place_range(p, len, c_from, MP_PLACE_POPULATE, NULL) < 0) {
		munmap(p, len);
		return -1;
	}
	memset(p, 0x3c, len);
	if (m == M_MOVE_PAGES)
		for (size_t i = 0; i < n; i++) {
			pages[i] = (char *)p + i * PAGE;
			nodes[i] = to;
		}
	mp_mask_zero(&mf);
	mp_mask_zero(&mt);
	mp_mask_set(&mf, (unsigned)from);
	mp_mask_set(&mt, (unsigned)to);
	t0 = now();
	switch (m) {
	case M_MPLACE:
		r = mp_place_range(p, len, c_to, MP_PLACE_MIGRATE, NULL);
		break;
	case M_MIGRATE_PAGES:
		r = (int)mp_sys_migrate_pages_mask(0, &mf, &mt);
		break;
	case M_MOVE_PAGES:
		for (size_t i = 0; i < n && r >= 0; i += MOVE_BATCH)
			r = mp_sys_move_pages(0, n - i < MOVE_BATCH ? n - i : MOVE_BATCH, pages + i, nodes + i,
					      status + i, MP_MPOL_MF_MOVE);
		break;
	default:
		break;
	}
	t1 = now();
	if (r < 0)
		fprintf(stderr, "bench-migrate: %s: %s\n", method_name[m], strerror(-r));
	if (mp_place_where(p, len, PAGE, per, MP_COMPILED_MAX, NULL) < 0 || per[to] != n) {
		fprintf(stderr, "bench-migrate: %s moved %llu of %zu pages to node %d\n", method_name[m],
			(unsigned long long)per[to], n, to);
		r = -EIO;
	}
	munmap(p, len);
	return r < 0 ? -1 : t1 - t0;
}

int main(int argc, char **argv)
{
	unsigned long mib = 64, repeat = 5;
	double med[M__COUNT], *t;
	struct mp_compiled c_from, c_to;
	char text[64];
	int from = -1, to = -1, *nodes, *status;
	void **pages;
	size_t len;
	int r;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--mib") && i + 1 < argc) {
			errno = 0;
			mib = strtoul(argv[++i], &end, 10);
			if (errno || *end || !mib || mib > 65536)
				goto usage;
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			errno = 0;
			repeat = strtoul(argv[++i], &end, 10);
			if (errno || *end || !repeat || repeat > 1000)
				goto usage;
		} else {
			goto usage;
		}
	}
	r = mp_topo_load(NULL, &topo);
	if (r < 0) {
		fprintf(stderr, "bench-migrate: error: topology: %s\n", strerror(-r));
		return 1;
	}
	if (mp_mask_weight(&topo->memory) < 2) {
		printf("SKIP: one memory node; moving pages needs two\n");
		return 77;
	}
	from = mp_mask_next(&topo->memory, 0);
	to = mp_mask_last(&topo->memory);
	snprintf(text, sizeof(text), "bind:%d", from);
	if (compile(text, &c_from) < 0)
		return 1;
	snprintf(text, sizeof(text), "bind:%d", to);
	if (compile(text, &c_to) < 0)
		return 1;
	len = mib << 20;
	pages = calloc(len / PAGE, sizeof(*pages));
	nodes = calloc(len / PAGE, sizeof(*nodes));
	status = calloc(len / PAGE, sizeof(*status));
	t = calloc(repeat, sizeof(*t));
	if (!pages || !nodes || !status || !t) {
		fprintf(stderr, "bench-migrate: error: out of memory\n");
		return 1;
	}
	for (int thp = 0; thp < 2; thp++) {
		printf("moving %lu MiB from node %d to node %d (%s), median of %lu rounds\n", mib, from, to,
		       thp ? "transparent huge pages as the system has them" : "4 KiB pages", repeat);
		for (int m = 0; m < M__COUNT; m++) {
			for (unsigned long k = 0; k < repeat; k++) {
				t[k] = round_of((enum method)m, thp, len, from, to, &c_from, &c_to, pages, nodes,
						status);
				if (t[k] < 0) {
					fprintf(stderr, "bench-migrate: error: %s did not move every page\n",
						method_name[m]);
					return 1;
				}
			}
			qsort(t, repeat, sizeof(*t), cmp_double);
			med[m] = t[repeat / 2];
			printf("  %-26s %9.2f ms  (%.0f MiB/s)\n", method_name[m], med[m] * 1e3, (double)mib / med[m]);
		}
		printf("ratio%s mplace/migrate_pages %.2f\n", thp ? " (thp)" : "",
		       med[M_MPLACE] / med[M_MIGRATE_PAGES]);
		printf("ratio%s mplace/move_pages %.2f\n", thp ? " (thp)" : "", med[M_MPLACE] / med[M_MOVE_PAGES]);
	}
	free(pages);
	free(nodes);
	free(status);
	free(t);
	mp_compiled_free(&c_from);
	mp_compiled_free(&c_to);
	mp_topo_free(topo);
	return 0;

usage:
	fprintf(stderr, "usage: bench-migrate [--mib N] [--repeat R]\n");
	return 2;
}

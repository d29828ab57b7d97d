/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-page placement checks for the VM tests: each page's node comes from
 * move_pages(2) called with a NULL node list, which only reports (status[i]
 * is the node or -errno) and moves nothing.  Ratios are computed from those
 * per-page answers, never from node counters, so other activity in the
 * guest cannot make a check pass or fail.
 *
 * Invariant: a page that is not present, or whose status is an error, fails
 * every expectation; an expectation never passes on an empty range.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "kernel/sys.h"

/* move_pages takes the page list in one array; ask in slices so a large
 * range needs no large temporary array. */
#define SLICE 512

int vm_page_nodes(void *addr, size_t len, size_t page_size, int *ret_nodes)
{
	size_t n = len / page_size;
	void *pages[SLICE];
	int r;

	if (!page_size || len % page_size)
		return -EINVAL;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < SLICE ? n - done : SLICE;

		for (size_t i = 0; i < k; i++)
			pages[i] = (char *)addr + (done + i) * page_size;
		r = mp_sys_move_pages(0, k, pages, NULL, ret_nodes + done, 0);
		if (r < 0)
			return r;
		done += k;
	}
	return 0;
}

/* Fetch the nodes of a range into a new array; prints why on failure. */
static int fetch(const char *what, void *addr, size_t len, size_t page_size, int **ret, size_t *ret_n)
{
	size_t n = page_size ? len / page_size : 0;
	int *nodes;
	int r;

	if (!n) {
		fprintf(stderr, "%s: empty range\n", what);
		return -EINVAL;
	}
	nodes = calloc(n, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	r = vm_page_nodes(addr, len, page_size, nodes);
	if (r < 0) {
		fprintf(stderr, "%s: move_pages: %s\n", what, strerror(-r));
		free(nodes);
		return r;
	}
	*ret = nodes;
	*ret_n = n;
	return 0;
}

/* A short picture of where pages went: "node 0: 12, node 3: 500, absent: 2". */
static void summary(const char *what, const int *nodes, size_t n)
{
	size_t count[MP_MAX_NODES] = {0}, bad = 0;
	const char *sep = "";

	for (size_t i = 0; i < n; i++) {
		if (nodes[i] >= 0 && nodes[i] < MP_MAX_NODES)
			count[nodes[i]]++;
		else
			bad++;
	}
	fprintf(stderr, "%s: %zu pages:", what, n);
	for (int i = 0; i < MP_MAX_NODES; i++) {
		if (count[i]) {
			fprintf(stderr, "%s node %d: %zu", sep, i, count[i]);
			sep = ",";
		}
	}
	if (bad)
		fprintf(stderr, "%s not present or error: %zu", sep, bad);
	fputc('\n', stderr);
}

int vm_expect_on(const char *what, void *addr, size_t len, size_t page_size, const struct mp_nodemask *allowed)
{
	size_t n, wrong = 0, first = 0;
	int *nodes, r;
	char want[256];

	r = fetch(what, addr, len, page_size, &nodes, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (nodes[i] < 0 || !mp_mask_test(allowed, (unsigned)nodes[i])) {
			if (!wrong++)
				first = i;
		}
	}
	if (wrong) {
		mp_mask_format(allowed, want, sizeof(want));
		fprintf(stderr, "%s: %zu of %zu pages not on nodes %s (first: page %zu, status %d)\n", what, wrong, n,
			want, first, nodes[first]);
		summary(what, nodes, n);
	}
	free(nodes);
	return wrong ? 1 : 0;
}

int vm_expect_ratio(const char *what, void *addr, size_t len, size_t page_size, const int *want_nodes,
		    const unsigned *weights, unsigned k, double tolerance)
{
	size_t n, elsewhere = 0, *count;
	unsigned wsum = 0;
	int *nodes, r, fail = 0;

	for (unsigned j = 0; j < k; j++)
		wsum += weights[j];
	if (!k || !wsum)
		return -EINVAL;
	r = fetch(what, addr, len, page_size, &nodes, &n);
	if (r < 0)
		return r;
	count = calloc(k, sizeof(*count));
	if (!count) {
		free(nodes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned j;

		for (j = 0; j < k; j++)
			if (nodes[i] == want_nodes[j])
				break;
		if (j < k)
			count[j]++;
		else
			elsewhere++;
	}
	if (elsewhere) {
		fprintf(stderr, "%s: %zu of %zu pages on none of the expected nodes\n", what, elsewhere, n);
		fail = 1;
	}
	for (unsigned j = 0; j < k; j++) {
		double share = (double)n * weights[j] / wsum;

		if (fabs((double)count[j] - share) > tolerance * (double)n) {
			fprintf(stderr,
				"%s: node %d has %zu of %zu pages, expected %.1f (weight %u of %u, tolerance %.0f%%)\n",
				what, want_nodes[j], count[j], n, share, weights[j], wsum, tolerance * 100);
			fail = 1;
		}
	}
	if (fail)
		summary(what, nodes, n);
	free(count);
	free(nodes);
	return fail;
}

int vm_expect_cycle(const char *what, void *addr, size_t len, size_t page_size, const int *want_nodes,
		    const unsigned *weights, unsigned k)
{
	size_t n, period = 0, start, i;
	int *nodes, r, *pattern;

	for (unsigned j = 0; j < k; j++)
		period += weights[j];
	if (!k || !period)
		return -EINVAL;
	r = fetch(what, addr, len, page_size, &nodes, &n);
	if (r < 0)
		return r;
	pattern = calloc(period, sizeof(*pattern));
	if (!pattern) {
		free(nodes);
		return -ENOMEM;
	}
	i = 0;
	for (unsigned j = 0; j < k; j++)
		for (unsigned w = 0; w < weights[j]; w++)
			pattern[i++] = want_nodes[j];
	/* Find a phase of the cycle that explains every page. */
	for (start = 0; start < period; start++) {
		for (i = 0; i < n; i++)
			if (nodes[i] != pattern[(start + i) % period])
				break;
		if (i == n)
			break;
	}
	if (start == period) {
		fprintf(stderr, "%s: pages do not follow the round-robin (first pages:", what);
		for (i = 0; i < n && i < 16; i++)
			fprintf(stderr, " %d", nodes[i]);
		fprintf(stderr, ")\n");
		summary(what, nodes, n);
	}
	free(pattern);
	free(nodes);
	return start == period ? 1 : 0;
}

uint64_t vm_node_free(int node)
{
	char path[96], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "MemFree:");

		if (p && sscanf(p, "MemFree: %llu", &kb) == 1)
			break;
	}
	fclose(f);
	return (uint64_t)kb << 10;
}

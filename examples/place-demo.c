/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program that asks for memory under a policy, through the public API only,
 * and shows where every page landed: the request, how mplace carried it out,
 * and an independent page-by-page check.
 *
 * Usage: mplace-demo [POLICY [SIZE]]     (default: interleave:all weights=auto, 64M)
 * Exit: 0 when every page is where the policy says, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mplace.h"

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'G':
	case 'g':
		v <<= 10; /* fall through */
	case 'M':
	case 'm':
		v <<= 10; /* fall through */
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	}
	return *end ? 0 : (size_t)v;
}

static const char *backend_name(int b)
{
	switch (b) {
	case MPLACE_BACKEND_KERNEL:
		return "one mbind with the kernel's mode";
	case MPLACE_BACKEND_KERNEL_WEIGHTED:
		return "the kernel's weighted interleave";
	case MPLACE_BACKEND_CHUNKS:
		return "consecutive chunks bound per node (user space)";
	case MPLACE_BACKEND_STRICT_POPULATE:
		return "populated, checked page by page, then bound";
	default:
		return "?";
	}
}

int main(int argc, char **argv)
{
	const char *text = argc > 1 ? argv[1] : "interleave:all weights=auto";
	size_t len = argc > 2 ? parse_size(argv[2]) : 64 << 20;
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_place_report rep = {.sz = sizeof(rep)};
	struct mplace_compiled *c;
	uint64_t per_node[MPLACE_REPORT_NODES] = {0};
	int nodes[MPLACE_REPORT_NODES], n, r, present;
	char *canonical = NULL;
	void *addr;
	uint64_t pages;

	if (!len) {
		fprintf(stderr, "mplace-demo: bad size '%s'\n", argv[2]);
		return 2;
	}
	r = mplace_compile(text, NULL, &c, &err);
	if (r < 0) {
		fprintf(stderr, "mplace-demo: error: %s\n", err.message);
		if (err.hint[0])
			fprintf(stderr, "hint: %s\n", err.hint);
		return 1;
	}
	mplace_compiled_format(c, &canonical);
	printf("policy     %s\nresolved   %s\n", text, canonical ? canonical : "?");
	for (int i = 0; i < mplace_compiled_warnings(c); i++)
		printf("warning    %s\n", mplace_compiled_warning(c, i));
	free(canonical);

	r = mplace_map(c, len, MPLACE_POPULATE | MPLACE_VERIFY, &addr, &rep);
	if (r < 0) {
		printf("mapping %zu MiB failed: %s%s%s\n", len >> 20, strerror(-r), rep.reason[0] ? ": " : "",
		       rep.reason);
		printf("the process is alive and holds nothing of it\n");
		mplace_compiled_free(c);
		return r == -ENOMEM ? 0 : 1;
	}
	printf("placed     %zu MiB, %llu pages, by %s\n", len >> 20, (unsigned long long)rep.pages,
	       backend_name(rep.backend));
	if (rep.fell_back)
		printf("fell back  %s\n", rep.reason);

	/* the independent check: ask the kernel where each page is */
	present = mplace_where(addr, len, 0, per_node, MPLACE_REPORT_NODES, NULL);
	pages = len / 4096;
	printf("\nwhere the kernel says each page is:\n");
	for (int i = 0; i < MPLACE_REPORT_NODES; i++) {
		int bar;

		if (!per_node[i])
			continue;
		bar = (int)(per_node[i] * 50 / (pages ? pages : 1));
		printf("  node %-3d %8llu pages %5.1f%%  ", i, (unsigned long long)per_node[i],
		       100.0 * (double)per_node[i] / (double)pages);
		for (int k = 0; k < bar; k++)
			putchar('#');
		putchar('\n');
	}
	n = mplace_compiled_nodes(c, nodes, MPLACE_REPORT_NODES);
	printf("\npolicy nodes:");
	for (int i = 0; i < n; i++)
		printf(" %d", nodes[i]);
	printf("\nverified   %d of %llu pages present, %llu misplaced: %s\n", present, (unsigned long long)pages,
	       (unsigned long long)rep.misplaced,
	       rep.misplaced == 0 && (uint64_t)present == pages ? "every page is where the policy says"
								: "NOT where the policy says");
	r = rep.misplaced == 0 && (uint64_t)present == pages ? 0 : 1;
	mplace_unmap(addr, len, c);
	mplace_compiled_free(c);
	return r;
}

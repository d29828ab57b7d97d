/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks from outside where a running process's pages are: for each
 * expectation LABEL=POLICY[@NAME], every memory range of PID whose kernel
 * policy (/proc/PID/numa_maps) reads POLICY (and, with @NAME, whose
 * /proc/PID/maps name is NAME; a bind also matches the prefer-many it
 * becomes when it may fall back) has each present page, asked one by one with
 * move_pages(2) on PID, on one of POLICY's nodes; and there is at least one
 * present page (a policy that placed nothing proves nothing).
 *
 * @anon names every range that maps no file (its name does not start with
 * '/') and is not the kernel's ([vdso], [vvar], [vsyscall]): memory the
 * process allocated, not page cache others may have filled.
 *
 *   test-agent-pages PID heap=bind:3 stack=bind:1@[stack] anon=interleave:1-2
 *
 * Prints one line per expectation and exits 1 when one fails.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BATCH 4096

struct expect {
	char label[64], policy[128], name[128];
	uint64_t nodes; /* bit per node */
	uint64_t ranges, present, on, off;
	int first_off_node;
};

static int parse_nodes(const char *s, uint64_t *ret)
{
	uint64_t m = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0 || a > 63)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b > 63)
				return -EINVAL;
		}
		for (long n = a; n <= b; n++)
			m |= 1ULL << n;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -EINVAL;
	}
	*ret = m;
	return 0;
}

/* The policy asked for against the kernel's: a bind that may fall back is
 * carried out as prefer-many over the same nodes (lib/core/resolve.c). */
static bool policy_matches(const char *want, const char *have)
{
	const char *wc = strchr(want, ':'), *hc = strchr(have, ':');
	size_t wl, hl;

	if (!wc || !hc || strcmp(wc, hc))
		return false;
	wl = (size_t)(wc - want);
	hl = (size_t)(hc - have);
	if (wl == hl && !strncmp(want, have, wl))
		return true;
	return wl == 4 && !strncmp(want, "bind", 4) && hl == 11 && !strncmp(have, "prefer-many", 11);
}

static void count(int pid, unsigned long lo, unsigned long hi, struct expect *e)
{
	static void *pages[BATCH];
	static int status[BATCH];
	long psz = sysconf(_SC_PAGESIZE);

	for (unsigned long a = lo; a < hi;) {
		unsigned long n = 0;

		for (; n < BATCH && a < hi; n++, a += (unsigned long)psz)
			pages[n] = (void *)a;
		if (syscall(SYS_move_pages, pid, n, pages, NULL, status, 0) < 0) {
			fprintf(stderr, "move_pages(%d): %s\n", pid, strerror(errno));
			exit(2);
		}
		for (unsigned long i = 0; i < n; i++) {
			if (status[i] < 0)
				continue; /* not present */
			e->present++;
			if (status[i] < 64 && (e->nodes & (1ULL << status[i]))) {
				e->on++;
			} else {
				if (!e->off)
					e->first_off_node = status[i];
				e->off++;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct expect ex[32];
	char path[64], line[4096], maps_line[4096];
	int n = 0, pid, fail = 0;
	FILE *nm, *mp;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PID LABEL=POLICY[@NAME]...\n", argv[0]);
		return 2;
	}
	pid = atoi(argv[1]);
	for (int i = 2; i < argc && n < 32; i++, n++) {
		struct expect *e = &ex[n];
		const char *eq = strchr(argv[i], '='), *at, *colon;

		memset(e, 0, sizeof(*e));
		if (!eq)
			return 2;
		snprintf(e->label, sizeof(e->label), "%.*s", (int)(eq - argv[i]), argv[i]);
		at = strchr(eq + 1, '@');
		snprintf(e->policy, sizeof(e->policy), "%.*s", (int)(at ? at - eq - 1 : (long)strlen(eq + 1)), eq + 1);
		if (at)
			snprintf(e->name, sizeof(e->name), "%s", at + 1);
		colon = strchr(e->policy, ':');
		if (!colon || parse_nodes(colon + 1, &e->nodes) < 0) {
			fprintf(stderr, "bad policy '%s'\n", e->policy);
			return 2;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	nm = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	mp = fopen(path, "re");
	if (!nm || !mp) {
		fprintf(stderr, "process %d: %s\n", pid, strerror(errno));
		return 2;
	}
	/* both files list the same ranges in the same order */
	while (fgets(line, sizeof(line), nm) && fgets(maps_line, sizeof(maps_line), mp)) {
		unsigned long lo, hi, start;
		char pol[128] = "", name[256] = "";

		char more[64] = "";

		/* MPOL_PREFERRED_MANY reads "prefer (many):NODES": called prefer-many here */
		if (sscanf(line, "%lx %127s %63s", &start, pol, more) >= 2 && !strcmp(pol, "prefer") &&
		    !strncmp(more, "(many)", 6))
			snprintf(pol, sizeof(pol), "prefer-many%s", more + 6);
		if (sscanf(line, "%lx", &start) != 1 ||
		    sscanf(maps_line, "%lx-%lx %*s %*s %*s %*s %255s", &lo, &hi, name) < 2)
			continue;
		if (start != lo) {
			fprintf(stderr, "maps and numa_maps differ at %lx/%lx (the process changed): retry\n", lo,
				start);
			return 2;
		}
		for (int i = 0; i < n; i++) {
			if (!policy_matches(ex[i].policy, pol))
				continue;
			if (!strcmp(ex[i].name, "anon") ? name[0] == '/' || !strcmp(name, "[vdso]") ||
								  !strcmp(name, "[vvar]") || !strcmp(name, "[vsyscall]")
							: ex[i].name[0] && strcmp(ex[i].name, name))
				continue;
			ex[i].ranges++;
			count(pid, lo, hi, &ex[i]);
		}
	}
	for (int i = 0; i < n; i++) {
		struct expect *e = &ex[i];
		bool ok = e->present && !e->off;

		printf("%s %s: %s: %" PRIu64 " ranges, %" PRIu64 " pages present, %" PRIu64 " on its nodes, %" PRIu64
		       " elsewhere",
		       ok ? "ok" : "FAIL", e->label, e->policy, e->ranges, e->present, e->on, e->off);
		if (e->off)
			printf(" (first on node %d)", e->first_off_node);
		printf("\n");
		fail |= !ok;
	}
	return fail;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a file's page cache is, for the agent's file:GLOB test
 * (test-agent-file.sh), and a reader that goes through stdio.
 *
 *   test-agent-file where FILE NODES   every page of FILE is in the page
 *       cache and on one of NODES (a list like 2 or 1-2): mincore says which
 *       pages are cached, only those are mapped (MADV_RANDOM: no readahead,
 *       so nothing new is read in by this check), and move_pages asks each
 *       one's node.  Prints the count per node; exits 1 otherwise.
 *   test-agent-file fread FILE         reads FILE with fopen/fread (glibc's
 *       fopen does not call the exported open), then prints the thread's task
 *       policy as "task-policy MODE NODEMASK-HEX".
 *
 * No libmplace: this checks it from outside.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_NODE 64
#define BATCH	 1024

static int parse_nodes(const char *s, uint64_t *ret)
{
	uint64_t m = 0;

	while (*s) {
		char *end;
		long a, b;

		errno = 0;
		a = strtol(s, &end, 10);
		if (errno || end == s || a < 0 || a >= MAX_NODE)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b >= MAX_NODE)
				return -EINVAL;
		}
		for (long n = a; n <= b; n++)
			m |= 1ULL << n;
		if (*end && *end != ',')
			return -EINVAL;
		s = *end ? end + 1 : end;
	}
	*ret = m;
	return m ? 0 : -EINVAL;
}

static int where(const char *path, const char *list)
{
	static void *pages[BATCH];
	static int status[BATCH];
	uint64_t want, per[MAX_NODE] = {0}, npages, cached = 0, absent = 0, off_nodes = 0;
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *vec;
	struct stat st;
	char *p;
	int fd;

	if (parse_nodes(list, &want) < 0) {
		fprintf(stderr, "bad node list '%s'\n", list);
		return 2;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		fprintf(stderr, "%s: %s\n", path, fd < 0 ? strerror(errno) : "empty or unreadable");
		return 2;
	}
	npages = ((uint64_t)st.st_size + (uint64_t)ps - 1) / (uint64_t)ps;
	p = mmap(NULL, npages * (uint64_t)ps, PROT_READ, MAP_SHARED, fd, 0);
	vec = malloc(npages);
	if (p == MAP_FAILED || !vec || madvise(p, npages * (uint64_t)ps, MADV_RANDOM) < 0 ||
	    mincore(p, npages * (uint64_t)ps, vec) < 0) {
		fprintf(stderr, "%s: mmap/mincore: %s\n", path, strerror(errno));
		return 2;
	}
	for (uint64_t i = 0; i < npages; i += BATCH) {
		unsigned long n = 0;

		for (uint64_t k = i; k < npages && k < i + BATCH; k++) {
			if (!(vec[k] & 1))
				continue;
			/* map the cached page (a minor fault, nothing is read) */
			(void)*(volatile char *)(p + k * (uint64_t)ps);
			pages[n++] = p + k * (uint64_t)ps;
		}
		cached += n;
		if (n && syscall(SYS_move_pages, 0, n, pages, NULL, status, 0) < 0) {
			fprintf(stderr, "move_pages: %s\n", strerror(errno));
			return 2;
		}
		for (unsigned long k = 0; k < n; k++) {
			if (status[k] < 0 || status[k] >= MAX_NODE)
				absent++;
			else if (per[status[k]]++, !(want >> status[k] & 1))
				off_nodes++;
		}
	}
	printf("%s: %llu pages, %llu cached, %llu cached but not mapped; per node:", path, (unsigned long long)npages,
	       (unsigned long long)cached, (unsigned long long)absent);
	for (int n = 0; n < MAX_NODE; n++)
		if (per[n])
			printf(" %d:%llu", n, (unsigned long long)per[n]);
	printf("; %llu not on %s\n", (unsigned long long)off_nodes, list);
	return cached == npages && !absent && !off_nodes ? 0 : 1;
}

static int fread_all(const char *path)
{
	unsigned long mask[MAX_NODE / (8 * sizeof(unsigned long))] = {0};
	char buf[65536];
	size_t total = 0, n;
	int mode = -1;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 2;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		total += n;
	fclose(f);
	if (syscall(SYS_get_mempolicy, &mode, mask, (unsigned long)MAX_NODE + 1, NULL, 0UL) < 0) {
		fprintf(stderr, "get_mempolicy: %s\n", strerror(errno));
		return 2;
	}
	printf("read %zu\ntask-policy %d %lx\n", total, mode, mask[0]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "where"))
		return where(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "fread"))
		return fread_all(argv[2]);
	fprintf(stderr, "usage: test-agent-file where FILE NODES | fread FILE\n");
	return 2;
}

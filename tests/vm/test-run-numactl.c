/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a program started by `mplace run` with numactl's options got, asked
 * from inside without libmplace (test-run-numactl.sh): its task policy, the
 * CPUs it may run on, and where 16 MiB of anonymous memory it writes went,
 * each page asked with move_pages(2).
 *
 *   task-policy MODE MASK-HEX
 *   cpus LIST
 *   pages NODE:COUNT ...
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SIZE	 (16UL << 20)
#define MAX_NODE 64

int main(void)
{
	static void *pages[SIZE / 4096];
	static int status[SIZE / 4096];
	unsigned long mask[1] = {0}, per[MAX_NODE] = {0}, n = SIZE / 4096;
	int mode = -1, first = 1;
	cpu_set_t set;
	char *p;

	if (syscall(SYS_get_mempolicy, &mode, mask, (unsigned long)MAX_NODE + 1, NULL, 0UL) < 0 ||
	    sched_getaffinity(0, sizeof(set), &set) < 0) {
		fprintf(stderr, "get_mempolicy/sched_getaffinity: %s\n", strerror(errno));
		return 2;
	}
	printf("task-policy %d %lx\ncpus ", mode, mask[0]);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		int e = c;

		if (!CPU_ISSET(c, &set))
			continue;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set))
			e++;
		printf(e > c ? "%s%d-%d" : "%s%d", first ? "" : ",", c, e);
		first = 0;
		c = e;
	}
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap: %s\n", strerror(errno));
		return 2;
	}
	for (unsigned long i = 0; i < n; i++) {
		p[i * 4096] = 1;
		pages[i] = p + i * 4096;
	}
	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0) < 0) {
		fprintf(stderr, "move_pages: %s\n", strerror(errno));
		return 2;
	}
	for (unsigned long i = 0; i < n; i++)
		if (status[i] >= 0 && status[i] < MAX_NODE)
			per[status[i]]++;
	printf("\npages");
	for (int k = 0; k < MAX_NODE; k++)
		if (per[k])
			printf(" %d:%lu", k, per[k]);
	printf("\n");
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM test program for mplace numactl and mplace show (tests/vm/test-show.sh).
 *
 *   test-show cycle NODES     64 fresh pages, touched under the task policy
 *                             numactl set, follow the interleave over NODES
 *                             page by page (move_pages)
 *   test-show on NODE         64 fresh pages are all on NODE
 *   test-show show MPLACE     pages bound to node 1 (and a range whose pages
 *                             stayed on node 0 when it was bound to node 1
 *                             afterwards); `MPLACE show --pid <self> --json`
 *                             must report for each range what our own
 *                             move_pages query finds, page for page, and the
 *                             second range as a violation
 *
 * Pages are asked of the kernel one by one, never taken from counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "placement.h"
#include "sys.h"

#define NPAGES 64

static size_t page;

/* NPAGES pages inside one 2 MiB-aligned block: one page table for all of
 * them, so a task interleave is not shifted midway by a page-table page
 * that the fault allocates under the same policy. */
static char *fresh_pages(void)
{
	size_t huge = 2u << 20;
	char *p = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	a = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	madvise(a, NPAGES * page, MADV_NOHUGEPAGE);
	return a;
}

static void touch(char *a)
{
	for (size_t i = 0; i < NPAGES; i++)
		a[i * page] = (char)i;
}

static int parse_nodes(const char *s, int *nodes, unsigned max, unsigned *ret_n)
{
	struct mp_nodemask m;
	unsigned n = 0;

	if (mp_mask_parse(s, strlen(s), &m, NULL) < 0)
		return -EINVAL;
	mp_mask_foreach(k, &m) {
		if (n < max)
			nodes[n++] = k;
	}
	*ret_n = n;
	return n ? 0 : -EINVAL;
}

/* ---- mplace show against our own query ----------------------------------------- */

static struct json_object *run_show(const char *mplace)
{
	char pid[16], *buf = NULL;
	size_t cap = 0, n = 0;
	int fd[2], status;
	pid_t child;
	struct json_object *o;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (pipe(fd) < 0)
		return NULL;
	child = fork();
	if (child == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execl(mplace, mplace, "show", "--pid", pid, "--json", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		ssize_t k;

		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				exit(1);
		}
		k = read(fd[0], buf + n, cap - n - 1);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd[0]);
	waitpid(child, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "mplace show exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	free(buf);
	return o;
}

static struct json_object *find_range(struct json_object *root, const void *addr)
{
	struct json_object *ranges, *r, *v;
	char want[32];

	snprintf(want, sizeof(want), "0x%" PRIxPTR, (uintptr_t)addr);
	if (!json_object_object_get_ex(root, "ranges", &ranges))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(ranges); i++) {
		r = json_object_array_get_idx(ranges, i);
		if (json_object_object_get_ex(r, "start", &v) && !strcmp(json_object_get_string(v), want))
			return r;
	}
	return NULL;
}

/* The range's "pages" and "present" equal what move_pages says of each page. */
static int compare(const char *what, struct json_object *r, char *a, const char *kpolicy, bool matches)
{
	int nodes[NPAGES], fails = 0;
	unsigned long per_node[MP_MAX_NODES] = { 0 };
	struct json_object *pages, *v;
	unsigned long present = 0, listed = 0;

	if (vm_page_nodes(a, NPAGES * page, page, nodes) < 0) {
		fprintf(stderr, "%s: move_pages failed\n", what);
		return 1;
	}
	for (int i = 0; i < NPAGES; i++)
		if (nodes[i] >= 0) {
			per_node[nodes[i]]++;
			present++;
		}
	if (!r) {
		fprintf(stderr, "%s: mplace show lists no range at %p\n", what, (void *)a);
		return 1;
	}
	json_object_object_get_ex(r, "pages", &pages);
	json_object_object_foreach(pages, key, val)
	{
		unsigned long node = strtoul(key, NULL, 10);

		listed += (unsigned long)json_object_get_int64(val);
		if (node >= MP_MAX_NODES || (unsigned long)json_object_get_int64(val) != per_node[node]) {
			fprintf(stderr, "%s: node %s: show %" PRId64 " pages, move_pages %lu\n", what, key,
				json_object_get_int64(val), node < MP_MAX_NODES ? per_node[node] : 0);
			fails++;
		}
	}
	if (listed != present) {
		fprintf(stderr, "%s: show lists %lu pages, move_pages finds %lu\n", what, listed, present);
		fails++;
	}
	if (!json_object_object_get_ex(r, "present", &v) || (unsigned long)json_object_get_int64(v) != present) {
		fprintf(stderr, "%s: present differs\n", what);
		fails++;
	}
	if (!json_object_object_get_ex(r, "kernel_policy", &v) || strcmp(json_object_get_string(v), kpolicy)) {
		fprintf(stderr, "%s: kernel_policy '%s', want '%s'\n", what, v ? json_object_get_string(v) : "(none)",
			kpolicy);
		fails++;
	}
	if (!json_object_object_get_ex(r, "matches", &v) || json_object_get_boolean(v) != matches) {
		fprintf(stderr, "%s: matches should be %s\n", what, matches ? "true" : "false");
		fails++;
	}
	if (!fails)
		printf("ok: %s: mplace show reports the %lu pages move_pages finds (node 0: %lu, node 1: %lu)\n",
		       what, present, per_node[0], per_node[1]);
	return fails ? 1 : 0;
}

static int test_show(const char *mplace)
{
	struct mp_nodemask one, zero;
	struct json_object *root;
	char *bound = fresh_pages(), *stale = fresh_pages();
	int fails = 0, r;

	mp_mask_zero(&one);
	mp_mask_set(&one, 1);
	mp_mask_zero(&zero);
	mp_mask_set(&zero, 0);
	/* bound to node 1 before the pages exist: every page there */
	r = mp_sys_mbind_mask(bound, NPAGES * page, MP_MPOL_BIND, &one, 0);
	/* pages made on node 0, then the range bound to node 1 without moving
	 * them: the kernel policy says 1, the pages are on 0 */
	r = r < 0 ? r : mp_sys_mbind_mask(stale, NPAGES * page, MP_MPOL_BIND, &zero, 0);
	if (r < 0) {
		fprintf(stderr, "mbind: %s\n", strerror(-r));
		return 1;
	}
	touch(bound);
	touch(stale);
	r = mp_sys_mbind_mask(stale, NPAGES * page, MP_MPOL_BIND, &one, 0);
	if (r < 0) {
		fprintf(stderr, "mbind: %s\n", strerror(-r));
		return 1;
	}
	if (vm_expect_on("bound", bound, NPAGES * page, page, &one) != 0)
		return 1;
	root = run_show(mplace);
	if (!root) {
		fprintf(stderr, "mplace show --json gave no JSON\n");
		return 1;
	}
	fails += compare("bound to node 1", find_range(root, bound), bound, "bind:1", true);
	fails += compare("pages on 0, range bound to 1", find_range(root, stale), stale, "bind:1", false);
	{
		struct json_object *m;

		json_object_object_get_ex(root, "method", &m);
		if (!m || strcmp(json_object_get_string(m), "move_pages")) {
			fprintf(stderr, "method is not move_pages\n");
			fails++;
		}
	}
	json_object_put(root);
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	int nodes[64];
	unsigned n, w[64];
	char *a;
	int r;

	page = (size_t)getpagesize();
	if (argc == 3 && !strcmp(argv[1], "show"))
		return test_show(argv[2]);
	if (argc != 3 || parse_nodes(argv[2], nodes, 64, &n) < 0) {
		fprintf(stderr, "usage: test-show cycle NODES | on NODES | show MPLACE\n");
		return 2;
	}
	a = fresh_pages();
	touch(a);
	if (!strcmp(argv[1], "cycle")) {
		for (unsigned i = 0; i < n; i++)
			w[i] = 1;
		r = vm_expect_cycle("interleave", a, NPAGES * page, page, nodes, w, n);
	} else if (!strcmp(argv[1], "on")) {
		struct mp_nodemask m;

		mp_mask_zero(&m);
		for (unsigned i = 0; i < n; i++)
			mp_mask_set(&m, (unsigned)nodes[i]);
		r = vm_expect_on("membind", a, NPAGES * page, page, &m);
	} else {
		return 2;
	}
	if (r == 0)
		printf("ok: %d pages %s %s, page by page\n", NPAGES,
		       !strcmp(argv[1], "cycle") ? "alternate over nodes" : "all on node", argv[2]);
	return r == 0 ? 0 : 1;
}

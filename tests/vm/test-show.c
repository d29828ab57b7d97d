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
 *   test-show pause           wait a minute (a dynamic program for the agent)
 *   test-show hold            make show's two ranges, print their addresses, wait a minute
 *   test-show agent MPLACE PID KIND REQ NODES
 *                             another process under the agent: each KIND
 *                             range shows REQ as requested and the pages
 *                             move_pages finds there, matching iff all
 *                             are on NODES
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
#include "kernel/sys.h"

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

static struct json_object *run_show_pid(const char *mplace, int target)
{
	char pid[16], *buf = NULL;
	size_t cap = 0, n = 0;
	int fd[2], status;
	pid_t child;
	struct json_object *o;

	snprintf(pid, sizeof(pid), "%d", target);
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

static struct json_object *run_show(const char *mplace)
{
	return run_show_pid(mplace, (int)getpid());
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
	unsigned long per_node[MP_MAX_NODES] = {0};
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
		printf("ok: %s: mplace show reports the %lu pages move_pages finds (node 0: %lu, node 1: %lu)\n", what,
		       present, per_node[0], per_node[1]);
	return fails ? 1 : 0;
}

/*
 * Two ranges of NPAGES: bound, bound to node 1 before its pages exist (every
 * page there); stale, its pages made on node 0 and then bound to node 1
 * without moving them (the kernel policy says 1, the pages are on 0).
 */
static int make_ranges(char **ret_bound, char **ret_stale)
{
	struct mp_nodemask one, zero;
	char *bound = fresh_pages(), *stale = fresh_pages();
	int r;

	mp_mask_zero(&one);
	mp_mask_set(&one, 1);
	mp_mask_zero(&zero);
	mp_mask_set(&zero, 0);
	r = mp_sys_mbind_mask(bound, NPAGES * page, MP_MPOL_BIND, &one, 0);
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
	*ret_bound = bound;
	*ret_stale = stale;
	return 0;
}

static int test_show(const char *mplace)
{
	struct json_object *root;
	char *bound, *stale;
	int fails = 0;

	if (make_ranges(&bound, &stale) != 0)
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

/* ---- another process, under the agent -------------------------------------------- */

/*
 * `MPLACE show --pid PID --json`: each range of KIND with pages has the
 * requested policy REQ, and its pages per node are what our own move_pages
 * query of that process finds, page for page; "matches" is true exactly
 * when every page is on NODES.
 */
static int test_agent(const char *mplace, int pid, const char *kind, const char *req, const char *nodes_text)
{
	struct json_object *root, *ranges, *agent;
	struct mp_nodemask allowed;
	int fails = 0, seen = 0;

	if (mp_mask_parse(nodes_text, strlen(nodes_text), &allowed, NULL) < 0)
		return 2;
	root = run_show_pid(mplace, pid);
	if (!root)
		return 1;
	if (!json_object_object_get_ex(root, "agent", &agent) || !json_object_get_boolean(agent)) {
		fprintf(stderr, "pid %d: mplace show found no agent\n", pid);
		fails++;
	}
	json_object_object_get_ex(root, "ranges", &ranges);
	for (size_t i = 0; ranges && i < json_object_array_length(ranges); i++) {
		struct json_object *r = json_object_array_get_idx(ranges, i), *v, *pages;
		unsigned long per_node[MP_MAX_NODES] = {0}, present = 0, outside = 0;
		unsigned long long start, end;
		bool matches;

		json_object_object_get_ex(r, "kind", &v);
		if (strcmp(json_object_get_string(v), kind))
			continue;
		json_object_object_get_ex(r, "present", &v);
		if (!json_object_get_int64(v))
			continue;
		seen++;
		json_object_object_get_ex(r, "start", &v);
		sscanf(json_object_get_string(v), "%llx", &start);
		json_object_object_get_ex(r, "end", &v);
		sscanf(json_object_get_string(v), "%llx", &end);
		json_object_object_get_ex(r, "requested", &v);
		/* the agent answers with the canonical text, which may add to REQ */
		if (!v || strncmp(json_object_get_string(v), req, strlen(req))) {
			fprintf(stderr, "%s %llx: requested '%s', want '%s'\n", kind, start,
				v ? json_object_get_string(v) : "(null)", req);
			fails++;
		}
		/* a live thread's stack may gain pages between the two looks:
		 * page for page only for the main stack, parked in usleep */
		json_object_object_get_ex(r, "path", &v);
		if (!v || strcmp(json_object_get_string(v), "[stack]")) {
			json_object_object_get_ex(r, "pages", &pages);
			json_object_object_foreach(pages, key, val)
			{
				if (json_object_get_int64(val) &&
				    !mp_mask_test(&allowed, (unsigned)strtoul(key, NULL, 10)))
					outside++;
			}
			json_object_object_get_ex(r, "matches", &v);
			if (json_object_get_boolean(v) != (outside == 0))
				fails++, fprintf(stderr, "%s %llx: matches does not follow its pages\n", kind, start);
			else
				printf("ok: pid %d %s %llx-%llx: requested %s, matches %s as its pages say\n", pid,
				       kind, start, end, req, outside ? "false" : "true");
			continue;
		}
		for (unsigned long long a = start; a < end; a += page) {
			void *pg = (void *)(uintptr_t)a;
			int st;

			if (mp_sys_move_pages(pid, 1, &pg, NULL, &st, 0) < 0 || st < 0)
				continue;
			per_node[st]++;
			present++;
			outside += !mp_mask_test(&allowed, (unsigned)st);
		}
		json_object_object_get_ex(r, "pages", &pages);
		json_object_object_foreach(pages, key, val)
		{
			unsigned long node = strtoul(key, NULL, 10);

			if (node < MP_MAX_NODES && (unsigned long)json_object_get_int64(val) == per_node[node])
				per_node[node] = 0; /* accounted for */
			else
				fails++,
					fprintf(stderr, "%s %llx: node %s differs from move_pages\n", kind, start, key);
		}
		for (unsigned n = 0; n < MP_MAX_NODES; n++)
			if (per_node[n])
				fails++, fprintf(stderr, "%s %llx: %lu pages on node %u not in show\n", kind, start,
						 per_node[n], n);
		json_object_object_get_ex(r, "matches", &v);
		matches = json_object_get_boolean(v);
		if (matches != (outside == 0))
			fails++, fprintf(stderr, "%s %llx: matches %d but %lu pages outside %s\n", kind, start, matches,
					 outside, nodes_text);
		if (!fails)
			printf("ok: pid %d %s %llx-%llx: requested %s, %lu pages as move_pages finds them, matches %s\n",
			       pid, kind, start, end, req, present, matches ? "true" : "false");
	}
	if (!seen) {
		fprintf(stderr, "pid %d: no %s range with pages\n", pid, kind);
		fails++;
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
	/* the two ranges of show, held for a minute for other tools to read
	 * (tests/vm/test-see.sh): their addresses on stdout */
	if (argc == 2 && !strcmp(argv[1], "hold")) {
		char *bound, *stale;

		if (make_ranges(&bound, &stale) != 0)
			return 1;
		printf("bound %p stale %p\n", (void *)bound, (void *)stale);
		fflush(stdout);
		for (int i = 0; i < 600; i++)
			usleep(100000);
		return 0;
	}
	/* a dynamically linked program to run under the agent (the guest's
	 * busybox is static: LD_PRELOAD does not reach it) */
	if (argc == 2 && !strcmp(argv[1], "pause")) {
		for (int i = 0; i < 600; i++)
			usleep(100000);
		return 0;
	}
	if (argc == 7 && !strcmp(argv[1], "agent")) {
		char *end;
		long pid = strtol(argv[3], &end, 10);

		if (*end || pid <= 0 || pid > INT32_MAX)
			return 2;
		return test_agent(argv[2], (int)pid, argv[4], argv[5], argv[6]);
	}
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every memory-policy mode the running kernel accepts, set raw through
 * mbind(2) (a range's policy) and set_mempolicy(2) (the thread's policy),
 * lands pages where the mode says; checked page by page with move_pages.
 * Runs as root inside the VM test bed (tests/vm/run) on any topology.
 *
 * Invariants: a mode the kernel rejects is reported as SKIP with the reason,
 * never counted as a pass; the program exits 77 only when nothing could be
 * tested, 1 when any case failed.  The thread's policy, CPU affinity and the
 * weighted-interleave sysfs weights are restored after each case.
 *
 * --break makes one expectation deliberately wrong (bind to the last node is
 * expected on another node), so the suite can show that it fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "placement.h"
#include "kernel/sys.h"

#define PAGE   4096UL
#define HUGE   (2UL << 20)
#define NPAGES 512
#define WI_DIR "/sys/kernel/mm/mempolicy/weighted_interleave"

/* Which nodes a case hands the kernel. */
enum pick {
	PICK_NONE,	 /* default, local: no mask */
	PICK_LAST,	 /* the highest memory node */
	PICK_FIRST_LAST, /* the lowest and highest memory nodes */
	PICK_LAST_TWO,	 /* the two highest memory nodes */
};

/* What the pages must show. */
enum expect {
	EXPECT_LOCAL, /* all on the node of the CPU we run on (once per CPU node) */
	EXPECT_MASK,  /* all on nodes of the picked mask */
	EXPECT_FIRST, /* all on the lowest node of the mask (bind picks nearest) */
	EXPECT_CYCLE, /* exact round-robin over the mask with weights w */
	EXPECT_RATIO, /* split in the ratio w over the mask, within 5% */
};

enum api { API_MBIND, API_TASK };

struct mode_case {
	const char *name;
	int mode;
	enum api api;
	enum pick pick;
	enum expect expect;
	unsigned w[2]; /* weights for the two nodes of the mask */
	bool huge;     /* 2 MiB hugetlb pages instead of 4 KiB */
	bool breakable;
};

static const struct mode_case cases[] = {
	{"default", MP_MPOL_DEFAULT, API_TASK, PICK_NONE, EXPECT_LOCAL},
	{"local (mbind)", MP_MPOL_LOCAL, API_MBIND, PICK_NONE, EXPECT_LOCAL},
	{"local", MP_MPOL_LOCAL, API_TASK, PICK_NONE, EXPECT_LOCAL},
	{"bind last (mbind)", MP_MPOL_BIND, API_MBIND, PICK_LAST, EXPECT_MASK, .breakable = true},
	{"bind last", MP_MPOL_BIND, API_TASK, PICK_LAST, EXPECT_MASK},
	{"bind first+last (mbind)", MP_MPOL_BIND, API_MBIND, PICK_FIRST_LAST, EXPECT_FIRST},
	{"bind last hugetlb (mbind)", MP_MPOL_BIND, API_MBIND, PICK_LAST, EXPECT_MASK, .huge = true},
	{"preferred last (mbind)", MP_MPOL_PREFERRED, API_MBIND, PICK_LAST, EXPECT_MASK},
	{"preferred last", MP_MPOL_PREFERRED, API_TASK, PICK_LAST, EXPECT_MASK},
	{"interleave first+last (mbind)", MP_MPOL_INTERLEAVE, API_MBIND, PICK_FIRST_LAST, EXPECT_CYCLE, {1, 1}},
	{"interleave first+last", MP_MPOL_INTERLEAVE, API_TASK, PICK_FIRST_LAST, EXPECT_RATIO, {1, 1}},
	{"preferred-many last two (mbind)", MP_MPOL_PREFERRED_MANY, API_MBIND, PICK_LAST_TWO, EXPECT_MASK},
	{"preferred-many last two", MP_MPOL_PREFERRED_MANY, API_TASK, PICK_LAST_TWO, EXPECT_MASK},
	{"weighted-interleave 3:1 (mbind)",
	 MP_MPOL_WEIGHTED_INTERLEAVE,
	 API_MBIND,
	 PICK_FIRST_LAST,
	 EXPECT_CYCLE,
	 {3, 1}},
	{"weighted-interleave 3:1", MP_MPOL_WEIGHTED_INTERLEAVE, API_TASK, PICK_FIRST_LAST, EXPECT_RATIO, {3, 1}},
};

static const char *const mode_names[] = {
	"default", "preferred", "bind", "interleave", "local", "preferred-many", "weighted-interleave",
};

static struct mp_nodemask mem_nodes, cpu_nodes;
static bool breaking;
static unsigned n_pass, n_fail, n_skip;

static int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

static int write_text(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		r = -errno;
	close(fd);
	return r;
}

static int read_mask(const char *path, struct mp_nodemask *ret)
{
	char buf[4096];
	int n = read_text(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	return mp_mask_parse(buf, (size_t)n, ret, NULL);
}

/* First CPU of node, or -1. */
static int first_cpu(int node)
{
	char path[128], buf[4096];
	int n;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
	n = read_text(path, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	return (int)strtol(buf, NULL, 10);
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu < 0) {
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	} else {
		CPU_SET(cpu, &set);
	}
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static void result(const char *name, int local_node, int r, const char *skip_reason)
{
	char label[128];

	if (local_node >= 0)
		snprintf(label, sizeof(label), "%s on node %d", name, local_node);
	else
		snprintf(label, sizeof(label), "%s", name);
	if (skip_reason) {
		printf("SKIP %s: %s\n", label, skip_reason);
		n_skip++;
	} else if (r == 0) {
		printf("ok   %s\n", label);
		n_pass++;
	} else {
		printf("FAIL %s%s\n", label, r < 0 ? " (could not check)" : "");
		n_fail++;
	}
	fflush(stdout);
}

/* The kernel accepts mode (set on the thread, then reset)?  0, or the
 * errno that says why not. */
static int probe_mode(int mode)
{
	struct mp_nodemask m;
	int r;

	mp_mask_zero(&m);
	if (mode != MP_MPOL_DEFAULT && mode != MP_MPOL_LOCAL)
		mp_mask_set(&m, (unsigned)mp_mask_next(&mem_nodes, 0));
	r = mp_sys_set_policy(mode, mode == MP_MPOL_DEFAULT || mode == MP_MPOL_LOCAL ? NULL : &m);
	mp_sys_set_policy(MP_MPOL_DEFAULT, NULL);
	return r < 0 ? -r : 0;
}

static void pick_nodes(enum pick pick, struct mp_nodemask *m, int *ordered, unsigned *n)
{
	int first = mp_mask_next(&mem_nodes, 0), last = mp_mask_last(&mem_nodes), prev = -1;

	mp_mask_zero(m);
	*n = 0;
	switch (pick) {
	case PICK_NONE:
		return;
	case PICK_LAST:
		mp_mask_set(m, (unsigned)last);
		break;
	case PICK_FIRST_LAST:
		mp_mask_set(m, (unsigned)first);
		mp_mask_set(m, (unsigned)last);
		break;
	case PICK_LAST_TWO:
		mp_mask_foreach(i, &mem_nodes)
			if (i != last)
				prev = i;
		mp_mask_set(m, (unsigned)last);
		if (prev >= 0)
			mp_mask_set(m, (unsigned)prev);
		break;
	}
	mp_mask_foreach(i, m)
		ordered[(*n)++] = i;
}

/* Set weighted-interleave weights for the two nodes, remembering the old
 * ones in saved (as text).  Returns 0 or -errno. */
static int set_weights(const int *nodes, const unsigned *w, char saved[2][16])
{
	char path[128], val[16];
	int r;

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), WI_DIR "/node%d", nodes[i]);
		r = read_text(path, saved[i], 16);
		if (r < 0)
			return r;
		snprintf(val, sizeof(val), "%u", w[i]);
		r = write_text(path, val);
		if (r < 0)
			return r;
	}
	return 0;
}

static void restore_weights(const int *nodes, char saved[2][16])
{
	char path[128];

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), WI_DIR "/node%d", nodes[i]);
		if (saved[i][0])
			write_text(path, saved[i]);
	}
}

/* Map, apply the policy, touch every page, check, unmap.  Returns 0 pass,
 * 1 fail, -errno could not run. */
static int run_case(const struct mode_case *c, const struct mp_nodemask *mask, const int *ordered, unsigned n,
		    int local)
{
	size_t psz = c->huge ? HUGE : PAGE, len = c->huge ? 2 * HUGE : NPAGES * PAGE;
	struct mp_nodemask want;
	const struct mp_nodemask *arg = c->pick == PICK_NONE ? NULL : mask;
	char *p;
	int r;

	if (c->api == API_TASK) {
		r = mp_sys_set_policy(c->mode, arg);
		if (r < 0) {
			fprintf(stderr, "%s: set_mempolicy: %s\n", c->name, strerror(-r));
			return r;
		}
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (c->huge ? MAP_HUGETLB : 0), -1, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		fprintf(stderr, "%s: mmap: %s\n", c->name, strerror(-r));
		goto out;
	}
	/* 4 KiB cases must get 4 KiB pages: with THP the kernel would place
	 * (and interleave) whole 2 MiB pages, and 512 pages could be one. */
	if (!c->huge && madvise(p, len, MADV_NOHUGEPAGE)) {
		r = -errno;
		fprintf(stderr, "%s: madvise(MADV_NOHUGEPAGE): %s\n", c->name, strerror(-r));
		goto out_unmap;
	}
	if (c->api == API_MBIND) {
		r = mp_sys_mbind_mask(p, len, c->mode, arg, 0);
		if (r < 0) {
			fprintf(stderr, "%s: mbind: %s\n", c->name, strerror(-r));
			goto out_unmap;
		}
	}
	for (size_t off = 0; off < len; off += psz)
		p[off] = 1;
	/* Back to the default before checking, so the checker's own
	 * allocations do not count against anything. */
	if (c->api == API_TASK)
		mp_sys_set_policy(MP_MPOL_DEFAULT, NULL);

	mp_mask_zero(&want);
	switch (c->expect) {
	case EXPECT_LOCAL:
		mp_mask_set(&want, (unsigned)local);
		r = vm_expect_on(c->name, p, len, psz, &want);
		break;
	case EXPECT_MASK:
		want = *mask;
		if (breaking && c->breakable) {
			/* Deliberately wrong: another node than the one bound. */
			int last = mp_mask_last(mask);

			mp_mask_zero(&want);
			mp_mask_set(&want, (unsigned)(last > 0 ? last - 1 : last + 1));
		}
		r = vm_expect_on(c->name, p, len, psz, &want);
		break;
	case EXPECT_FIRST:
		mp_mask_set(&want, (unsigned)ordered[0]);
		r = vm_expect_on(c->name, p, len, psz, &want);
		break;
	case EXPECT_CYCLE:
		r = vm_expect_cycle(c->name, p, len, psz, ordered, c->w, n);
		break;
	case EXPECT_RATIO:
		r = vm_expect_ratio(c->name, p, len, psz, ordered, c->w, n, 0.05);
		break;
	default:
		r = -EINVAL;
	}
out_unmap:
	munmap(p, len);
out:
	if (c->api == API_TASK)
		mp_sys_set_policy(MP_MPOL_DEFAULT, NULL);
	return r;
}

static void one_case(const struct mode_case *c)
{
	struct mp_nodemask mask;
	int ordered[2] = {-1, -1}, err;
	unsigned n;
	char reason[256], saved[2][16] = {"", ""};
	bool weighted = c->mode == MP_MPOL_WEIGHTED_INTERLEAVE;

	err = probe_mode(c->mode);
	if (err) {
		snprintf(reason, sizeof(reason), "the kernel rejects mode %s: %s", mode_names[c->mode], strerror(err));
		result(c->name, -1, 0, reason);
		return;
	}
	pick_nodes(c->pick, &mask, ordered, &n);
	if ((c->pick == PICK_FIRST_LAST || c->pick == PICK_LAST_TWO) && n < 2) {
		result(c->name, -1, 0, "needs two memory nodes");
		return;
	}
	if (weighted) {
		if (access(WI_DIR, F_OK)) {
			result(c->name, -1, 0, "no " WI_DIR " to set weights");
			return;
		}
		err = set_weights(ordered, c->w, saved);
		if (err < 0) {
			restore_weights(ordered, saved);
			snprintf(reason, sizeof(reason), "cannot set weights: %s", strerror(-err));
			result(c->name, -1, 1, NULL);
			fprintf(stderr, "%s: %s\n", c->name, reason);
			return;
		}
	}
	if (c->expect == EXPECT_LOCAL) {
		/* Local allocation is checked from a CPU of every CPU node. */
		mp_mask_foreach(node, &cpu_nodes) {
			int cpu = first_cpu(node);

			if (!mp_mask_test(&mem_nodes, (unsigned)node))
				continue;
			if (cpu < 0 || pin(cpu) < 0) {
				result(c->name, node, -EINVAL, NULL);
				continue;
			}
			result(c->name, node, run_case(c, &mask, ordered, n, node), NULL);
		}
		pin(-1);
	} else {
		pin(first_cpu(mp_mask_next(&cpu_nodes, 0)));
		result(c->name, -1, run_case(c, &mask, ordered, n, -1), NULL);
		pin(-1);
	}
	if (weighted)
		restore_weights(ordered, saved);
}

int main(int argc, char **argv)
{
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--break")) {
			breaking = true;
		} else {
			fprintf(stderr, "usage: %s [--break]\n", argv[0]);
			return 2;
		}
	}
	if (getenv("MPLACE_VM_BREAK"))
		breaking = true;
	r = read_mask("/sys/devices/system/node/has_memory", &mem_nodes);
	if (r < 0) {
		printf("SKIP: no NUMA information in sysfs: %s\n", strerror(-r));
		return 77;
	}
	if (read_mask("/sys/devices/system/node/has_cpu", &cpu_nodes) < 0 || mp_mask_empty(&cpu_nodes)) {
		printf("SKIP: no node with CPUs in sysfs\n");
		return 77;
	}
	if (geteuid() != 0)
		fprintf(stderr, "warning: not root: weighted-interleave weights cannot be set\n");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one_case(&cases[i]);

	printf("%u passed, %u failed, %u skipped\n", n_pass, n_fail, n_skip);
	if (n_fail)
		return 1;
	return n_pass ? 0 : 77;
}

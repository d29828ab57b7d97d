/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/machine/procmem.c: the maps/numa_maps/smaps parser on recorded and synthetic
 * files (tests/data/proc/), the kernel policy spellings, errors leaving the
 * output untouched, and, on this machine, page counts of a mapping of our
 * own checked against mp_place_where.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kernel/place.h"
#include "machine/procmem.h"
#include "kernel/sys.h"

static char *slurp(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/proc/%s/%s", MPLACE_SOURCE_DIR, dir, name);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int load_fixture(const char *dir, struct mp_procmem *ret)
{
	char *maps = slurp(dir, "maps"), *nm = slurp(dir, "numa_maps"), *smaps = slurp(dir, "smaps");
	char *exe = slurp(dir, "exe"), *sps = slurp(dir, "sp");
	uint64_t sp[16];
	unsigned n_sp = 0;
	int r;

	if (exe)
		exe[strcspn(exe, "\n")] = '\0';
	for (char *p = sps; p && *p && n_sp < 16;) {
		char *end;

		sp[n_sp] = strtoull(p, &end, 16);
		if (end == p)
			break;
		n_sp++;
		p = end + strspn(end, "\n");
	}
	r = maps ? mp_procmem_parse(maps, nm, smaps, exe, sp, n_sp, ret) : -ENOENT;
	free(maps);
	free(nm);
	free(smaps);
	free(exe);
	free(sps);
	return r;
}

static const struct mp_pm_range *at(const struct mp_procmem *pm, uint64_t start)
{
	for (unsigned i = 0; i < pm->n; i++)
		if (pm->r[i].start == start)
			return &pm->r[i];
	return NULL;
}

/* ---- kernel policy spellings ------------------------------------------------- */

static void test_kpolicy(void)
{
	static const struct {
		const char *text;
		int mode; /* -1: rejected */
		const char *nodes;
	} cases[] = {
		{"default", MP_MPOL_DEFAULT, ""},
		{"local", MP_MPOL_LOCAL, ""},
		{"bind:0-1", MP_MPOL_BIND, "0-1"},
		{"bind=static:0,3", MP_MPOL_BIND, "0,3"},
		{"bind=relative|balancing:0", MP_MPOL_BIND, "0"},
		{"interleave:0-3", MP_MPOL_INTERLEAVE, "0-3"},
		{"prefer:1", MP_MPOL_PREFERRED, "1"},
		{"prefer (many):2-3", MP_MPOL_PREFERRED_MANY, "2-3"},
		{"weighted interleave:0,2", MP_MPOL_WEIGHTED_INTERLEAVE, "0,2"},
		{"prefer=static:1", MP_MPOL_PREFERRED, "1"},
		{"bind:", MP_MPOL_BIND, ""},
		{"binder:0", -1, NULL},
		{"bind:x", -1, NULL},
		{"", -1, NULL},
		{"interleave 0-1", -1, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mp_nodemask m, want;
		int mode = 12345, r;

		mp_mask_zero(&m);
		mp_mask_set(&m, 999); /* a sentinel: must stay on failure */
		r = mp_pm_parse_kpolicy(cases[i].text, &mode, &m);
		if (cases[i].mode < 0) {
			CHECK_MSG(r == -EINVAL, "'%s' rejected", cases[i].text);
			CHECK_MSG(mode == 12345 && mp_mask_test(&m, 999), "'%s': outputs untouched", cases[i].text);
			continue;
		}
		CHECK_MSG(r == 0 && mode == cases[i].mode, "'%s' -> mode %d (got %d, r %d)", cases[i].text,
			  cases[i].mode, mode, r);
		mp_mask_parse(cases[i].nodes, strlen(cases[i].nodes), &want, NULL);
		CHECK_MSG(mp_mask_equal(&m, &want), "'%s' nodes %s", cases[i].text, cases[i].nodes);
	}
}

/* ---- the synthetic four-node process -------------------------------------------- */

static void test_synthetic(void)
{
	static const struct {
		uint64_t start;
		int kind;
		int kmode;
		const char *knodes;
		uint64_t present;
		uint64_t n0, n1, n2, n3;
		uint64_t page_size;
	} want[] = {
		{0x400000, MP_KIND_FILE, MP_MPOL_DEFAULT, "", 1, 1, 0, 0, 0, 4096},
		{0x401000, MP_KIND_TEXT, MP_MPOL_DEFAULT, "", 4, 2, 2, 0, 0, 4096},
		{0x405000, MP_KIND_FILE, MP_MPOL_DEFAULT, "", 1, 1, 0, 0, 0, 4096},
		{0x406000, MP_KIND_DATA, MP_MPOL_DEFAULT, "", 1, 0, 1, 0, 0, 4096},
		{0x407000, MP_KIND_DATA, MP_MPOL_DEFAULT, "", 2, 0, 2, 0, 0, 4096}, /* .bss */
		{0x1000000, MP_KIND_HEAP, MP_MPOL_BIND, "0-1", 256, 200, 56, 0, 0, 4096},
		{0x7f0000000000, MP_KIND_ANON, MP_MPOL_INTERLEAVE, "0-3", 1024, 256, 256, 256, 256, 4096},
		{0x7f0000400000, MP_KIND_SHM, MP_MPOL_PREFERRED_MANY, "2-3", 512, 0, 0, 400, 112, 4096},
		{0x7f0000600000, MP_KIND_SHM, MP_MPOL_WEIGHTED_INTERLEAVE, "0,2", 512, 341, 0, 171, 0, 4096},
		{0x7f0000800000, MP_KIND_SHM, MP_MPOL_PREFERRED, "1", 3, 0, 3, 0, 0, 4096},
		{0x7f0000a00000, MP_KIND_HUGETLB, MP_MPOL_BIND, "3", 2, 0, 0, 0, 2, 2 << 20},
		{0x7f0001000000, MP_KIND_ANON, MP_MPOL_DEFAULT, "", 0, 0, 0, 0, 0, 4096},
		{0x7f0001001000, MP_KIND_STACK, MP_MPOL_DEFAULT, "", 5, 0, 0, 5, 0, 4096}, /* thread */
		{0x7f0002000000, MP_KIND_FILE, MP_MPOL_LOCAL, "", 16, 16, 0, 0, 0, 4096},
		{0x7f0003000000, MP_KIND_ANON, MP_MPOL_BIND, "0", 16, 10, 0, 0, 6, 4096},
		{0x7f0004000000, MP_KIND_TEXT, MP_MPOL_DEFAULT, "", 42, 42, 0, 0, 0, 4096},
		{0x7f000402a000, MP_KIND_FILE, MP_MPOL_DEFAULT, "", 4, 4, 0, 0, 0, 4096}, /* a library's data */
		{0x7f0005000000, MP_KIND_MLOCKED, MP_MPOL_BIND, "1", 4, 0, 4, 0, 0, 4096},
		{0x7ffc00000000, MP_KIND_STACK, MP_MPOL_DEFAULT, "", 9, 9, 0, 0, 0, 4096},
		{0x7ffc00100000, MP_PM_KIND_SPECIAL, -1, "", 0, 0, 0, 0, 0, 4096},
		{0x7ffc00104000, MP_PM_KIND_SPECIAL, -1, "", 0, 0, 0, 0, 0, 4096},
		{0xffffffffff600000, MP_PM_KIND_SPECIAL, -1, "", 0, 0, 0, 0, 0, 4096},
	};
	struct mp_procmem pm;
	const struct mp_pm_range *r;

	CHECK(load_fixture("synthetic-4n", &pm) == 0);
	CHECK_MSG(pm.n == sizeof(want) / sizeof(want[0]), "%u ranges", pm.n);
	mp_procmem_use_numa_maps(&pm, -EPERM);
	CHECK(pm.method == MP_PM_NUMA_MAPS && pm.refused == -EPERM);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct mp_nodemask m;

		r = at(&pm, want[i].start);
		CHECK_MSG(r, "range %#" PRIx64 " found", want[i].start);
		if (!r)
			continue;
		CHECK_MSG(r->kind == want[i].kind, "%#" PRIx64 ": kind %s, want %s", want[i].start,
			  mp_pm_kind_name(r->kind), mp_pm_kind_name(want[i].kind));
		CHECK_MSG(r->kmode == want[i].kmode, "%#" PRIx64 ": kernel mode %d, want %d ('%s')", want[i].start,
			  r->kmode, want[i].kmode, r->kpolicy);
		mp_mask_parse(want[i].knodes, strlen(want[i].knodes), &m, NULL);
		CHECK_MSG(want[i].kmode < 0 || mp_mask_equal(&r->knodes, &m), "%#" PRIx64 ": nodes %s", want[i].start,
			  want[i].knodes);
		CHECK_MSG(r->present == want[i].present && r->per_node[0] == want[i].n0 &&
				  r->per_node[1] == want[i].n1 && r->per_node[2] == want[i].n2 &&
				  r->per_node[3] == want[i].n3,
			  "%#" PRIx64 ": pages %" PRIu64 " (%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 ")",
			  want[i].start, r->present, r->per_node[0], r->per_node[1], r->per_node[2], r->per_node[3]);
		CHECK_MSG(r->page_size == want[i].page_size, "%#" PRIx64 ": page size %" PRIu64, want[i].start,
			  r->page_size);
	}
	r = at(&pm, 0x7f0000400000);
	CHECK(r && !strcmp(r->kpolicy, "prefer (many):2-3"));
	r = at(&pm, 0x7f0002000000);
	CHECK(r && r->path && !strcmp(r->path, "/var/lib/db/data file with spaces.db"));
	r = at(&pm, 0x7f0005000000);
	CHECK(r && r->locked);
	r = at(&pm, 0x7f0000a00000);
	CHECK(r && r->huge);
	mp_procmem_free(&pm);
}

/* ---- a process recorded on this kind of machine ---------------------------------- */

static void test_recorded(void)
{
	struct mp_procmem pm;
	unsigned heap = 0, stack = 0, thread = 0, text = 0, data = 0;

	CHECK(load_fixture("host-python3", &pm) == 0);
	CHECK(pm.n > 20);
	for (unsigned i = 0; i < pm.n; i++) {
		const struct mp_pm_range *r = &pm.r[i];

		heap += r->kind == MP_KIND_HEAP;
		stack += r->kind == MP_KIND_STACK;
		thread += r->kind == MP_KIND_STACK && r->thread_stack && !r->path;
		text += r->kind == MP_KIND_TEXT && r->path && !strcmp(r->path, "/usr/bin/python3.11");
		data += r->kind == MP_KIND_DATA;
		CHECK_MSG(r->in_numa_maps || (r->path && r->path[0] == '['), "%#" PRIx64 " has a numa_maps line",
			  r->start);
		CHECK_MSG(r->kmode == MP_MPOL_DEFAULT || !r->in_numa_maps, "%#" PRIx64 ": '%s'", r->start, r->kpolicy);
	}
	CHECK_MSG(heap == 1, "one heap (%u)", heap);
	CHECK_MSG(stack == 2 && thread == 1, "main and one thread stack (%u, %u)", stack, thread);
	CHECK_MSG(text == 1, "the executable's text (%u)", text);
	CHECK_MSG(data >= 1, "the executable's data (%u)", data);
	mp_procmem_free(&pm);
}

/* ---- errors leave the output untouched -------------------------------------------- */

static void test_errors(void)
{
	static const char *const bad[] = {
		"00400000 r--p 00000000 fd:01 1 /x\n",		/* no end */
		"00400000-00300000 r--p 00000000 fd:01 1 /x\n", /* end < start */
		"00400000-00401000 r--p zz fd:01 1 /x\n",
		"00400000-00401000 r--p 00000000 fd01 1 /x\n",
		"00400000-00401000 r--p 00000000 fd:01 x /x\n",
		"00400000-00402000 r--p 00000000 fd:01 1 /x\n00401000-00403000 r--p 00000000 fd:01 1 /x\n",
		"00400000-00401000 r",
	};
	struct mp_procmem pm;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&pm, 0x5a, sizeof(pm));
		CHECK_MSG(mp_procmem_parse(bad[i], NULL, NULL, NULL, NULL, 0, &pm) == -EINVAL, "bad maps %zu", i);
		CHECK_MSG(pm.n == 0x5a5a5a5a, "bad maps %zu: output untouched", i);
	}
	memset(&pm, 0x5a, sizeof(pm));
	CHECK(mp_procmem_parse("00400000-00401000 r--p 00000000 fd:01 1 /x\n", "00400000 default N0=x\n", NULL, NULL,
			       NULL, 0, &pm) == -EINVAL);
	CHECK(pm.n == 0x5a5a5a5a);
	/* a numa_maps line for a range maps no longer has: ignored */
	CHECK(mp_procmem_parse("00400000-00401000 r--p 00000000 fd:01 1 /x\n", "00500000 default N0=1\n", NULL, NULL,
			       NULL, 0, &pm) == 0);
	CHECK(pm.n == 1 && !pm.r[0].in_numa_maps);
	mp_procmem_free(&pm);
	CHECK(mp_procmem_load(NULL, 0x7ffffff0, &pm) == -ESRCH);
}

/* ---- live: a mapping of our own, counted per page ---------------------------------- */

static void test_live(void)
{
	const size_t npages = 64, ps = (size_t)getpagesize();
	struct mp_procmem pm;
	uint64_t where[MP_PM_NODES] = {0};
	const struct mp_pm_range *r;
	char *p;
	int w;

	p = mmap(NULL, npages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	/* present: every other page; prot change keeps it one range of its own */
	for (size_t i = 0; i < npages; i += 2)
		p[i * ps] = 1;
	mprotect(p, npages * ps, PROT_READ | PROT_WRITE | PROT_EXEC);
	w = mp_place_where(p, npages * ps, ps, where, MP_PM_NODES, NULL);
	CHECK(mp_procmem_load(NULL, 0, &pm) == 0);
	pm.pid = getpid();
	CHECK(mp_procmem_count(&pm) == 0);
	r = at(&pm, (uint64_t)(uintptr_t)p);
	CHECK_MSG(r && r->end == (uint64_t)(uintptr_t)p + npages * ps, "our mapping is one range");
	if (r && pm.method == MP_PM_MOVE_PAGES) {
		CHECK_MSG(r->present == npages / 2, "%" PRIu64 " present, want %zu", r->present, npages / 2);
		CHECK(w >= 0 && (uint64_t)w == r->present);
		CHECK(!memcmp(where, r->per_node, sizeof(where)));
	} else if (r) {
		printf("# move_pages refused (%s): numa_maps counts used\n", strerror(-pm.refused));
		CHECK(r->present == npages / 2);
	}
	mp_procmem_free(&pm);
	munmap(p, npages * ps);
}

/* mplace top's cheap look at many processes: the list of pids, and the
 * stamp that says whether a process ran or faulted since it was read. */
static void test_stamp(void)
{
	char root[] = "/tmp/test-procmem-XXXXXX", path[PATH_MAX];
	struct mp_pm_stamp st, st2;
	int *pids = NULL;
	unsigned n = 0;
	bool self = false;
	FILE *f;

	CHECK(mp_proc_pids(NULL, &pids, &n) == 0 && n > 1);
	for (unsigned i = 0; i < n; i++) {
		self |= pids[i] == (int)getpid();
		if (i)
			CHECK_MSG(pids[i] > pids[i - 1], "pids ascending at %u", i);
	}
	CHECK_MSG(self, "this process is in the list");
	free(pids);

	/* a command with a space and a ')' in it; fields as proc(5) numbers them */
	CHECK(mkdtemp(root) != NULL);
	snprintf(path, sizeof(path), "%s/proc", root);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/proc/77", root);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/proc/77/stat", root);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("77 (a) b) S 1 77 77 0 -1 4194560 101 0 3 0 40 2 0 0 20 0 1 0 5555 8790016 321 "
		      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		      f);
		fclose(f);
	}
	memset(&st, 0x5a, sizeof(st));
	CHECK(mp_procmem_stamp(root, 77, &st) == 0);
	CHECK_MSG(st.faults == 104 && st.cpu == 42 && st.start == 5555 && st.rss == 321, "stamp %llu %llu %llu %llu",
		  (unsigned long long)st.faults, (unsigned long long)st.cpu, (unsigned long long)st.start,
		  (unsigned long long)st.rss);
	memset(&st2, 0x5a, sizeof(st2));
	CHECK(mp_procmem_stamp(root, 78, &st2) == -ESRCH);
	CHECK(st2.rss == 0x5a5a5a5a5a5a5a5aULL);
	CHECK(mp_procmem_stamp(NULL, 0, &st2) == 0 && st2.start > 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc/77", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/proc", root);
	rmdir(path);
	rmdir(root);
}

int main(void)
{
	test_kpolicy();
	test_synthetic();
	test_recorded();
	test_errors();
	test_live();
	test_stamp();
	return check_status();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run under `mplace run` in a guest with several nodes (test-agent-kinds.sh):
 * checks from inside, page by page with move_pages(2), what the agent did to
 * the kinds text (replicate), mlocked (mlockall) and hugetlb (SHM_HUGETLB).
 *
 *   test-agent-kinds text NODE [huge]   the program's text is a private copy
 *       (every page anonymous in smaps; the file's name kept in maps on base
 *       pages, anonymous memory on huge pages), byte for byte the file's,
 *       every page on NODE, whole aligned 2 MiB on huge pages with 'huge';
 *       backtrace() and dladdr() still work
 *   test-agent-kinds mlockall NODE      private memory made before
 *       mlockall(MCL_CURRENT | MCL_FUTURE) (.bss, stack, anonymous, glibc's
 *       malloc), a reservation made accessible after it, and mappings made
 *       after it (filled by mmap, and with MCL_ONFAULT by faults) on NODE
 *   test-agent-kinds shm SHM HUGE [ANON]  a System V segment on SHM;
 *       SHM_HUGETLB segments made here and by "another process" (a raw
 *       shmget the agent does not see), and MAP_HUGETLB mappings (one with
 *       MAP_POPULATE), on HUGE; a MAP_POPULATE anonymous mapping on ANON
 *
 * Prints a line per check; exits 1 when one fails.  The 4 MiB of filler
 * below makes the text segment hold at least one whole aligned 2 MiB.
 */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "placement.h"

__asm__(".text\n"
	".globl kinds_filler\n"
	"kinds_filler:\n"
	".fill 4194304, 1, 0xc3\n");

static int fails;
static const size_t PS = 4096;
#define HUGE ((size_t)2 << 20)

static void result(bool ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		fails++;
}

static int on_node(const char *what, void *addr, size_t len, size_t ps, int node)
{
	struct mp_nodemask m;
	int r;

	mp_mask_zero(&m);
	mp_mask_set(&m, (unsigned)node);
	r = vm_expect_on(what, addr, len, ps, &m);
	result(r == 0, what);
	return r;
}

/* ---- text ----------------------------------------------------------------- */

struct seg {
	uintptr_t lo, hi, vaddr;
	size_t off, filesz;
};

static int seg_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct seg *s = data;

	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && !s->hi) {
			s->vaddr = info->dlpi_addr + ph->p_vaddr;
			s->lo = s->vaddr & ~(PS - 1);
			s->hi = (s->vaddr + ph->p_memsz + PS - 1) & ~(PS - 1);
			s->off = ph->p_offset;
			s->filesz = ph->p_filesz;
		}
	}
	return 1;
}

/* The names /proc/self/maps gives the mappings of [lo, hi); false if one
 * of them is the executable's file. */
static bool text_anonymous(uintptr_t lo, uintptr_t hi, char *exe)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	bool anon = true;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		int off = 0;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &a, &b, &off) < 2 || b <= lo || a >= hi)
			continue;
		line[strcspn(line, "\n")] = '\0';
		printf("  maps: %s\n", line);
		if (off && strstr(line + off, exe))
			anon = false;
	}
	fclose(f);
	return anon;
}

static unsigned long smaps_kb(uintptr_t lo, uintptr_t hi, const char *key)
{
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	bool in = false;
	unsigned long sum = 0, v;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2)
			in = a < hi && b > lo;
		else if (in && !strncmp(line, key, strlen(key)) && sscanf(line + strlen(key), "%lu", &v) == 1)
			sum += v;
	}
	fclose(f);
	return sum;
}

static __attribute__((noinline)) int deep(int n, void **frames)
{
	if (n)
		return deep(n - 1, frames) + 0 * n;
	return backtrace(frames, 16);
}

static int test_text(int node, bool huge)
{
	struct seg s = {0};
	char exe[4096], *buf;
	ssize_t n;
	int fd;
	void *frames[16];
	Dl_info di;
	unsigned long anon_kb;
	int nf;

	dl_iterate_phdr(seg_cb, &s);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (!s.hi || n <= 0) {
		result(false, "text: the program's executable segment and path");
		return 1;
	}
	exe[n] = '\0';
	printf("  text %#lx-%#lx (%lu KiB) of %s\n", (unsigned long)s.lo, (unsigned long)s.hi,
	       (unsigned long)((s.hi - s.lo) >> 10), exe);
	/* every page is the process's own: anonymous, not the page cache's */
	anon_kb = smaps_kb(s.lo, s.hi, "Anonymous:");
	printf("  Anonymous %lu kB of %lu kB\n", anon_kb, (unsigned long)((s.hi - s.lo) >> 10));
	result(anon_kb == (s.hi - s.lo) >> 10, "text: replaced by a private copy (every page anonymous)");
	/* on base pages the copy keeps the file's name (perf, gdb); on huge
	 * pages it is anonymous memory */
	if (huge)
		result(text_anonymous(s.lo, s.hi, exe), "text: the huge-page copy is anonymous memory");
	else
		result(!text_anonymous(s.lo, s.hi, exe), "text: the copy keeps the file's name in maps");

	/* the copy holds the file's bytes */
	buf = malloc(s.filesz);
	fd = open(exe, O_RDONLY);
	result(buf && fd >= 0 && pread(fd, buf, s.filesz, (off_t)s.off) == (ssize_t)s.filesz &&
		       !memcmp(buf, (void *)s.vaddr, s.filesz),
	       "text: the copy is byte for byte the file's segment");
	if (fd >= 0)
		close(fd);
	free(buf);

	on_node("text: every page of the copy on the policy's node", (void *)s.lo, s.hi - s.lo, PS, node);

	if (huge) {
		uintptr_t hlo = (s.lo + HUGE - 1) & ~(HUGE - 1), hhi = s.hi & ~(HUGE - 1);
		unsigned long want = hhi > hlo ? (hhi - hlo) >> 10 : 0, got = smaps_kb(s.lo, s.hi, "AnonHugePages:");

		printf("  AnonHugePages %lu kB, whole aligned 2 MiB %lu kB\n", got, want);
		result(want && got >= want, "text: every whole aligned 2 MiB of the copy is a huge page");
	}

	/* unwinding (the eh_frame is found through the program headers, which
	 * did not move) and dladdr (the link map) still work */
	nf = deep(3, frames);
	printf("  backtrace: %d frames\n", nf);
	backtrace_symbols_fd(frames, nf < 6 ? nf : 6, 1);
	result(nf >= 3 && (uintptr_t)frames[0] >= s.lo && (uintptr_t)frames[0] < s.hi,
	       "text: backtrace() unwinds through the copy");
	result(dladdr((void *)test_text, &di) && di.dli_fname && di.dli_fbase && (uintptr_t)di.dli_fbase <= s.lo,
	       "text: dladdr() finds the program for an address in the copy");
	return 0;
}

/* ---- mlockall --------------------------------------------------------------- */

static char bss[1 << 20] __attribute__((aligned(4096)));

static void touch(void *p, size_t len)
{
	for (size_t o = 0; o < len; o += PS)
		((volatile char *)p)[o] = 1;
}

static int test_mlockall(int node)
{
	char stack[256 << 10] __attribute__((aligned(4096)));
	size_t anon_len = 4 << 20, big_len = 8 << 20;
	char *anon = mmap(NULL, anon_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *big = malloc(big_len);
	uintptr_t big_lo, big_hi;
	char *resv = mmap(NULL, anon_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *after, *onfault;
	int first = -1;

	if (anon == MAP_FAILED || !big || resv == MAP_FAILED) {
		result(false, "mlockall: setting up");
		return 1;
	}
	touch(bss, sizeof(bss));
	touch(stack, sizeof(stack));
	touch(anon, anon_len);
	touch(big, big_len);
	big_lo = ((uintptr_t)big + PS - 1) & ~(PS - 1);
	big_hi = ((uintptr_t)big + big_len) & ~(PS - 1);

	/* before: the task policy's node, so a pass below means pages moved */
	vm_page_nodes(anon, PS, PS, &first);
	printf("  before mlockall: the first anonymous page on node %d\n", first);
	result(first >= 0 && first != node, "mlockall: before, the pages are elsewhere than the mlocked policy");

	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		printf("  mlockall: %s\n", strerror(errno));
		result(false, "mlockall(MCL_CURRENT | MCL_FUTURE)");
		return 1;
	}
	on_node("mlockall: .bss on the mlocked node", bss, sizeof(bss), PS, node);
	on_node("mlockall: the main stack on the mlocked node", stack, sizeof(stack), PS, node);
	on_node("mlockall: an anonymous mapping on the mlocked node", anon, anon_len, PS, node);
	on_node("mlockall: glibc malloc's memory on the mlocked node", (void *)big_lo, big_hi - big_lo, PS, node);

	/* a reservation made accessible, as glibc's arenas grow: filled by
	 * mprotect (the range is locked), under the binding mlockall gave it */
	result(mprotect(resv, anon_len, PROT_READ | PROT_WRITE) == 0, "mlockall: mprotect of a reservation");
	on_node("mlockall: a reservation made accessible after mlockall, on the mlocked node", resv, anon_len, PS,
		node);

	/* MCL_FUTURE: filled inside mmap, never touched here */
	after = mmap(NULL, anon_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	result(after != MAP_FAILED, "mlockall: mmap after MCL_FUTURE");
	if (after != MAP_FAILED)
		on_node("mlockall: a mapping made after MCL_FUTURE, filled by mmap, on the mlocked node", after,
			anon_len, PS, node);

	/* MCL_ONFAULT: pinned as faulted, placed by the range policy */
	munlockall();
	if (mlockall(MCL_FUTURE | MCL_ONFAULT) < 0) {
		printf("  mlockall(MCL_FUTURE | MCL_ONFAULT): %s\n", strerror(errno));
		result(false, "mlockall(MCL_FUTURE | MCL_ONFAULT)");
		return 1;
	}
	onfault = mmap(NULL, anon_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (onfault != MAP_FAILED) {
		int n0 = 0;

		/* not present: -ENOENT (6.12), -EFAULT (6.1) */
		vm_page_nodes(onfault, PS, PS, &n0);
		printf("  MCL_ONFAULT: the first page of a new mapping: %d\n", n0);
		result(n0 == -ENOENT || n0 == -EFAULT,
		       "mlockall: MCL_ONFAULT leaves a new mapping empty until touched");
		touch(onfault, anon_len);
		on_node("mlockall: a mapping made after MCL_FUTURE | MCL_ONFAULT, touched, on the mlocked node",
			onfault, anon_len, PS, node);
	}
	munlockall();
	free(big);
	return 0;
}

/* The heap after mlockall(MCL_FUTURE): jemalloc's new extents are filled by
 * the kernel the moment lib/alloc/alloc.c makes them accessible, so they must be
 * bound before that.  A big object needs a new extent; never touched here,
 * so where its pages are is where that fill put them. */
static int test_mlockall_heap(int node)
{
	size_t len = 8u << 20;
	uintptr_t lo, hi;
	void *p;

	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		printf("  mlockall: %s\n", strerror(errno));
		result(false, "mlockall-heap: mlockall(MCL_CURRENT | MCL_FUTURE)");
		return 1;
	}
	p = malloc(len);
	result(p != NULL, "mlockall-heap: an 8 MiB malloc after MCL_FUTURE");
	if (p) {
		lo = ((uintptr_t)p + PS - 1) & ~(PS - 1);
		hi = ((uintptr_t)p + len) & ~(PS - 1);
		on_node("mlockall-heap: a new heap extent, filled by the kernel when made, on the heap's node",
			(void *)lo, hi - lo, PS, node);
	}
	munlockall();
	free(p);
	return 0;
}

/* ---- System V shared memory ------------------------------------------------ */

static void *attach(int id, size_t len)
{
	void *p = id >= 0 ? shmat(id, NULL, 0) : (void *)-1;

	if (p == (void *)-1) {
		printf("  shmget/shmat: %s\n", strerror(errno));
		return NULL;
	}
	shmctl(id, IPC_RMID, NULL); /* gone at the last detach or exit */
	touch(p, len);
	return p;
}

static int test_shm(int shm_node, int huge_node, int anon_node)
{
	size_t len = 4 << 20;
	void *p, *m;

	p = attach(shmget(IPC_PRIVATE, len, IPC_CREAT | 0600), len);
	result(p != NULL, "shm: a System V segment");
	if (p)
		on_node("shm: a segment on the shm policy's node", p, len, PS, shm_node);

	p = attach(shmget(IPC_PRIVATE, len, IPC_CREAT | SHM_HUGETLB | 0600), len);
	result(p != NULL, "hugetlb: a SHM_HUGETLB segment made here");
	if (p)
		on_node("hugetlb: a SHM_HUGETLB segment made here on the hugetlb policy's node", p, len, HUGE,
			huge_node);

	/* made the way another process would: the agent's shmget does not see it */
	p = attach((int)syscall(SYS_shmget, IPC_PRIVATE, len, IPC_CREAT | SHM_HUGETLB | 0600), len);
	result(p != NULL, "hugetlb: a SHM_HUGETLB segment the agent did not see made");
	if (p)
		on_node("hugetlb: a SHM_HUGETLB segment made elsewhere on the hugetlb policy's node", p, len, HUGE,
			huge_node);

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	result(m != MAP_FAILED, "hugetlb: a MAP_HUGETLB mapping");
	if (m != MAP_FAILED) {
		touch(m, len);
		on_node("hugetlb: a MAP_HUGETLB mapping on the hugetlb policy's node", m, len, HUGE, huge_node);
	}

	/* filled inside mmap: placed before, never touched here */
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	result(m != MAP_FAILED, "hugetlb: a MAP_HUGETLB | MAP_POPULATE mapping");
	if (m != MAP_FAILED)
		on_node("hugetlb: a MAP_POPULATE mapping on the hugetlb policy's node", m, len, HUGE, huge_node);
	if (anon_node >= 0) {
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		result(m != MAP_FAILED, "anon: a MAP_POPULATE mapping");
		if (m != MAP_FAILED)
			on_node("anon: a MAP_POPULATE mapping on the anon policy's node", m, len, PS, anon_node);
	}
	return 0;
}

static int node_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 0 || v > 1023) {
		fprintf(stderr, "test-agent-kinds: bad node '%s'\n", s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "text"))
		test_text(node_arg(argv[2]), argc > 3 && !strcmp(argv[3], "huge"));
	else if (argc == 3 && !strcmp(argv[1], "mlockall"))
		test_mlockall(node_arg(argv[2]));
	else if (argc == 3 && !strcmp(argv[1], "mlockall-heap"))
		test_mlockall_heap(node_arg(argv[2]));
	else if ((argc == 4 || argc == 5) && !strcmp(argv[1], "shm"))
		test_shm(node_arg(argv[2]), node_arg(argv[3]), argc == 5 ? node_arg(argv[4]) : -1);
	else {
		fprintf(stderr,
			"usage: test-agent-kinds text NODE [huge] | mlockall NODE | mlockall-heap NODE | shm SHM HUGE [ANON]\n");
		return 2;
	}
	fflush(stdout);
	return fails ? 1 : 0;
}

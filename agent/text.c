/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * text `replicate`: at start, the main program's executable PT_LOAD
 * segments are swapped for a private copy placed by the text policy
 * (doc/agent.md, "text replicate").  One copy per process: all its threads
 * share one address space, so per-node copies for one process are not
 * possible; the copy sits on the policy's nodes.
 *
 * How, per segment [lo, hi) (page rounded):
 *   1. on base pages, a private writable mapping of the program's file at
 *      the segment's offset (every page becomes the process's own when
 *      populated for writing, and the mapping keeps the file's name for
 *      perf and debuggers); for huge pages, anonymous memory at an address
 *      congruent to lo modulo 2 MiB, so a huge page of the copy stays one
 *      huge page when it is moved to lo;
 *   2. placed by the policy with mp_place_range (populate and verify;
 *      MADV_HUGEPAGE when the policy's order asks for huge pages);
 *   3. the bytes copied, the original protection set, the mapping named;
 *   4. mremap(MREMAP_MAYMOVE | MREMAP_FIXED) moves it over lo in one step.
 *
 * Invariants:
 *   - the code doing this is in the agent's own object, never in the range
 *     replaced; the original stays untouched until the single mremap, and
 *     on any failure before it the copy is unmapped and the original kept;
 *   - what cannot be done (no whole aligned 2 MiB, a strict policy unmet,
 *     an unreadable segment) is reported with agent_problem();
 *   - no allocation: stack buffers and system calls only (it runs in the
 *     constructor).
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "kernel/place.h"

#define HUGE_2M ((uintptr_t)2 << 20)

#ifndef PR_SET_VMA
#define PR_SET_VMA	     0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

struct text_seg {
	uintptr_t lo, hi;
	off_t off; /* file offset of lo */
};

struct segs_ctx {
	unsigned n;
	struct text_seg seg[4];
	const char *name;
};

static int segs_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct segs_ctx *s = data;
	uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);

	s->name = info->dlpi_name;
	for (unsigned i = 0; i < info->dlpi_phnum && s->n < 4; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		s->seg[s->n].lo = (info->dlpi_addr + ph->p_vaddr) & ~(ps - 1);
		s->seg[s->n].hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + ps - 1) & ~(ps - 1);
		s->seg[s->n].off = (off_t)(ph->p_offset & ~(ps - 1));
		s->n++;
	}
	return 1; /* the first object is the program itself */
}

/* What /proc/self/maps says of [lo, hi): covered, private, one protection. */
struct cover_ctx {
	uintptr_t lo, hi, covered;
	int prot; /* -1: none yet; -2: mixed */
	bool shared;
	char name[512];
};

static int cover_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct cover_ctx *c = d;
	int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		   (perms[2] == 'x' ? PROT_EXEC : 0);

	if (hi <= c->lo || lo >= c->hi)
		return 0;
	c->covered += (hi < c->hi ? hi : c->hi) - (lo > c->lo ? lo : c->lo);
	if (perms[3] != 'p')
		c->shared = true;
	c->prot = c->prot == -1 || c->prot == prot ? prot : -2;
	if (!c->name[0])
		snprintf(c->name, sizeof(c->name), "%s", name);
	return 0;
}

static bool thp_never(void)
{
	char buf[128];
	int fd =
		(int)syscall(SYS_openat, AT_FDCWD, "/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return true; /* no THP in this kernel */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "[never]") != NULL;
}

/* Maps len bytes of anonymous memory at an address congruent to want modulo
 * 2 MiB (so huge pages line up once moved to want). */
static void *map_congruent(uintptr_t want, size_t len)
{
	size_t raw_len = len + HUGE_2M;
	char *raw = mmap(NULL, raw_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;

	if (raw == MAP_FAILED)
		return NULL;
	a = (uintptr_t)raw + ((want - (uintptr_t)raw) & (HUGE_2M - 1));
	if (a > (uintptr_t)raw)
		munmap(raw, a - (uintptr_t)raw);
	if ((uintptr_t)raw + raw_len > a + len)
		munmap((void *)(a + len), (uintptr_t)raw + raw_len - (a + len));
	return (void *)a;
}

/* A private writable mapping of the program's file over the segment's file
 * range: once every page is written (populated for writing) each is the
 * process's own anonymous copy, allocated under the range's policy, while
 * the mapping keeps the file's name and offset, so perf, gdb and anything
 * else that reads /proc/PID/maps still find the program's symbols.  NULL
 * when the file cannot be had (deleted, replaced, a name cut short in the
 * maps, a program run by naming the dynamic loader): the name must open the
 * very file the kernel executed, which cannot be written while it runs. */
static void *map_file_copy(const char *name, off_t off, size_t len)
{
	size_t nl = strlen(name);
	struct stat a, b;
	void *p;
	int fd;

	if (name[0] != '/' || (nl > 10 && !strcmp(name + nl - 10, " (deleted)")))
		return NULL;
	fd = (int)syscall(SYS_openat, AT_FDCWD, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &a) < 0 || stat("/proc/self/exe", &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino ||
	    (off_t)(off + len) > a.st_size + (off_t)sysconf(_SC_PAGESIZE)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, off);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int replicate_one(const struct text_seg *sg, const char *prog, const struct mp_compiled *c, bool want_huge)
{
	struct cover_ctx cov = {.lo = sg->lo, .hi = sg->hi, .prot = -1};
	struct mp_compiled pc = *c;
	struct mp_place_report rep;
	size_t len = sg->hi - sg->lo;
	uintptr_t hlo = (sg->lo + HUGE_2M - 1) & ~(HUGE_2M - 1), hhi = sg->hi & ~(HUGE_2M - 1);
	bool huge = want_huge;
	unsigned long huge_kb = 0, max_kb = 0;
	char label[96];
	void *copy;
	long mis;
	int r;

	r = agent_maps_foreach(cover_cb, &cov);
	if (r < 0 || cov.covered != len || cov.prot < 0 || cov.shared) {
		agent_problem("text: replicate: the executable segment at %#lx (%zu KiB) is not one private "
			      "mapping of one protection; not copied",
			      (unsigned long)sg->lo, len >> 10);
		return -EINVAL;
	}
	if (!(cov.prot & PROT_READ)) {
		agent_problem("text: replicate: the executable segment at %#lx is execute-only; it cannot be read "
			      "to be copied",
			      (unsigned long)sg->lo);
		return -EACCES;
	}
	if (huge && hhi <= hlo) {
		agent_problem("text: replicate: the executable segment at %#lx (%zu KiB) holds no whole aligned "
			      "2 MiB; its copy is on base pages",
			      (unsigned long)sg->lo, len >> 10);
		huge = false;
	}
	/* transparent huge pages for the copy, whatever size the order names:
	 * the copy keeps the segment's addresses, which are 4 KiB aligned */
	pc.order = huge ? MP_ORDER_THP : 0;
	pc.strict = c->strict;
	/* huge pages need anonymous memory; base pages keep the file's name */
	copy = huge ? NULL : map_file_copy(cov.name, sg->off, len);
	if (!copy)
		copy = map_congruent(sg->lo, len);
	if (!copy) {
		agent_problem("text: replicate: no address space for a %zu KiB copy: %s", len >> 10,
			      agent_strerror(errno));
		return -ENOMEM;
	}
	r = mp_place_range(copy, len, &pc, MP_PLACE_POPULATE | MP_PLACE_VERIFY | MP_PLACE_NO_CHECK_FREE, &rep);
	if (r < 0) {
		agent_problem("text: replicate: the copy could not be placed: %s%s%s; the text stays shared",
			      agent_strerror(-r), rep.reason[0] ? ": " : "", rep.reason);
		munmap(copy, len);
		return r;
	}
	/* the running bytes, even where they differ from the file's */
	memcpy(copy, (const void *)sg->lo, len);
	if (mprotect(copy, len, cov.prot) < 0) {
		r = -errno;
		agent_problem("text: replicate: mprotect of the copy: %s; the text stays shared", agent_strerror(-r));
		munmap(copy, len);
		return r;
	}
	/* an anonymous copy is named in /proc/PID/maps, on kernels with
	 * CONFIG_ANON_VMA_NAME (a file mapping refuses it: it has a name) */
	snprintf(label, sizeof(label), "mplace-text:%s", prog);
	for (char *p = label; *p; p++)
		if (*p == '[' || *p == ']' || *p == '\\' || *p == '$' || *p == '`' || (unsigned char)*p <= ' ')
			*p = '_';
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)copy, len, (unsigned long)label);
	if (mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)sg->lo) == MAP_FAILED) {
		r = -errno;
		agent_problem("text: replicate: mremap over the text: %s; the text stays shared", agent_strerror(-r));
		munmap(copy, len);
		return r;
	}
	mis = agent_count_misplaced((void *)sg->lo, len, c);
	if (mis)
		agent_problem("text: replicate: %ld pages of the copy are not on the policy's nodes", mis);
	if (huge && agent_smaps((uintptr_t)sg->lo, sg->hi, "AnonHugePages:", &huge_kb, &max_kb) >= 0 &&
	    huge_kb < (hhi - hlo) >> 10)
		agent_problem("text: replicate: %lu of %lu KiB of the copy are on huge pages (the policy's nodes had "
			      "too few free huge pages, or THP is off)",
			      huge_kb, (unsigned long)((hhi - hlo) >> 10));
	return 0;
}

int agent_text_replicate(const struct mp_compiled *c)
{
	struct segs_ctx s = {0};
	const char *prog;
	bool want_huge = c->order == MP_ORDER_THP || c->order >= HUGE_2M;
	int r = 0;

	dl_iterate_phdr(segs_cb, &s);
	if (!s.n) {
		agent_problem("text: replicate: the program has no executable segment");
		return -ENOENT;
	}
	if (want_huge && thp_never()) {
		agent_problem("text: replicate: transparent huge pages are off in this kernel; the copy is on base "
			      "pages");
		want_huge = false;
	}
	if (want_huge && c->order > MP_ORDER_THP && c->order != HUGE_2M)
		agent_problem("text: replicate: order=%lu KiB: the copy uses 2 MiB transparent huge pages",
			      (unsigned long)(c->order >> 10));
	prog = s.name && *s.name ? s.name : program_invocation_short_name;
	if (strrchr(prog, '/'))
		prog = strrchr(prog, '/') + 1;
	for (unsigned i = 0; i < s.n; i++) {
		int q = replicate_one(&s.seg[i], prog, c, want_huge);

		if (q < 0 && !r)
			r = q;
	}
	return r;
}

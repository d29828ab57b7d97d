/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a process's memory map: the ranges of /proc/PID/maps, each with
 * its kind of memory, the kernel policy numa_maps reports for it, and where
 * its pages are.
 *
 * Invariants:
 *   - the parser is pure (text in, ranges out) so recorded files replay in
 *     tests; only mp_procmem_load() reads files and only mp_procmem_count()
 *     asks the kernel (through sys.c);
 *   - page counts come from move_pages per page; numa_maps' N<node>= counts
 *     are used only when the kernel refuses the query, and ->method says so;
 *   - a process that exits midway is -ESRCH, never a partial result;
 *   - outputs are untouched on failure.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/util.h"
#include "procmem.h"
#include "kernel/sys.h"

const char *mp_pm_kind_name(int kind)
{
	if (kind == MP_PM_KIND_SPECIAL)
		return "special";
	return mp_kind_name((enum mp_kind)kind);
}

static void range_free(struct mp_pm_range *r)
{
	free(r->path);
}

void mp_procmem_free(struct mp_procmem *pm)
{
	for (unsigned i = 0; i < pm->n; i++)
		range_free(&pm->r[i]);
	free(pm->r);
	free(pm->comm);
	free(pm->exe);
	memset(pm, 0, sizeof(*pm));
}

int mp_procmem_split(struct mp_procmem *pm, uint64_t addr)
{
	struct mp_pm_range *nr, *a, *b;
	char *path = NULL;
	unsigned i;

	for (i = 0; i < pm->n; i++)
		if (pm->r[i].start < addr && addr < pm->r[i].end)
			break;
	if (i == pm->n)
		return 0;
	if (pm->r[i].path && !(path = strdup(pm->r[i].path)))
		return -ENOMEM;
	nr = realloc(pm->r, (pm->n + 1) * sizeof(*nr));
	if (!nr) {
		free(path);
		return -ENOMEM;
	}
	pm->r = nr;
	memmove(&nr[i + 1], &nr[i], (pm->n - i) * sizeof(*nr));
	pm->n++;
	a = &nr[i];
	b = &nr[i + 1];
	b->path = path;
	a->end = addr;
	b->start = addr;
	if (b->path)
		b->offset += addr - a->start;
	/* the kernel's policy is the mapping's, so both halves have it; its
	 * numa_maps counts are the whole mapping's and cannot be divided: the
	 * first half keeps them for the numa_maps fallback */
	b->nm_present = 0;
	memset(b->nm_node, 0, sizeof(b->nm_node));
	b->nm_whole = a->nm_whole = true;
	return 1;
}

/* ---- small text helpers -------------------------------------------------- */

static int parse_hex(const char **p, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned n = 0;

	while (isxdigit((unsigned char)*s)) {
		if (n++ == 16)
			return -EINVAL;
		v = v << 4 |
		    (uint64_t)(isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
		s++;
	}
	if (!n)
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

static int parse_dec(const char *s, size_t len, uint64_t *ret)
{
	return mp_parse_uint(s, len, UINT64_MAX, ret);
}

static const char *skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *next_token(const char *p)
{
	while (*p && *p != ' ' && *p != '\n')
		p++;
	return p;
}

/* ---- the kernel's policy text (mm/mempolicy.c mpol_to_str) --------------- */

int mp_pm_parse_kpolicy(const char *s, int *ret_mode, struct mp_nodemask *ret_nodes)
{
	static const struct {
		const char *name;
		int mode;
	} modes[] = {
		/* longest first: "prefer (many)" before "prefer" */
		{"weighted interleave", MP_MPOL_WEIGHTED_INTERLEAVE},
		{"prefer (many)", MP_MPOL_PREFERRED_MANY},
		{"interleave", MP_MPOL_INTERLEAVE},
		{"default", MP_MPOL_DEFAULT},
		{"prefer", MP_MPOL_PREFERRED},
		{"local", MP_MPOL_LOCAL},
		{"bind", MP_MPOL_BIND},
	};
	struct mp_nodemask nodes;
	const char *colon;

	for (size_t i = 0; i < MP_ARRAY_SIZE(modes); i++) {
		size_t n = strlen(modes[i].name);

		if (strncmp(s, modes[i].name, n))
			continue;
		s += n;
		/* "=static", "=relative", "=balancing" or "=static|balancing" flags */
		if (*s == '=')
			s += strcspn(s, ":");
		mp_mask_zero(&nodes);
		if (*s == ':') {
			colon = s + 1;
			if (mp_mask_parse(colon, strlen(colon), &nodes, NULL) < 0)
				return -EINVAL;
		} else if (*s) {
			return -EINVAL;
		}
		*ret_mode = modes[i].mode;
		if (ret_nodes)
			*ret_nodes = nodes;
		return 0;
	}
	return -EINVAL;
}

/* ---- maps ---------------------------------------------------------------- */

/* "start-end perms offset dev inode   path" */
static int parse_maps_line(const char *line, const char *eol, struct mp_pm_range *r)
{
	const char *p = line;
	uint64_t dev;

	memset(r, 0, sizeof(*r));
	r->kmode = -1;
	r->page_size = 4096;
	if (parse_hex(&p, &r->start) < 0 || *p++ != '-' || parse_hex(&p, &r->end) < 0 || *p++ != ' ')
		return -EINVAL;
	if (r->end < r->start || eol - p < 5)
		return -EINVAL;
	memcpy(r->perms, p, 4);
	r->perms[4] = '\0';
	p += 4;
	if (*p++ != ' ' || parse_hex(&p, &r->offset) < 0 || *p++ != ' ')
		return -EINVAL;
	/* dev is "major:minor" in hex */
	if (parse_hex(&p, &dev) < 0 || *p++ != ':' || parse_hex(&p, &dev) < 0 || *p++ != ' ')
		return -EINVAL;
	{
		const char *q = next_token(p);

		if (q > eol || parse_dec(p, (size_t)(q - p), &r->inode) < 0)
			return -EINVAL;
		p = q;
	}
	p = skip_spaces(p);
	if (p < eol) {
		r->path = mp_strndup(p, (size_t)(eol - p));
		if (!r->path)
			return -ENOMEM;
	}
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* The path without the kernel's " (deleted)" suffix equals exe. */
static bool same_file(const char *path, const char *exe)
{
	size_t n;

	if (!path || !exe)
		return false;
	n = strlen(exe);
	return !strncmp(path, exe, n) && (path[n] == '\0' || !strcmp(path + n, " (deleted)"));
}

static void classify(struct mp_pm_range *r, const struct mp_pm_range *prev, const char *exe)
{
	const char *path = r->path;

	if (r->huge) {
		r->kind = MP_KIND_HUGETLB;
	} else if (!path) {
		/* .bss: anonymous memory right after the executable's data */
		if (prev && prev->kind == MP_KIND_DATA && prev->end == r->start && prev->path && r->perms[0] == 'r' &&
		    r->perms[1] == 'w')
			r->kind = MP_KIND_DATA;
		else
			r->kind = r->thread_stack ? MP_KIND_STACK : MP_KIND_ANON;
	} else if (!strcmp(path, "[heap]")) {
		r->kind = MP_KIND_HEAP;
	} else if (has_prefix(path, "[stack")) {
		r->kind = MP_KIND_STACK;
	} else if (!strcmp(path, "[vdso]") || !strcmp(path, "[vvar]") || !strcmp(path, "[vsyscall]") ||
		   has_prefix(path, "[vvar_")) {
		r->kind = MP_PM_KIND_SPECIAL;
	} else if (path[0] == '[') {
		/* [anon:NAME] (prctl PR_SET_VMA_ANON_NAME) and [anon_shmem:NAME] */
		r->kind = has_prefix(path, "[anon_shmem:") ? MP_KIND_SHM
			  : r->thread_stack		   ? MP_KIND_STACK
							   : MP_KIND_ANON;
	} else if (has_prefix(path, "/dev/shm/") || has_prefix(path, "/SYSV") || has_prefix(path, "/memfd:") ||
		   (r->perms[3] == 's' && has_prefix(path, "/dev/zero"))) {
		r->kind = MP_KIND_SHM;
	} else if (r->perms[2] == 'x') {
		r->kind = MP_KIND_TEXT;
	} else if (same_file(path, exe) && r->perms[1] == 'w' && r->perms[3] == 'p') {
		r->kind = MP_KIND_DATA;
	} else {
		r->kind = MP_KIND_FILE;
	}
	if (r->locked && r->kind != MP_PM_KIND_SPECIAL)
		r->kind = MP_KIND_MLOCKED;
}

/* ---- numa_maps ------------------------------------------------------------ */

static struct mp_pm_range *find_range(struct mp_pm_range *r, unsigned n, uint64_t start)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (r[mid].start == start)
			return &r[mid];
		if (r[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* "7f00... bind:0-1 file=/x anon=3 dirty=3 N0=2 N1=1 kernelpagesize_kB=4" */
static int parse_numa_maps_line(const char *line, const char *eol, struct mp_pm_range *ranges, unsigned n)
{
	static const char *const spaced[] = {"weighted interleave", "prefer (many)"};
	const char *p = line, *pol, *q;
	struct mp_pm_range *r;
	uint64_t start;
	size_t plen;

	if (parse_hex(&p, &start) < 0 || *p++ != ' ')
		return -EINVAL;
	r = find_range(ranges, n, start);
	if (!r)
		return 0; /* the map changed between the two reads: leave it */
	pol = p;
	for (size_t i = 0; i < MP_ARRAY_SIZE(spaced); i++)
		if (!strncmp(p, spaced[i], strlen(spaced[i])))
			p += strlen(spaced[i]);
	q = next_token(p);
	if (q > eol)
		q = eol;
	plen = (size_t)(q - pol);
	if (plen >= sizeof(r->kpolicy))
		plen = sizeof(r->kpolicy) - 1;
	memcpy(r->kpolicy, pol, plen);
	r->kpolicy[plen] = '\0';
	if (mp_pm_parse_kpolicy(r->kpolicy, &r->kmode, &r->knodes) < 0)
		r->kmode = -1;
	r->in_numa_maps = true;
	p = q;
	while (p < eol) {
		const char *tok, *eq;
		uint64_t v;

		p = skip_spaces(p);
		tok = p;
		p = next_token(p);
		if (p > eol)
			p = eol;
		eq = memchr(tok, '=', (size_t)(p - tok));
		if (!eq) {
			if (mp_streqn(tok, (size_t)(p - tok), "huge"))
				r->huge = true;
			continue;
		}
		if (tok[0] == 'N' && isdigit((unsigned char)tok[1])) {
			uint64_t node;

			if (parse_dec(tok + 1, (size_t)(eq - tok - 1), &node) < 0 ||
			    parse_dec(eq + 1, (size_t)(p - eq - 1), &v) < 0)
				return -EINVAL;
			if (node < MP_PM_NODES)
				r->nm_node[node] += v;
			r->nm_present += v;
		} else if (mp_streqn(tok, (size_t)(eq - tok), "kernelpagesize_kB")) {
			if (parse_dec(eq + 1, (size_t)(p - eq - 1), &v) < 0 || v == 0 || v > (UINT64_C(1) << 40))
				return -EINVAL;
			r->page_size = v * 1024;
		}
	}
	return 0;
}

/* ---- smaps: "Locked:" per range -------------------------------------------- */

static void parse_smaps(const char *s, struct mp_pm_range *ranges, unsigned n)
{
	struct mp_pm_range *cur = NULL;

	while (s && *s) {
		const char *eol = strchrnul(s, '\n');
		const char *p = s;
		uint64_t start, v;

		if (parse_hex(&p, &start) == 0 && *p == '-') {
			cur = find_range(ranges, n, start);
		} else if (cur && !strncmp(s, "Locked:", 7)) {
			const char *num = skip_spaces(s + 7);

			if (parse_dec(num, strspn(num, "0123456789"), &v) == 0 && v > 0)
				cur->locked = true;
		}
		s = *eol ? eol + 1 : eol;
	}
}

int mp_procmem_parse(const char *maps, const char *numa_maps, const char *smaps, const char *exe,
		     const uint64_t *stack_sp, unsigned n_sp, struct mp_procmem *ret)
{
	struct mp_procmem pm = {0};
	unsigned cap = 0;
	const char *s;
	int r = 0;

	for (s = maps; s && *s;) {
		const char *eol = strchrnul(s, '\n');

		if (eol > s) {
			if (pm.n == cap) {
				unsigned ncap = cap ? cap * 2 : 64;
				struct mp_pm_range *nr = realloc(pm.r, ncap * sizeof(*nr));

				if (!nr) {
					r = -ENOMEM;
					goto fail;
				}
				pm.r = nr;
				cap = ncap;
			}
			r = parse_maps_line(s, eol, &pm.r[pm.n]);
			if (r < 0)
				goto fail;
			if (pm.n && pm.r[pm.n].start < pm.r[pm.n - 1].end) {
				range_free(&pm.r[pm.n]);
				r = -EINVAL;
				goto fail;
			}
			pm.n++;
		}
		s = *eol ? eol + 1 : eol;
	}
	for (s = numa_maps; s && *s;) {
		const char *eol = strchrnul(s, '\n');

		if (eol > s) {
			r = parse_numa_maps_line(s, eol, pm.r, pm.n);
			if (r < 0)
				goto fail;
		}
		s = *eol ? eol + 1 : eol;
	}
	parse_smaps(smaps, pm.r, pm.n);
	for (unsigned i = 0; i < pm.n; i++) {
		for (unsigned k = 0; k < n_sp; k++)
			if (stack_sp[k] >= pm.r[i].start && stack_sp[k] < pm.r[i].end)
				pm.r[i].thread_stack = true;
		classify(&pm.r[i], i ? &pm.r[i - 1] : NULL, exe);
	}
	*ret = pm;
	return 0;
fail:
	mp_procmem_free(&pm);
	return r;
}

/* ---- reading /proc --------------------------------------------------------- */

static int proc_path(char *buf, size_t size, const char *root, int pid, const char *name)
{
	int n;

	if (pid > 0)
		n = snprintf(buf, size, "%s/proc/%d/%s", root ? root : "", pid, name);
	else
		n = snprintf(buf, size, "%s/proc/self/%s", root ? root : "", name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A reading error of a process's file: gone is -ESRCH whatever the file said. */
static int proc_error(const char *root, int pid, int r)
{
	char path[PATH_MAX];

	if (r == -ENOENT || r == -ESRCH)
		return -ESRCH;
	if (proc_path(path, sizeof(path), root, pid, "") == 0 && access(path, F_OK) < 0)
		return -ESRCH;
	return r;
}

/* Stack pointers of the threads that are blocked in a system call
 * (/proc/PID/task/TID/syscall: "nr a0 .. a5 sp pc"); best effort. */
static unsigned thread_sps(const char *root, int pid, uint64_t *sp, unsigned max)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	if (proc_path(path, sizeof(path), root, pid, "task") < 0)
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		char file[PATH_MAX + 64], *text = NULL;
		const char *p;
		unsigned field = 0;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(file, sizeof(file), "%s/%s/syscall", path, de->d_name) >= (int)sizeof(file))
			continue;
		if (mp_read_file(file, 0, &text, NULL) < 0)
			continue;
		/* the 8th field is the stack pointer, in hex with 0x */
		for (p = text; *p && field < 7; p++)
			if (*p == ' ')
				field++;
		if (field == 7 && p[0] == '0' && p[1] == 'x') {
			uint64_t v;

			p += 2;
			if (parse_hex(&p, &v) == 0)
				sp[n++] = v;
		}
		free(text);
	}
	closedir(d);
	return n;
}

int mp_procmem_load(const char *root, int pid, struct mp_procmem *ret)
{
	char path[PATH_MAX], exe[PATH_MAX];
	char *maps = NULL, *numa_maps = NULL, *smaps = NULL, *comm = NULL;
	struct mp_procmem pm;
	uint64_t sp[256];
	unsigned n_sp;
	ssize_t k;
	int r;

	r = proc_path(path, sizeof(path), root, pid, "maps");
	if (r < 0)
		return r;
	r = mp_read_file(path, 0, &maps, NULL);
	if (r < 0)
		return proc_error(root, pid, r);
	proc_path(path, sizeof(path), root, pid, "numa_maps");
	r = mp_read_file(path, 0, &numa_maps, NULL);
	if (r < 0) {
		r = proc_error(root, pid, r);
		goto out;
	}
	/* smaps only adds Locked:; without it nothing is called mlocked */
	proc_path(path, sizeof(path), root, pid, "smaps");
	if (mp_read_file(path, 0, &smaps, NULL) < 0)
		smaps = NULL;
	proc_path(path, sizeof(path), root, pid, "exe");
	k = readlink(path, exe, sizeof(exe) - 1);
	exe[k > 0 ? k : 0] = '\0';
	proc_path(path, sizeof(path), root, pid, "comm");
	if (mp_read_file(path, 0, &comm, NULL) == 0)
		comm[strcspn(comm, "\n")] = '\0';
	n_sp = thread_sps(root, pid, sp, MP_ARRAY_SIZE(sp));

	r = mp_procmem_parse(maps, numa_maps, smaps, k > 0 ? exe : NULL, sp, n_sp, &pm);
	if (r < 0)
		goto out;
	/* a process that exited while we read has empty files: not a result */
	proc_path(path, sizeof(path), root, pid, "");
	if (access(path, F_OK) < 0 || pm.n == 0) {
		/* alive with an empty map: a kernel thread or a zombie */
		r = access(path, F_OK) < 0 ? -ESRCH : -ENODATA;
		mp_procmem_free(&pm);
		goto out;
	}
	pm.pid = pid;
	pm.comm = comm;
	comm = NULL;
	if (k > 0) {
		pm.exe = strdup(exe);
		if (!pm.exe) {
			mp_procmem_free(&pm);
			r = -ENOMEM;
			goto out;
		}
	}
	*ret = pm;
	r = 0;
out:
	free(maps);
	free(numa_maps);
	free(smaps);
	free(comm);
	return r;
}

/* ---- counting pages ---------------------------------------------------------- */

/* A range's counted fields from its numa_maps line's counts. */
static void numa_maps_counts(struct mp_pm_range *r)
{
	uint64_t in = 0;

	memcpy(r->per_node, r->nm_node, sizeof(r->per_node));
	for (unsigned k = 0; k < MP_PM_NODES; k++)
		in += r->nm_node[k];
	r->present = r->nm_present;
	r->elsewhere = r->nm_present - in;
}

void mp_procmem_use_numa_maps(struct mp_procmem *pm, int refused)
{
	for (unsigned i = 0; i < pm->n; i++)
		numa_maps_counts(&pm->r[i]);
	pm->method = MP_PM_NUMA_MAPS;
	pm->refused = refused;
}

#define BATCH 1024
/* 64 GiB of base pages: more than any range worth asking page by page */
#define MAX_ASK_PAGES (UINT64_C(1) << 24)

static int count_range(int pid, struct mp_pm_range *r, uint64_t *per_node, uint64_t *ret_present,
		       uint64_t *ret_elsewhere)
{
	void *pages[BATCH];
	int status[BATCH];
	uint64_t present = 0, elsewhere = 0;

	for (uint64_t a = r->start; a < r->end;) {
		unsigned n = 0;
		int e;

		while (n < BATCH && a < r->end) {
			pages[n++] = (void *)(uintptr_t)a;
			a += r->page_size;
		}
		e = mp_sys_move_pages(pid, n, pages, NULL, status, 0);
		if (e < 0)
			return e;
		for (unsigned i = 0; i < n; i++) {
			/* -ENOENT: not present; -EFAULT: a page move_pages
			 * cannot see (a zero page, a special mapping) */
			if (status[i] < 0)
				continue;
			present++;
			if (status[i] < MP_PM_NODES)
				per_node[status[i]]++;
			else
				elsewhere++;
		}
	}
	*ret_present = present;
	*ret_elsewhere = elsewhere;
	return 0;
}

int mp_procmem_count(struct mp_procmem *pm)
{
	for (unsigned i = 0; i < pm->n; i++) {
		struct mp_pm_range *r = &pm->r[i];
		uint64_t per_node[MP_PM_NODES] = {0}, present = 0, elsewhere = 0;
		int e;

		/* numa_maps lists no mapped page: nothing to ask (and a
		 * reservation of terabytes would take minutes page by page) */
		if ((r->in_numa_maps && r->nm_present == 0 && !r->nm_whole) || r->kind == MP_PM_KIND_SPECIAL) {
			memset(r->per_node, 0, sizeof(r->per_node));
			r->present = r->elsewhere = 0;
			continue;
		}
		/* a huge sparse reservation (a sanitizer's shadow: terabytes with
		 * a few pages present) cannot be asked page by page in any useful
		 * time; numa_maps' counts for that range, and the range says so */
		if (r->in_numa_maps && (r->end - r->start) / r->page_size > MAX_ASK_PAGES) {
			numa_maps_counts(r);
			r->nm_counted = true;
			continue;
		}
		e = count_range(pm->pid, r, per_node, &present, &elsewhere);
		if (e == -ESRCH)
			return -ESRCH;
		if (e == -EPERM || e == -EACCES || e == -ENOSYS) {
			mp_procmem_use_numa_maps(pm, e);
			return 0;
		}
		if (e < 0) {
			/* a range that vanished between the read and the query */
			memset(r->per_node, 0, sizeof(r->per_node));
			r->present = r->elsewhere = 0;
			continue;
		}
		memcpy(r->per_node, per_node, sizeof(per_node));
		r->present = present;
		r->elsewhere = elsewhere;
	}
	pm->method = MP_PM_MOVE_PAGES;
	return 0;
}

/* ---- many processes, cheaply (mplace top) ------------------------------------ */

static int cmp_pid(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

int mp_proc_pids(const char *root, int **ret, unsigned *ret_n)
{
	char path[PATH_MAX];
	struct dirent *de;
	int *pids = NULL;
	unsigned n = 0, cap = 0;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/proc", root ? root : "") >= (int)sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t v;

		if (mp_parse_uint(de->d_name, strlen(de->d_name), INT_MAX, &v) < 0 || v == 0)
			continue;
		if (n == cap) {
			int *np = realloc(pids, sizeof(*pids) * (cap = cap ? 2 * cap : 512));

			if (!np) {
				free(pids);
				closedir(d);
				return -ENOMEM;
			}
			pids = np;
		}
		pids[n++] = (int)v;
	}
	closedir(d);
	qsort(pids, n, sizeof(*pids), cmp_pid);
	*ret = pids;
	*ret_n = n;
	return 0;
}

int mp_procmem_stamp(const char *root, int pid, struct mp_pm_stamp *ret)
{
	char path[PATH_MAX], buf[1024], *p;
	unsigned long long v[52];
	unsigned field = 4; /* the first number after the state: ppid */
	ssize_t len;
	int fd, r;

	r = proc_path(path, sizeof(path), root, pid, "stat");
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	r = len < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	buf[len] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses, so
	 * the fields start after the last ')' (proc(5)) */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	while (*p && *p != ' ')
		p++; /* the state */
	while (*p == ' ' && field < MP_ARRAY_SIZE(v)) {
		char *end;

		errno = 0;
		v[field] = strtoull(p + 1, &end, 10);
		if (errno || end == p + 1)
			break;
		p = end;
		field++;
	}
	/* proc(5) numbers fields from 1: minflt 10, majflt 12, utime 14,
	 * stime 15, starttime 22, rss 24 */
	if (field <= 24)
		return -EINVAL;
	ret->faults = v[10] + v[12];
	ret->cpu = v[14] + v[15];
	ret->start = v[22];
	ret->rss = v[24];
	return 0;
}

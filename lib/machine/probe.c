/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the running kernel can do for placement: which policy modes and flags
 * set_mempolicy accepts, set_mempolicy_home_node, weighted interleave, NUMA
 * balancing, DAMON, memory tiers, THP sizes, and whether this process may
 * move other processes' pages.
 *
 * Invariants: the caller's memory policy is never disturbed (syscall probes
 * run in a short-lived thread, which also restores its own policy exactly);
 * a capability that cannot be determined is MP_FEAT_UNKNOWN, never a guess
 * presented as fact.  On a fixture root (anything but NULL and "/") no
 * system call is made: syscall probes are unknown and every file, including
 * the kernel release (proc/sys/kernel/osrelease), is read under the root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "basic/util.h"
#include "core/policy.h"
#include "kernel/sys.h"
#include "topo.h"

#define WI_DIR "sys/kernel/mm/mempolicy/weighted_interleave"

/* CAP_SYS_NICE (linux/capability.h): needed by migrate_pages and
 * move_pages on another user's process, and for MPOL_MF_MOVE_ALL. */
#define CAP_SYS_NICE_BIT 23

static bool is_live(const char *root)
{
	return !root || !strcmp(root, "/");
}

static int mkpath(char *buf, size_t size, const char *root, const char *rel)
{
	int n = snprintf(buf, size, "%s/%s", is_live(root) ? "" : root, rel);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int read_small(const char *root, const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, r;

	r = mkpath(path, sizeof(path), root, rel);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

static uint8_t exists(const char *root, const char *rel, bool want_dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (mkpath(path, sizeof(path), root, rel) < 0)
		return MP_FEAT_UNKNOWN;
	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? MP_FEAT_NO : MP_FEAT_UNKNOWN;
	return (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) ? MP_FEAT_YES : MP_FEAT_NO;
}

/* "6.11.0-rc5" -> 6, 11.  -EINVAL when it does not start that way. */
static int parse_release(const char *rel, unsigned *ret_major, unsigned *ret_minor)
{
	const char *dot = strchr(rel, '.');
	uint64_t a, b;
	size_t n;

	if (!dot)
		return -EINVAL;
	n = strspn(dot + 1, "0123456789");
	if (mp_parse_uint(rel, dot - rel, 1000, &a) < 0 || mp_parse_uint(dot + 1, n, 1000, &b) < 0)
		return -EINVAL;
	*ret_major = (unsigned)a;
	*ret_minor = (unsigned)b;
	return 0;
}

/* ---- syscall probes, in their own thread ------------------------------- */

/* enum mp_mode -> kernel mode; -1 for modes with no kernel counterpart. */
static const int kernel_mode[9] = {
	[MP_MODE_UNSET] = -1,
	[MP_MODE_DEFAULT] = MP_MPOL_DEFAULT,
	[MP_MODE_LOCAL] = MP_MPOL_LOCAL,
	[MP_MODE_BIND] = MP_MPOL_BIND,
	[MP_MODE_PREFER] = MP_MPOL_PREFERRED,
	[MP_MODE_PREFER_MANY] = MP_MPOL_PREFERRED_MANY,
	[MP_MODE_INTERLEAVE] = MP_MPOL_INTERLEAVE,
	[MP_MODE_WEIGHTED_INTERLEAVE] = MP_MPOL_WEIGHTED_INTERLEAVE,
	[MP_MODE_SPLIT] = -1,
};

struct probe_ctx {
	uint8_t mode[9], nb[9], home;
	int err; /* restoring the thread's policy failed */
};

static uint8_t verdict(int r)
{
	/* EINVAL is how mempolicy says "no such mode or flag"; ENOSYS is a
	 * kernel without the call.  Anything else is not an answer. */
	if (r == 0)
		return MP_FEAT_YES;
	if (r == -EINVAL || r == -ENOSYS)
		return MP_FEAT_NO;
	return MP_FEAT_UNKNOWN;
}

static uint8_t probe_home_node(int node)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct mp_nodemask m;
	uint8_t v;
	void *p;
	int r;

	/* The call needs a range whose policy is BIND or PREFERRED_MANY
	 * (mm/mempolicy.c: set_mempolicy_home_node skips other VMAs with
	 * -EOPNOTSUPP), so make one. */
	p = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return MP_FEAT_UNKNOWN;
	mp_mask_zero(&m);
	mp_mask_set(&m, node);
	if (mp_sys_mbind_mask(p, psz, MP_MPOL_BIND, &m, 0) < 0) {
		v = MP_FEAT_UNKNOWN;
		goto out;
	}
	r = mp_sys_set_mempolicy_home_node((unsigned long)p, psz, node, 0);
	v = r == 0 ? MP_FEAT_YES : r == -ENOSYS ? MP_FEAT_NO : MP_FEAT_UNKNOWN;
out:
	munmap(p, psz);
	return v;
}

static void *probe_thread(void *arg)
{
	struct probe_ctx *c = arg;
	struct mp_nodemask old_mask, allowed, m, now_mask;
	int old_mode, now_mode, node;

	/* New threads inherit the creating thread's policy; remember it so
	 * this thread leaves with exactly what it started with. */
	if (mp_sys_get_policy(&old_mode, &old_mask, NULL, 0) < 0)
		return NULL;
	if (mp_sys_get_policy(NULL, &allowed, NULL, MP_MPOL_F_MEMS_ALLOWED) < 0 || mp_mask_empty(&allowed))
		return NULL;
	node = mp_mask_next(&allowed, 0);
	mp_mask_zero(&m);
	mp_mask_set(&m, node);

	for (int i = 0; i < 9; i++) {
		int km = kernel_mode[i];
		/* DEFAULT and LOCAL take no nodes (mpol_new rejects a mask). */
		bool nodes = km != MP_MPOL_DEFAULT && km != MP_MPOL_LOCAL;

		if (km < 0)
			continue;
		c->mode[i] = verdict(mp_sys_set_policy(km, nodes ? &m : NULL));
		if (mp_sys_set_policy(old_mode, &old_mask) < 0)
			c->err = -EIO;
		c->nb[i] = verdict(mp_sys_set_policy(km | MP_MPOL_F_NUMA_BALANCING, nodes ? &m : NULL));
		if (mp_sys_set_policy(old_mode, &old_mask) < 0)
			c->err = -EIO;
	}
	c->home = probe_home_node(node);
	if (mp_sys_get_policy(&now_mode, &now_mask, NULL, 0) < 0 || now_mode != old_mode ||
	    !mp_mask_equal(&now_mask, &old_mask))
		c->err = -EIO;
	return NULL;
}

static int probe_syscalls(struct mp_features *f)
{
	struct probe_ctx c;
	pthread_t th;
	int r;

	memset(&c, MP_FEAT_UNKNOWN, sizeof(c));
	c.err = 0;
	r = pthread_create(&th, NULL, probe_thread, &c);
	if (r)
		return -r;
	r = pthread_join(th, NULL);
	if (r)
		return -r;
	memcpy(f->mode, c.mode, sizeof(f->mode));
	memcpy(f->numa_balancing_mode, c.nb, sizeof(f->numa_balancing_mode));
	f->home_node = c.home;
	return c.err;
}

/* ---- files ------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void probe_thp(const char *root, struct mp_features *f)
{
	const char *dir = "sys/kernel/mm/transparent_hugepage";
	char path[PATH_MAX], buf[256];
	struct dirent *de;
	DIR *d;

	if (read_small(root, "sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf)) > 0) {
		/* "always [madvise] never": the bracketed word is in force */
		char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;

		if (a && b && (size_t)(b - a - 1) < sizeof(f->thp_enabled)) {
			memcpy(f->thp_enabled, a + 1, b - a - 1);
			f->thp_enabled[b - a - 1] = '\0';
		}
	}
	if (mkpath(path, sizeof(path), root, dir) < 0)
		return;
	d = opendir(path);
	if (!d)
		return;
	/* Since 6.8 every size anonymous THP can use (mTHP) has a
	 * hugepages-<N>kB directory with an 'enabled' file; sizes only shmem
	 * can use (order 1, 6.12+) have just 'shmem_enabled' and are left out,
	 * as placement's order= is about anonymous memory. */
	while ((de = readdir(d)) && f->n_thp_sizes < MP_ARRAY_SIZE(f->thp_sizes)) {
		size_t len = strlen(de->d_name);
		char rel[PATH_MAX];
		uint64_t kb;

		if (len <= 12 || strncmp(de->d_name, "hugepages-", 10) || strcmp(de->d_name + len - 2, "kB"))
			continue;
		if (mp_parse_uint(de->d_name + 10, len - 12, UINT64_MAX / 1024, &kb) < 0 || !kb)
			continue;
		if (snprintf(rel, sizeof(rel), "%s/%s/enabled", dir, de->d_name) >= (int)sizeof(rel) ||
		    exists(root, rel, false) != MP_FEAT_YES)
			continue;
		f->thp_sizes[f->n_thp_sizes++] = kb * 1024;
	}
	closedir(d);
	/* Before that, THP means the PMD size only. */
	if (!f->n_thp_sizes &&
	    read_small(root, "sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf, sizeof(buf)) > 0) {
		uint64_t v;

		if (mp_parse_uint(buf, strlen(buf), UINT64_MAX, &v) == 0 && v)
			f->thp_sizes[f->n_thp_sizes++] = v;
	}
	if (f->n_thp_sizes)
		qsort(f->thp_sizes, f->n_thp_sizes, sizeof(f->thp_sizes[0]), cmp_u64);
}

static uint8_t probe_move_other(const char *root)
{
	char buf[4096], *p;
	unsigned long long cap;
	char *end;

	if (read_small(root, "proc/self/status", buf, sizeof(buf)) < 0)
		return MP_FEAT_UNKNOWN;
	p = strstr(buf, "\nCapEff:");
	if (!p)
		return MP_FEAT_UNKNOWN;
	p += 8;
	errno = 0;
	cap = strtoull(p, &end, 16);
	if (errno || end == p)
		return MP_FEAT_UNKNOWN;
	return (cap >> CAP_SYS_NICE_BIT) & 1 ? MP_FEAT_YES : MP_FEAT_NO;
}

int mp_features_probe(const char *root, struct mp_features *ret)
{
	struct mp_features f;
	unsigned major, minor;
	char buf[256];
	uint64_t v;
	int r;

	if (!ret)
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	memset(f.mode, MP_FEAT_UNKNOWN, sizeof(f.mode));
	memset(f.numa_balancing_mode, MP_FEAT_UNKNOWN, sizeof(f.numa_balancing_mode));
	f.home_node = MP_FEAT_UNKNOWN;
	f.numa_balancing_value = -1;

	if (is_live(root)) {
		struct utsname u;

		if (uname(&u) == 0)
			snprintf(f.kernel, sizeof(f.kernel), "%s", u.release);
		r = probe_syscalls(&f);
		if (r < 0)
			return r;
		/* split is user space binding sub-ranges with mbind(MPOL_BIND) */
		f.mode[MP_MODE_SPLIT] = f.mode[MP_MODE_BIND];
		f.numa_balancing_mode[MP_MODE_SPLIT] = f.numa_balancing_mode[MP_MODE_BIND];
		f.mode[MP_MODE_UNSET] = f.numa_balancing_mode[MP_MODE_UNSET] = MP_FEAT_NO;
	} else if (read_small(root, "proc/sys/kernel/osrelease", f.kernel, sizeof(f.kernel)) < 0) {
		f.kernel[0] = '\0';
	}

	f.weighted_interleave_sysfs = exists(root, WI_DIR, true);
	f.weighted_interleave_auto = exists(root, "sys/kernel/mm/mempolicy/weighted_interleave/auto", false);
	/* 6.18 builds turn the C23 'auto' into __auto_type with a macro, and
	 * the attribute's name, made by stringifying, followed. */
	if (f.weighted_interleave_auto == MP_FEAT_NO)
		f.weighted_interleave_auto =
			exists(root, "sys/kernel/mm/mempolicy/weighted_interleave/__auto_type", false);

	if (read_small(root, "proc/sys/kernel/numa_balancing", buf, sizeof(buf)) >= 0) {
		f.numa_balancing = MP_FEAT_YES;
		if (mp_parse_uint(buf, strlen(buf), INT_MAX, &v) == 0)
			f.numa_balancing_value = (int)v;
	} else {
		f.numa_balancing = MP_FEAT_NO;
	}

	f.damon = exists(root, "sys/kernel/mm/damon/admin", true);
	/* DAMOS_MIGRATE_HOT/COLD are in 6.11 and later.  The sysfs interface
	 * offers no list of actions, so this is inferred from the release. */
	if (f.damon != MP_FEAT_YES)
		f.damon_migrate = f.damon;
	else if (parse_release(f.kernel, &major, &minor) == 0)
		f.damon_migrate = major > 6 || (major == 6 && minor >= 11) ? MP_FEAT_YES : MP_FEAT_NO;
	else
		f.damon_migrate = MP_FEAT_UNKNOWN;

	f.memory_tiers = exists(root, "sys/devices/virtual/memory_tiering", true);
	probe_thp(root, &f);
	f.move_other = probe_move_other(root);
	*ret = f;
	return 0;
}

/* ---- what placement reads as it places ------------------------------------ */

/* A decimal at the start of buf (after spaces), whole digits only. */
static int leading_uint(const char *p, uint64_t *ret)
{
	uint64_t v = 0;

	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -EIO;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*ret = v;
	return 0;
}

int mp_probe_node_free(const char *root, int node, uint64_t *ret_bytes)
{
	char rel[96], buf[4096];
	const char *p;
	uint64_t kb;
	int r;

	snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/meminfo", node);
	r = read_small(root, rel, buf, sizeof(buf));
	if (r < 0)
		return r;
	p = strstr(buf, "MemFree:");
	if (!p)
		return -EIO;
	r = leading_uint(p + strlen("MemFree:"), &kb);
	if (r < 0)
		return r;
	if (kb > UINT64_MAX / 1024)
		return -ERANGE;
	*ret_bytes = kb * 1024;
	return 0;
}

int mp_probe_node_huge_free(const char *root, int node, uint64_t page_size, uint64_t *ret_pages)
{
	char rel[128], buf[64];
	int r;

	snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/hugepages/hugepages-%lukB/free_hugepages", node,
		 (unsigned long)(page_size / 1024));
	r = read_small(root, rel, buf, sizeof(buf));
	if (r < 0)
		return r;
	return leading_uint(buf, ret_pages);
}

int mp_probe_wi_weight(const char *root, int node, unsigned *ret)
{
	char rel[96], buf[32];
	uint64_t v;
	int r;

	snprintf(rel, sizeof(rel), WI_DIR "/node%d", node);
	r = read_small(root, rel, buf, sizeof(buf));
	if (r < 0)
		return r;
	r = leading_uint(buf, &v);
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

bool mp_probe_weighted_interleave(const char *root)
{
	return exists(root, WI_DIR, true) == MP_FEAT_YES;
}

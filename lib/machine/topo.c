/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Topology from sysfs and procfs, read through an injectable root directory
 * so recorded and synthetic machines replay exactly like the live one.
 *
 * Invariants: the loaded struct mp_topo is plain data (no handles, no paths);
 * nodes are the online nodes sorted by id; every attribute the tree does not
 * provide is "unknown" (0, or -1 for node and tier numbers), never guessed,
 * except memory tiers, which are derived (CPU nodes fastest) and flagged as
 * such when the kernel exposes no memory_tiering directory.  Only a missing
 * node directory is an error (-ENOENT): without it there is nothing to place
 * memory on.  This file does no system calls besides reading files.
 *
 * A node's CPUs are the ones that can run: its cpulist ∩ cpu/online (some
 * architectures keep offline CPUs in the node's list).  A node that is a
 * GPU's memory, as the NVIDIA driver reports it, is marked and has no tier.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/util.h"
#include "topo.h"

#define NODE_DIR "sys/devices/system/node"
/* An upper bound for CPU numbers in a cpulist; CONFIG_NR_CPUS tops at 8192. */
#define MAX_CPU_ID (1 << 16)

/* ---- reading files under root ----------------------------------------- */

static const char *root_prefix(const char *root)
{
	/* NULL and "/" are the live system; paths below are built as
	 * "<root>/<rel>", so the live root is the empty string. */
	if (!root || !strcmp(root, "/"))
		return "";
	return root;
}

__attribute__((format(printf, 4, 5))) static int mkpath(char *buf, size_t size, const char *root, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, size, "%s/", root_prefix(root));
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= size - n)
		return -ENAMETOOLONG;
	return 0;
}

/* Reads a whole (small) file; strips trailing newlines.  Returns the length or -errno. */
static int read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	r = (int)len;
out:
	close(fd);
	return r;
}

__attribute__((format(printf, 4, 5))) static int read_rel(const char *root, char *buf, size_t size, const char *fmt,
							  ...)
{
	char path[PATH_MAX], rel[PATH_MAX];
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	r = mkpath(path, sizeof(path), root, "%s", rel);
	if (r < 0)
		return r;
	return read_text(path, buf, size);
}

static int parse_u64(const char *s, int base, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		if (!(base == 16 && ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F'))))
			return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno)
		return -errno;
	if (end == s || (*end && *end != '\n'))
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_int(const char *s, int *ret)
{
	long v;
	char *end;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno)
		return -errno;
	if (end == s || *end || v < INT_MIN || v > INT_MAX)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

/* A sysfs number attribute; *ret untouched when absent or malformed. */
__attribute__((format(printf, 3, 4))) static void read_u64_rel(const char *root, uint64_t *ret, const char *fmt, ...)
{
	char rel[PATH_MAX], buf[64];
	va_list ap;
	uint64_t v;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return;
	if (read_rel(root, buf, sizeof(buf), "%s", rel) < 0)
		return;
	if (parse_u64(buf, 10, &v) == 0)
		*ret = v;
}

/* "name" is "<prefix><decimal>" exactly; returns the number or -1. */
static long name_number(const char *name, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = suffix ? strlen(suffix) : 0, len = strlen(name);
	uint64_t v;

	if (len <= pl + sl || strncmp(name, prefix, pl))
		return -1;
	if (sl && strcmp(name + len - sl, suffix))
		return -1;
	if (mp_parse_uint(name + pl, len - pl - sl, INT_MAX, &v) < 0)
		return -1;
	return (long)v;
}

/* ---- lists ------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The kernel's cpulist format ("0-3,8-11", "" for none).  CPU numbers can
 * exceed MP_MAX_NODES, so this is not a node mask.  Returns the count and a
 * sorted malloc'ed array (NULL for none), or -errno.
 */
static int parse_cpulist(const char *s, int **ret)
{
	int *cpus = NULL, n = 0, cap = 0;

	while (*s) {
		uint64_t a, b;
		const char *p = s;
		size_t len;

		while (*p && *p != ',')
			p++;
		len = p - s;
		const char *dash = memchr(s, '-', len);

		if (dash) {
			if (mp_parse_uint(s, dash - s, MAX_CPU_ID, &a) < 0 ||
			    mp_parse_uint(dash + 1, s + len - dash - 1, MAX_CPU_ID, &b) < 0 || b < a)
				goto einval;
		} else {
			if (mp_parse_uint(s, len, MAX_CPU_ID, &a) < 0)
				goto einval;
			b = a;
		}
		for (uint64_t c = a; c <= b; c++) {
			if (n == cap) {
				int *nc;

				cap = cap ? cap * 2 : 16;
				if (cap > MAX_CPU_ID + 1)
					goto einval;
				nc = realloc(cpus, cap * sizeof(*nc));
				if (!nc) {
					free(cpus);
					return -ENOMEM;
				}
				cpus = nc;
			}
			cpus[n++] = (int)c;
		}
		s = *p ? p + 1 : p;
	}
	if (n)
		qsort(cpus, n, sizeof(*cpus), cmp_int);
	*ret = cpus;
	return n;
einval:
	free(cpus);
	return -EINVAL;
}

static int read_mask(const char *root, const char *rel, struct mp_nodemask *ret)
{
	char buf[4096];
	int r;

	r = read_rel(root, buf, sizeof(buf), "%s", rel);
	if (r < 0)
		return r;
	return mp_mask_parse(buf, r, ret, NULL);
}

/* ---- per node ---------------------------------------------------------- */

/*
 * nodeN/meminfo, "Node 0 MemTotal:        4941600 kB" per line, into st:
 * the fields placement and mplace top use.  Returns 0, or -errno when the
 * file cannot be read (st untouched then).
 */
static int read_meminfo(const char *root, int node, struct mp_node_stat *st)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"MemTotal", offsetof(struct mp_node_stat, total)},
		{"MemFree", offsetof(struct mp_node_stat, free)},
		{"Active(file)", offsetof(struct mp_node_stat, active_file)},
		{"Inactive(file)", offsetof(struct mp_node_stat, inactive_file)},
		{"KReclaimable", offsetof(struct mp_node_stat, kreclaimable)},
	};
	char buf[8192], key[64];
	char *line, *save = NULL;
	int r;

	r = read_rel(root, buf, sizeof(buf), NODE_DIR "/node%d/meminfo", node);
	if (r < 0)
		return r;
	memset(st, 0, offsetof(struct mp_node_stat, promote));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *val, *end;
		unsigned long long kb;
		int id;

		if (strncmp(p, "Node ", 5))
			continue;
		p += 5;
		val = strchr(p, ' ');
		if (!val)
			continue;
		*val++ = '\0';
		if (parse_int(p, &id) < 0 || id != node)
			continue;
		while (*val == ' ')
			val++;
		end = strchr(val, ':');
		if (!end || (size_t)(end - val) >= sizeof(key))
			continue;
		memcpy(key, val, end - val);
		key[end - val] = '\0';
		errno = 0;
		kb = strtoull(end + 1, &val, 10);
		if (errno || val == end + 1 || kb > UINT64_MAX / 1024)
			continue;
		while (*val == ' ')
			val++;
		if (strcmp(val, "kB"))
			continue;
		for (size_t k = 0; k < MP_ARRAY_SIZE(keys); k++)
			if (!strcmp(key, keys[k].key))
				*(uint64_t *)((char *)st + keys[k].off) = kb * 1024;
	}
	return 0;
}

static void load_meminfo(const char *root, struct mp_node *n)
{
	struct mp_node_stat st;

	if (read_meminfo(root, n->id, &st) < 0)
		return;
	n->mem_total = st.total;
	n->mem_free = st.free;
}

/* "name value" lines (nodeN/vmstat, /proc/vmstat): the value of each of
 * names[0, n) into vals (summed when a name is listed twice); returns how
 * many lines matched, or -errno. */
static int read_vmstat(const char *path, const char *const *names, size_t n, uint64_t *vals)
{
	char *text = NULL, *line, *save = NULL;
	int found = 0, r;

	r = mp_read_file(path, 0, &text, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		uint64_t v;

		if (!sp)
			continue;
		*sp = '\0';
		for (size_t k = 0; k < n; k++)
			if (!strcmp(line, names[k]) && parse_u64(sp + 1, 10, &v) == 0) {
				vals[k] += v;
				found++;
			}
	}
	free(text);
	return found;
}

int mp_node_stat_load(const char *root, int node, struct mp_node_stat *ret)
{
	/* promotions into the node (by NUMA balancing in tiering mode), and
	 * demotions out of it by each path the kernel counts (6.1+; proactive
	 * since 6.14, khugepaged since 6.4) */
	static const char *const names[] = {"pgpromote_success", "pgdemote_kswapd", "pgdemote_direct",
					    "pgdemote_khugepaged", "pgdemote_proactive"};
	uint64_t vals[MP_ARRAY_SIZE(names)] = {0};
	struct mp_node_stat st;
	char path[PATH_MAX];
	int r;

	r = read_meminfo(root, node, &st);
	if (r < 0)
		return r;
	st.promote = st.demote = 0;
	st.have_vmstat = false;
	if (mkpath(path, sizeof(path), root, NODE_DIR "/node%d/vmstat", node) == 0 &&
	    read_vmstat(path, names, MP_ARRAY_SIZE(names), vals) > 0) {
		st.have_vmstat = true;
		st.promote = vals[0];
		for (size_t k = 1; k < MP_ARRAY_SIZE(names); k++)
			st.demote += vals[k];
	}
	*ret = st;
	return 0;
}

int mp_vm_stat_load(const char *root, struct mp_vm_stat *ret)
{
	static const char *const names[] = {"pgmigrate_success", "pgmigrate_fail", "numa_pages_migrated"};
	uint64_t vals[MP_ARRAY_SIZE(names)] = {0};
	char path[PATH_MAX];
	int r;

	r = mkpath(path, sizeof(path), root, "proc/vmstat");
	if (r < 0)
		return r;
	r = read_vmstat(path, names, MP_ARRAY_SIZE(names), vals);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENODATA;
	ret->migrate_success = vals[0];
	ret->migrate_fail = vals[1];
	ret->numa_migrated = vals[2];
	return 0;
}

static void load_hmat(const char *root, struct mp_node *n)
{
	static const char *const attr[] = {"read_bandwidth", "write_bandwidth", "read_latency", "write_latency"};
	uint32_t *dst[] = {&n->read_bw, &n->write_bw, &n->read_lat, &n->write_lat};

	/* access0 is the best-performing initiator class (any initiator,
	 * including generic initiators); access1 restricts to CPUs. */
	for (size_t i = 0; i < MP_ARRAY_SIZE(attr); i++) {
		uint64_t v = 0;

		read_u64_rel(root, &v, NODE_DIR "/node%d/access0/initiators/%s", n->id, attr[i]);
		*dst[i] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
}

static int cmp_huge(const void *a, const void *b)
{
	return cmp_u64(&((const struct mp_hugepool *)a)->page_size, &((const struct mp_hugepool *)b)->page_size);
}

static int load_hugepages(const char *root, struct mp_node *n)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r;

	r = mkpath(path, sizeof(path), root, NODE_DIR "/node%d/hugepages", n->id);
	if (r < 0)
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		long kb = name_number(de->d_name, "hugepages-", "kB");
		struct mp_hugepool *h;

		if (kb <= 0)
			continue;
		h = realloc(n->huge, (n->n_huge + 1) * sizeof(*h));
		if (!h) {
			closedir(d);
			return -ENOMEM;
		}
		n->huge = h;
		h = &n->huge[n->n_huge++];
		h->page_size = (uint64_t)kb * 1024;
		h->nr = h->free = 0;
		read_u64_rel(root, &h->nr, NODE_DIR "/node%d/hugepages/%s/nr_hugepages", n->id, de->d_name);
		read_u64_rel(root, &h->free, NODE_DIR "/node%d/hugepages/%s/free_hugepages", n->id, de->d_name);
	}
	closedir(d);
	if (n->n_huge)
		qsort(n->huge, n->n_huge, sizeof(*n->huge), cmp_huge);
	return 0;
}

/* Physical ranges from the node's memoryM links: block M covers
 * [M * block_size, (M + 1) * block_size).  Adjacent blocks merge. */
static int load_phys(const char *root, struct mp_node *n, uint64_t block_size)
{
	char path[PATH_MAX];
	uint64_t *blocks = NULL;
	unsigned nb = 0, cap = 0;
	struct dirent *de;
	int r = 0;
	DIR *d;

	if (!block_size)
		return 0;
	if (mkpath(path, sizeof(path), root, NODE_DIR "/node%d", n->id) < 0)
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		long m = name_number(de->d_name, "memory", NULL);

		if (m < 0)
			continue;
		if (nb == cap) {
			uint64_t *nbk;

			cap = cap ? cap * 2 : 64;
			nbk = realloc(blocks, cap * sizeof(*nbk));
			if (!nbk) {
				r = -ENOMEM;
				goto out;
			}
			blocks = nbk;
		}
		blocks[nb++] = (uint64_t)m;
	}
	if (!nb)
		goto out;
	qsort(blocks, nb, sizeof(*blocks), cmp_u64);
	for (unsigned i = 0; i < nb; i++) {
		uint64_t start = blocks[i] * block_size, end = start + block_size;

		if (n->n_phys && n->phys[n->n_phys - 1][1] == start) {
			n->phys[n->n_phys - 1][1] = end;
			continue;
		}
		uint64_t(*np)[2] = realloc(n->phys, (n->n_phys + 1) * sizeof(*np));
		if (!np) {
			r = -ENOMEM;
			goto out;
		}
		n->phys = np;
		n->phys[n->n_phys][0] = start;
		n->phys[n->n_phys][1] = end;
		n->n_phys++;
	}
out:
	free(blocks);
	closedir(d);
	return r;
}

/* The CPUs that are online, sorted; 0 and NULL when cpu/online cannot be
 * read, which leaves every CPU a node lists counted as online. */
struct cpu_online {
	bool known;
	unsigned n;
	int *cpus;
};

static int load_cpu_online(const char *root, struct cpu_online *ret)
{
	char buf[16384];
	int r;

	ret->known = false;
	ret->n = 0;
	ret->cpus = NULL;
	/* Documentation/ABI/testing/sysfs-devices-system-cpu: "online",
	 * the CPUs that are online and being scheduled */
	if (read_rel(root, buf, sizeof(buf), "sys/devices/system/cpu/online") < 0)
		return 0;
	r = parse_cpulist(buf, &ret->cpus);
	if (r == -ENOMEM)
		return r;
	/* an empty or malformed list would take every CPU away: unknown */
	if (r <= 0)
		return 0;
	ret->known = true;
	ret->n = (unsigned)r;
	return 0;
}

static bool cpu_is_online(const struct cpu_online *on, int cpu)
{
	if (!on->known)
		return true;
	return bsearch(&cpu, on->cpus, on->n, sizeof(*on->cpus), cmp_int) != NULL;
}

/*
 * The node's cpulist, split into online and offline CPUs.  The node's mask
 * is the architecture's to keep: x86 drops a CPU from it when the CPU goes
 * offline, not every architecture does, and a CPU that cannot run is no CPU
 * to place memory near.  A missing or malformed cpulist leaves the node
 * without CPUs.  Returns 0 or -ENOMEM.
 */
static int load_cpus(const char *root, struct mp_node *n, const struct cpu_online *on)
{
	char buf[16384];
	unsigned k = 0, off = 0;
	int *all = NULL, r;

	r = read_rel(root, buf, sizeof(buf), NODE_DIR "/node%d/cpulist", n->id);
	if (r < 0)
		return 0;
	r = parse_cpulist(buf, &all);
	if (r <= 0)
		return r == -ENOMEM ? r : 0;
	for (int i = 0; i < r; i++)
		if (!cpu_is_online(on, all[i]))
			off++;
	if (off) {
		n->offline_cpus = malloc(off * sizeof(*n->offline_cpus));
		if (!n->offline_cpus) {
			free(all);
			return -ENOMEM;
		}
	}
	/* online CPUs are compacted in place, in their sorted order */
	for (int i = 0; i < r; i++) {
		if (cpu_is_online(on, all[i]))
			all[k++] = all[i];
		else
			n->offline_cpus[n->n_offline_cpus++] = all[i];
	}
	if (!k) {
		free(all);
		all = NULL;
	}
	n->cpus = all;
	n->n_cpus = k;
	return 0;
}

static int load_node(const char *root, struct mp_node *n, uint64_t block_size, const struct cpu_online *on,
		     unsigned skip)
{
	int r;

	n->tier = -1;
	n->tier_id = -1;
	r = load_cpus(root, n, on);
	if (r < 0)
		return r;
	load_meminfo(root, n);
	if (!(skip & MP_TOPO_HMAT))
		load_hmat(root, n);
	if (!(skip & MP_TOPO_HUGEPAGES)) {
		r = load_hugepages(root, n);
		if (r < 0)
			return r;
	}
	return skip & MP_TOPO_PHYS ? 0 : load_phys(root, n, block_size);
}

/* ---- distances --------------------------------------------------------- */

/*
 * nodeN/distance lists the distance to every online node in ascending id
 * order (for_each_online_node), which is exactly the order of t->nodes.
 */
static void load_distances(const char *root, struct mp_topo *t)
{
	char buf[16384];

	for (unsigned i = 0; i < t->n_nodes; i++) {
		char *p = buf, *end;
		unsigned j = 0;

		if (read_rel(root, buf, sizeof(buf), NODE_DIR "/node%d/distance", t->nodes[i].id) < 0)
			continue;
		while (*p && j < t->n_nodes) {
			long v;

			while (*p == ' ')
				p++;
			if (!*p)
				break;
			errno = 0;
			v = strtol(p, &end, 10);
			if (errno || end == p || v < 0 || v > 255)
				break;
			t->distance[i * t->n_nodes + j++] = (int)v;
			p = end;
		}
	}
}

/* ---- memory tiers ------------------------------------------------------ */

struct tier_ent {
	long id;
	struct mp_nodemask nodes;
};

static int cmp_tier(const void *a, const void *b)
{
	long x = ((const struct tier_ent *)a)->id, y = ((const struct tier_ent *)b)->id;

	return (x > y) - (x < y);
}

/* Returns 1 when sysfs tiers were found, 0 when absent, -errno. */
static int load_tiers_sysfs(const char *root, struct mp_topo *t)
{
	struct tier_ent *tiers = NULL;
	unsigned nt = 0;
	char path[PATH_MAX];
	struct dirent *de;
	int r = 0;
	DIR *d;

	if (mkpath(path, sizeof(path), root, "sys/devices/virtual/memory_tiering") < 0)
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		long id = name_number(de->d_name, "memory_tier", NULL);
		struct tier_ent *nt_;
		char rel[PATH_MAX];

		if (id < 0)
			continue;
		nt_ = realloc(tiers, (nt + 1) * sizeof(*nt_));
		if (!nt_) {
			r = -ENOMEM;
			goto out;
		}
		tiers = nt_;
		tiers[nt].id = id;
		mp_mask_zero(&tiers[nt].nodes);
		snprintf(rel, sizeof(rel), "sys/devices/virtual/memory_tiering/%s/nodelist", de->d_name);
		(void)read_mask(root, rel, &tiers[nt].nodes);
		nt++;
	}
	if (!nt)
		goto out;
	/* A lower memory_tierN id is a lower abstract distance: faster.  GPU
	 * memory gets no rank: the driver onlines it into the default tier
	 * next to DRAM, and tier:fast must not mean the GPU's memory.  A tier
	 * that holds nothing else is no rank either. */
	qsort(tiers, nt, sizeof(*tiers), cmp_tier);
	for (unsigned k = 0; k < nt; k++) {
		struct mp_nodemask own;

		mp_mask_andnot(&own, &tiers[k].nodes, &t->gpu_memory);
		if (mp_mask_empty(&own) && !mp_mask_empty(&tiers[k].nodes))
			continue;
		for (unsigned i = 0; i < t->n_nodes; i++)
			if (mp_mask_test(&own, t->nodes[i].id) && t->nodes[i].tier < 0) {
				t->nodes[i].tier = (int)t->n_tiers;
				t->nodes[i].tier_id = (int)tiers[k].id;
			}
		t->n_tiers++;
	}
	r = 1;
out:
	free(tiers);
	closedir(d);
	return r;
}

/* Without memory_tiering (before 6.1, or CONFIG_NUMA off there): nodes with
 * CPUs are taken as the fast tier and CPU-less memory as the slow one, which
 * is also the kernel's default when firmware gives no performance data. */
static void derive_tiers(struct mp_topo *t)
{
	bool fast = false, slow = false;

	/* GPU memory is CPU-less, but it is not the slow tier of this machine */
	for (unsigned i = 0; i < t->n_nodes; i++) {
		if (!t->nodes[i].has_memory || t->nodes[i].gpu_memory)
			continue;
		if (t->nodes[i].has_cpu)
			fast = true;
		else
			slow = true;
	}
	for (unsigned i = 0; i < t->n_nodes; i++) {
		struct mp_node *n = &t->nodes[i];

		if (!n->has_memory || n->gpu_memory)
			continue;
		n->tier = n->has_cpu || !fast ? 0 : 1;
	}
	t->n_tiers = (unsigned)fast + (unsigned)slow;
}

/* ---- GPU memory -------------------------------------------------------- */

/*
 * Nodes that are a GPU's memory.  The NVIDIA driver onlines the coherent
 * memory of a GPU (V100 over NVLink on POWER9, Hopper over NVLink-C2C on
 * Grace Hopper) as a CPU-less NUMA node, and names that node in
 * proc/driver/nvidia/gpus/<PCI address>/numa_status, a "Node: N" line.  This
 * is what hwloc reads to call such nodes "GPUMemory".  Nothing under
 * sys/devices/system/node tells them apart from CXL or HBM: they are
 * CPU-less nodes with memory, far away, in the default memory tier.
 * Without the driver's directory (no NVIDIA driver, or a container that does
 * not show it) no node is GPU memory.
 */
static void load_gpu_memory(const char *root, struct mp_topo *t)
{
	char path[PATH_MAX], buf[1024];
	struct dirent *de;
	DIR *d;

	if (mkpath(path, sizeof(path), root, "proc/driver/nvidia/gpus") < 0)
		return;
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *line, *save = NULL;

		if (de->d_name[0] == '.' ||
		    read_rel(root, buf, sizeof(buf), "proc/driver/nvidia/gpus/%s/numa_status", de->d_name) < 0)
			continue;
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			struct mp_node *n;
			char *p, *e;
			int id, i;

			if (strncmp(line, "Node:", 5))
				continue;
			p = line + 5;
			while (*p == ' ' || *p == '\t')
				p++;
			e = p + strlen(p);
			while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
				*--e = '\0';
			/* "-1" when the GPU's memory is not a node */
			if (parse_int(p, &id) < 0 || id < 0 || (i = mp_topo_index(t, id)) < 0)
				break;
			n = &t->nodes[i];
			/* one GPU per node; the lowest address if the driver
			 * ever names two, so readdir order does not matter; a
			 * name too long for a PCI address stays unknown */
			if (strlen(de->d_name) < sizeof(n->gpu) && (!n->gpu[0] || strcmp(de->d_name, n->gpu) < 0))
				memcpy(n->gpu, de->d_name, strlen(de->d_name) + 1);
			n->gpu_memory = true;
			mp_mask_set(&t->gpu_memory, (unsigned)id);
			break;
		}
	}
	closedir(d);
}

/* ---- devices ----------------------------------------------------------- */

static int cmp_dev(const void *a, const void *b)
{
	const struct mp_device *x = a, *y = b;

	if (x->type != y->type)
		return (int)x->type - (int)y->type;
	return strcmp(x->name, y->name);
}

/*
 * A device's node: numa_node of the device itself; for nvme namespaces and
 * other class devices whose "device" is itself a class device, the one below
 * it; for virtio, the bus device above it ("device/.." resolves from the
 * link's target, so it is the PCI function the virtio device sits on).
 */
static int device_node(const char *root, const char *cls, const char *name, bool *found)
{
	static const char *const tries[] = {"numa_node", "device/numa_node", "../numa_node"};
	char buf[32];
	int v;

	*found = false;
	for (size_t i = 0; i < MP_ARRAY_SIZE(tries); i++) {
		if (read_rel(root, buf, sizeof(buf), "%s/%s/device/%s", cls, name, tries[i]) < 0)
			continue;
		*found = true;
		if (parse_int(buf, &v) < 0 || v < -1)
			return -1;
		return v;
	}
	return -1;
}

static int add_device(struct mp_topo *t, enum mp_dev_type type, const char *name, int node)
{
	struct mp_device *d = realloc(t->devices, (t->n_devices + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	t->devices = d;
	d = &t->devices[t->n_devices];
	d->name = strdup(name);
	if (!d->name)
		return -ENOMEM;
	d->type = type;
	d->node = node;
	t->n_devices++;
	return 0;
}

static int load_devices(const char *root, struct mp_topo *t)
{
	static const struct {
		enum mp_dev_type type;
		const char *dir;
	} classes[] = {
		{MP_DEV_PCI, "sys/bus/pci/devices"},
		{MP_DEV_NET, "sys/class/net"},
		{MP_DEV_BLOCK, "sys/class/block"},
	};

	for (size_t c = 0; c < MP_ARRAY_SIZE(classes); c++) {
		char path[PATH_MAX], buf[32];
		struct dirent *de;
		DIR *d;

		if (mkpath(path, sizeof(path), root, "%s", classes[c].dir) < 0)
			continue;
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			bool found = false;
			int node = -1, r;

			if (de->d_name[0] == '.')
				continue;
			if (classes[c].type == MP_DEV_PCI) {
				if (read_rel(root, buf, sizeof(buf), "%s/%s/numa_node", classes[c].dir, de->d_name) >=
				    0) {
					found = true;
					if (parse_int(buf, &node) < 0 || node < -1)
						node = -1;
				}
			} else {
				node = device_node(root, classes[c].dir, de->d_name, &found);
			}
			/* Virtual interfaces and loop devices have no device: not
			 * placement anchors. */
			if (!found)
				continue;
			r = add_device(t, classes[c].type, de->d_name, node);
			if (r < 0) {
				closedir(d);
				return r;
			}
		}
		closedir(d);
	}
	if (t->n_devices)
		qsort(t->devices, t->n_devices, sizeof(*t->devices), cmp_dev);
	return 0;
}

/* ---- the whole topology ------------------------------------------------ */

/* Online nodes: the "online" list, else every nodeN directory. */
static int online_nodes(const char *root, struct mp_nodemask *ret)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r;

	r = mkpath(path, sizeof(path), root, NODE_DIR);
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return -ENOENT;
	mp_mask_zero(ret);
	if (read_mask(root, NODE_DIR "/online", ret) < 0 || mp_mask_empty(ret)) {
		mp_mask_zero(ret);
		while ((de = readdir(d))) {
			long id = name_number(de->d_name, "node", NULL);

			if (id >= 0 && id < MP_MAX_NODES)
				mp_mask_set(ret, (unsigned)id);
		}
	}
	closedir(d);
	return mp_mask_empty(ret) ? -ENOENT : 0;
}

int mp_topo_load(const char *root, struct mp_topo **ret)
{
	return mp_topo_load_parts(root, 0, ret);
}

int mp_topo_load_parts(const char *root, unsigned skip, struct mp_topo **ret)
{
	struct mp_nodemask online, has_mem, has_cpu;
	bool have_mem_list, have_cpu_list;
	struct cpu_online on;
	uint64_t block_size = 0;
	struct mp_topo *t;
	char buf[64];
	unsigned i;
	int r;

	if (!ret)
		return -EINVAL;
	r = online_nodes(root, &online);
	if (r < 0)
		return r;
	have_mem_list = read_mask(root, NODE_DIR "/has_memory", &has_mem) == 0;
	have_cpu_list = read_mask(root, NODE_DIR "/has_cpu", &has_cpu) == 0;
	if (read_rel(root, buf, sizeof(buf), "sys/devices/system/memory/block_size_bytes") >= 0 &&
	    parse_u64(buf, 16, &block_size) < 0)
		block_size = 0;
	r = load_cpu_online(root, &on);
	if (r < 0)
		return r;

	t = calloc(1, sizeof(*t));
	if (!t) {
		free(on.cpus);
		return -ENOMEM;
	}
	t->skipped = skip;
	t->n_nodes = mp_mask_weight(&online);
	t->nodes = calloc(t->n_nodes, sizeof(*t->nodes));
	t->distance = calloc((size_t)t->n_nodes * t->n_nodes, sizeof(*t->distance));
	if (!t->nodes || !t->distance) {
		r = -ENOMEM;
		goto fail;
	}
	t->online = online;
	i = 0;
	mp_mask_foreach(id, &online) {
		struct mp_node *n = &t->nodes[i++];

		n->id = id;
		r = load_node(root, n, block_size, &on, skip);
		if (r < 0)
			goto fail;
		/* The kernel's node state lists are authoritative; fall back
		 * on what the node directory shows when they are missing.
		 * N_CPU stays set while the node's mask keeps an offline CPU,
		 * so a node whose every CPU is offline has none here. */
		n->has_memory = have_mem_list ? mp_mask_test(&has_mem, id) : n->mem_total > 0;
		n->has_cpu = have_cpu_list ? mp_mask_test(&has_cpu, id) : n->n_cpus > 0;
		if (!n->n_cpus && n->n_offline_cpus)
			n->has_cpu = false;
		if (n->has_memory)
			mp_mask_set(&t->memory, id);
		if (n->has_cpu)
			mp_mask_set(&t->cpu_nodes, id);
	}
	free(on.cpus);
	on.cpus = NULL;
	load_distances(root, t);
	load_gpu_memory(root, t);
	r = skip & MP_TOPO_TIERS ? 0 : load_tiers_sysfs(root, t);
	if (r < 0)
		goto fail;
	t->tiers_from_sysfs = r > 0;
	if (!t->tiers_from_sysfs)
		derive_tiers(t);
	r = skip & MP_TOPO_DEVICES ? 0 : load_devices(root, t);
	if (r < 0)
		goto fail;
	*ret = t;
	return 0;
fail:
	free(on.cpus);
	mp_topo_free(t);
	return r;
}

void mp_topo_free(struct mp_topo *t)
{
	if (!t)
		return;
	for (unsigned i = 0; t->nodes && i < t->n_nodes; i++) {
		free(t->nodes[i].cpus);
		free(t->nodes[i].offline_cpus);
		free(t->nodes[i].huge);
		free(t->nodes[i].phys);
	}
	for (unsigned i = 0; i < t->n_devices; i++)
		free(t->devices[i].name);
	free(t->devices);
	free(t->nodes);
	free(t->distance);
	free(t);
}

int mp_topo_index(const struct mp_topo *t, int node)
{
	unsigned lo = 0, hi;

	if (!t)
		return -1;
	hi = t->n_nodes;
	/* nodes are sorted by id */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (t->nodes[mid].id == node)
			return (int)mid;
		if (t->nodes[mid].id < node)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int mp_topo_distance(const struct mp_topo *t, int from, int to)
{
	int a = mp_topo_index(t, from), b = mp_topo_index(t, to), d;

	if (a < 0 || b < 0)
		return -1;
	d = t->distance[(size_t)a * t->n_nodes + b];
	return d > 0 ? d : -1;
}

const struct mp_device *mp_topo_device(const struct mp_topo *t, const char *spec)
{
	static const struct {
		enum mp_dev_type type;
		const char *prefix;
	} types[] = {{MP_DEV_PCI, "pci:"}, {MP_DEV_NET, "net:"}, {MP_DEV_BLOCK, "block:"}};
	const char *name = spec;
	int want = -1;

	if (!t || !spec)
		return NULL;
	for (size_t k = 0; k < MP_ARRAY_SIZE(types); k++) {
		size_t pl = strlen(types[k].prefix);

		if (!strncmp(spec, types[k].prefix, pl)) {
			want = (int)types[k].type;
			name = spec + pl;
			break;
		}
	}
	/* Bare names are searched PCI, then net, then block: the order of
	 * enum mp_dev_type, which is also the order devices are sorted in. */
	for (unsigned i = 0; i < t->n_devices; i++)
		if ((want < 0 || (int)t->devices[i].type == want) && !strcmp(t->devices[i].name, name))
			return &t->devices[i];
	return NULL;
}

/* ---- cgroups ----------------------------------------------------------- */

/*
 * Effective mems of a cgroup under one hierarchy: the file at the cgroup,
 * else at its closest ancestor that has it (in cgroup v2 the cpuset files
 * appear only where the controller is enabled, and a child without them
 * uses its parent's; in v1 every cgroup has them).  Returns 0 and fills
 * *ret when found, -ENOENT otherwise.
 */
static int effective_mems(const char *root, const char *base, const char *path, const char *file,
			  struct mp_nodemask *ret)
{
	char cur[PATH_MAX], rel[PATH_MAX];
	size_t len;
	int n;

	n = snprintf(cur, sizeof(cur), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(cur))
		return -ENAMETOOLONG;
	len = (size_t)n;
	while (len > 0 && cur[len - 1] == '/')
		cur[--len] = '\0';
	for (;;) {
		struct mp_nodemask m;
		char buf[4096];
		int r;

		n = snprintf(rel, sizeof(rel), "%s%s/%s", base, cur, file);
		if (n < 0 || (size_t)n >= sizeof(rel))
			return -ENAMETOOLONG;
		r = read_rel(root, buf, sizeof(buf), "%s", rel);
		if (r >= 0 && mp_mask_parse(buf, r, &m, NULL) == 0) {
			*ret = m;
			return 0;
		}
		if (len == 0)
			return -ENOENT;
		while (len > 0 && cur[len - 1] != '/')
			len--;
		while (len > 0 && cur[len - 1] == '/')
			len--;
		cur[len] = '\0';
	}
}

static int cgroup_fill(const char *root, const char *v2, const char *v1, struct mp_cgroup *ret)
{
	struct mp_nodemask m;
	const char *path = NULL;
	bool has = false;
	char *dup;

	/* Hybrid hosts list both; cpuset lives in whichever hierarchy has
	 * the files, so try v2 first and fall back on the v1 cpuset. */
	if (v2 && effective_mems(root, "sys/fs/cgroup", v2, "cpuset.mems.effective", &m) == 0) {
		path = v2;
		has = true;
	} else if (v1 && effective_mems(root, "sys/fs/cgroup/cpuset", v1, "cpuset.effective_mems", &m) == 0) {
		path = v1;
		has = true;
	} else {
		path = v2 ? v2 : v1;
	}
	dup = strdup(path ? path : "/");
	if (!dup)
		return -ENOMEM;
	ret->path = dup;
	ret->has_mems = has;
	if (has)
		ret->mems = m;
	else
		mp_mask_zero(&ret->mems);
	return 0;
}

int mp_cgroup_load(const char *root, int pid, struct mp_cgroup *ret)
{
	char buf[16384], *line, *save = NULL, *v2 = NULL, *v1 = NULL;
	int r;

	if (!ret || pid < 0)
		return -EINVAL;
	if (pid == 0)
		r = read_rel(root, buf, sizeof(buf), "proc/self/cgroup");
	else
		r = read_rel(root, buf, sizeof(buf), "proc/%d/cgroup", pid);
	if (r < 0)
		return r;
	/* Lines are "hierarchy-ID:controller-list:path" (cgroups(7)); the
	 * cgroup2 line is "0::/path". */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2;

		if (!c1)
			continue;
		c2 = strchr(c1 + 1, ':');
		if (!c2 || c2[1] != '/')
			continue;
		*c1 = '\0';
		*c2 = '\0';
		if (!strcmp(line, "0") && c1[1] == '\0') {
			v2 = c2 + 1;
			continue;
		}
		/* v1: the controller list is comma-separated ("cpuset" or
		 * "cpu,cpuset" when co-mounted). */
		for (char *tok = c1 + 1, *end; tok && *tok; tok = end ? end + 1 : NULL) {
			end = strchr(tok, ',');
			if ((end ? (size_t)(end - tok) : strlen(tok)) == 6 && !strncmp(tok, "cpuset", 6))
				v1 = c2 + 1;
		}
	}
	if (!v2 && !v1)
		return -ENOENT;
	return cgroup_fill(root, v2, v1, ret);
}

/* A cgroup path names a directory below the hierarchy; ".." would leave it. */
static bool path_escapes(const char *path)
{
	for (const char *p = strstr(path, ".."); p; p = strstr(p + 1, ".."))
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

int mp_cgroup_load_path(const char *root, const char *path, struct mp_cgroup *ret)
{
	if (!ret || !path || path[0] != '/' || path_escapes(path))
		return -EINVAL;
	return cgroup_fill(root, path, path, ret);
}

void mp_cgroup_free(struct mp_cgroup *c)
{
	if (!c)
		return;
	free(c->path);
	c->path = NULL;
}

int mp_topo_local_node(const struct mp_topo *t)
{
	unsigned cpu;

	if (getcpu(&cpu, NULL) < 0)
		return -1;
	for (unsigned i = 0; i < t->n_nodes; i++)
		for (unsigned k = 0; k < t->nodes[i].n_cpus; k++)
			if (t->nodes[i].cpus[k] == (int)cpu)
				return t->nodes[i].id;
	return -1;
}

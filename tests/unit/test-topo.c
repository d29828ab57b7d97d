/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Topology and cgroup loading against the fixture trees in tests/data/topo.
 * The expected values here are written from the machine descriptions, not
 * from the loader's output, so a loader bug fails the test.  Resolution on
 * the machines with offline CPUs and GPU memory is checked here too: what
 * those nodes mean to policies is a property of how they are loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/util.h"
#include "check.h"
#include "core/combine.h"
#include "core/policy.h"
#include "kernel/sys.h"
#include "machine/topo.h"

#define GiB (UINT64_C(1) << 30)

static void fixture(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/tests/data/topo/%s", MPLACE_SOURCE_DIR, name);
}

static struct mp_topo *load(const char *name)
{
	struct mp_topo *t = NULL;
	char root[4096];
	int r;

	fixture(root, sizeof(root), name);
	r = mp_topo_load(root, &t);
	CHECK_MSG(r == 0, "%s: mp_topo_load: %d", name, r);
	return r == 0 ? t : NULL;
}

static const char *mask_str(const struct mp_nodemask *m)
{
	static char buf[4][256];
	static unsigned k;

	k = (k + 1) % 4;
	mp_mask_format(m, buf[k], sizeof(buf[k]));
	return buf[k];
}

/* MemTotal in kB as the fixtures give it: N GiB less the 1/64 firmware keeps. */
#define K16  UINT64_C(16515072)
#define K32  UINT64_C(33030144)
#define K64  UINT64_C(66060288)
#define K128 UINT64_C(132120576)

/* Per-machine summary: node ids, masks, tiers, CPU counts. */
static void test_machines(void)
{
	static const struct {
		const char *name;
		unsigned n_nodes;
		const char *online, *memory, *cpu_nodes;
		bool tiers_from_sysfs;
		unsigned n_tiers;
		int tier[8];	/* by position */
		int tier_id[8]; /* by position */
		unsigned n_cpus[8];
		uint64_t mem_kb[8]; /* MemTotal */
	} cases[] = {
		{"1n", 1, "0", "0", "0", false, 1, {0}, {-1}, {8}, {K16}},
		{"2s", 2, "0-1", "0-1", "0-1", true, 1, {0, 0}, {4, 4}, {32, 32}, {K128, K128}},
		{"2s-cxl",
		 4,
		 "0-3",
		 "0-3",
		 "0-1",
		 true,
		 2,
		 {0, 0, 1, 1},
		 {4, 4, 22, 22},
		 {48, 48, 0, 0},
		 {K64, K64, K32, K32}},
		{"hbm", 2, "0-1", "0-1", "0", true, 1, {0, 0}, {4, 4}, {112, 0}, {K128, K64}},
		{"memless", 2, "0-1", "0", "0-1", false, 1, {0, -1}, {-1, -1}, {16, 16}, {K32, 0}},
		{"8n",
		 8,
		 "0-7",
		 "0-7",
		 "0-7",
		 true,
		 1,
		 {0, 0, 0, 0, 0, 0, 0, 0},
		 {4, 4, 4, 4, 4, 4, 4, 4},
		 {16, 16, 16, 16, 16, 16, 16, 16},
		 {K64, K64, K64, K64, K64, K64, K64, K64}},
		/* CPU 4, 16-23 and 30-31 offline: node 2 has none that runs,
		 * so it is no CPU node and its derived tier is the slow one */
		{"offline-cpus",
		 4,
		 "0-3",
		 "0-3",
		 "0-1,3",
		 false,
		 2,
		 {0, 0, 1, 0},
		 {-1, -1, -1, -1},
		 {7, 8, 0, 6},
		 {K64, K64, K64, K64}},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_topo *t = load(cases[i].name);

		if (!t)
			continue;
		CHECK_MSG(t->n_nodes == cases[i].n_nodes, "%s: %u nodes", cases[i].name, t->n_nodes);
		CHECK_STR(mask_str(&t->online), cases[i].online);
		CHECK_STR(mask_str(&t->memory), cases[i].memory);
		CHECK_STR(mask_str(&t->cpu_nodes), cases[i].cpu_nodes);
		CHECK_MSG(t->tiers_from_sysfs == cases[i].tiers_from_sysfs, "%s", cases[i].name);
		CHECK_MSG(t->n_tiers == cases[i].n_tiers, "%s: %u tiers", cases[i].name, t->n_tiers);
		for (unsigned k = 0; k < t->n_nodes && k < 8; k++) {
			const struct mp_node *n = &t->nodes[k];

			CHECK_MSG(n->id == (int)k, "%s: position %u has node %d", cases[i].name, k, n->id);
			CHECK_MSG(n->tier == cases[i].tier[k], "%s node %d: tier %d", cases[i].name, n->id, n->tier);
			CHECK_MSG(n->tier_id == cases[i].tier_id[k], "%s node %d: tier id %d", cases[i].name, n->id,
				  n->tier_id);
			CHECK_MSG(n->n_cpus == cases[i].n_cpus[k], "%s node %d: %u cpus", cases[i].name, n->id,
				  n->n_cpus);
			CHECK_MSG(n->mem_total == cases[i].mem_kb[k] * 1024, "%s node %d: %llu bytes", cases[i].name,
				  n->id, (unsigned long long)n->mem_total);
			CHECK_MSG(n->mem_free <= n->mem_total, "%s node %d", cases[i].name, n->id);
			CHECK_MSG(n->has_cpu == (n->n_cpus > 0), "%s node %d", cases[i].name, n->id);
			for (unsigned c = 1; c < n->n_cpus; c++)
				CHECK_MSG(n->cpus[c - 1] < n->cpus[c], "%s node %d: cpus unsorted", cases[i].name,
					  n->id);
			CHECK_MSG(mp_topo_distance(t, n->id, n->id) == 10, "%s node %d: self distance", cases[i].name,
				  n->id);
		}
		mp_topo_free(t);
	}
}

/* Every attribute of one machine, 2s-cxl, checked field by field. */
static void test_2s_cxl(void)
{
	static const int dist[4][4] = {{10, 21, 14, 24}, {21, 10, 24, 14}, {14, 24, 10, 26}, {24, 14, 26, 10}};
	static const struct {
		uint32_t rbw, wbw, rlat, wlat;
	} hmat[4] = {
		{100000, 100000, 80, 80}, {100000, 100000, 80, 80}, {25000, 22000, 250, 260}, {25000, 22000, 250, 260}};
	static const struct {
		enum mp_dev_type type;
		const char *name;
		int node;
	} devs[] = {
		{MP_DEV_PCI, "0000:00:00.0", 0}, {MP_DEV_PCI, "0000:17:00.0", 0}, {MP_DEV_PCI, "0000:98:00.0", 1},
		{MP_DEV_PCI, "0000:99:00.0", 1}, {MP_DEV_NET, "ens801f0", 1},	  {MP_DEV_BLOCK, "nvme0n1", 1},
	};
	struct mp_topo *t = load("2s-cxl");
	const struct mp_node *n;

	if (!t)
		return;
	for (int a = 0; a < 4; a++)
		for (int b = 0; b < 4; b++)
			CHECK_MSG(mp_topo_distance(t, a, b) == dist[a][b], "distance %d-%d = %d", a, b,
				  mp_topo_distance(t, a, b));
	CHECK(mp_topo_distance(t, 0, 4) == -1);
	CHECK(mp_topo_index(t, 3) == 3 && mp_topo_index(t, 4) == -1 && mp_topo_index(t, -1) == -1);
	for (int k = 0; k < 4; k++) {
		n = &t->nodes[k];
		CHECK_MSG(n->read_bw == hmat[k].rbw && n->write_bw == hmat[k].wbw && n->read_lat == hmat[k].rlat &&
				  n->write_lat == hmat[k].wlat,
			  "node %d hmat %u %u %u %u", k, n->read_bw, n->write_bw, n->read_lat, n->write_lat);
		CHECK_MSG(n->n_huge == 2, "node %d: %u pools", k, n->n_huge);
		if (n->n_huge == 2)
			CHECK(n->huge[0].page_size == 2 << 20 && n->huge[1].page_size == GiB);
	}
	n = &t->nodes[0];
	CHECK(n->cpus[0] == 0 && n->cpus[23] == 23 && n->cpus[24] == 48 && n->cpus[47] == 71);
	CHECK(n->huge[0].nr == 1024 && n->huge[0].free == 1000 && n->huge[1].nr == 8);
	/* "Node 0 MemTotal: 66060288 kB" */
	CHECK_MSG(n->mem_total == UINT64_C(66060288) * 1024, "%llu", (unsigned long long)n->mem_total);
	/* memory0 and memory2-32 with 2 GiB blocks: the hole at 2-4 GiB */
	CHECK_MSG(n->n_phys == 2, "%u ranges", n->n_phys);
	if (n->n_phys == 2)
		CHECK(n->phys[0][0] == 0 && n->phys[0][1] == 2 * GiB && n->phys[1][0] == 4 * GiB &&
		      n->phys[1][1] == 66 * GiB);
	n = &t->nodes[3];
	CHECK(!n->has_cpu && n->has_memory && n->n_cpus == 0 && n->cpus == NULL);
	CHECK(n->n_phys == 1 && n->phys[0][0] == 288 * GiB && n->phys[0][1] == 320 * GiB);

	CHECK_MSG(t->n_devices == MP_ARRAY_SIZE(devs), "%u devices", t->n_devices);
	for (size_t i = 0; i < MP_ARRAY_SIZE(devs) && i < t->n_devices; i++) {
		CHECK(t->devices[i].type == devs[i].type);
		CHECK_STR(t->devices[i].name, devs[i].name);
		CHECK(t->devices[i].node == devs[i].node);
	}
	/* lookups: typed, bare, absent, type mismatch; virtual devices skipped */
	CHECK(mp_topo_device(t, "pci:0000:98:00.0") && mp_topo_device(t, "pci:0000:98:00.0")->node == 1);
	CHECK(mp_topo_device(t, "net:ens801f0") && mp_topo_device(t, "net:ens801f0")->type == MP_DEV_NET);
	CHECK(mp_topo_device(t, "nvme0n1") && mp_topo_device(t, "nvme0n1")->type == MP_DEV_BLOCK);
	CHECK(mp_topo_device(t, "block:nvme0n1") == mp_topo_device(t, "nvme0n1"));
	CHECK(mp_topo_device(t, "net:nvme0n1") == NULL);
	CHECK(mp_topo_device(t, "lo") == NULL && mp_topo_device(t, "loop0") == NULL);
	CHECK(mp_topo_device(t, "docker0") == NULL && mp_topo_device(t, "pci:") == NULL);
	mp_topo_free(t);
}

static void test_other_machines(void)
{
	struct mp_topo *t;

	/* memless: node 1 has CPUs but no memory, and no derived tier */
	t = load("memless");
	if (t) {
		CHECK(t->nodes[1].has_cpu && !t->nodes[1].has_memory && t->nodes[1].mem_total == 0);
		CHECK(t->nodes[1].n_huge == 1 && t->nodes[1].huge[0].nr == 0);
		CHECK(mp_topo_distance(t, 0, 1) == 20);
		CHECK(t->nodes[0].read_bw == 0 && t->nodes[0].read_lat == 0); /* no HMAT: unknown */
		CHECK(t->n_devices == 2 && t->devices[1].node == 1);
		mp_topo_free(t);
	}
	/* hbm: the HBM node has more bandwidth and less capacity than DRAM */
	t = load("hbm");
	if (t) {
		CHECK(t->nodes[1].read_bw > t->nodes[0].read_bw);
		CHECK(t->nodes[1].mem_total < t->nodes[0].mem_total);
		CHECK(t->nodes[1].tier == t->nodes[0].tier);
		CHECK(mp_topo_distance(t, 1, 0) == 13);
		mp_topo_free(t);
	}
	/* 8n: NPS4 distances, devices spread over nodes */
	t = load("8n");
	if (t) {
		CHECK(mp_topo_distance(t, 0, 1) == 11 && mp_topo_distance(t, 0, 2) == 12);
		CHECK(mp_topo_distance(t, 3, 4) == 32 && mp_topo_distance(t, 7, 6) == 11);
		CHECK(mp_topo_device(t, "enp65s0f1") && mp_topo_device(t, "enp65s0f1")->node == 2);
		CHECK(mp_topo_device(t, "nvme1n1") && mp_topo_device(t, "nvme1n1")->node == 6);
		CHECK(t->nodes[7].n_cpus == 16 && t->nodes[7].cpus[0] == 56 && t->nodes[7].cpus[8] == 120);
		mp_topo_free(t);
	}
	/* qemu-2s-cxl-6.12: recorded from a real 6.12 kernel booted with the
	 * tests/vm/topologies/2s-cxl description: 1 GiB in shares 3:3:1:1 of
	 * 128 MiB blocks, SLIT and HMAT as configured there, and the tier the
	 * kernel computed for the CPU-less nodes from HMAT (28). */
	t = load("qemu-2s-cxl-6.12");
	if (t) {
		static const int d[4][4] = {{10, 21, 24, 34}, {21, 10, 34, 24}, {24, 34, 10, 44}, {34, 24, 44, 10}};
		static const uint64_t start_mib[4] = {0, 384, 768, 896}, end_mib[4] = {384, 768, 896, 1024};

		CHECK(t->n_nodes == 4 && t->tiers_from_sysfs && t->n_tiers == 2);
		for (int a = 0; a < 4 && t->n_nodes == 4; a++) {
			const struct mp_node *n = &t->nodes[a];

			for (int b = 0; b < 4; b++)
				CHECK(mp_topo_distance(t, a, b) == d[a][b]);
			CHECK_MSG(n->n_phys == 1 && n->phys[0][0] == start_mib[a] << 20 &&
					  n->phys[0][1] == end_mib[a] << 20,
				  "node %d phys", a);
			CHECK(n->has_cpu == (a < 2) && n->n_cpus == (a < 2 ? 2u : 0u));
			CHECK(n->tier == (a < 2 ? 0 : 1) && n->tier_id == (a < 2 ? 4 : 28));
			CHECK(n->read_bw == (a < 2 ? 20000u : 8000u) && n->read_lat == (a < 2 ? 100u : 250u));
			CHECK(n->mem_total > 0 && n->mem_total <= (end_mib[a] - start_mib[a]) << 20);
		}
		mp_topo_free(t);
	}
	/* 1n: devices without firmware locality have node -1; blocks 24-31 missing */
	t = load("1n");
	if (t) {
		CHECK(mp_topo_device(t, "pci:0000:01:00.0") && mp_topo_device(t, "pci:0000:01:00.0")->node == -1);
		CHECK(t->nodes[0].n_phys == 2 && t->nodes[0].phys[0][1] == 3 * GiB &&
		      t->nodes[0].phys[1][0] == 4 * GiB && t->nodes[0].phys[1][1] == 17 * GiB);
		CHECK(t->n_devices == 5);
		mp_topo_free(t);
	}
}

/* The CPUs a node lists that are offline are not its CPUs. */
static void test_offline_cpus(void)
{
	static const struct {
		const char *cpus, *offline;
	} want[4] = {{"0-3,5-7", "4"}, {"8-15", ""}, {"", "16-23"}, {"24-29", "30-31"}};
	struct mp_topo *t = load("offline-cpus");

	if (!t)
		return;
	for (unsigned k = 0; k < 4 && k < t->n_nodes; k++) {
		const struct mp_node *n = &t->nodes[k];
		struct mp_nodemask a, b;

		/* CPU numbers here are below the node limit: masks print them */
		mp_mask_zero(&a);
		mp_mask_zero(&b);
		for (unsigned c = 0; c < n->n_cpus; c++)
			mp_mask_set(&a, (unsigned)n->cpus[c]);
		for (unsigned c = 0; c < n->n_offline_cpus; c++) {
			mp_mask_set(&b, (unsigned)n->offline_cpus[c]);
			if (c)
				CHECK(n->offline_cpus[c - 1] < n->offline_cpus[c]);
		}
		CHECK_STR(mp_mask_empty(&a) ? "" : mask_str(&a), want[k].cpus);
		CHECK_STR(mp_mask_empty(&b) ? "" : mask_str(&b), want[k].offline);
	}
	/* has_cpu lists node 2 (the kernel keeps N_CPU while the node's mask
	 * is not empty), but no CPU of it runs */
	CHECK(!t->nodes[2].has_cpu && t->nodes[2].cpus == NULL);
	mp_topo_free(t);
}

/* Nodes that are a GPU's memory, as the NVIDIA driver names them. */
static void test_gpu_memory(void)
{
	static const char *const p9_gpu[6] = {"0004:04:00.0", "0004:05:00.0", "0004:06:00.0",
					      "0035:03:00.0", "0035:04:00.0", "0035:05:00.0"};
	struct mp_topo *t;

	t = load("power9-gpu");
	if (t) {
		CHECK(t->n_nodes == 8);
		CHECK_STR(mask_str(&t->online), "0,8,250-255");
		/* still nodes with memory: a policy may name them */
		CHECK_STR(mask_str(&t->memory), "0,8,250-255");
		CHECK_STR(mask_str(&t->gpu_memory), "250-255");
		CHECK_STR(mask_str(&t->cpu_nodes), "0,8");
		/* no memory tiers on 4.18: derived, and the GPUs' memory is not
		 * the slow tier, so only one tier is left */
		CHECK(!t->tiers_from_sysfs && t->n_tiers == 1);
		for (unsigned k = 0; k < t->n_nodes; k++) {
			const struct mp_node *n = &t->nodes[k];
			bool gpu = n->id >= 250;

			CHECK_MSG(n->gpu_memory == gpu, "node %d", n->id);
			CHECK_MSG(n->tier == (gpu ? -1 : 0) && n->tier_id == -1, "node %d: tier %d", n->id, n->tier);
			CHECK_MSG(n->has_memory && n->n_cpus == (gpu ? 0u : 88u), "node %d", n->id);
			CHECK_STR(n->gpu, gpu ? p9_gpu[n->id - 250] : "");
		}
		CHECK(mp_topo_distance(t, 0, 250) == 80 && mp_topo_distance(t, 0, 8) == 40);
		/* the GPU itself is a PCI device near its socket */
		CHECK(mp_topo_device(t, "pci:0035:05:00.0") && mp_topo_device(t, "pci:0035:05:00.0")->node == 8);
		mp_topo_free(t);
	}
	t = load("grace-hopper");
	if (t) {
		CHECK(t->n_nodes == 9);
		CHECK_STR(mask_str(&t->memory), "0-1");
		CHECK_STR(mask_str(&t->gpu_memory), "1");
		CHECK_STR(mask_str(&t->cpu_nodes), "0");
		/* memory_tier4 holds both; only the CPU's memory gets a rank */
		CHECK(t->tiers_from_sysfs && t->n_tiers == 1);
		CHECK(t->nodes[0].tier == 0 && t->nodes[0].tier_id == 4);
		CHECK(t->nodes[1].gpu_memory && t->nodes[1].tier == -1 && t->nodes[1].tier_id == -1);
		CHECK_STR(t->nodes[1].gpu, "0009:01:00.0");
		/* the HBM has the bandwidth, which is why best: must not see it */
		CHECK(t->nodes[1].read_bw > t->nodes[0].read_bw);
		for (unsigned k = 2; k < t->n_nodes; k++)
			CHECK(!t->nodes[k].gpu_memory && !t->nodes[k].has_memory && t->nodes[k].tier == -1);
		mp_topo_free(t);
	}
	/* machines without the driver's directory have no GPU memory */
	t = load("hbm");
	if (t) {
		CHECK(mp_mask_empty(&t->gpu_memory) && !t->nodes[1].gpu_memory);
		mp_topo_free(t);
	}
}

/* ---- resolution on these machines ------------------------------------- */

struct rcase {
	const char *text;
	int ret;
	const char *nodes, *allowed, *fallback; /* NULL: not checked */
};

static void check_rcase(const struct mp_topo *t, const struct mp_cgroup *cg, const struct rcase *c)
{
	struct mp_resolve_ctx ctx = {.topo = t, .cgroup = cg, .local_node = -1};
	struct mp_compiled out;
	struct mp_diag d;
	int r = mp_compile(c->text, &ctx, &out, &d);

	CHECK_MSG(r == c->ret, "'%s': %d (%s)", c->text, r, r < 0 ? d.msg : "");
	if (r < 0)
		return;
	if (c->nodes)
		CHECK_MSG(!strcmp(mp_mask_empty(&out.nodes) ? "" : mask_str(&out.nodes), c->nodes),
			  "'%s': nodes %s, want %s", c->text, mask_str(&out.nodes), c->nodes);
	if (c->allowed)
		CHECK_MSG(!strcmp(mask_str(&out.allowed), c->allowed), "'%s': allowed %s, want %s", c->text,
			  mask_str(&out.allowed), c->allowed);
	if (c->fallback) {
		struct mp_sb b;

		mp_sb_init(&b);
		for (unsigned i = 0; i < out.n_fallback; i++)
			mp_sb_printf(&b, "%s%d", i ? "," : "", out.fallback[i]);
		CHECK_MSG(!strcmp(b.s ? b.s : "", c->fallback), "'%s': fallback %s, want %s", c->text, b.s ? b.s : "",
			  c->fallback);
		mp_sb_free(&b);
	}
	mp_compiled_free(&out);
}

/* Every CPU-based term acts on online CPUs only. */
static void test_resolve_offline(void)
{
	static const struct rcase cases[] = {
		{"bind:cpu-nodes", 0, "0-1,3", NULL, NULL},
		/* no local node given: the first node with a CPU that runs */
		{"bind:local", 0, "0", NULL, NULL},
		{"bind:tier:fast", 0, "0-1,3", NULL, NULL},
		{"bind:tier:slow", 0, "2", NULL, NULL},
		/* no HMAT: best:bandwidth falls back on the CPU nodes */
		{"bind:best:bandwidth", 0, "0-1,3", NULL, NULL},
		{"interleave:all", 0, "0-3", "0-3", NULL},
	};
	struct mp_topo *t = load("offline-cpus");

	if (!t)
		return;
	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++)
		check_rcase(t, NULL, &cases[i]);
	mp_topo_free(t);
}

/* GPU memory only where a policy names it, by number or gpu-nodes. */
static void test_resolve_gpu(void)
{
	static const struct rcase p9[] = {
		/* the generic terms and the defaults leave it out */
		{"interleave:all", 0, "0,8", "0,8", NULL},
		{"interleave", 0, "0,8", "0,8", NULL},
		{"interleave:cpuset", 0, "0,8", "0,8", NULL},
		{"bind:!0", 0, "8", NULL, NULL},
		{"bind:tier:fast", 0, "0,8", NULL, NULL},
		{"bind:tier:slow", 0, "0", NULL, NULL}, /* nothing is slow: falls back to the local node */
		{"bind:tier:1", 0, "0", NULL, NULL},
		{"prefer-many:best:bandwidth", 0, "0,8", NULL, NULL},
		{"bind:best:capacity", 0, "0,8", NULL, NULL},
		{"bind:best:latency", 0, "0,8", NULL, NULL},
		{"bind:dist<=80", 0, "0,8", NULL, NULL},
		{"bind:near:pci:0004:04:00.0", 0, "0", NULL, NULL},
		{"interleave:+0-7", 0, "0,8", NULL, NULL},
		{"prefer:0", 0, "0", "0,8", "8"},
		{"default", 0, "", "0,8", NULL},
		{"local allow=all", 0, "", "0,8", NULL}, /* allow=all narrows nothing: stays local */
		/* named, it is used */
		{"bind:gpu-nodes", 0, "250-255", "0,8,250-255", NULL},
		{"bind:250", 0, "250", "0,8,250", NULL},
		{"bind:250 strict", 0, "250", NULL, NULL},
		{"interleave:all,gpu-nodes", 0, "0,8,250-255", NULL, NULL},
		{"interleave:0-255", 0, "0,8,250-255", NULL, NULL},
		{"bind:gpu-nodes,!251", 0, "250,252-255", "0,8,250,252-255", NULL},
		{"interleave:!gpu-nodes", 0, "0,8", NULL, NULL},
		{"bind:0-255,!gpu-nodes", 0, "0,8", NULL, NULL},
		{"prefer:0 fallback=gpu-nodes", 0, "0", "0,8,250-255", "250,251,252,253,254,255"},
		{"prefer:250", 0, "250", "0,8,250", "0,8"},
		/* a generic constraint does not forbid what the placement names */
		{"bind:250 gfp:hardwall", 0, "250", "0,8,250", NULL},
		{"bind:250 allow=all strict", 0, "250", NULL, NULL},
		{"bind:250 allow=!0 strict", 0, "250", NULL, NULL},
		/* one that is about the machine's own memory does */
		{"bind:250 allow=tier:fast strict", -EXDEV, NULL, NULL, NULL},
		{"bind:250 allow=8 strict", -EXDEV, NULL, NULL, NULL},
		{"bind:250 allow=8", 0, "8", NULL, NULL},
		/* naming it in allow= alone does not place memory there */
		{"interleave allow=0,250", 0, "0", "0", NULL},
		{"local allow=gpu-nodes", -EXDEV, NULL, NULL, NULL},
	};
	static const struct rcase gh[] = {
		{"bind:tier:fast", 0, "0", NULL, NULL},
		{"bind:best:bandwidth", 0, "0", NULL, NULL},
		{"hbw", 0, "0", NULL, NULL},
		{"interleave:all weights=auto", 0, "0", NULL, NULL},
		{"prefer-many:tier:0", 0, "0", NULL, NULL},
		{"bind:1", 0, "1", "0-1", NULL},
		{"bind:gpu-nodes", 0, "1", NULL, NULL},
		{"interleave:0-1 weights=auto", 0, "0-1", NULL, NULL},
		/* the partitions' nodes have no memory */
		{"bind:2 strict", -ENOENT, NULL, NULL, NULL},
	};
	struct mp_cgroup cg = {.path = (char *)"/", .has_mems = true};
	struct mp_topo *t;

	t = load("power9-gpu");
	if (t) {
		for (size_t i = 0; i < MP_ARRAY_SIZE(p9); i++)
			check_rcase(t, NULL, &p9[i]);
		/* a cgroup without the GPUs' nodes keeps them out even when named */
		mp_mask_parse("0,8", 3, &cg.mems, NULL);
		{
			static const struct rcase c = {"bind:250 strict", -EXDEV, NULL, NULL, NULL};

			check_rcase(t, &cg, &c);
		}
		mp_topo_free(t);
	}
	t = load("grace-hopper");
	if (t) {
		for (size_t i = 0; i < MP_ARRAY_SIZE(gh); i++)
			check_rcase(t, NULL, &gh[i]);
		mp_topo_free(t);
	}
}

/*
 * The law behind those examples, over generated policies on power9-gpu: a
 * node that is a GPU's memory is a placement, fallback or allowed node only
 * when the placement or fallback= names it by number or gpu-nodes; and an
 * added allow= never widens what is allowed.
 */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static void law_gpu_named(void)
{
	static const char *const modes[] = {"default", "local", "bind", "prefer", "prefer-many", "interleave", "split"};
	static const char *const generic[] = {"all",
					      "cpuset",
					      "!0",
					      "!8",
					      "tier:fast",
					      "tier:slow",
					      "tier:0",
					      "best:bandwidth",
					      "best:latency",
					      "best:capacity",
					      "cpu-nodes",
					      "local",
					      "dist<=80",
					      "dist<=40",
					      "near:pci:0004:04:00.0",
					      "+0-3",
					      "0",
					      "8",
					      "0,8",
					      "7"};
	static const char *const gpu[] = {"gpu-nodes", "250", "251-253", "0-255", "255"};
	static const char *const opts[] = {"strict",	      "weights=auto",	  "fallback=none",
					   "allow=all",	      "allow=cpuset",	  "allow=0,250",
					   "allow=tier:fast", "allow=!gpu-nodes", "allow=gpu-nodes"};
	struct mp_topo *t = load("power9-gpu");
	unsigned ok = 0, named = 0, bad = 0;

	if (!t)
		return;
	for (unsigned i = 0; i < 20000; i++) {
		struct mp_resolve_ctx ctx = {.topo = t, .local_node = rnd(2) ? 0 : 8};
		struct mp_nodemask mention, seen;
		struct mp_compiled c, c2;
		char text[256], more[300];
		struct mp_diag d;
		size_t len;
		int r, r2;

		/* a mode and a node set of one to three terms; GPU terms by
		 * number or name in a quarter of them */
		mp_mask_zero(&mention);
		len = (size_t)snprintf(text, sizeof(text), "%s", modes[rnd(MP_ARRAY_SIZE(modes))]);
		for (unsigned k = 0, n = 1 + rnd(3); k < n; k++) {
			const char *term = rnd(4) ? generic[rnd(MP_ARRAY_SIZE(generic))] : gpu[rnd(MP_ARRAY_SIZE(gpu))];
			bool neg = rnd(5) == 0;

			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s%s", k ? "," : ":", neg ? "!" : "",
						term);
		}
		if (rnd(3) == 0)
			len += (size_t)snprintf(text + len, sizeof(text) - len, " fallback=%s",
						rnd(2) ? gpu[rnd(MP_ARRAY_SIZE(gpu))]
						       : generic[rnd(MP_ARRAY_SIZE(generic))]);
		if (rnd(2))
			len += (size_t)snprintf(text + len, sizeof(text) - len, " %s", opts[rnd(MP_ARRAY_SIZE(opts))]);
		/* what the text names: any GPU node a node number or gpu-nodes
		 * covers, in the placement or in fallback= (an upper bound) */
		if (strstr(text, "gpu-nodes") || strstr(text, "0-255"))
			mp_mask_or(&mention, &mention, &t->gpu_memory);
		if (strstr(text, "250"))
			mp_mask_set(&mention, 250);
		if (strstr(text, "251-253"))
			for (unsigned n = 251; n <= 253; n++)
				mp_mask_set(&mention, n);
		if (strstr(text, "255"))
			mp_mask_set(&mention, 255);
		r = mp_compile(text, &ctx, &c, &d);
		if (r < 0)
			continue;
		ok++;
		seen = c.nodes;
		mp_mask_or(&seen, &seen, &c.allowed);
		for (unsigned f = 0; f < c.n_fallback; f++)
			mp_mask_set(&seen, (unsigned)c.fallback[f]);
		mp_mask_and(&seen, &seen, &t->gpu_memory);
		named += !mp_mask_empty(&seen);
		if (!mp_mask_subset(&seen, &mention) && bad++ < 5)
			CHECK_MSG(0, "'%s' uses GPU memory %s it does not name", text, mask_str(&seen));
		CHECK_MSG(mp_mask_subset(&c.nodes, &c.allowed), "'%s'", text);
		/* one more constraint: allowed only shrinks */
		snprintf(more, sizeof(more), "%s allow=%s", text,
			 rnd(2) ? "all" : generic[rnd(MP_ARRAY_SIZE(generic))]);
		r2 = mp_compile(more, &ctx, &c2, &d);
		if (r2 == 0) {
			CHECK_MSG(mp_mask_subset(&c2.allowed, &c.allowed), "'%s' widens '%s'", more, text);
			mp_compiled_free(&c2);
		}
		mp_compiled_free(&c);
	}
	/* both sides of the law must have been exercised */
	CHECK_MSG(ok > 5000 && named > 500, "ok %u, with GPU memory %u", ok, named);
	mp_topo_free(t);
}

static void test_errors(void)
{
	struct mp_topo *t = (struct mp_topo *)&t; /* a sentinel that must survive */
	char root[4096];

	fixture(root, sizeof(root), "does-not-exist");
	CHECK(mp_topo_load(root, &t) == -ENOENT);
	/* a directory without sys/devices/system/node */
	fixture(root, sizeof(root), "");
	CHECK(mp_topo_load(root, &t) == -ENOENT);
	CHECK(t == (struct mp_topo *)&t);
	CHECK(mp_topo_load(root, NULL) == -EINVAL);
	CHECK(mp_topo_device(NULL, "x") == NULL);
	CHECK(mp_topo_index(NULL, 0) == -1);
}

static void test_cgroups(void)
{
	static const struct {
		const char *fixture;
		const char *path; /* NULL: mp_cgroup_load(pid 0) */
		int ret;
		const char *cg_path;
		bool has_mems;
		const char *mems;
	} cases[] = {
		/* v2: no cpuset files below the root, walk up to it */
		{"1n", NULL, 0, "/user.slice/user-1000.slice/session-2.scope", true, "0"},
		/* hybrid: 0::/ has no cpuset files, the v1 cpuset line has */
		{"2s", NULL, 0, "/docker/4f1c", true, "1"},
		{"2s-cxl", NULL, 0, "/system.slice/db.service", true, "0-1"},
		{"2s-cxl", "/system.slice/other.service", 0, "/system.slice/other.service", true, "0-3"},
		{"2s-cxl", "/system.slice/db.service/", 0, "/system.slice/db.service/", true, "0-1"},
		{"2s-cxl", "/", 0, "/", true, "0-3"},
		{"2s-cxl", "relative", -EINVAL, NULL, false, NULL},
		{"2s-cxl", "/system.slice/../../x", -EINVAL, NULL, false, NULL},
		{"2s-cxl", "/..", -EINVAL, NULL, false, NULL},
		{"2s-cxl", "/a..b", 0, "/a..b", true, "0-3"},
		/* v1 only, nested */
		{"8n", NULL, 0, "/slurm/uid_1000/job_42", true, "4-5"},
		{"8n", "/slurm/uid_1000", 0, "/slurm/uid_1000", true, "0-7"},
		/* recorded: cgroup2 root of the VM guest */
		{"qemu-2s-cxl-6.12", NULL, 0, "/", true, "0-3"},
		/* no proc/self/cgroup at all */
		{"memless", NULL, -ENOENT, NULL, false, NULL},
		/* a path given with no cgroup files anywhere: no cpuset information */
		{"memless", "/a/b", 0, "/a/b", false, ""},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_cgroup cg = {.path = (char *)"untouched", .has_mems = true};
		char root[4096];
		int r;

		fixture(root, sizeof(root), cases[i].fixture);
		if (cases[i].path)
			r = mp_cgroup_load_path(root, cases[i].path, &cg);
		else
			r = mp_cgroup_load(root, 0, &cg);
		CHECK_MSG(r == cases[i].ret, "case %zu (%s): %d", i, cases[i].fixture, r);
		if (r < 0) {
			CHECK_STR(cg.path, "untouched");
			continue;
		}
		CHECK_STR(cg.path, cases[i].cg_path);
		CHECK_MSG(cg.has_mems == cases[i].has_mems, "case %zu", i);
		CHECK_STR(mask_str(&cg.mems), cases[i].mems);
		mp_cgroup_free(&cg);
	}
}

/* The live system: whatever it is, it must load and be self-consistent. */
static void test_live(void)
{
	struct mp_topo *t = NULL;
	int r = mp_topo_load(NULL, &t);

	if (r == -ENOENT) {
		printf("live system has no NUMA node directory; live check skipped\n");
		return;
	}
	CHECK_MSG(r == 0, "live load: %d", r);
	if (r < 0)
		return;
	CHECK(t->n_nodes >= 1 && mp_mask_weight(&t->online) == t->n_nodes);
	/* this process's cgroup: there is always one; its mems, when readable,
	 * are nodes with memory */
	{
		struct mp_cgroup cg;

		r = mp_cgroup_load(NULL, 0, &cg);
		CHECK_MSG(r == 0, "live cgroup: %d", r);
		if (r == 0) {
			CHECK(cg.path && cg.path[0] == '/');
			if (cg.has_mems)
				CHECK_MSG(mp_mask_subset(&cg.mems, &t->memory), "cgroup mems %s", mask_str(&cg.mems));
			mp_cgroup_free(&cg);
		}
	}
	CHECK(mp_mask_subset(&t->memory, &t->online) && !mp_mask_empty(&t->memory));
	for (unsigned k = 0; k < t->n_nodes; k++)
		CHECK(mp_topo_distance(t, t->nodes[k].id, t->nodes[k].id) == 10);
	mp_topo_free(t);
}

/* ---- robustness: trees with missing and malformed files ---------------- */

struct file {
	const char *path, *text;
};

static int write_tree(char *dir, const struct file *files)
{
	for (; files->path; files++) {
		char path[4096];
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, files->path);
		for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return -errno;
		if (write(fd, files->text, strlen(files->text)) < 0) {
			close(fd);
			return -errno;
		}
		close(fd);
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void rm_tree(const char *dir)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#define ND "sys/devices/system/node/"

/* cpu/online and the driver's numa_status, missing, malformed and odd. */
static void test_robust_cpus_gpus(void)
{
	static const struct file odd[] = {
		{ND "online", "0-1\n"},
		{ND "node0/cpulist", "0-3\n"},
		{ND "node0/meminfo", "Node 0 MemTotal:  4096 kB\n"},
		{ND "node1/cpulist", "4-5\n"},
		{ND "node1/meminfo", "Node 1 MemTotal:  2048 kB\n"},
		{"sys/devices/system/cpu/online", "zz\n"}, /* unreadable: every CPU counts */
		{"proc/driver/nvidia/gpus/0000:01:00.0/numa_status", "Status:    online\n"},
		{"proc/driver/nvidia/gpus/0000:02:00.0/numa_status", "Node:      -1\n"},
		{"proc/driver/nvidia/gpus/0000:03:00.0/numa_status", "Node:      7\n"},
		{"proc/driver/nvidia/gpus/0000:05:00.0/numa_status", "Node:      0x\n"},
		{"proc/driver/nvidia/gpus/0000:04:00.0/numa_status", "Address: 0\nNode:\t1 \nStatus: online\n"},
		{"proc/driver/nvidia/gpus/0000:00:00.0/numa_status", "Node: 1\n"},
		{}};
	static const struct {
		const char *online; /* cpu/online, NULL: left as in odd[] */
		unsigned n0, off0, n1, off1;
		bool cpu1;
	} cases[] = {
		{NULL, 4, 0, 2, 0, true},
		{"\n", 4, 0, 2, 0, true},     /* empty: unknown, not "none online" */
		{"0-1\n", 2, 2, 0, 2, false}, /* node 1 keeps only offline CPUs */
		{"0-5\n", 4, 0, 2, 0, true},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		char dir[] = "/tmp/mplace-topo-XXXXXX";
		struct mp_topo *t = NULL;
		int r;

		if (!mkdtemp(dir)) {
			CHECK_MSG(0, "mkdtemp: %s", strerror(errno));
			return;
		}
		CHECK(write_tree(dir, odd) == 0);
		if (cases[i].online) {
			const struct file one[] = {{"sys/devices/system/cpu/online", cases[i].online}, {}};

			CHECK(write_tree(dir, one) == 0);
		}
		r = mp_topo_load(dir, &t);
		CHECK_MSG(r == 0, "case %zu: %d", i, r);
		if (r == 0) {
			const struct mp_node *a = &t->nodes[0], *b = &t->nodes[1];

			CHECK_MSG(a->n_cpus == cases[i].n0 && a->n_offline_cpus == cases[i].off0, "case %zu", i);
			CHECK_MSG(b->n_cpus == cases[i].n1 && b->n_offline_cpus == cases[i].off1, "case %zu", i);
			CHECK_MSG(b->has_cpu == cases[i].cpu1 && a->has_cpu, "case %zu", i);
			CHECK_MSG(b->n_cpus || !b->cpus, "case %zu", i);
			/* only node 1 is named well; the lowest address wins */
			CHECK_STR(mask_str(&t->gpu_memory), "1");
			CHECK(!a->gpu_memory && b->gpu_memory);
			CHECK_STR(b->gpu, "0000:00:00.0");
			CHECK(b->tier == -1 && a->tier == 0 && t->n_tiers == 1);
			mp_topo_free(t);
		}
		rm_tree(dir);
	}
}

static void test_robust(void)
{
	/* node0 with nothing in it, no state lists */
	static const struct file bare[] = {{ND "node0/.keep", ""}, {}};
	/* every file malformed */
	static const struct file garbage[] = {
		{ND "online", "0-1\n"},
		{ND "has_memory", "zz\n"},
		{ND "node0/cpulist", "0-x\n"},
		{ND "node0/meminfo", "Node 0 MemTotal: lots kB\nNode 1 MemTotal: 1024 kB\nNode 0 MemFree: 12 MB\n"},
		{ND "node0/distance", "10 abc 30\n"},
		{ND "node0/access0/initiators/read_bandwidth", "-5\n"},
		{ND "node0/hugepages/hugepages-xkB/nr_hugepages", "1\n"},
		{ND "node0/hugepages/hugepages-2048kB/nr_hugepages", "many\n"},
		{ND "node0/memory3/online", "1\n"},
		{ND "node1/cpulist", "4-7:2\n"},
		{ND "node1/distance", "20 10 10 10 10\n"},
		{ND "node1/meminfo", "Node 1 MemTotal:  2048 kB\nNode 1 MemFree: 1024 kB\n"},
		{"sys/devices/system/memory/block_size_bytes", "zz\n"},
		{"sys/devices/virtual/memory_tiering/memory_tierx/nodelist", "0-1\n"},
		{"sys/bus/pci/devices/0000:00:00.0/numa_node", "x\n"},
		{"sys/class/net/eth0/device/numa_node", "-7\n"},
		{}};
	char dir[] = "/tmp/mplace-topo-XXXXXX";
	struct mp_topo *t = NULL;
	int r;

	if (!mkdtemp(dir)) {
		CHECK_MSG(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	CHECK(write_tree(dir, bare) == 0);
	r = mp_topo_load(dir, &t);
	CHECK_MSG(r == 0, "bare: %d", r);
	if (r == 0) {
		const struct mp_node *n = &t->nodes[0];

		CHECK(t->n_nodes == 1 && n->id == 0 && n->n_cpus == 0 && n->mem_total == 0);
		CHECK(!n->has_cpu && !n->has_memory && n->tier == -1 && n->tier_id == -1);
		CHECK(n->n_huge == 0 && n->n_phys == 0 && n->read_bw == 0);
		CHECK(mp_topo_distance(t, 0, 0) == -1 && t->n_tiers == 0 && !t->tiers_from_sysfs);
		CHECK(t->n_devices == 0);
		mp_topo_free(t);
	}
	rm_tree(dir);

	snprintf(dir, sizeof(dir), "/tmp/mplace-topo-XXXXXX");
	if (!mkdtemp(dir))
		return;
	CHECK(write_tree(dir, garbage) == 0);
	r = mp_topo_load(dir, &t);
	CHECK_MSG(r == 0, "garbage: %d", r);
	if (r == 0) {
		const struct mp_node *a = &t->nodes[0], *b = &t->nodes[1];

		CHECK(t->n_nodes == 2);
		CHECK(a->n_cpus == 0 && a->cpus == NULL && a->mem_total == 0 && a->mem_free == 0);
		/* the malformed has_memory list falls back on MemTotal */
		CHECK(!a->has_memory && b->has_memory && b->mem_total == 2048 * 1024 && b->mem_free == 1024 * 1024);
		CHECK(b->n_cpus == 0); /* strides are not the kernel's cpulist format */
		CHECK(mp_topo_distance(t, 0, 0) == 10 && mp_topo_distance(t, 0, 1) == -1);
		CHECK(mp_topo_distance(t, 1, 0) == 20 && mp_topo_distance(t, 1, 1) == 10);
		CHECK(a->read_bw == 0);
		CHECK(a->n_huge == 1 && a->huge[0].page_size == 2 << 20 && a->huge[0].nr == 0);
		CHECK(a->n_phys == 0); /* no usable block size */
		/* memory_tierx is not a tier: derived, CPU-less memory node 1 alone */
		CHECK(!t->tiers_from_sysfs && t->n_tiers == 1 && b->tier == 0 && a->tier == -1);
		CHECK(t->n_devices == 2 && t->devices[0].node == -1 && t->devices[1].node == -1);
		mp_topo_free(t);
	}
	rm_tree(dir);
	test_robust_cpus_gpus();
}

/* Features read from fixtures: every file-based answer, and no syscall
 * answer (those are unknown off the live system). */
static void test_features_fixtures(void)
{
	enum { N = MP_FEAT_NO, Y = MP_FEAT_YES, U = MP_FEAT_UNKNOWN };
	static const struct {
		const char *name, *kernel;
		uint8_t wi, wi_auto, nb;
		int nb_value;
		uint8_t damon, damon_migrate, tiers, move_other;
		unsigned n_thp;
		uint64_t thp_first, thp_last;
		const char *thp_enabled;
	} cases[] = {
		{"1n", "5.15.0-91-generic", N, N, Y, 0, N, N, N, N, 1, 2 << 20, 2 << 20, "madvise"},
		{"2s", "6.1.0-18-amd64", N, N, Y, 1, Y, N, Y, Y, 1, 2 << 20, 2 << 20, "always"},
		{"2s-cxl", "6.16.3-amd64", Y, Y, Y, 2, Y, Y, Y, Y, 3, 64 << 10, 2 << 20, "madvise"},
		{"hbm", "6.8.0-45-generic", Y, N, Y, 1, N, N, Y, Y, 1, 2 << 20, 2 << 20, "madvise"},
		{"memless", "5.10.0-28-amd64", N, N, Y, 1, N, N, N, U, 1, 2 << 20, 2 << 20, "always"},
		/* 6.11 release candidate: migrate_hot/cold are in */
		{"8n", "6.11.0-rc5", Y, N, Y, 0, Y, Y, Y, N, 1, 2 << 20, 2 << 20, "never"},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_features f;
		char root[4096];
		int r;

		fixture(root, sizeof(root), cases[i].name);
		r = mp_features_probe(root, &f);
		CHECK_MSG(r == 0, "%s: %d", cases[i].name, r);
		if (r < 0)
			continue;
		CHECK_STR(f.kernel, cases[i].kernel);
		for (int m = 0; m < 9; m++)
			CHECK_MSG(f.mode[m] == U && f.numa_balancing_mode[m] == U, "%s: mode %d", cases[i].name, m);
		CHECK(f.home_node == U);
		CHECK_MSG(f.weighted_interleave_sysfs == cases[i].wi, "%s", cases[i].name);
		CHECK_MSG(f.weighted_interleave_auto == cases[i].wi_auto, "%s", cases[i].name);
		CHECK_MSG(f.numa_balancing == cases[i].nb && f.numa_balancing_value == cases[i].nb_value, "%s",
			  cases[i].name);
		CHECK_MSG(f.damon == cases[i].damon && f.damon_migrate == cases[i].damon_migrate, "%s: %d %d",
			  cases[i].name, f.damon, f.damon_migrate);
		CHECK_MSG(f.memory_tiers == cases[i].tiers, "%s", cases[i].name);
		CHECK_MSG(f.move_other == cases[i].move_other, "%s: %d", cases[i].name, f.move_other);
		CHECK_MSG(f.n_thp_sizes == cases[i].n_thp, "%s: %u", cases[i].name, f.n_thp_sizes);
		if (f.n_thp_sizes)
			CHECK(f.thp_sizes[0] == cases[i].thp_first &&
			      f.thp_sizes[f.n_thp_sizes - 1] == cases[i].thp_last);
		CHECK_STR(f.thp_enabled, cases[i].thp_enabled);
	}
}

/* The live probe answers the modes every supported kernel has, and leaves
 * the caller's own policy exactly as it was. */
static void test_features_live(void)
{
	struct mp_nodemask allowed, m, after;
	struct mp_features f;
	int mode = -1, r;

	r = mp_sys_get_policy(NULL, &allowed, NULL, MP_MPOL_F_MEMS_ALLOWED);
	if (r < 0 || mp_mask_empty(&allowed)) {
		printf("live probe skipped: get_mempolicy: %d\n", r);
		return;
	}
	mp_mask_zero(&m);
	mp_mask_set(&m, mp_mask_next(&allowed, 0));
	CHECK(mp_sys_set_policy(MP_MPOL_INTERLEAVE | MP_MPOL_F_STATIC_NODES, &m) == 0);
	r = mp_features_probe(NULL, &f);
	CHECK_MSG(r == 0, "live probe: %d", r);
	CHECK(mp_sys_get_policy(&mode, &after, NULL, 0) == 0);
	CHECK_MSG(mode == (MP_MPOL_INTERLEAVE | MP_MPOL_F_STATIC_NODES) && mp_mask_equal(&after, &m),
		  "caller's policy changed to %#x", mode);
	CHECK(mp_sys_set_policy(MP_MPOL_DEFAULT, NULL) == 0);
	if (r < 0)
		return;
	CHECK(f.kernel[0] != '\0');
	for (int k = MP_MODE_DEFAULT; k <= MP_MODE_INTERLEAVE; k++)
		CHECK_MSG(f.mode[k] == MP_FEAT_YES, "mode %d: %d", k, f.mode[k]);
	CHECK(f.mode[MP_MODE_SPLIT] == f.mode[MP_MODE_BIND]);
	/* the flag never goes with interleave */
	CHECK(f.numa_balancing_mode[MP_MODE_INTERLEAVE] == MP_FEAT_NO);
	CHECK(f.numa_balancing_mode[MP_MODE_DEFAULT] == MP_FEAT_NO);
	CHECK(f.home_node != MP_FEAT_UNKNOWN);
	CHECK(f.move_other != MP_FEAT_UNKNOWN);
}

/* mplace top's view of a node now: meminfo as the topology reads it, the
 * migration counters where the kernel has them. */
static void test_node_stat(void)
{
	char root[4096];
	struct mp_node_stat st;
	struct mp_vm_stat vm;
	struct mp_topo *t = NULL;

	fixture(root, sizeof(root), "2s-cxl");
	CHECK(mp_topo_load(root, &t) == 0);
	for (unsigned i = 0; t && i < t->n_nodes; i++) {
		memset(&st, 0, sizeof(st));
		CHECK(mp_node_stat_load(root, t->nodes[i].id, &st) == 0);
		CHECK_MSG(st.total == t->nodes[i].mem_total && st.free == t->nodes[i].mem_free,
			  "node %d: meminfo read as the topology reads it", t->nodes[i].id);
		CHECK_MSG(!st.have_vmstat, "the fixture has no vmstat: counters unknown");
	}
	mp_topo_free(t);
	memset(&st, 0x5a, sizeof(st));
	CHECK(mp_node_stat_load(root, 9, &st) < 0 && st.total == 0x5a5a5a5a5a5a5a5aULL);
	/* no /proc/vmstat in a fixture: an error, nothing made up */
	CHECK(mp_vm_stat_load(root, &vm) < 0);
	/* the live kernel (6.1 and later count promotions and demotions) */
	CHECK(mp_node_stat_load(NULL, 0, &st) == 0 && st.total > 0 && st.free <= st.total);
	CHECK(mp_vm_stat_load(NULL, &vm) == 0);
}

int main(void)
{
	test_node_stat();
	test_machines();
	test_2s_cxl();
	test_other_machines();
	test_offline_cpus();
	test_gpu_memory();
	test_resolve_offline();
	test_resolve_gpu();
	law_gpu_named();
	test_errors();
	test_cgroups();
	test_live();
	test_robust();
	test_features_fixtures();
	test_features_live();
	return check_status();
}

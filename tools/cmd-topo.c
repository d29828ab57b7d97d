/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace topo: the machine as placement sees it (nodes, their online CPUs,
 * memory, HMAT bandwidth and latency, distances, memory tiers, huge page
 * pools, devices, offline CPUs and GPU memory) and, on request, what the
 * kernel can do.  Read-only; everything comes from
 * mp_topo_load() and mp_features_probe(), so --sysfs-root replays fixtures.
 * Unknown values print as "-" (and null in JSON), never as zero.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/util.h"
#include "core/policy.h"
#include "tool.h"
#include "machine/topo.h"

static const char usage_text[] = "Usage: mplace topo [OPTIONS]\n"
				 "\n"
				 "Show NUMA nodes, their online CPUs, memory, bandwidth and latency, the\n"
				 "distance matrix, memory tiers, huge page pools and the devices near each\n"
				 "node; also the CPUs that are offline and the nodes that are a GPU's memory.\n"
				 "\n"
				 "Options:\n"
				 "  --sysfs-root DIR   read sys/ and proc/ under DIR instead of /\n"
				 "  --features         also list what the running kernel can do\n"
				 "  --json             print a JSON object (always with the features)\n"
				 "  -h, --help         show this help\n";

enum { OPT_SYSFS_ROOT = 0x100, OPT_JSON, OPT_FEATURES };

static const struct option options[] = {
	{"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
	{"json", no_argument, NULL, OPT_JSON},
	{"features", no_argument, NULL, OPT_FEATURES},
	{"help", no_argument, NULL, 'h'},
	{},
};

static const char *const dev_types[] = {[MP_DEV_PCI] = "pci", [MP_DEV_NET] = "net", [MP_DEV_BLOCK] = "block"};

/* ---- formatting helpers ------------------------------------------------- */

static const char *feat_word(uint8_t s)
{
	return s == MP_FEAT_YES ? "yes" : s == MP_FEAT_NO ? "no" : "unknown";
}

static struct json_object *feat_json(uint8_t s)
{
	return s == MP_FEAT_UNKNOWN ? NULL : json_object_new_boolean(s == MP_FEAT_YES);
}

static struct json_object *u32_or_null(uint32_t v)
{
	return v ? json_object_new_int64(v) : NULL;
}

static struct json_object *u64_json(uint64_t v)
{
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* The node ids of a tier rank, and its sysfs id (-1 derived). */
static void tier_nodes(const struct mp_topo *t, int rank, struct mp_nodemask *ret, int *ret_id)
{
	mp_mask_zero(ret);
	*ret_id = -1;
	for (unsigned i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].tier == rank) {
			mp_mask_set(ret, t->nodes[i].id);
			*ret_id = t->nodes[i].tier_id;
		}
}

/* ---- JSON ---------------------------------------------------------------- */

static struct json_object *features_json(const struct mp_features *f)
{
	struct json_object *o = json_object_new_object(), *modes, *nb, *thp;

	json_object_object_add(o, "kernel", f->kernel[0] ? json_object_new_string(f->kernel) : NULL);
	modes = json_object_new_object();
	nb = json_object_new_object();
	for (int m = MP_MODE_DEFAULT; m <= MP_MODE_SPLIT; m++) {
		json_object_object_add(modes, mp_mode_name((enum mp_mode)m), feat_json(f->mode[m]));
		json_object_object_add(nb, mp_mode_name((enum mp_mode)m), feat_json(f->numa_balancing_mode[m]));
	}
	json_object_object_add(o, "modes", modes);
	json_object_object_add(o, "numa_balancing_modes", nb);
	json_object_object_add(o, "home_node", feat_json(f->home_node));
	json_object_object_add(o, "weighted_interleave_sysfs", feat_json(f->weighted_interleave_sysfs));
	json_object_object_add(o, "weighted_interleave_auto", feat_json(f->weighted_interleave_auto));
	json_object_object_add(o, "numa_balancing", feat_json(f->numa_balancing));
	json_object_object_add(o, "numa_balancing_value",
			       f->numa_balancing_value >= 0 ? json_object_new_int(f->numa_balancing_value) : NULL);
	json_object_object_add(o, "damon", feat_json(f->damon));
	json_object_object_add(o, "damon_migrate", feat_json(f->damon_migrate));
	/* sysfs lists no DAMOS actions, so with DAMON present the answer
	 * comes from the release; say so */
	json_object_object_add(o, "damon_migrate_inferred_from_release",
			       json_object_new_boolean(f->damon == MP_FEAT_YES));
	json_object_object_add(o, "memory_tiers", feat_json(f->memory_tiers));
	json_object_object_add(o, "move_other", feat_json(f->move_other));
	thp = json_object_new_array();
	for (unsigned i = 0; i < f->n_thp_sizes; i++)
		json_object_array_add(thp, u64_json(f->thp_sizes[i]));
	json_object_object_add(o, "thp_sizes", thp);
	json_object_object_add(o, "thp_enabled", f->thp_enabled[0] ? json_object_new_string(f->thp_enabled) : NULL);
	return o;
}

static struct json_object *topo_json(const struct mp_topo *t, const struct mp_features *f)
{
	struct json_object *root = json_object_new_object(), *nodes = json_object_new_array();
	struct json_object *tiers = json_object_new_array(), *devs = json_object_new_array();

	for (unsigned i = 0; i < t->n_nodes; i++) {
		const struct mp_node *n = &t->nodes[i];
		struct json_object *o = json_object_new_object(), *a;
		bool unknown;

		json_object_object_add(o, "id", json_object_new_int(n->id));
		a = json_object_new_array();
		for (unsigned c = 0; c < n->n_cpus; c++)
			json_object_array_add(a, json_object_new_int(n->cpus[c]));
		json_object_object_add(o, "cpus", a);
		a = json_object_new_array();
		for (unsigned c = 0; c < n->n_offline_cpus; c++)
			json_object_array_add(a, json_object_new_int(n->offline_cpus[c]));
		json_object_object_add(o, "offline_cpus", a);
		json_object_object_add(o, "has_cpu", json_object_new_boolean(n->has_cpu));
		json_object_object_add(o, "has_memory", json_object_new_boolean(n->has_memory));
		json_object_object_add(o, "gpu_memory", json_object_new_boolean(n->gpu_memory));
		json_object_object_add(o, "gpu", n->gpu_memory && n->gpu[0] ? json_object_new_string(n->gpu) : NULL);
		/* a node with memory whose meminfo could not be read: unknown */
		unknown = n->has_memory && !n->mem_total;
		json_object_object_add(o, "memory_total", unknown ? NULL : u64_json(n->mem_total));
		json_object_object_add(o, "memory_free", unknown ? NULL : u64_json(n->mem_free));
		a = json_object_new_array();
		for (unsigned j = 0; j < t->n_nodes; j++) {
			int d = t->distance[(size_t)i * t->n_nodes + j];

			json_object_array_add(a, d > 0 ? json_object_new_int(d) : NULL);
		}
		json_object_object_add(o, "distances", a);
		json_object_object_add(o, "tier", n->tier >= 0 ? json_object_new_int(n->tier) : NULL);
		json_object_object_add(o, "read_bandwidth", u32_or_null(n->read_bw));
		json_object_object_add(o, "read_latency", u32_or_null(n->read_lat));
		json_object_object_add(o, "write_bandwidth", u32_or_null(n->write_bw));
		json_object_object_add(o, "write_latency", u32_or_null(n->write_lat));
		a = json_object_new_array();
		for (unsigned h = 0; h < n->n_huge; h++) {
			struct json_object *p = json_object_new_object();

			json_object_object_add(p, "page_size", u64_json(n->huge[h].page_size));
			json_object_object_add(p, "nr", u64_json(n->huge[h].nr));
			json_object_object_add(p, "free", u64_json(n->huge[h].free));
			json_object_array_add(a, p);
		}
		json_object_object_add(o, "hugepages", a);
		a = json_object_new_array();
		for (unsigned r = 0; r < n->n_phys; r++) {
			struct json_object *p = json_object_new_array();

			json_object_array_add(p, u64_json(n->phys[r][0]));
			json_object_array_add(p, u64_json(n->phys[r][1]));
			json_object_array_add(a, p);
		}
		json_object_object_add(o, "phys_ranges", a);
		json_object_array_add(nodes, o);
	}
	json_object_object_add(root, "nodes", nodes);

	for (unsigned r = 0; r < t->n_tiers; r++) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		struct mp_nodemask m;
		int id;

		tier_nodes(t, (int)r, &m, &id);
		json_object_object_add(o, "rank", json_object_new_int((int)r));
		json_object_object_add(o, "id", id >= 0 ? json_object_new_int(id) : NULL);
		mp_mask_foreach(n, &m)
			json_object_array_add(a, json_object_new_int(n));
		json_object_object_add(o, "nodes", a);
		json_object_array_add(tiers, o);
	}
	json_object_object_add(root, "tiers", tiers);
	json_object_object_add(root, "tiers_from_sysfs", json_object_new_boolean(t->tiers_from_sysfs));

	for (unsigned i = 0; i < t->n_devices; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "type", json_object_new_string(dev_types[t->devices[i].type]));
		json_object_object_add(o, "name", json_object_new_string(t->devices[i].name));
		json_object_object_add(o, "node",
				       t->devices[i].node >= 0 ? json_object_new_int(t->devices[i].node) : NULL);
		json_object_array_add(devs, o);
	}
	json_object_object_add(root, "devices", devs);
	json_object_object_add(root, "features", features_json(f));
	return root;
}

/* ---- text ---------------------------------------------------------------- */

static void print_nodes(const struct mp_topo *t)
{
	printf("%-5s %-24s %-11s %-11s %-5s %-13s %s\n", "NODE", "CPUS", "MEMORY", "FREE", "TIER", "READ BW",
	       "READ LATENCY");
	for (unsigned i = 0; i < t->n_nodes; i++) {
		const struct mp_node *n = &t->nodes[i];
		char total[32] = "-", free_[32] = "-", tier[16] = "-", bw[32] = "-", lat[32] = "-";
		struct mp_sb cpus;

		mp_sb_init(&cpus);
		tool_cpu_list(n->cpus, n->n_cpus, &cpus);
		if (n->has_memory || n->mem_total) {
			tool_human_size(n->mem_total, total, sizeof(total));
			tool_human_size(n->mem_free, free_, sizeof(free_));
		} else {
			snprintf(total, sizeof(total), "none");
		}
		if (n->tier >= 0)
			snprintf(tier, sizeof(tier), "%d", n->tier);
		else if (n->gpu_memory)
			snprintf(tier, sizeof(tier), "gpu");
		if (n->read_bw)
			snprintf(bw, sizeof(bw), "%" PRIu32 " MB/s", n->read_bw);
		if (n->read_lat)
			snprintf(lat, sizeof(lat), "%" PRIu32 " ns", n->read_lat);
		printf("%-5d %-24s %-11s %-11s %-5s %-13s %s\n", n->id, cpus.len ? cpus.s : "-", total, free_, tier, bw,
		       lat);
		mp_sb_free(&cpus);
	}
}

/* CPUs the nodes list that are offline: not counted as the nodes' CPUs. */
static void print_offline_cpus(const struct mp_topo *t)
{
	bool any = false;

	for (unsigned i = 0; i < t->n_nodes; i++)
		any |= t->nodes[i].n_offline_cpus > 0;
	if (!any)
		return;
	printf("\nOffline CPUs (not counted as the nodes' CPUs):\n");
	for (unsigned i = 0; i < t->n_nodes; i++) {
		const struct mp_node *n = &t->nodes[i];
		struct mp_sb b;

		if (!n->n_offline_cpus)
			continue;
		mp_sb_init(&b);
		tool_cpu_list(n->offline_cpus, n->n_offline_cpus, &b);
		printf("  node %d: %s%s\n", n->id, b.s ? b.s : "", n->n_cpus ? "" : " (no CPU of the node is online)");
		mp_sb_free(&b);
	}
}

/* Nodes that are a GPU's memory, and which GPU's. */
static void print_gpu_memory(const struct mp_topo *t)
{
	if (mp_mask_empty(&t->gpu_memory))
		return;
	printf("\nGPU memory (left out of all, tiers and best:; named by number or gpu-nodes):\n");
	for (unsigned i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].gpu_memory)
			printf("  node %d: GPU %s\n", t->nodes[i].id, t->nodes[i].gpu[0] ? t->nodes[i].gpu : "unknown");
}

static void print_distances(const struct mp_topo *t)
{
	printf("\nDistances:\n%5s", "");
	for (unsigned j = 0; j < t->n_nodes; j++)
		printf(" %4d", t->nodes[j].id);
	putchar('\n');
	for (unsigned i = 0; i < t->n_nodes; i++) {
		printf("%5d", t->nodes[i].id);
		for (unsigned j = 0; j < t->n_nodes; j++) {
			int d = t->distance[(size_t)i * t->n_nodes + j];

			if (d > 0)
				printf(" %4d", d);
			else
				printf(" %4s", "-");
		}
		putchar('\n');
	}
}

static void print_tiers(const struct mp_topo *t)
{
	printf("\nMemory tiers (%s):\n",
	       t->tiers_from_sysfs ? "from memory_tiering" : "derived: nodes with CPUs first, the kernel exposes none");
	for (unsigned r = 0; r < t->n_tiers; r++) {
		struct mp_nodemask m;
		char list[256], name[32] = "";
		int id;

		tier_nodes(t, (int)r, &m, &id);
		mp_mask_format(&m, list, sizeof(list));
		if (id >= 0)
			snprintf(name, sizeof(name), "memory_tier%d", id);
		printf("  rank %u  %-14s nodes %s\n", r, name, list);
	}
}

static void print_hugepages(const struct mp_topo *t)
{
	bool any = false;

	for (unsigned i = 0; i < t->n_nodes; i++)
		any |= t->nodes[i].n_huge > 0;
	if (!any)
		return;
	printf("\nHuge page pools (pages total/free):\n");
	for (unsigned i = 0; i < t->n_nodes; i++) {
		const struct mp_node *n = &t->nodes[i];

		if (!n->n_huge)
			continue;
		printf("  node %d:", n->id);
		for (unsigned h = 0; h < n->n_huge; h++) {
			char sz[32];

			mp_format_size(n->huge[h].page_size, sz, sizeof(sz));
			printf("%s %s %" PRIu64 "/%" PRIu64, h ? "," : "", sz, n->huge[h].nr, n->huge[h].free);
		}
		putchar('\n');
	}
}

static void print_device_line(const struct mp_topo *t, int node, const char *label)
{
	bool first = true;

	for (unsigned i = 0; i < t->n_devices; i++) {
		if (t->devices[i].node != node)
			continue;
		printf("%s%s %s", first ? label : ", ", dev_types[t->devices[i].type], t->devices[i].name);
		first = false;
	}
	if (!first)
		putchar('\n');
}

static void print_devices(const struct mp_topo *t)
{
	char label[32];

	if (!t->n_devices)
		return;
	printf("\nDevices:\n");
	for (unsigned i = 0; i < t->n_nodes; i++) {
		snprintf(label, sizeof(label), "  node %d: ", t->nodes[i].id);
		print_device_line(t, t->nodes[i].id, label);
	}
	print_device_line(t, -1, "  no node given by firmware: ");
	/* a node the firmware names that is not online */
	for (unsigned i = 0; i < t->n_devices; i++)
		if (t->devices[i].node >= 0 && mp_topo_index(t, t->devices[i].node) < 0)
			printf("  %s %s: node %d (offline)\n", dev_types[t->devices[i].type], t->devices[i].name,
			       t->devices[i].node);
}

static void print_features(const struct mp_features *f)
{
	printf("\nKernel capabilities (%s):\n", f->kernel[0] ? f->kernel : "release unknown");
	if (f->mode[MP_MODE_BIND] == MP_FEAT_UNKNOWN) {
		printf("  %-38s %s\n", "policy modes and flags", "unknown (probed on the live system only)");
	} else {
		for (int m = MP_MODE_DEFAULT; m <= MP_MODE_SPLIT; m++)
			printf("  %-38s %s\n", mp_mode_name((enum mp_mode)m), feat_word(f->mode[m]));
		/* the numa-balancing flag, listed only where it may apply */
		for (int m = MP_MODE_DEFAULT; m <= MP_MODE_SPLIT; m++)
			if (f->numa_balancing_mode[m] != MP_FEAT_NO) {
				char label[64];

				snprintf(label, sizeof(label), "%s + MPOL_F_NUMA_BALANCING",
					 mp_mode_name((enum mp_mode)m));
				printf("  %-38s %s\n", label, feat_word(f->numa_balancing_mode[m]));
			}
	}
	printf("  %-38s %s\n", "set_mempolicy_home_node", feat_word(f->home_node));
	printf("  %-38s %s\n", "weighted interleave weights (sysfs)", feat_word(f->weighted_interleave_sysfs));
	printf("  %-38s %s\n", "weighted interleave auto weights", feat_word(f->weighted_interleave_auto));
	if (f->numa_balancing == MP_FEAT_YES && f->numa_balancing_value >= 0)
		printf("  %-38s yes (kernel.numa_balancing = %d)\n", "NUMA balancing", f->numa_balancing_value);
	else
		printf("  %-38s %s\n", "NUMA balancing", feat_word(f->numa_balancing));
	printf("  %-38s %s\n", "DAMON sysfs", feat_word(f->damon));
	printf("  %-38s %s%s\n", "DAMOS migrate_hot/migrate_cold", feat_word(f->damon_migrate),
	       f->damon_migrate == MP_FEAT_YES || (f->damon == MP_FEAT_YES && f->damon_migrate == MP_FEAT_NO)
		       ? " (inferred from the kernel release)"
		       : "");
	printf("  %-38s %s\n", "memory tiers", feat_word(f->memory_tiers));
	printf("  %-38s %s\n", "move other processes' pages", feat_word(f->move_other));
	printf("  %-38s", "transparent huge page sizes");
	if (!f->n_thp_sizes)
		printf(" unknown");
	for (unsigned i = 0; i < f->n_thp_sizes; i++) {
		char sz[32];

		mp_format_size(f->thp_sizes[i], sz, sizeof(sz));
		printf(" %s", sz);
	}
	putchar('\n');
	printf("  %-38s %s\n", "transparent huge pages enabled", f->thp_enabled[0] ? f->thp_enabled : "unknown");
}

int cmd_topo(int argc, char **argv)
{
	const char *opt_root = NULL, *root;
	bool json = false, features = false;
	struct mp_features f;
	struct mp_topo *t = NULL;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SYSFS_ROOT:
			opt_root = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_FEATURES:
			features = true;
			break;
		case 'h':
			tool_usage(usage_text, false);
			return EXIT_OK;
		default:
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tool_error("topo: unexpected argument '%s'", argv[optind]);
		tool_usage(usage_text, true);
		return EXIT_USAGE;
	}
	root = tool_sysfs_root(opt_root);
	r = tool_topo_load(root, 0, &t);
	if (r < 0)
		return EXIT_FAIL;
	/* the probe starts a thread and makes system calls: only when asked */
	r = json || features ? mp_features_probe(root, &f) : 0;
	if (r < 0) {
		tool_error("probing the kernel: %s", strerror(-r));
		mp_topo_free(t);
		return EXIT_FAIL;
	}
	if (json) {
		tool_print_json(topo_json(t, &f));
	} else {
		print_nodes(t);
		print_offline_cpus(t);
		print_gpu_memory(t);
		print_distances(t);
		print_tiers(t);
		print_hugepages(t);
		print_devices(t);
		if (features)
			print_features(&f);
	}
	mp_topo_free(t);
	return EXIT_OK;
}

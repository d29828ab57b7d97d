/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The machine as placement needs it: nodes, CPUs, memory, distances, HMAT
 * access attributes, memory tiers, huge page pools, device locality, and the
 * cgroup's allowed memory nodes.
 *
 * Everything is read through an injectable root directory (a tree holding
 * sys/ and proc/), so tests replay recorded and synthetic machines.  The
 * loaded topology is plain data: combine.c resolves against it without I/O.
 */
#include <stdbool.h>
#include <stdint.h>

#include "basic/nodemask.h"

struct mp_hugepool {
	uint64_t page_size; /* bytes */
	uint64_t nr, free;  /* pages */
};

struct mp_node {
	int id;
	bool has_cpu;	 /* at least one online CPU */
	bool has_memory; /* in has_memory (N_MEMORY) */
	/* The memory of a GPU that the kernel onlined as a NUMA node (NVIDIA
	 * coherent memory on POWER9 and Grace Hopper): not the machine's own
	 * memory, so no generic node-set term, tier or default includes it. */
	bool gpu_memory;
	char gpu[32]; /* for gpu_memory: the GPU's PCI address, "" unknown */
	unsigned n_cpus;
	int *cpus; /* sorted online CPU numbers: cpulist ∩ cpu/online */
	unsigned n_offline_cpus;
	int *offline_cpus;	      /* sorted CPUs of the node that are offline */
	uint64_t mem_total, mem_free; /* bytes, 0 when unknown */
	/* HMAT access0 attributes towards this node from its best initiator;
	 * 0 = unknown.  Bandwidth in MB/s, latency in ns, as sysfs gives them. */
	uint32_t read_bw, write_bw, read_lat, write_lat;
	int tier;    /* rank of its memory tier, 0 = fastest; -1 unknown */
	int tier_id; /* sysfs memory_tierN id, -1 unknown or derived */
	unsigned n_huge;
	struct mp_hugepool *huge;
	unsigned n_phys;
	uint64_t (*phys)[2]; /* [start, end) physical ranges from memory blocks */
};

enum mp_dev_type { MP_DEV_PCI, MP_DEV_NET, MP_DEV_BLOCK };

struct mp_device {
	enum mp_dev_type type;
	char *name; /* "0000:3b:00.0", "eth0", "nvme0n1" */
	int node;   /* -1 when the firmware gives none */
};

struct mp_topo {
	unsigned n_nodes;
	struct mp_node *nodes; /* sorted by id; only online nodes */
	int *distance;	       /* n_nodes * n_nodes, indexed by position, 0 unknown */
	/* memory: every node with memory (N_MEMORY), GPU memory included, so a
	 * policy may name such a node; gpu_memory: the nodes that are a GPU's */
	struct mp_nodemask online, memory, cpu_nodes, gpu_memory;
	bool tiers_from_sysfs; /* false: tiers derived (CPU nodes fast, others slow) */
	unsigned n_tiers;
	unsigned n_devices;
	struct mp_device *devices;
	unsigned skipped; /* MP_TOPO_* parts not read (mp_topo_load_parts) */
};

/* Parts of the machine a caller may do without (numactl's options need
 * nodes, CPUs, memory and distances only): each costs directory scans and
 * file reads at every start.  A part left out is recorded in ->skipped, its
 * fields empty. */
#define MP_TOPO_DEVICES	  (1u << 0) /* PCI, network and block devices, for near: */
#define MP_TOPO_PHYS	  (1u << 1) /* each node's physical memory blocks, for phys< */
#define MP_TOPO_HUGEPAGES (1u << 2) /* each node's huge page pools */
#define MP_TOPO_HMAT	  (1u << 3) /* bandwidth and latency, for best: and weights=auto */
#define MP_TOPO_TIERS	  (1u << 4) /* the kernel's memory tiers (derived ones are kept) */
#define MP_TOPO_ALL	  ((1u << 5) - 1)

/* Load from root ("/" or NULL for the live system).  Returns 0 or -errno
 * (-ENOENT when root has no node directory at all). */
int mp_topo_load(const char *root, struct mp_topo **ret);
/* The same without the parts in skip (MP_TOPO_*). */
int mp_topo_load_parts(const char *root, unsigned skip, struct mp_topo **ret);
void mp_topo_free(struct mp_topo *t);

/* Position of node id in t->nodes, or -1. */
int mp_topo_index(const struct mp_topo *t, int node);
/* Distance between two node ids, or -1 when unknown. */
int mp_topo_distance(const struct mp_topo *t, int from, int to);
/* The device "pci:0000:3b:00.0" | "net:eth0" | "block:nvme0n1" (or a bare name,
 * searched in that order); NULL if absent. */
const struct mp_device *mp_topo_device(const struct mp_topo *t, const char *spec);

/* A process's cgroup and its allowed memory nodes. */
struct mp_cgroup {
	char *path;		 /* "/system.slice/db.service" (v2, or v1 cpuset hierarchy) */
	bool has_mems;		 /* false when no cpuset information could be read */
	struct mp_nodemask mems; /* cpuset.mems.effective (v2) or cpuset.effective_mems (v1) */
};

/* For pid (0 = self) under root.  Returns 0 or -errno. */
int mp_cgroup_load(const char *root, int pid, struct mp_cgroup *ret);
/* The allowed mems of a cgroup path given directly (for --cgroup). */
int mp_cgroup_load_path(const char *root, const char *path, struct mp_cgroup *ret);
void mp_cgroup_free(struct mp_cgroup *c);

/* ---- memory and migrations now (mplace top) ------------------------------ */

/* A node's memory, in bytes, and its page migration counters, in pages
 * since boot (nodeN/meminfo and nodeN/vmstat). */
struct mp_node_stat {
	uint64_t total, free;
	uint64_t active_file, inactive_file; /* the page cache on the LRU lists */
	uint64_t kreclaimable;		     /* reclaimable slab and other kernel memory */
	uint64_t promote;		     /* pgpromote_success: pages promoted into the node */
	uint64_t demote;		     /* pgdemote_*: pages demoted out of it, every path */
	bool have_vmstat;		     /* false: no nodeN/vmstat, the counters unknown */
};

/* Read node's now, under root (NULL: live).  -errno when its meminfo cannot
 * be read; ret untouched then. */
int mp_node_stat_load(const char *root, int node, struct mp_node_stat *ret);

/* The machine's page migration counters (/proc/vmstat), in pages since boot. */
struct mp_vm_stat {
	uint64_t migrate_success, migrate_fail; /* pgmigrate_*: every migration */
	uint64_t numa_migrated;			/* numa_pages_migrated: by NUMA balancing */
};

/* -errno (-ENODATA: none of the counters) with ret untouched. */
int mp_vm_stat_load(const char *root, struct mp_vm_stat *ret);

/* ---- capabilities of the running kernel ------------------------------- */

enum mp_feat_state { MP_FEAT_NO = 0, MP_FEAT_YES = 1, MP_FEAT_UNKNOWN = 2 };

struct mp_features {
	char kernel[65];		   /* uname release */
	uint8_t mode[9];		   /* by enum mp_mode: the kernel accepts it */
	uint8_t numa_balancing_mode[9];	   /* MPOL_F_NUMA_BALANCING accepted with that mode */
	uint8_t home_node;		   /* set_mempolicy_home_node */
	uint8_t weighted_interleave_sysfs; /* /sys/kernel/mm/mempolicy/weighted_interleave */
	uint8_t weighted_interleave_auto;  /* .../weighted_interleave/auto */
	uint8_t numa_balancing;		   /* kernel.numa_balancing sysctl present */
	int numa_balancing_value;	   /* its value, -1 unknown */
	uint8_t damon;			   /* /sys/kernel/mm/damon/admin */
	uint8_t damon_migrate;		   /* DAMOS migrate_hot/migrate_cold (6.11+) */
	uint8_t memory_tiers;		   /* /sys/devices/virtual/memory_tiering */
	uint8_t move_other;		   /* this process may move others' pages (CAP_SYS_NICE) */
	unsigned n_thp_sizes;
	uint64_t thp_sizes[16]; /* bytes, from transparent_hugepage/hugepages-*kB */
	char thp_enabled[16];	/* "always" | "madvise" | "never" | "" */
};

/* Probe.  Syscall probes are done only when root is the live system; on a
 * fixture root they are MP_FEAT_UNKNOWN. */
int mp_features_probe(const char *root, struct mp_features *ret);

/*
 * What placement reads as it places, under root (NULL: the live system):
 * one small read each, no stdio, no allocation (the allocator's extent
 * hooks call in).  -errno when the file is not there or not a number.
 */
/* A node's MemFree, in bytes. */
int mp_probe_node_free(const char *root, int node, uint64_t *ret_bytes);
/* Free huge pages of page_size in a node's pool. */
int mp_probe_node_huge_free(const char *root, int node, uint64_t page_size, uint64_t *ret_pages);
/* A node's weight in the kernel's weighted interleave table. */
int mp_probe_wi_weight(const char *root, int node, unsigned *ret);
/* Whether the kernel has weighted interleave (its sysfs table). */
bool mp_probe_weighted_interleave(const char *root);

/* The node of the CPU the caller runs on, by t's CPU lists; -1 when the CPU
 * is in none of them (a recorded topology of another machine) or getcpu
 * fails. */
int mp_topo_local_node(const struct mp_topo *t);

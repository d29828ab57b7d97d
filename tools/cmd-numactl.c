/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * numactl's command line on top of mplace.  Run as `mplace numactl ...` or
 * through a symlink named numactl.  Scripts written for numactl(8) get the
 * same behaviour and, where the content is deterministic, the same output
 * (--hardware, --show, --dump, --dump-nodes, as numactl 2.0.16 prints them).
 *
 * Invariants:
 *   - options take effect in the order given, as numactl's do: a memory
 *     option sets the policy of this process at once (or of the shared
 *     segment attached before it), so "-m 0 -s" shows the bind it just set;
 *   - every memory option goes through mplace's policy language: it is
 *     spelled as numactl text, parsed (MP_FORM_NUMACTL), resolved against
 *     this machine and the cgroup's nodes (not with --all), and the compiled
 *     kernel mode and nodes are what set_mempolicy/mbind receive;
 *   - usage errors exit 1 with the usage on stderr, as numactl does.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/util.h"
#include "core/combine.h"
#include "core/mpol.h"
#include "kernel/place.h"
#include "numactl.h"
#include "tool.h"
#include "machine/live.h"

static const char usage_text[] = "usage: numactl [--all | -a] [--balancing | -b]\n"
				 "               [--interleave= | -i <nodes>] [--weighted-interleave= | -w <nodes>]\n"
				 "               [--membind= | -m <nodes>] [--preferred= | -p <node>]\n"
				 "               [--preferred-many= | -P <nodes>] [--localalloc | -l]\n"
				 "               [--cpunodebind= | -N <nodes>] [--physcpubind= | -C <cpus>]\n"
				 "               [--] command args ...\n"
				 "       numactl [--show | -s]\n"
				 "       numactl [--hardware | -H]\n"
				 "       numactl [--length | -L <length>] [--offset | -o <offset>]\n"
				 "               [--shmmode | -M <mode>] [--shmid | -I <id>] [--huge | -u]\n"
				 "               (--shm | -S <keyfile> | --file | -f <file>)\n"
				 "               [--strict | -t] <memory policy> [--touch | -T]\n"
				 "               [--dump | -d] [--dump-nodes | -D]\n"
				 "       numactl [--help | -h]\n"
				 "\n"
				 "mplace's implementation of numactl: the memory options become mplace\n"
				 "policies (see mplace-policy(7)), resolved against this machine.\n"
				 "<nodes>: node numbers and A-B ranges separated by commas, or all;\n"
				 "  !LIST inverts, +LIST counts within the cpuset, 'same' repeats the\n"
				 "  previous list; netdev:IF, pci:BDF and block:DEV name a device's node.\n"
				 "<cpus>: CPU numbers and ranges in the same forms.\n"
				 "<length>, <offset>: bytes, with an optional k, m or g suffix.\n";

static const struct option options[] = {
	{"all", no_argument, NULL, 'a'},
	{"interleave", required_argument, NULL, 'i'},
	{"weighted-interleave", required_argument, NULL, 'w'},
	{"preferred", required_argument, NULL, 'p'},
	{"preferred-many", required_argument, NULL, 'P'},
	{"cpubind", required_argument, NULL, 'c'},
	{"cpunodebind", required_argument, NULL, 'N'},
	{"physcpubind", required_argument, NULL, 'C'},
	{"membind", required_argument, NULL, 'm'},
	{"show", no_argument, NULL, 's'},
	{"localalloc", no_argument, NULL, 'l'},
	{"balancing", no_argument, NULL, 'b'},
	{"hardware", no_argument, NULL, 'H'},
	{"shm", required_argument, NULL, 'S'},
	{"file", required_argument, NULL, 'f'},
	{"offset", required_argument, NULL, 'o'},
	{"length", required_argument, NULL, 'L'},
	{"strict", no_argument, NULL, 't'},
	{"shmmode", required_argument, NULL, 'M'},
	{"dump", no_argument, NULL, 'd'},
	{"dump-nodes", no_argument, NULL, 'D'},
	{"shmid", required_argument, NULL, 'I'},
	{"huge", no_argument, NULL, 'u'},
	{"touch", no_argument, NULL, 'T'},
	{"verify", no_argument, NULL, 'V'}, /* undocumented in numactl; its shmtest uses it */
	{"help", no_argument, NULL, 'h'},
	{},
};

/* '+': stop at the command, whose options are its own */
#define SHORT_OPTS "+ai:w:p:P:c:N:C:m:slbHS:f:o:L:tM:dDI:uTVh"

struct numactl {
	struct mp_live live; /* loaded on first use */
	bool all;	     /* --all: node and CPU strings ignore the cpuset */
	bool balancing;
	bool strict;
	int policy_set;		/* the memory option given, or 0 */
	const char *shm_option; /* a --length/--offset/... given (must precede --shm) */
	bool did_nodecpu;
	bool did_cpubind;
	bool did_strict;
	bool did_dump;
	/* the shared segment or file, once attached */
	char *shm;
	uint64_t shm_len, shm_off;
	size_t shm_page;
	int shm_fd; /* file descriptor or SysV id; -1 none */
	bool shm_sysv;
	mode_t shm_mode;
	long shm_id;
	bool shm_huge;
	/* what the segment's mbind was given, for --verify */
	int seg_mode; /* kernel mode with flags; -1 none yet */
	bool seg_has_nodes;
	struct mp_nodemask seg_nodes;
	int exit_code;		/* EXIT_OK, or EXIT_FAIL after a --verify finding */
	const char *last_nodes; /* for "same" */
};

static _Noreturn void usage_exit(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_FAIL);
}

__attribute__((format(printf, 1, 2))) static _Noreturn void usage_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("numactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage_exit();
}

__attribute__((format(printf, 1, 2))) static _Noreturn void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("numactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

/* numactl reports a bad node or CPU string on stdout, after the usage */
static _Noreturn void invalid(const char *arg, const char *why)
{
	if (why)
		fprintf(stderr, "numactl: %s\n", why);
	fputs(usage_text, stderr);
	printf("<%s> is invalid\n", arg);
	exit(EXIT_FAIL);
}

/* ---- output helpers, in numactl's formats ---------------------------------- */

/* "name: 0 1 3 \n" */
static void print_mask(const char *name, const struct mp_nodemask *m)
{
	printf("%s: ", name);
	mp_mask_foreach(n, m)
		printf("%d ", n);
	putchar('\n');
}

static void print_cpuset(const char *name, const cpu_set_t *set)
{
	printf("%s: ", name);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, set))
			printf("%d ", i);
	putchar('\n');
}

/* numactl 2.0.16's names, indexed by MPOL_*; others print as "[N]" */
static const char *policy_name(int mode, char *buf, size_t size)
{
	static const char *const names[] = {"default", "preferred", "bind", "interleave", "local", "preferred-many"};

	if (mode >= 0 && (size_t)mode < MP_ARRAY_SIZE(names))
		return names[mode];
	snprintf(buf, size, "[%d]", mode);
	return buf;
}

/* ---- the machine -------------------------------------------------------------- */

/*
 * numactl's options need the nodes, their CPUs, memory and distances: the
 * rest of the machine (devices, physical blocks, huge page pools, HMAT,
 * memory tiers) is left unread, as numactl leaves it, so that starting a
 * program through `mplace numactl` costs what starting it through numactl
 * does.  A node string that names a device (netdev:, pci:, block:) asks for
 * the devices too.
 */
static void load_machine_parts(struct numactl *n, bool devices)
{
	unsigned skip = MP_TOPO_PHYS | MP_TOPO_HUGEPAGES | MP_TOPO_HMAT | MP_TOPO_TIERS;
	int r;

	if (!devices)
		skip |= MP_TOPO_DEVICES;
	if (n->live.topo && !(n->live.topo->skipped & ~skip))
		return;
	mp_live_free(&n->live);
	r = mp_live_load_parts(NULL, 0, NULL, skip, &n->live);
	if (r < 0)
		fail("cannot read the NUMA topology from /sys/devices/system/node: %s", strerror(-r));
}

static void load_machine(struct numactl *n)
{
	load_machine_parts(n, n->live.topo && !(n->live.topo->skipped & MP_TOPO_DEVICES));
}

/* Nodes this process may allocate on: online memory nodes within Mems_allowed. */
static struct mp_nodemask allowed_mem_nodes(struct numactl *n)
{
	struct mp_nodemask m = n->live.topo->memory, allowed;

	if (mp_place_mems_allowed(&allowed) == 0)
		mp_mask_and(&m, &m, &allowed);
	return m;
}

/* ---- --hardware and --show ------------------------------------------------------- */

static void hardware(struct numactl *n)
{
	const struct mp_topo *t;
	char list[256];
	int first, last;

	load_machine(n);
	t = n->live.topo;
	mp_mask_format(&t->online, list, sizeof(list));
	printf("available: %u nodes (%s)\n", t->n_nodes, list);
	for (unsigned i = 0; i < t->n_nodes; i++) {
		const struct mp_node *nd = &t->nodes[i];

		printf("node %d cpus:", nd->id);
		for (unsigned k = 0; k < nd->n_cpus; k++)
			printf(" %d", nd->cpus[k]);
		putchar('\n');
		/* libnuma reads MemTotal/MemFree in kB and prints bytes >> 20 */
		printf("node %d size: %llu MB\n", nd->id, (unsigned long long)(nd->mem_total >> 20));
		printf("node %d free: %llu MB\n", nd->id, (unsigned long long)(nd->mem_free >> 20));
	}
	first = mp_mask_next(&t->online, 0);
	last = mp_mask_last(&t->online);
	if (first < 0 || mp_topo_distance(t, last, first) <= 0) {
		printf("No distance information available.\n");
		return;
	}
	printf("node distances:\nnode ");
	for (unsigned i = 0; i < t->n_nodes; i++)
		printf("% 3d ", t->nodes[i].id);
	putchar('\n');
	for (unsigned i = 0; i < t->n_nodes; i++) {
		printf("% 3d: ", t->nodes[i].id);
		for (unsigned k = 0; k < t->n_nodes; k++)
			printf("% 3d ", mp_topo_distance(t, t->nodes[i].id, t->nodes[k].id));
		putchar('\n');
	}
}

static void show(struct numactl *n)
{
	struct mp_nodemask nodes, run, membind;
	struct mp_task_policy task;
	cpu_set_t cpus;
	int mode = 0, next = 0, r;
	char buf[32];

	load_machine(n);
	r = mp_place_task_get(&task);
	if (r < 0) {
		fprintf(stderr, "get_mempolicy: %s\n", strerror(-r));
		task.mode = 0;
		mp_mask_zero(&task.nodes);
	}
	mode = task.mode;
	nodes = task.nodes;
	/* the next interleave node; the kernel answers only under interleave */
	if (mp_place_task_next_node(&next) < 0)
		next = 0;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
		fail("sched_getaffinity: %s", strerror(errno));
	/* nodes whose CPUs this process may run on */
	mp_mask_zero(&run);
	for (unsigned i = 0; i < n->live.topo->n_nodes; i++)
		for (unsigned k = 0; k < n->live.topo->nodes[i].n_cpus; k++)
			if (n->live.topo->nodes[i].cpus[k] < CPU_SETSIZE &&
			    CPU_ISSET(n->live.topo->nodes[i].cpus[k], &cpus))
				mp_mask_set(&run, (unsigned)n->live.topo->nodes[i].id);
	/* membind: the bind nodes, else every node memory may come from; the
	 * mode is compared with its flags, as numactl does */
	membind = mode == MP_MPOL_BIND ? nodes : allowed_mem_nodes(n);

	printf("policy: %s\n", policy_name(mode, buf, sizeof(buf)));
	printf("preferred node: ");
	switch (mode) {
	case MP_MPOL_PREFERRED:
		printf("%d\n", mp_mask_empty(&nodes) ? 0 : mp_mask_next(&nodes, 0));
		break;
	case MP_MPOL_DEFAULT:
		printf("current\n");
		break;
	case MP_MPOL_INTERLEAVE:
		printf("%d (interleave next)\n", next);
		break;
	case MP_MPOL_BIND:
		printf("%d\n", mp_mask_next(&membind, 0));
		break;
	case MP_MPOL_PREFERRED_MANY:
		printf("%d (preferred-many)\n", next);
		break;
	default:
		break; /* numactl 2.0.16 ends the line only for the modes it knows */
	}
	if (mode == MP_MPOL_INTERLEAVE) {
		print_mask("interleavemask", &nodes);
		printf("interleavenode: %d\n", next);
	}
	print_cpuset("physcpubind", &cpus);
	print_mask("cpubind", &run);
	print_mask("nodebind", &run);
	print_mask("membind", &membind);
	print_mask("preferred", &nodes);
}

/* ---- node and CPU strings ------------------------------------------------------- */

/*
 * A node or CPU list as numactl takes it for -N and -C: "all", "LIST",
 * "!LIST", "+LIST" (positions within 'within'), into *ret, restricted to
 * 'within' unless --all.  false when malformed or naming what is not there.
 */
static bool parse_list(const char *s, const struct mp_nodemask *within, const struct mp_nodemask *exist, bool all,
		       struct mp_nodemask *ret)
{
	struct mp_nodeset ns;
	const struct mp_ns_term *t;
	struct mp_nodemask m, res;
	bool ok = false;

	/* numactl's grammar, read by the one reader of it (core/parse-numactl.c) */
	if (mp_numactl_nodes_parse(s, strlen(s), 0, &ns, NULL) < 0)
		return false;
	if (ns.n != 1)
		goto out;
	t = &ns.terms[0];
	if (t->atom == MP_NS_ALL) {
		*ret = all ? *exist : *within;
		ok = !mp_mask_empty(ret);
		goto out;
	}
	/* device forms name nodes near a device, which -N and -C do not take */
	if (t->atom != MP_NS_LIST && t->atom != MP_NS_RELATIVE)
		goto out;
	m = t->mask;
	if (t->atom == MP_NS_RELATIVE) {
		int idx = 0;

		mp_mask_zero(&res);
		mp_mask_foreach(k, within) {
			if (mp_mask_test(&m, (unsigned)idx))
				mp_mask_set(&res, (unsigned)k);
			idx++;
		}
		if (mp_mask_weight(&res) != mp_mask_weight(&m))
			goto out;
		m = res;
	}
	if (!mp_mask_subset(&m, exist))
		goto out;
	if (t->neg)
		mp_mask_andnot(&m, all ? exist : within, &m);
	else if (!all && !mp_mask_subset(&m, within))
		goto out;
	*ret = m;
	ok = !mp_mask_empty(ret);
out:
	mp_nodeset_free(&ns);
	return ok;
}

static const char *same(struct numactl *n, const char *s)
{
	if (!strcmp(s, "same")) {
		if (!n->last_nodes)
			usage_msg("same needs previous node specification");
		return n->last_nodes;
	}
	n->last_nodes = s;
	return s;
}

int numactl_cpunodes(const struct mp_topo *topo, const struct mp_nodemask *within, bool all, const char *arg,
		     cpu_set_t *ret, char *why, size_t why_size)
{
	struct mp_nodemask nodes;
	cpu_set_t set;

	why[0] = '\0';
	if (!parse_list(arg, within, &topo->online, all, &nodes))
		return -EINVAL;
	CPU_ZERO(&set);
	mp_mask_foreach(id, &nodes) {
		int i = mp_topo_index(topo, id);

		for (unsigned k = 0; i >= 0 && k < topo->nodes[i].n_cpus; k++)
			if (topo->nodes[i].cpus[k] < CPU_SETSIZE)
				CPU_SET(topo->nodes[i].cpus[k], &set);
	}
	if (CPU_COUNT(&set) == 0) {
		snprintf(why, why_size, "the nodes have no CPUs");
		return -EINVAL;
	}
	*ret = set;
	return 0;
}

int numactl_physcpus(const char *arg, bool all, cpu_set_t *ret, char *why, size_t why_size)
{
	struct mp_nodemask cpus, within, exist;
	cpu_set_t set;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	why[0] = '\0';
	mp_mask_zero(&within);
	mp_mask_zero(&exist);
	for (long i = 0; i < ncpu && i < MP_MAX_NODES; i++)
		mp_mask_set(&exist, (unsigned)i);
	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		snprintf(why, why_size, "sched_getaffinity: %s", strerror(errno));
		return -errno;
	}
	for (int i = 0; i < CPU_SETSIZE && i < MP_MAX_NODES; i++)
		if (CPU_ISSET(i, &set))
			mp_mask_set(&within, (unsigned)i);
	if (!parse_list(arg, &within, &exist, all, &cpus))
		return -EINVAL;
	CPU_ZERO(&set);
	mp_mask_foreach(c, &cpus)
		if (c < CPU_SETSIZE)
			CPU_SET(c, &set);
	*ret = set;
	return 0;
}

static void cpunodebind(struct numactl *n, const char *arg)
{
	struct mp_nodemask within;
	cpu_set_t set;
	char why[128];
	const char *s = same(n, arg);

	load_machine(n);
	within = n->live.have_cg && n->live.cg.has_mems ? n->live.cg.mems : n->live.topo->online;
	mp_mask_and(&within, &within, &n->live.topo->online);
	if (numactl_cpunodes(n->live.topo, &within, n->all, s, &set, why, sizeof(why)) < 0)
		invalid(arg, why[0] ? why : NULL);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fail("sched_setaffinity: %s", strerror(errno));
}

static void physcpubind(struct numactl *n, const char *arg)
{
	cpu_set_t set;
	char why[128];
	int r = numactl_physcpus(arg, n->all, &set, why, sizeof(why));

	if (r == -EINVAL)
		invalid(arg, why[0] ? why : NULL);
	if (r < 0)
		fail("%s", why);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fail("sched_setaffinity: %s", strerror(errno));
}

/* ---- memory policies ----------------------------------------------------------- */

static const struct {
	int opt;
	const char *name;
} option_names[] = {
	{'m', "--membind"},	   {'i', "--interleave"},	   {'p', "--preferred"},
	{'P', "--preferred-many"}, {'w', "--weighted-interleave"}, {'l', "--localalloc"},
	{'N', "--cpunodebind"},	   {'C', "--physcpubind"},	   {'b', "--balancing"},
};

const char *numactl_option_name(int opt)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(option_names); i++)
		if (option_names[i].opt == opt)
			return option_names[i].name;
	return NULL;
}

bool numactl_is_memory_option(int opt)
{
	return opt && strchr("miwpPl", opt);
}

int numactl_memory_policy(const struct mp_topo *topo, int opt, const char *s, bool balancing, struct mp_policy *ret,
			  char *why, size_t why_size)
{
	struct mp_diag diag = {0};
	struct mp_sb text;
	const char *name = numactl_option_name(opt);
	char *t;
	int r;

	why[0] = '\0';
	if (!numactl_is_memory_option(opt) || (opt != 'l' && !s))
		return -EINVAL;
	/* numactl refuses a node that is not there; mplace's resolver would
	 * only leave it out with a warning */
	if (s && (isdigit((unsigned char)s[0]) || (s[0] == '!' && isdigit((unsigned char)s[1])))) {
		struct mp_nodemask m;
		const char *l = s[0] == '!' ? s + 1 : s;

		if (mp_mask_parse(l, strlen(l), &m, NULL) == 0 && !mp_mask_subset(&m, &topo->online)) {
			struct mp_nodemask missing;

			mp_mask_andnot(&missing, &m, &topo->online);
			snprintf(why, why_size, "node argument %d is out of range", mp_mask_next(&missing, 0));
			return -EINVAL;
		}
	}
	/* numactl's -p takes one node */
	if (opt == 'p' && s && (strchr(s, ',') || strchr(s, '-') || !strcmp(s, "all"))) {
		snprintf(why, why_size, "--preferred takes one node");
		return -EINVAL;
	}
	mp_sb_init(&text);
	if (balancing)
		mp_sb_puts(&text, "--balancing ");
	if (s)
		mp_sb_printf(&text, "%s=%s", name, s);
	else
		mp_sb_puts(&text, name);
	t = mp_sb_steal(&text);
	if (!t) {
		snprintf(why, why_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r = mp_policy_parse_as(MP_FORM_NUMACTL, t, ret, &diag);
	free(t);
	if (r < 0) {
		snprintf(why, why_size, "%s", diag.msg);
		return -EINVAL;
	}
	return 0;
}

/*
 * Spell the option as numactl text, let mplace's parser read it, resolve it
 * here and hand the compiled mode and nodes to the kernel: the task policy,
 * or mbind on the attached segment.
 */
static void memory_option(struct numactl *n, int opt, const char *arg)
{
	struct mp_resolve_ctx ctx;
	struct mp_compiled c;
	struct mp_policy pol;
	struct mp_diag diag = {0};
	const char *name = numactl_option_name(opt), *s = arg;
	char why[sizeof(diag.msg)];
	int r;

	if (n->policy_set)
		usage_msg("Conflicting policies");
	n->policy_set = opt;
	if (arg)
		s = same(n, arg);
	load_machine_parts(n, s && strchr(s, ':'));
	r = numactl_memory_policy(n->live.topo, opt, s, n->balancing && !n->shm, &pol, why, sizeof(why));
	if (r == -ENOMEM)
		fail("out of memory");
	if (r < 0)
		invalid(arg ? arg : name, why[0] ? why : NULL);
	mp_live_resolve_ctx(&n->live, &ctx);
	if (n->all)
		ctx.cgroup = NULL;
	ctx.local_node = mp_topo_local_node(n->live.topo);
	r = mp_resolve(&pol, NULL, &ctx, &c, &diag);
	mp_policy_free(&pol);
	if (r < 0)
		invalid(arg ? arg : name, diag.msg);
	for (unsigned i = 0; i < c.n_warnings; i++)
		fprintf(stderr, "numactl: warning: %s\n", c.warnings[i]);
	if (n->shm) {
		/* numactl leaves the pages already there: no MPOL_MF_MOVE */
		r = mp_place_range_kernel(n->shm, n->shm_len, &c, n->strict);
		if (r < 0)
			fail("mbind on the shared memory: %s", strerror(-r));
		n->seg_mode = c.kmode | (int)(c.kflags & ~MP_MPOL_F_NUMA_BALANCING);
		n->seg_has_nodes = c.kmode != MP_MPOL_LOCAL && c.kmode != MP_MPOL_DEFAULT;
		n->seg_nodes = c.nodes;
	} else {
		r = mp_place_task_compiled(&c);
		if (r == -EINVAL && c.kmode == MP_MPOL_WEIGHTED_INTERLEAVE)
			fail("this kernel has no weighted interleave (MPOL_WEIGHTED_INTERLEAVE came in Linux 6.9)");
		if (r == -EINVAL && c.kmode == MP_MPOL_PREFERRED_MANY)
			fail("preferred-many requested without kernel support (MPOL_PREFERRED_MANY came in Linux 5.15)");
		if (r < 0)
			fail("setting the memory policy (%s %s): %s", name, arg ? arg : "", strerror(-r));
	}
	mp_compiled_free(&c);
	n->did_nodecpu = true;
}

/* ---- shared memory --------------------------------------------------------------- */

/* numactl's sizes: a number (0x.. and 0.. as in C) with k, m or g */
static uint64_t memsize(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		usage_exit();
	switch (*end) {
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	}
	if (*end)
		usage_exit();
	return v;
}

static size_t huge_page_size(void)
{
	char line[256];
	size_t ps = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		uint64_t kb;

		if (!strncmp(line, "Hugepagesize:", 13)) {
			const char *p = line + 13;

			while (*p == ' ')
				p++;
			if (mp_parse_uint(p, strspn(p, "0123456789"), UINT64_MAX / 1024, &kb) == 0)
				ps = (size_t)kb * 1024;
			break;
		}
	}
	if (f)
		fclose(f);
	return ps ? ps : (size_t)getpagesize();
}

static void check_region(struct numactl *n, const char *opt)
{
	if ((uintptr_t)n->shm % n->shm_page || n->shm_len % n->shm_page)
		fail("policy region not page aligned");
	if (!n->shm_len)
		fail("policy region length not specified before %s", opt);
}

static void attach_file(struct numactl *n, const char *path)
{
	struct stat st;
	void *p;

	n->shm_fd = open(path, O_RDWR | O_CLOEXEC);
	if (n->shm_fd < 0) {
		if (!n->shm_len)
			fail("need a --length to create a shared file");
		n->shm_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, n->shm_mode);
		if (n->shm_fd < 0)
			fail("cannot create file %s: %s", path, strerror(errno));
	}
	if (fstat(n->shm_fd, &st) < 0)
		fail("stat %s: %s", path, strerror(errno));
	/* a mapping beyond the end of the file would SIGBUS on touch */
	if ((off_t)(n->shm_len + n->shm_off) > st.st_size && ftruncate(n->shm_fd, (off_t)(n->shm_len + n->shm_off)) < 0)
		fail("ftruncate %s: %s", path, strerror(errno));
	n->shm_page = (size_t)st.st_blksize;
	if (!n->shm_page)
		n->shm_page = (size_t)getpagesize();
	check_region(n, "--file");
	p = mmap(NULL, n->shm_len, PROT_READ | PROT_WRITE, MAP_SHARED, n->shm_fd, (off_t)n->shm_off);
	if (p == MAP_FAILED)
		fail("mmap %s: %s", path, strerror(errno));
	n->shm = p;
}

static void attach_sysv(struct numactl *n, const char *keyfile)
{
	struct shmid_ds ds;
	key_t key;
	void *p;
	int flags = n->shm_huge ? SHM_HUGETLB : 0;

	key = ftok(keyfile, (int)n->shm_id);
	if (key < 0) {
		int fd;

		fprintf(stderr, "numactl: Creating shm key file %s mode %04o\n", keyfile, (unsigned)n->shm_mode);
		fd = open(keyfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, n->shm_mode);
		if (fd < 0)
			fail("cannot create key for shm %s: %s", keyfile, strerror(errno));
		close(fd);
		key = ftok(keyfile, (int)n->shm_id);
		if (key < 0)
			fail("cannot get key for shm key file %s: %s", keyfile, strerror(errno));
	}
	n->shm_fd = shmget(key, n->shm_len, flags);
	if (n->shm_fd < 0 && errno == ENOENT) {
		if (!n->shm_len)
			fail("need a --length to create a sysv shared memory segment");
		fprintf(stderr, "numactl: Creating shared memory segment %s id %ld mode %04o length %.fMB\n", keyfile,
			n->shm_id, (unsigned)n->shm_mode, (double)(n->shm_len + n->shm_off) / (1024 * 1024));
		n->shm_fd = shmget(key, n->shm_len + n->shm_off, IPC_CREAT | (int)n->shm_mode | flags);
	}
	if (n->shm_fd < 0)
		fail("cannot attach shared memory segment %s: %s", keyfile, strerror(errno));
	if (!n->shm_len) {
		if (shmctl(n->shm_fd, IPC_STAT, &ds) < 0)
			fail("shmctl IPC_STAT: %s", strerror(errno));
		n->shm_len = ds.shm_segsz;
	}
	p = shmat(n->shm_fd, NULL, 0);
	if (p == (void *)-1)
		fail("shmat: %s", strerror(errno));
	n->shm = (char *)p + n->shm_off;
	n->shm_sysv = true;
	n->shm_page = n->shm_huge ? huge_page_size() : (size_t)getpagesize();
	check_region(n, "--shm");
}

static void check_beyond(struct numactl *n, const char *opt)
{
	if (n->shm_off >= n->shm_len)
		fail("region offset %#llx beyond its length %#llx at %s", (unsigned long long)n->shm_off,
		     (unsigned long long)n->shm_len, opt);
}

/* Write every page once so it is allocated under the segment's policy. */
static void touch(struct numactl *n)
{
	volatile char *p = (volatile char *)n->shm;

	for (uint64_t off = 0; off < n->shm_len; off += n->shm_page)
		p[off] = p[off];
}

/* The next node of an interleave after node, wrapping; -1 for an empty set. */
static int interleave_next(const struct mp_nodemask *nodes, int node)
{
	int first = -1;

	mp_mask_foreach(id, nodes) {
		if (first < 0)
			first = (int)id;
		if ((int)id > node)
			return (int)id;
	}
	return first;
}

/* A --verify finding, in numactl's words and on stdout as numactl prints it;
 * it makes the exit status 1. */
__attribute__((format(printf, 3, 4))) static void verify_warn(struct numactl *n, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	printf("numactl verify %lx(%llx): ", (unsigned long)(n->shm + off), (unsigned long long)off);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	n->exit_code = EXIT_FAIL;
}

/* --verify: fault every page of the segment in, then check each against the
 * policy this command gave it: the kernel reports that mode and those nodes
 * for the page, the page is on one of the nodes, and under interleave the
 * pages follow the round robin from the first page's node.  As in numactl,
 * a finding is printed on stdout and makes the status 1, and the first wrong
 * policy or interleave step ends the check. */
static void verify(struct numactl *n)
{
	char want[32], got[32];
	int mode, node, next = -1;
	struct mp_nodemask nodes;

	if (n->seg_mode < 0)
		fail("Need a policy first to verify");
	check_beyond(n, "--verify");
	touch(n);
	if (!n->seg_has_nodes)
		fail("Need a mask to verify");
	for (uint64_t off = 0; off < n->shm_len; off += n->shm_page) {
		int r = mp_place_policy_at(n->shm + off, &mode, &nodes);

		if (r < 0)
			fail("get_mempolicy on shm: %s", strerror(-r));
		if (mode != n->seg_mode) {
			verify_warn(n, off, "wrong policy %s, expected %s\n", policy_name(mode, got, sizeof(got)),
				    policy_name(n->seg_mode, want, sizeof(want)));
			return;
		}
		if (!mp_mask_equal(&nodes, &n->seg_nodes)) {
			verify_warn(n, off, "mismatched node mask\n");
			print_mask("expected", &n->seg_nodes);
			print_mask("real", &nodes);
		}
		r = mp_place_node_at(n->shm + off, &node);
		if (r < 0)
			fail("get_mempolicy on shm: %s", strerror(-r));
		if ((mode & ~MP_MPOL_MODE_FLAGS) != MP_MPOL_INTERLEAVE) {
			if (node < 0 || !mp_mask_test(&nodes, (unsigned)node)) {
				verify_warn(n, off, "unexpected node %d\n", node);
				print_mask("expected", &nodes);
			}
			continue;
		}
		if (node < 0 || !mp_mask_test(&nodes, (unsigned)node))
			verify_warn(n, off, "interleave node out of range %d\n", node);
		if (next >= 0 && node != next) {
			verify_warn(n, off, "expected interleave node %d, got %d\n", next, node);
			return;
		}
		next = interleave_next(&nodes, node);
	}
}

/* Ranges of pages with the same policy, policies other than default only. */
static void dump(struct numactl *n)
{
	struct mp_nodemask nodes, prev_nodes;
	int prev = -1, mode = 0;
	uint64_t start = 0, off;
	char buf[32];

	if (!n->shm_len) {
		printf("nothing to dump\n");
		return;
	}
	mp_mask_zero(&prev_nodes);
	for (off = 0; off <= n->shm_len; off += n->shm_page) {
		bool end = off == n->shm_len;
		int r = 0;

		if (!end) {
			r = mp_place_policy_at(n->shm + off, &mode, &nodes);
			if (r < 0)
				fail("get_mempolicy on shm: %s", strerror(-r));
			if (mode == prev && mp_mask_equal(&nodes, &prev_nodes))
				continue;
		}
		if (prev > 0) { /* numactl skips the default policy */
			printf("%016llx-%016llx: %s ", (unsigned long long)(n->shm_off + start),
			       (unsigned long long)(n->shm_off + off), policy_name(prev, buf, sizeof(buf)));
			print_mask("", &prev_nodes);
		}
		if (end)
			break;
		prev = mode;
		prev_nodes = nodes;
		start = off;
	}
}

/* Ranges of pages on the same node.  get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR)
 * faults a missing page in, as numactl's --dump-nodes does. */
static void dump_nodes(struct numactl *n)
{
	int prev = -1, node = -1;
	uint64_t start = 0, off;

	if (!n->shm_len) {
		printf("nothing to dump\n");
		return;
	}
	for (off = 0; off <= n->shm_len; off += n->shm_page) {
		bool end = off == n->shm_len;

		if (!end) {
			int r = mp_place_node_at(n->shm + off, &node);

			if (r < 0)
				fail("get_mempolicy on shm: %s", strerror(-r));
			if (node == prev)
				continue;
		}
		if (prev != -1)
			printf("%016llx-%016llx: %d\n", (unsigned long long)(n->shm_off + start),
			       (unsigned long long)(n->shm_off + off), prev);
		if (end)
			break;
		prev = node;
		start = off;
	}
}

/* ---- the command line ------------------------------------------------------------ */

static void shm_option_first(struct numactl *n, const char *opt)
{
	if (n->shm)
		usage_msg("%s must be before shared memory specification", opt);
	n->shm_option = opt;
}

static void no_policy_yet(struct numactl *n)
{
	if (n->policy_set)
		usage_msg("specify policy after --shm/--file");
}

int cmd_numactl(int argc, char **argv)
{
	struct numactl n = {.shm_fd = -1, .shm_mode = 0600, .seg_mode = -1};
	char *end;
	int c;

	optind = 1;
	/* getopt's own messages name the program as numactl does */
	argv[0] = (char *)"numactl";
	while ((c = getopt_long(argc, argv, SHORT_OPTS, options, NULL)) != -1) {
		switch (c) {
		case 's':
			show(&n);
			fflush(stdout);
			exit(EXIT_OK);
		case 'H':
			no_policy_yet(&n);
			hardware(&n);
			fflush(stdout);
			exit(EXIT_OK);
		case 'b':
			no_policy_yet(&n);
			n.balancing = true;
			break;
		case 'a':
			if (n.did_nodecpu)
				usage_msg("--all/-a option must be before all cpu/node specifications");
			n.all = true;
			break;
		case 'i':
		case 'w':
		case 'm':
		case 'p':
		case 'P':
			memory_option(&n, c, optarg);
			break;
		case 'l':
			memory_option(&n, c, NULL);
			break;
		case 'N':
		case 'c':
			if (n.shm_option)
				usage_msg("%s shm option is not allowed before -c/--cpubind/--cpunodebind",
					  n.shm_option);
			if (n.shm)
				usage_msg("cannot do --cpubind on shared memory");
			cpunodebind(&n, optarg);
			n.did_cpubind = n.did_nodecpu = true;
			break;
		case 'C':
			if (n.shm_option)
				usage_msg("%s shm option is not allowed before -C/--physcpubind", n.shm_option);
			if (n.shm)
				usage_msg("cannot do --cpubind on shared memory");
			physcpubind(&n, optarg);
			n.did_cpubind = n.did_nodecpu = true;
			break;
		case 'S':
		case 'f':
			if (n.did_cpubind)
				usage_msg("cannot do --cpubind on shared memory");
			no_policy_yet(&n);
			if (n.shm)
				usage_msg("one --shm or --file at a time");
			if (c == 'S')
				attach_sysv(&n, optarg);
			else
				attach_file(&n, optarg);
			break;
		case 'L':
			shm_option_first(&n, "--length");
			n.shm_len = memsize(optarg);
			break;
		case 'o':
			shm_option_first(&n, "--offset");
			n.shm_off = memsize(optarg);
			break;
		case 'M':
			shm_option_first(&n, "--shmmode");
			errno = 0;
			n.shm_mode = (mode_t)strtoul(optarg, &end, 8);
			if (errno || end == optarg || *end)
				usage_exit();
			break;
		case 'I':
			errno = 0;
			n.shm_id = strtol(optarg, &end, 0);
			if (errno || end == optarg || *end)
				usage_exit();
			break;
		case 'u':
			shm_option_first(&n, "--huge");
			n.shm_huge = true;
			break;
		case 't':
			n.did_strict = true;
			n.strict = true;
			break;
		case 'T':
			if (!n.shm)
				usage_msg("--touch must be after shared memory specification");
			check_beyond(&n, "--touch");
			touch(&n);
			break;
		case 'V':
			if (!n.shm)
				usage_msg("--verify must be after shared memory specification");
			verify(&n);
			break;
		case 'd':
			if (!n.shm)
				fail("Cannot do --dump without shared memory.");
			dump(&n);
			n.did_dump = true;
			break;
		case 'D':
			if (!n.shm)
				fail("Cannot do --dump-nodes without shared memory.");
			dump_nodes(&n);
			n.did_dump = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		default:
			usage_exit();
		}
	}
	argv += optind;
	argc -= optind;

	if (n.shm) {
		if (argc)
			usage_exit();
		fflush(stdout);
		exit(n.exit_code);
	}
	if (n.did_strict)
		fprintf(stderr, "numactl: warning. Strict flag for process ignored.\n");
	if (n.did_dump)
		usage_msg("cannot do --dump|--dump-shm for process");
	if (n.shm_option)
		usage_msg("shm related option %s for process", n.shm_option);
	if (!argc)
		usage_exit();
	fflush(stdout);
	execvp(argv[0], argv);
	fail("execution of `%s': %s", argv[0], strerror(errno));
}

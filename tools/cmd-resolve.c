/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace resolve / mplace explain: fold the scopes that match a process (and
 * a policy given on the command line, the most specific scope), resolve the
 * result against the machine, and print the compiled policy (resolve) or the
 * story of how it came about (explain).  Both take the same options.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/util.h"
#include "core/combine.h"
#include "core/config.h"
#include "core/forms.h"
#include "core/mpol.h"
#include "tool.h"
#include "machine/live.h"

static const char usage_text[] =
	"Usage: mplace resolve [OPTIONS] [EXPR]\n"
	"       mplace explain [OPTIONS] [EXPR]\n"
	"\n"
	"Fold the configuration scopes that match a process, then EXPR (the most\n"
	"specific scope), resolve the result against this machine and print the\n"
	"compiled policy (resolve) or how each scope contributed (explain).\n"
	"\n"
	"Options:\n"
	"  --sysfs-root DIR   read sys/ and proc/ under DIR instead of /\n"
	"  --config FILE      use FILE instead of the default configuration (repeatable)\n"
	"  --no-config        use no configuration file, only EXPR\n"
	"  --cgroup PATH      the process's cgroup (its cpuset.mems restricts the nodes)\n"
	"  --exe PATH         the process's executable, for [exe GLOB] scopes\n"
	"  --comm NAME        the process's command name, for [comm NAME] scopes\n"
	"  --unit NAME        the systemd unit, for [unit NAME] scopes\n"
	"  --device NAME      resolve for a device's memory ([device NAME] scopes)\n"
	"  --pid PID          take exe, comm, cgroup and unit from a running process\n"
	"  --kind KIND        the kind of memory: heap stack text data anon file:PATH\n"
	"                     shm[:NAME] hugetlb mlocked kernel (default: the generic policy)\n"
	"  --local-node N     the node the process runs on (default: this CPU's node)\n"
	"  --as FORM          print as mplace, numactl, systemd, oci or mpol\n"
	"  --json             print a JSON object\n"
	"  -h, --help         show this help\n";

enum {
	OPT_SYSFS_ROOT = 0x100,
	OPT_CONFIG,
	OPT_NO_CONFIG,
	OPT_CGROUP,
	OPT_EXE,
	OPT_COMM,
	OPT_UNIT,
	OPT_DEVICE,
	OPT_PID,
	OPT_KIND,
	OPT_LOCAL_NODE,
	OPT_AS,
	OPT_JSON,
};

static const struct option options[] = {
	{"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"no-config", no_argument, NULL, OPT_NO_CONFIG},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"exe", required_argument, NULL, OPT_EXE},
	{"comm", required_argument, NULL, OPT_COMM},
	{"unit", required_argument, NULL, OPT_UNIT},
	{"device", required_argument, NULL, OPT_DEVICE},
	{"pid", required_argument, NULL, OPT_PID},
	{"kind", required_argument, NULL, OPT_KIND},
	{"local-node", required_argument, NULL, OPT_LOCAL_NODE},
	{"as", required_argument, NULL, OPT_AS},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{},
};

#define MAX_CONFIGS 32

struct args {
	const char *root;
	const char *configs[MAX_CONFIGS];
	unsigned n_configs;
	bool no_config, json;
	const char *cgroup, *exe, *comm, *unit, *device, *kind;
	int pid, local_node;
	enum mp_form as;
	const char *expr;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	uint64_t v;
	int c;

	memset(a, 0, sizeof(*a));
	a->local_node = -1;
	a->as = MP_FORM_AUTO;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_SYSFS_ROOT:
			a->root = optarg;
			break;
		case OPT_CONFIG:
			if (a->n_configs == MAX_CONFIGS) {
				tool_error("at most %d --config files", MAX_CONFIGS);
				return -EXIT_USAGE;
			}
			a->configs[a->n_configs++] = optarg;
			break;
		case OPT_NO_CONFIG:
			a->no_config = true;
			break;
		case OPT_CGROUP:
			if (optarg[0] != '/') {
				tool_error("--cgroup takes a path starting with '/', as in /proc/PID/cgroup: '%s'",
					   optarg);
				return -EXIT_USAGE;
			}
			a->cgroup = optarg;
			break;
		case OPT_EXE:
			a->exe = optarg;
			break;
		case OPT_COMM:
			a->comm = optarg;
			break;
		case OPT_UNIT:
			a->unit = optarg;
			break;
		case OPT_DEVICE:
			a->device = optarg;
			break;
		case OPT_PID:
			if (mp_parse_uint(optarg, strlen(optarg), INT_MAX, &v) < 0 || v == 0) {
				tool_error("--pid takes a process id, not '%s'", optarg);
				return -EXIT_USAGE;
			}
			a->pid = (int)v;
			break;
		case OPT_KIND:
			a->kind = optarg;
			break;
		case OPT_LOCAL_NODE:
			if (mp_parse_uint(optarg, strlen(optarg), MP_MAX_NODES - 1, &v) < 0) {
				tool_error("--local-node takes a node number, not '%s'", optarg);
				return -EXIT_USAGE;
			}
			a->local_node = (int)v;
			break;
		case OPT_AS:
			if (!strcmp(optarg, "mplace"))
				a->as = MP_FORM_MPLACE;
			else if (!strcmp(optarg, "numactl"))
				a->as = MP_FORM_NUMACTL;
			else if (!strcmp(optarg, "systemd"))
				a->as = MP_FORM_SYSTEMD;
			else if (!strcmp(optarg, "oci"))
				a->as = MP_FORM_OCI;
			else if (!strcmp(optarg, "mpol"))
				a->as = MP_FORM_MPOL;
			else {
				tool_error("--as takes mplace, numactl, systemd, oci or mpol, not '%s'", optarg);
				return -EXIT_USAGE;
			}
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case 'h':
			tool_usage(usage_text, false);
			return 1;
		default:
			tool_usage(usage_text, true);
			return -EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->expr = argv[optind++];
	if (optind < argc) {
		tool_error("one policy expression at most; quote it: '%s %s'", a->expr, argv[optind]);
		return -EXIT_USAGE;
	}
	if (a->json && a->as != MP_FORM_AUTO) {
		tool_error("--json and --as are two output forms; choose one");
		return -EXIT_USAGE;
	}
	if (a->no_config && a->n_configs) {
		tool_error("--no-config and --config contradict each other");
		return -EXIT_USAGE;
	}
	return 0;
}

/* ---- gathering the inputs ---------------------------------------------- */

struct inputs {
	struct mp_config cfg;
	struct mp_live live;
	struct mp_selector sel;
	char *exe_buf, *comm_buf, *unit_buf;
	struct mp_policy expr;
	bool have_expr;
};

static void inputs_free(struct inputs *in)
{
	mp_config_free(&in->cfg);
	mp_live_free(&in->live);
	if (in->have_expr)
		mp_policy_free(&in->expr);
	free(in->exe_buf);
	free(in->comm_buf);
	free(in->unit_buf);
}

/* /proc/PID/NAME under root, without its trailing newline. */
static char *read_proc(const char *root, int pid, const char *name)
{
	char path[PATH_MAX], buf[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/proc/%d/%s", root ? root : "", pid, name);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	return mp_strndup(buf, n);
}

/* The systemd unit is the last .service or .scope component of the cgroup path. */
static char *unit_of_cgroup(const char *path)
{
	const char *best = NULL, *p = path;

	while (p && *p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if ((n > 8 && !memcmp(p + n - 8, ".service", 8)) || (n > 6 && !memcmp(p + n - 6, ".scope", 6)))
			best = p;
		p = slash ? slash + 1 : NULL;
	}
	if (!best)
		return NULL;
	return mp_strndup(best, strchrnul(best, '/') - best);
}

static int gather(const struct args *a, struct inputs *in)
{
	struct mp_diag diag;
	int r;

	memset(in, 0, sizeof(*in));
	mp_config_init(&in->cfg);

	/* the cgroup and the features too; an unreadable --cgroup is reported below,
	 * after the configuration, the expression and the process */
	r = mp_live_load(a->root, a->pid, a->cgroup, &in->live);
	if (r < 0) {
		tool_error("cannot read the topology under %s: %s", a->root ? a->root : "/", strerror(-r));
		if (a->root)
			tool_hint(
				"--sysfs-root takes a tree holding sys/devices/system/node/, as tests/data/topo/* do");
		return EXIT_FAIL;
	}

	if (tool_load_config(&in->cfg, a->configs, a->n_configs, a->no_config) != EXIT_OK)
		return EXIT_FAIL;

	if (a->expr) {
		r = mp_policy_parse(a->expr, &in->expr, &diag);
		if (r < 0) {
			tool_error("policy:%u: %s", diag.pos + 1, diag.msg);
			fprintf(stderr, "  %s\n  %*s^\n", a->expr, (int)diag.pos, "");
			if (diag.hint[0])
				tool_hint("%s", diag.hint);
			return EXIT_FAIL;
		}
		in->have_expr = true;
	}

	/* the process: from --pid, then overridden by explicit options */
	if (a->pid) {
		char path[64];
		char target[PATH_MAX];
		ssize_t n;

		snprintf(path, sizeof(path), "%s/proc/%d/exe", a->root ? a->root : "", a->pid);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			in->exe_buf = strdup(target);
		}
		in->comm_buf = read_proc(a->root, a->pid, "comm");
		if (!in->comm_buf) {
			tool_error("no process %d (or it cannot be inspected)", a->pid);
			return EXIT_FAIL;
		}
	}
	if (a->cgroup && !in->live.have_cg) {
		tool_error("cannot read cgroup %s: %s", a->cgroup, strerror(-in->live.cg_err));
		return EXIT_FAIL;
	}
	if (in->live.have_cg && in->live.cg.path)
		in->unit_buf = unit_of_cgroup(in->live.cg.path);

	in->sel.exe = a->exe ? a->exe : in->exe_buf;
	in->sel.comm = a->comm ? a->comm : in->comm_buf;
	in->sel.unit = a->unit ? a->unit : in->unit_buf;
	in->sel.cgroup = in->live.have_cg ? in->live.cg.path : NULL;
	in->sel.device = a->device;
	in->sel.pid = a->pid;
	in->sel.kind = MP_KIND_ALL;
	if (a->kind) {
		const char *glob = NULL;
		enum mp_kind k;

		if (mp_kind_parse(a->kind, &k, &glob) < 0) {
			tool_error("unknown kind of memory '%s'", a->kind);
			tool_hint(
				"kinds: policy heap stack text data anon file:PATH shm[:NAME] hugetlb mlocked kernel");
			return EXIT_USAGE;
		}
		in->sel.kind = k;
		in->sel.path = glob;
	}
	return EXIT_OK;
}

static int local_node_of(const struct args *a, const struct mp_topo *t)
{
	if (a->local_node >= 0)
		return a->local_node;
	if (a->root && strcmp(a->root, "/"))
		return -1; /* a fixture: the resolver takes its first CPU node */
	return mp_topo_local_node(t);
}

/* ---- output ------------------------------------------------------------ */

static const char *kmode_name(int k)
{
	static const char *names[] = {
		"MPOL_DEFAULT",	       "MPOL_PREFERRED",	  "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL",
		"MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"};

	return k >= 0 && (size_t)k < MP_ARRAY_SIZE(names) ? names[k] : "?";
}

static struct json_object *json_mask(const struct mp_nodemask *m)
{
	struct json_object *arr = json_object_new_array();

	mp_mask_foreach(n, m)
		json_object_array_add(arr, json_object_new_int(n));
	return arr;
}

static struct json_object *json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *json_order(uint64_t order)
{
	char buf[32];

	if (!order)
		return NULL;
	if (order == MP_ORDER_THP)
		return json_object_new_string("thp");
	mp_format_size(order, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static struct json_object *json_trace(const struct mp_trace *t)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned i = 0; i < t->n; i++) {
		const struct mp_trace_step *s = &t->steps[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "scope", json_str_or_null(s->scope));
		json_object_object_add(o, "origin", json_str_or_null(s->origin));
		json_object_object_add(o, "key", json_str_or_null(s->key));
		json_object_object_add(o, "policy", json_str_or_null(s->text));
		json_object_object_add(o, "effect", json_str_or_null(s->effect));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *compiled_json(const struct mp_compiled *c, const char *folded, const char *canonical)
{
	struct json_object *o = json_object_new_object(), *flags = json_object_new_array(), *fb, *w, *warns;

	json_object_object_add(o, "policy", json_object_new_string(canonical ? canonical : ""));
	json_object_object_add(o, "folded", json_object_new_string(folded ? folded : ""));
	json_object_object_add(o, "mode", json_object_new_string(mp_mode_name(c->mode)));
	json_object_object_add(o, "kernel_mode", json_object_new_string(kmode_name(c->kmode)));
	if (c->kflags & MP_MPOL_F_STATIC_NODES)
		json_object_array_add(flags, json_object_new_string("MPOL_F_STATIC_NODES"));
	if (c->kflags & MP_MPOL_F_RELATIVE_NODES)
		json_object_array_add(flags, json_object_new_string("MPOL_F_RELATIVE_NODES"));
	if (c->kflags & MP_MPOL_F_NUMA_BALANCING)
		json_object_array_add(flags, json_object_new_string("MPOL_F_NUMA_BALANCING"));
	json_object_object_add(o, "kernel_flags", flags);
	json_object_object_add(o, "nodes", json_mask(&c->nodes));
	json_object_object_add(o, "allowed", json_mask(&c->allowed));
	json_object_object_add(o, "strict", json_object_new_boolean(c->strict));
	if (c->has_weights) {
		w = json_object_new_object();
		for (unsigned i = 0; i < c->n_weights; i++) {
			char k[16];

			snprintf(k, sizeof(k), "%d", c->weight_node[i]);
			json_object_object_add(w, k, json_object_new_int(c->weight[i]));
		}
	} else {
		w = NULL;
	}
	json_object_object_add(o, "weights", w);
	json_object_object_add(o, "order", json_order(c->order));
	fb = json_object_new_array();
	for (unsigned i = 0; i < c->n_fallback; i++)
		json_object_array_add(fb, json_object_new_int(c->fallback[i]));
	json_object_object_add(o, "fallback", fb);
	if (c->phys_lo || c->phys_hi != UINT64_MAX) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "start", json_object_new_uint64(c->phys_lo));
		json_object_object_add(p, "end", json_object_new_uint64(c->phys_hi));
		json_object_object_add(o, "phys", p);
	} else {
		json_object_object_add(o, "phys", NULL);
	}
	{
		struct json_object *oc = json_object_new_array();

		for (unsigned i = 0; i < c->n_order_masks; i++) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "page_size", json_order(c->order_masks[i].page_size));
			json_object_object_add(e, "nodes", json_mask(&c->order_masks[i].nodes));
			json_object_array_add(oc, e);
		}
		json_object_object_add(o, "order_constraints", oc);
	}
	json_object_object_add(o, "automigrate", json_object_new_string(mp_automigrate_name(c->automigrate)));
	json_object_object_add(o, "replicate", json_object_new_boolean(c->replicate));
	json_object_object_add(o, "migrate", json_object_new_boolean(c->migrate));
	json_object_object_add(o, "home", c->home >= 0 ? json_object_new_int(c->home) : NULL);
	warns = json_object_new_array();
	for (unsigned i = 0; i < c->n_warnings; i++)
		json_object_array_add(warns, json_object_new_string(c->warnings[i]));
	json_object_object_add(o, "warnings", warns);
	json_object_object_add(o, "trace", json_trace(&c->trace));
	return o;
}

static void print_mask_line(const char *label, const struct mp_nodemask *m)
{
	char buf[512];

	mp_mask_format(m, buf, sizeof(buf));
	printf("%-12s %s\n", label, buf[0] ? buf : "(none)");
}

static void print_compiled(const struct mp_compiled *c, const char *folded, const char *canonical)
{
	char buf[64];

	printf("%-12s %s\n", "policy", canonical ? canonical : "?");
	printf("%-12s %s\n", "folded", folded && *folded ? folded : "(empty: the kernel's default)");
	printf("%-12s %s (kernel %s", "mode", mp_mode_name(c->mode), kmode_name(c->kmode));
	if (c->kflags & MP_MPOL_F_STATIC_NODES)
		printf(" | MPOL_F_STATIC_NODES");
	if (c->kflags & MP_MPOL_F_RELATIVE_NODES)
		printf(" | MPOL_F_RELATIVE_NODES");
	if (c->kflags & MP_MPOL_F_NUMA_BALANCING)
		printf(" | MPOL_F_NUMA_BALANCING");
	printf(")\n");
	if (c->kmode != MP_MPOL_DEFAULT && c->kmode != MP_MPOL_LOCAL)
		print_mask_line("nodes", &c->nodes);
	print_mask_line("allowed", &c->allowed);
	if (c->has_weights) {
		printf("%-12s", "weights");
		for (unsigned i = 0; i < c->n_weights; i++)
			printf("%s%d:%u", i ? "," : " ", c->weight_node[i], c->weight[i]);
		printf("\n");
	}
	printf("%-12s %s\n", "strict", c->strict ? "yes: fail rather than leave the placement nodes" : "no");
	if (c->n_fallback) {
		printf("%-12s", "fallback");
		for (unsigned i = 0; i < c->n_fallback; i++)
			printf("%s%d", i ? "," : " ", c->fallback[i]);
		printf(" (nearest first)\n");
	}
	if (c->order == MP_ORDER_THP)
		printf("%-12s thp\n", "order");
	else if (c->order) {
		mp_format_size(c->order, buf, sizeof(buf));
		printf("%-12s %s pages\n", "order", buf);
	}
	if (c->phys_lo || c->phys_hi != UINT64_MAX)
		printf("%-12s [0x%llx, 0x%llx)\n", "phys", (unsigned long long)c->phys_lo,
		       (unsigned long long)c->phys_hi);
	for (unsigned i = 0; i < c->n_order_masks; i++) {
		char label[96], nb[256];

		if (c->order_masks[i].page_size == MP_ORDER_THP)
			snprintf(buf, sizeof(buf), "thp");
		else
			mp_format_size(c->order_masks[i].page_size, buf, sizeof(buf));
		snprintf(label, sizeof(label), "order.%s", buf);
		mp_mask_format(&c->order_masks[i].nodes, nb, sizeof(nb));
		printf("%-12s %s\n", label, nb[0] ? nb : "(none)");
	}
	if (c->automigrate != MP_AM_OFF)
		printf("%-12s %s\n", "automigrate", mp_automigrate_name(c->automigrate));
	if (c->replicate)
		printf("%-12s yes\n", "replicate");
	if (c->migrate)
		printf("%-12s yes: pages already there move when applied\n", "migrate");
	if (c->home >= 0)
		printf("%-12s %d\n", "home", c->home);
}

static void print_explain(const struct mp_compiled *c, const char *canonical)
{
	unsigned k = 0;
	bool resolving = false;

	for (unsigned i = 0; i < c->trace.n; i++) {
		const struct mp_trace_step *s = &c->trace.steps[i];

		if (!strcmp(s->scope, "resolve")) {
			if (!resolving)
				printf("%sresolving against this machine:\n", k ? "\n" : "");
			resolving = true;
			printf("  - %s\n", s->effect ? s->effect : "");
			continue;
		}
		printf("%u. %s", ++k, s->scope);
		if (s->origin)
			printf("  (%s)", s->origin);
		/* a stand-alone option (allow = 0-1) reads best as its option text */
		if (s->key && s->text && !strncmp(s->text, s->key, strlen(s->key)) &&
		    (s->text[strlen(s->key)] == '=' || s->text[strlen(s->key)] == '<' || !s->text[strlen(s->key)]))
			printf("\n     %s\n", s->text);
		else
			printf("\n     %s = %s\n", s->key ? s->key : "policy",
			       s->text && *s->text ? s->text : "(empty)");
		printf("     %s\n", s->effect ? s->effect : "");
	}
	if (!k)
		printf("no scope sets anything: the kernel's default policy applies\n");
	printf("\nresult: %s\n", canonical && *canonical ? canonical : "default");
}

static int run(int argc, char **argv, bool explain)
{
	struct mp_compiled c;
	struct mp_policy folded;
	struct mp_trace trace;
	struct mp_resolve_ctx ctx;
	struct mp_diag diag;
	struct inputs in;
	struct args a;
	char *folded_text = NULL, *canonical = NULL, *lost = NULL;
	int r, status;

	r = parse_args(argc, argv, &a);
	if (r)
		return r > 0 ? EXIT_OK : -r;
	a.root = tool_sysfs_root(a.root);
	status = gather(&a, &in);
	if (status != EXIT_OK)
		goto out_inputs;

	r = mp_fold(&in.cfg, &in.sel, in.have_expr ? &in.expr : NULL, &folded, &trace);
	if (r < 0) {
		tool_error("folding the scopes: %s", strerror(-r));
		status = EXIT_FAIL;
		goto out_inputs;
	}
	mp_live_resolve_ctx(&in.live, &ctx);
	ctx.local_node = local_node_of(&a, in.live.topo);
	ctx.device = a.device;
	memset(&diag, 0, sizeof(diag));
	r = mp_resolve(&folded, &trace, &ctx, &c, &diag);
	folded_text = mp_policy_format(&folded);
	if (r < 0) {
		tool_error("%s", diag.msg[0] ? diag.msg : strerror(-r));
		if (diag.hint[0])
			tool_hint("%s", diag.hint);
		else
			tool_hint("run 'mplace explain' with the same arguments to see every scope");
		status = EXIT_FAIL;
		goto out_fold;
	}
	r = mp_compiled_format_as(&c, MP_FORM_MPLACE, &canonical, &lost);
	free(lost);
	lost = NULL;
	if (r < 0)
		canonical = NULL;

	if (a.as != MP_FORM_AUTO) {
		char *text = NULL;

		r = mp_compiled_format_as(&c, a.as, &text, &lost);
		if (r < 0) {
			tool_error("cannot be expressed in that form: %s", lost ? lost : strerror(-r));
			status = EXIT_FAIL;
		} else {
			puts(text);
			if (lost && *lost)
				tool_warning("not expressed in that form: %s", lost);
			status = EXIT_OK;
		}
		free(text);
	} else if (a.json) {
		tool_print_json(compiled_json(&c, folded_text, canonical));
		status = EXIT_OK;
	} else if (explain) {
		print_explain(&c, canonical);
		status = EXIT_OK;
	} else {
		print_compiled(&c, folded_text, canonical);
		status = EXIT_OK;
	}
	if (!a.json)
		for (unsigned i = 0; i < c.n_warnings; i++)
			tool_warning("%s", c.warnings[i]);
	free(lost);
	free(canonical);
	mp_compiled_free(&c);
out_fold:
	free(folded_text);
	mp_policy_free(&folded);
	mp_trace_free(&trace);
out_inputs:
	inputs_free(&in);
	return status;
}

int cmd_resolve(int argc, char **argv)
{
	return run(argc, argv, false);
}

int cmd_explain(int argc, char **argv)
{
	return run(argc, argv, true);
}

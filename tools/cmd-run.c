/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace run: resolve the policy of each kind of memory for a program once
 * (the configuration scopes matching its executable and our cgroup, then the
 * command line), hand the compiled results to the preload agent through the
 * environment (doc/agent-protocol.md), set the generic policy as our own task
 * policy (it survives exec, so even a program the agent cannot load into
 * gets it), and exec the program.  With exe scopes in the configuration it
 * also names the files, the executable and the scopes' globs, so that a
 * descendant running another program those scopes match can fold its own
 * rules at its start (agent/exec.c); the others pay nothing more.
 *
 * numactl's process options are taken too, parsed and translated by the
 * code `mplace numactl` uses (tools/numactl.h): a memory option is the
 * generic policy (the --policy scope), -N/-C the CPU affinity set before
 * exec, in the order given as numactl applies them.
 *
 * Invariant: nothing is executed unless every requested kind resolved; a
 * strict policy that cannot be met is an error naming the scope.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/util.h"
#include "core/combine.h"
#include "core/compiled.h"
#include "core/config.h"
#include "numactl.h"
#include "kernel/place.h"
#include "tool.h"
#include "wire/wire.h"
#include "machine/live.h"

static const char usage_text[] = "Usage: mplace run [OPTIONS] -- CMD [ARGS...]\n"
				 "\n"
				 "Resolve the policy of each kind of memory for CMD (configuration scopes for\n"
				 "its executable and this cgroup, then the options), and run CMD under the\n"
				 "preload agent, which applies them inside the program.\n"
				 "\n"
				 "Options:\n"
				 "  --config FILE      use FILE instead of the default configuration (repeatable)\n"
				 "  --no-config        use no configuration file, only the options\n"
				 "  --policy EXPR      the generic policy: task policy of every thread\n"
				 "  --heap EXPR        malloc and friends\n"
				 "  --stack EXPR       the main thread's and every new thread's stack\n"
				 "  --text EXPR        executable segments\n"
				 "  --data EXPR        .data and .bss\n"
				 "  --anon EXPR        the program's anonymous private mappings\n"
				 "  --file GLOB=EXPR   file mappings and reads of paths matching GLOB (repeatable)\n"
				 "  --shm EXPR         System V shared memory, memfd, /dev/shm mappings\n"
				 "  --hugetlb EXPR     MAP_HUGETLB and SHM_HUGETLB memory\n"
				 "  --mlocked EXPR     memory before mlock/mlockall pins it\n"
				 "  --kernel EXPR      task policy for what the kernel allocates for the threads\n"
				 "  --sysfs-root DIR   resolve against the tree under DIR (no task policy is set,\n"
				 "                     no agent loaded)\n"
				 "  --log              the agent reports what it cannot do on stderr (MPLACE_LOG=1)\n"
				 "  --agent            preload the agent even when only --policy is given (so\n"
				 "                     that mplace show and mplace set can ask it)\n"
				 "  -h, --help         show this help\n"
				 "\n"
				 "numactl's process options, as mplace numactl takes them; a memory option\n"
				 "is the generic policy (so not with --policy), -N and -C the CPU affinity:\n"
				 "  -m, --membind NODES              -i, --interleave NODES\n"
				 "  -w, --weighted-interleave NODES  -p, --preferred NODE\n"
				 "  -P, --preferred-many NODES       -l, --localalloc\n"
				 "  -N, --cpunodebind NODES          -C, --physcpubind CPUS\n"
				 "  -b, --balancing                  NUMA balancing with the memory option\n";

#define MAX_CONFIGS 32
#define MAX_FILES   MP_WIRE_MAX_FILES
#define MAX_CPU_OPS 8

/* The kinds with a variable of their own, in the contract's order
 * (lib/wire/wire.h); ALL is POLICY.  Each has the option of its name. */
#define kinds	mp_wire_kinds
#define N_KINDS MP_WIRE_N_KINDS

enum {
	OPT_CONFIG = 0x100,
	OPT_NO_CONFIG,
	OPT_FILE,
	OPT_SYSFS_ROOT,
	OPT_LOG,
	OPT_AGENT,
	OPT_KIND0 = 0x200, /* + index in kinds[] */
};

static const struct option options[] = {
	{"config", required_argument, NULL, OPT_CONFIG},
	{"no-config", no_argument, NULL, OPT_NO_CONFIG},
	{"policy", required_argument, NULL, OPT_KIND0 + 0},
	{"heap", required_argument, NULL, OPT_KIND0 + 1},
	{"stack", required_argument, NULL, OPT_KIND0 + 2},
	{"text", required_argument, NULL, OPT_KIND0 + 3},
	{"data", required_argument, NULL, OPT_KIND0 + 4},
	{"anon", required_argument, NULL, OPT_KIND0 + 5},
	{"shm", required_argument, NULL, OPT_KIND0 + 6},
	{"hugetlb", required_argument, NULL, OPT_KIND0 + 7},
	{"mlocked", required_argument, NULL, OPT_KIND0 + 8},
	{"kernel", required_argument, NULL, OPT_KIND0 + 9},
	{"file", required_argument, NULL, OPT_FILE},
	{"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
	{"log", no_argument, NULL, OPT_LOG},
	{"agent", no_argument, NULL, OPT_AGENT},
	{"help", no_argument, NULL, 'h'},
	NUMACTL_PROC_LONG,
	{},
};

struct args {
	const char *configs[MAX_CONFIGS];
	unsigned n_configs;
	bool no_config, log, agent;
	const char *root;
	const char *expr[N_KINDS];
	const char *file_glob[MAX_FILES];
	const char *file_expr[MAX_FILES];
	unsigned n_files;
	/* numactl's options: one memory option, its nodes (after 'same'),
	 * --balancing, and -N/-C in the order given */
	int mem_opt;
	const char *mem_nodes;
	bool balancing;
	struct {
		int opt;
		const char *arg;
	} cpu_ops[MAX_CPU_OPS];
	unsigned n_cpu_ops;
	char **cmd;
};

/* numactl's 'same': the previous node list given */
static int same_nodes(const char *opt, const char *s, const char **last, const char **ret)
{
	if (strcmp(s, "same")) {
		*last = s;
		*ret = s;
		return 0;
	}
	if (!*last) {
		tool_error("%s same: no node list before it to repeat", opt);
		return -EXIT_USAGE;
	}
	*ret = *last;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	const char *last_nodes = NULL, *nodes;
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	/* '+': stop at the first non-option, the command */
	while ((c = getopt_long(argc, argv, "+h" NUMACTL_PROC_SHORT, options, NULL)) >= 0) {
		if (c >= OPT_KIND0 && c < OPT_KIND0 + (int)N_KINDS) {
			a->expr[c - OPT_KIND0] = optarg;
			continue;
		}
		switch (c) {
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
		case OPT_FILE: {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				tool_error("--file takes GLOB=EXPR: '%s'", optarg);
				return -EXIT_USAGE;
			}
			if (a->n_files == MAX_FILES) {
				tool_error("at most %d --file options (the agent keeps %d file policies)", MAX_FILES,
					   MP_WIRE_MAX_FILES);
				return -EXIT_USAGE;
			}
			*eq = '\0';
			a->file_glob[a->n_files] = optarg;
			a->file_expr[a->n_files++] = eq + 1;
			break;
		}
		case OPT_SYSFS_ROOT:
			a->root = optarg;
			break;
		case OPT_AGENT:
			a->agent = true;
			break;
		case OPT_LOG:
			a->log = true;
			break;
		case 'm':
		case 'i':
		case 'w':
		case 'p':
		case 'P':
		case 'l':
			if (a->mem_opt) {
				tool_error("%s and %s cannot be given together: each sets the generic policy",
					   numactl_option_name(a->mem_opt), numactl_option_name(c));
				return -EXIT_USAGE;
			}
			a->mem_opt = c;
			if (optarg && same_nodes(numactl_option_name(c), optarg, &last_nodes, &a->mem_nodes) < 0)
				return -EXIT_USAGE;
			break;
		case 'b':
			a->balancing = true;
			break;
		case 'N':
		case 'C':
			if (a->n_cpu_ops == MAX_CPU_OPS) {
				tool_error("at most %d --cpunodebind/--physcpubind options", MAX_CPU_OPS);
				return -EXIT_USAGE;
			}
			nodes = optarg;
			if (c == 'N' && same_nodes("--cpunodebind", optarg, &last_nodes, &nodes) < 0)
				return -EXIT_USAGE;
			a->cpu_ops[a->n_cpu_ops].opt = c;
			a->cpu_ops[a->n_cpu_ops++].arg = nodes;
			break;
		case 'h':
			tool_usage(usage_text, false);
			return 1;
		default:
			tool_usage(usage_text, true);
			return -EXIT_USAGE;
		}
	}
	if (a->mem_opt && a->expr[0]) {
		tool_error("--policy and %s cannot be given together: both set the generic policy",
			   numactl_option_name(a->mem_opt));
		tool_hint("give one; %s is the same as --policy in numactl's spelling",
			  numactl_option_name(a->mem_opt));
		return -EXIT_USAGE;
	}
	/* as numactl: balancing is a flag of the memory option (the resolver
	 * warns where the kernel does not take it), nothing on its own */
	if (a->balancing && !a->mem_opt)
		tool_warning("--balancing without a memory option (--membind, --preferred-many) does nothing");
	if (optind >= argc) {
		tool_error("no command to run");
		tool_usage(usage_text, true);
		return -EXIT_USAGE;
	}
	a->cmd = argv + optind;
	return 0;
}

/* CMD resolved through PATH as execvp would, for [exe GLOB] scopes. */
static int find_exe(const char *cmd, char *buf, size_t size)
{
	const char *path, *p;

	if (strchr(cmd, '/'))
		return realpath(cmd, buf) ? 0 : -errno;
	path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; p; p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL) {
		char cand[PATH_MAX];
		size_t n = strchrnul(p, ':') - p;
		struct stat st;

		if (snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, n ? p : ".", cmd) >= (int)sizeof(cand))
			continue;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return realpath(cand, buf) ? 0 : -errno;
	}
	return -ENOENT;
}

static int parse_expr(const char *what, const char *text, struct mp_policy *ret)
{
	struct mp_diag diag = {0};

	if (mp_policy_parse(text, ret, &diag) < 0) {
		tool_error("--%s:%u: %s", what, diag.pos + 1, diag.msg);
		fprintf(stderr, "  %s\n  %*s^\n", text, (int)diag.pos, "");
		if (diag.hint[0])
			tool_hint("%s", diag.hint);
		return -EINVAL;
	}
	return 0;
}

struct ctx {
	struct mp_config cfg;
	struct mp_live live;
	struct mp_selector sel;
	struct mp_policy generic; /* --policy, or empty */
};

/*
 * Fold, resolve and export one kind.  kind_expr: this kind's command-line
 * policy (NULL: none), folded over --policy.  *ret_c gets the compiled policy
 * when ret_c is not NULL.  Returns 1 when the variable was set, 0 when nothing
 * asks for this kind, -EXIT_* on error.
 */
static int resolve_kind(struct ctx *x, enum mp_kind kind, const char *glob, const char *label, const char *kind_expr,
			const char *var, const char *src_var, struct mp_compiled *ret_c)
{
	struct mp_policy expr;
	struct mp_resolve_ctx rctx = {0};
	struct mp_compiled c;
	struct mp_diag diag = {0};
	struct mp_sb val;
	char *src = NULL, line[MP_WIRE_TEXT_MAX];
	int r, n, status = 0;

	mp_policy_init(&expr);
	r = mp_policy_combine(&expr, &x->generic);
	if (r < 0)
		goto oom_expr;
	if (kind_expr) {
		struct mp_policy k;

		if (parse_expr(label, kind_expr, &k) < 0) {
			mp_policy_free(&expr);
			return -EXIT_FAIL;
		}
		r = mp_policy_combine(&expr, &k);
		mp_policy_free(&k);
		if (r < 0)
			goto oom_expr;
	}
	x->sel.kind = kind;
	x->sel.path = glob;
	mp_live_resolve_ctx(&x->live, &rctx);
	r = mp_resolve_kind(&x->cfg, &x->sel, &expr, kind_expr != NULL, &rctx, &c, &src, &diag);
	mp_policy_free(&expr);
	if (r == 0)
		return 0;
	if (r < 0) {
		tool_error("%s: %s", label, diag.msg[0] ? diag.msg : strerror(-r));
		if (diag.hint[0])
			tool_hint("%s", diag.hint);
		else if (r != -ENOMEM)
			tool_hint("run 'mplace explain --kind %s' to see every scope", label);
		return -EXIT_FAIL;
	}
	for (unsigned i = 0; i < c.n_warnings; i++)
		tool_warning("%s: %s", label, c.warnings[i]);
	/* the agent keeps MP_WIRE_TEXT_MAX bytes of each: longer ones fail here,
	 * never cut on the way */
	n = mp_compiled_serialize(&c, line, sizeof(line));
	if (n >= (int)sizeof(line)) {
		tool_error("%s: the compiled policy is %d bytes; the agent takes at most %d", label, n,
			   MP_WIRE_TEXT_MAX - 1);
		status = -EXIT_FAIL;
		goto out;
	}
	if (glob && strlen(glob) >= MP_WIRE_GLOB_MAX) {
		tool_error("%s: the glob is %zu bytes; the agent takes at most %d", label, strlen(glob),
			   MP_WIRE_GLOB_MAX - 1);
		status = -EXIT_FAIL;
		goto out;
	}
	mp_sb_init(&val);
	if (glob)
		mp_sb_printf(&val, "%s\t", glob);
	mp_sb_puts(&val, line);
	/* "CANONICAL (scope at origin, ...)", as the agent reports it */
	if (!mp_sb_ok(&val)) {
		tool_error("%s: %s", label, strerror(ENOMEM));
		status = -EXIT_FAIL;
	} else if (src_var && strlen(src) >= MP_WIRE_TEXT_MAX) {
		tool_error("%s: its source text is %zu bytes; the agent takes at most %d", label, strlen(src),
			   MP_WIRE_TEXT_MAX - 1);
		status = -EXIT_FAIL;
	} else if (setenv(var, val.s, 1) < 0 || (src_var && setenv(src_var, src, 1) < 0)) {
		tool_error("%s: cannot set the environment: %s", label, strerror(ENOMEM));
		status = -EXIT_FAIL;
	} else {
		status = 1;
	}
	mp_sb_free(&val);
out:
	free(src);
	if (status == 1 && ret_c)
		*ret_c = c;
	else
		mp_compiled_free(&c);
	return status;
oom_expr:
	mp_policy_free(&expr);
	tool_error("%s", strerror(ENOMEM));
	return -EXIT_FAIL;
}

/* The agent: $MPLACE_AGENT_PATH, next to this build's tools, or installed. */
static int find_agent(char *buf, size_t size)
{
	const char *env = getenv("MPLACE_AGENT_PATH");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		if (access(env, R_OK) < 0)
			return -errno;
		return snprintf(buf, size, "%s", env) < (int)size ? 0 : -ENAMETOOLONG;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			/* a build tree: build/tools/mplace, build/agent/libmplace-preload.so */
			if (snprintf(buf, size, "%s/../agent/libmplace-preload.so", self) < (int)size &&
			    access(buf, R_OK) == 0 && realpath(buf, self))
				return snprintf(buf, size, "%s", self) < (int)size ? 0 : -ENAMETOOLONG;
		}
	}
	if (snprintf(buf, size, "%s", MPLACE_AGENT_INSTALLED) >= (int)size)
		return -ENAMETOOLONG;
	return access(buf, R_OK) == 0 ? 0 : -ENOENT;
}

static int set_preload(const char *agent)
{
	const char *old = getenv("LD_PRELOAD");
	struct mp_sb b;
	int r;

	mp_sb_init(&b);
	mp_sb_puts(&b, agent);
	if (old && *old)
		mp_sb_printf(&b, " %s", old);
	r = mp_sb_ok(&b) && setenv("LD_PRELOAD", b.s, 1) == 0 ? 0 : -ENOMEM;
	mp_sb_free(&b);
	return r;
}

/* Remove what a parent `mplace run` exported: this run's resolution replaces it. */
static void clear_agent_env(void)
{
	extern char **environ;
	char name[256];

	for (bool again = true; again;) {
		again = false;
		for (char **e = environ; e && *e; e++) {
			const char *eq = strchr(*e, '=');

			if (strncmp(*e, "MPLACE_AGENT_", 13) || !eq || strncmp(*e, "MPLACE_AGENT_PATH=", 18) == 0)
				continue;
			if ((size_t)(eq - *e) >= sizeof(name))
				continue;
			memcpy(name, *e, eq - *e);
			name[eq - *e] = '\0';
			unsetenv(name);
			again = true;
			break;
		}
	}
}

/*
 * What a child needs to know whether rules of its own apply
 * (doc/agent-protocol.md, "A child's own rules"): the executable resolved
 * for, the configuration files read (absolute, TAB-separated) and the exe
 * scopes' globs (TAB-separated).  Nothing when the configuration has no exe
 * scope: then no child can have rules of its own, and pays one getenv.
 * Returns 1 when the variables were set, 0 when not, or -EXIT_FAIL.
 */
static int export_exe_rules(const struct ctx *x, const char *exe)
{
	struct mp_sb files, globs;
	int r = 0;

	mp_sb_init(&files);
	mp_sb_init(&globs);
	for (unsigned s = 0; s < x->cfg.n_scopes; s++) {
		const char *g = x->cfg.scopes[s].arg;

		if (x->cfg.scopes[s].kind != MP_SCOPE_EXE || !g)
			continue;
		if (strchr(g, '\t'))
			goto unsafe;
		mp_sb_printf(&globs, "%s%s", globs.len ? "\t" : "", g);
	}
	if (!globs.len)
		goto out;
	for (unsigned i = 0; i < x->cfg.n_files; i++) {
		char real[PATH_MAX];
		const char *f = realpath(x->cfg.files[i], real) ? real : x->cfg.files[i];

		if (strchr(f, '\t'))
			goto unsafe;
		mp_sb_printf(&files, "%s%s", files.len ? "\t" : "", f);
	}
	if (!mp_sb_ok(&files) || !mp_sb_ok(&globs) || setenv("MPLACE_AGENT_EXE", exe, 1) < 0 ||
	    setenv("MPLACE_AGENT_CONFIG", files.s ? files.s : "", 1) < 0 ||
	    setenv("MPLACE_AGENT_EXE_SCOPES", globs.s, 1) < 0) {
		tool_error("cannot set the environment: %s", strerror(ENOMEM));
		r = -EXIT_FAIL;
	} else {
		r = 1;
	}
	goto out;
unsafe:
	tool_warning("a configuration path or exe glob holds a TAB: children keep this program's policies");
out:
	mp_sb_free(&files);
	mp_sb_free(&globs);
	return r;
}

/*
 * What of the machine the policies may read beyond its nodes, CPUs, memory
 * and distances (mp_policy_topo_parts): every rule of the configuration and
 * every expression of the command line.  An expression that does not parse
 * is left to resolve_kind to report.
 */
static unsigned topo_parts(const struct ctx *x, const struct args *a)
{
	unsigned parts = 0;
	struct mp_policy p;

	for (unsigned s = 0; s < x->cfg.n_scopes; s++)
		for (unsigned q = 0; q < x->cfg.scopes[s].n_rules; q++)
			parts |= mp_policy_topo_parts(&x->cfg.scopes[s].rules[q].pol);
	for (size_t i = 0; i < N_KINDS; i++)
		if (a->expr[i] && mp_policy_parse(a->expr[i], &p, NULL) == 0) {
			parts |= mp_policy_topo_parts(&p);
			mp_policy_free(&p);
		}
	for (unsigned i = 0; i < a->n_files; i++)
		if (mp_policy_parse(a->file_expr[i], &p, NULL) == 0) {
			parts |= mp_policy_topo_parts(&p);
			mp_policy_free(&p);
		}
	/* numactl's node strings: netdev:, pci:, block: name devices */
	if (a->mem_opt && a->mem_nodes && strchr(a->mem_nodes, ':'))
		parts |= MP_TOPO_DEVICES;
	return parts;
}

/* A numactl memory option as the generic policy, in numactl's spelling. */
static int numactl_generic(struct ctx *x, const struct args *a)
{
	char why[256];
	const char *name = numactl_option_name(a->mem_opt);
	int r = numactl_memory_policy(x->live.topo, a->mem_opt, a->mem_nodes, a->balancing, &x->generic, why,
				      sizeof(why));

	if (r < 0) {
		tool_error("%s%s%s: %s", name, a->mem_nodes ? " " : "", a->mem_nodes ? a->mem_nodes : "",
			   why[0] ? why : strerror(-r));
		tool_hint(
			"node lists as numactl takes them: 0-2,5, all, !LIST, +LIST; run 'mplace topo' for the nodes");
		return -EXIT_FAIL;
	}
	return 0;
}

/*
 * -N and -C in the order given, as numactl applies them (a -C after -N is
 * within the -N CPUs).  apply false: only check them (--sysfs-root, where
 * the machine is another one).
 */
static int cpu_binds(struct ctx *x, const struct args *a, bool apply)
{
	struct mp_nodemask within;
	char why[256];

	within = x->live.have_cg && x->live.cg.has_mems ? x->live.cg.mems : x->live.topo->online;
	mp_mask_and(&within, &within, &x->live.topo->online);
	for (unsigned i = 0; i < a->n_cpu_ops; i++) {
		const char *name = numactl_option_name(a->cpu_ops[i].opt);
		cpu_set_t set;
		int r;

		if (a->cpu_ops[i].opt == 'N')
			r = numactl_cpunodes(x->live.topo, &within, false, a->cpu_ops[i].arg, &set, why, sizeof(why));
		else
			r = numactl_physcpus(a->cpu_ops[i].arg, false, &set, why, sizeof(why));
		if (r < 0) {
			tool_error("%s %s: %s", name, a->cpu_ops[i].arg,
				   why[0]	  ? why
				   : r == -EINVAL ? (a->cpu_ops[i].opt == 'N' ? "not nodes of this cpuset"
									      : "not CPUs this process may use")
						  : strerror(-r));
			tool_hint("run 'mplace topo' for the nodes and their CPUs");
			return -EXIT_FAIL;
		}
		if (apply && sched_setaffinity(0, sizeof(set), &set) < 0) {
			tool_error("%s %s: sched_setaffinity: %s", name, a->cpu_ops[i].arg, strerror(errno));
			return -EXIT_FAIL;
		}
	}
	return 0;
}

/* mplace-runtime's use (tools/cmd-runtime.c): resolve as for a program of
 * another root (a container's), named by its path there and selected by the
 * given cgroup; leave the variables in our environment, the agent forced,
 * and return instead of exec. */
static struct {
	bool on;
	const char *cgroup, *label;
} env_only;

int cmd_run_env(int argc, char **argv, const char *cgroup, const char *label)
{
	env_only.on = true;
	env_only.cgroup = cgroup;
	env_only.label = label;
	return cmd_run(argc, argv);
}

int cmd_run(int argc, char **argv)
{
	struct ctx x;
	struct args a;
	struct mp_compiled generic_c;
	bool have_generic = false, need_agent;
	char exe[PATH_MAX], agent[PATH_MAX], var[64], label[PATH_MAX + 8];
	unsigned n_file_vars, kinds_set = 0;
	int r, status = EXIT_FAIL;

	r = parse_args(argc, argv, &a);
	if (r)
		return r > 0 ? EXIT_OK : -r;
	a.root = tool_sysfs_root(a.root);

	memset(&x, 0, sizeof(x));
	mp_config_init(&x.cfg);
	mp_policy_init(&x.generic);

	if (env_only.on) /* a path in the container, not here */
		r = snprintf(exe, sizeof(exe), "%s", a.cmd[0]) < (int)sizeof(exe) ? 0 : -ENAMETOOLONG;
	else
		r = find_exe(a.cmd[0], exe, sizeof(exe));
	if (r < 0) {
		tool_error("%s: command not found", a.cmd[0]);
		return 127;
	}
	/* looked for first, so that a missing agent stops before anything runs */
	r = find_agent(agent, sizeof(agent));
	if (r < 0) {
		tool_error("cannot find the preload agent libmplace-preload.so: %s", strerror(-r));
		tool_hint("set MPLACE_AGENT_PATH to its path");
		goto out;
	}

	if (tool_load_config(&x.cfg, a.configs, a.n_configs, a.no_config) != EXIT_OK)
		goto out;
	r = mp_live_load_parts(a.root, 0, NULL, MP_TOPO_ALL & ~topo_parts(&x, &a), &x.live);
	if (r < 0) {
		tool_error("cannot read the topology under %s: %s", a.root ? a.root : "/", strerror(-r));
		goto out;
	}
	if (a.expr[0] && parse_expr("policy", a.expr[0], &x.generic) < 0)
		goto out;
	if (a.mem_opt && numactl_generic(&x, &a) < 0)
		goto out;
	x.sel.exe = exe;
	x.sel.comm = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	x.sel.cgroup = env_only.on ? env_only.cgroup : x.live.have_cg ? x.live.cg.path : NULL;
	x.sel.expr_label = env_only.on ? env_only.label : NULL;

	clear_agent_env();
	for (size_t i = 0; i < N_KINDS; i++) {
		char src[64];

		snprintf(var, sizeof(var), "MPLACE_AGENT_%s", kinds[i].var);
		snprintf(src, sizeof(src), "MPLACE_AGENT_SOURCE_%s", kinds[i].var);
		/* the generic expression is already the base of every kind */
		r = resolve_kind(&x, kinds[i].kind, NULL, mp_kind_name(kinds[i].kind), i ? a.expr[i] : NULL, var, src,
				 i ? NULL : &generic_c);
		if (r < 0) {
			status = -r;
			goto out;
		}
		if (r == 1)
			kinds_set |= 1u << i;
	}
	have_generic = kinds_set & 1;
	/* file globs: the command line's first (first match wins), then the configuration's */
	n_file_vars = 0;
	for (unsigned i = 0; i < a.n_files; i++) {
		snprintf(label, sizeof(label), "file:%s", a.file_glob[i]);
		snprintf(var, sizeof(var), "MPLACE_AGENT_FILE_%u", n_file_vars);
		r = resolve_kind(&x, MP_KIND_FILE, a.file_glob[i], label, a.file_expr[i], var, NULL, NULL);
		if (r < 0) {
			status = -r;
			goto out;
		}
		n_file_vars += (unsigned)r;
	}
	for (unsigned s = 0; s < x.cfg.n_scopes; s++)
		for (unsigned q = 0; q < x.cfg.scopes[s].n_rules; q++) {
			const struct mp_rule *rule = &x.cfg.scopes[s].rules[q];

			if (rule->kind != MP_KIND_FILE || !rule->glob)
				continue;
			snprintf(var, sizeof(var), "MPLACE_AGENT_FILE_%u", n_file_vars);
			snprintf(label, sizeof(label), "file:%s", rule->glob);
			r = resolve_kind(&x, MP_KIND_FILE, rule->glob, label, NULL, var, NULL, NULL);
			if (r < 0) {
				status = -r;
				goto out;
			}
			n_file_vars += (unsigned)r;
		}
	if (n_file_vars > MP_WIRE_MAX_FILES) {
		tool_error("%u file policies apply to %s; the agent keeps at most %d", n_file_vars, exe,
			   MP_WIRE_MAX_FILES);
		tool_hint("merge file:GLOB rules of the configuration into fewer globs");
		goto out;
	}
	/* a container cannot read the host's files: its children keep the
	 * policies they inherit */
	r = env_only.on ? 0 : export_exe_rules(&x, exe);
	if (r < 0)
		goto out;
	/*
	 * The agent is needed for every kind but the generic policy, for file
	 * policies, and for a child's own exe rules.  With the generic policy
	 * alone, the task policy set here is inherited across exec by the
	 * program and every thread it makes: no agent, and a start that costs
	 * what numactl's does (doc/agent.md, "Cost"), unless --agent asks for it
	 * (then mplace show and mplace set can ask the program).
	 */
	need_agent = a.agent || (kinds_set & ~1u) || n_file_vars || r > 0 || (env_only.on && kinds_set);
	if (a.log && setenv("MPLACE_LOG", "1", 1) < 0)
		goto out;
	/* checked before anything is set; applied last, just before exec */
	if (a.n_cpu_ops && cpu_binds(&x, &a, false) < 0)
		goto out;
	if (need_agent && a.root) {
		/* nodes of another machine would be applied here */
		tool_warning("--sysfs-root: the policies were resolved for another machine; the agent is not loaded "
			     "(the variables are set for %s)",
			     a.cmd[0]);
	} else if (need_agent && set_preload(agent) < 0) {
		tool_error("cannot set LD_PRELOAD: %s", strerror(ENOMEM));
		goto out;
	}
	if (env_only.on) {
		/* the agent sets the generic policy as the task policy at start */
		if (have_generic)
			mp_compiled_free(&generic_c);
		status = EXIT_OK;
		goto out;
	}
	if (have_generic) {
		if (a.root)
			tool_warning("--sysfs-root: the generic policy was resolved for another machine; "
				     "not set as the task policy here");
		/* our task policy survives exec */
		else if ((r = mp_place_task_compiled(&generic_c)) < 0) {
			tool_error("policy: cannot set the task policy: %s", strerror(-r));
			mp_compiled_free(&generic_c);
			goto out;
		}
		mp_compiled_free(&generic_c);
	}
	if (a.n_cpu_ops) {
		if (a.root)
			tool_warning("--sysfs-root: --cpunodebind/--physcpubind were checked against another machine; "
				     "the CPU affinity is not set here");
		else if (cpu_binds(&x, &a, true) < 0)
			goto out;
	}
	fflush(NULL);
	execvp(a.cmd[0], a.cmd);
	r = errno;
	tool_error("%s: %s", a.cmd[0], strerror(r));
	status = r == ENOENT ? 127 : 126;
out:
	mp_policy_free(&x.generic);
	mp_live_free(&x.live);
	mp_config_free(&x.cfg);
	return status;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace-runtime: an OCI runtime wrapper (doc/containers.md, mplace-runtime(1)).
 *
 * Invoked with a runtime's command line (by containerd's runc shim, by
 * podman --runtime, by hand), it passes every command through to the real
 * runtime untouched, except create and run of a bundle whose config.json
 * carries io.mplace.* annotations.  For those it folds the annotations (as
 * the command line of `mplace run`) with the host's configuration scopes for
 * the container's program and cgroup, and writes into config.json:
 *
 *   - the agent, bind-mounted read-only at AGENT_IN_CONTAINER, in LD_PRELOAD,
 *     and its compiled policies in MPLACE_AGENT_*: every kind of memory of
 *     the container's processes placed, as under `mplace run`;
 *   - io.mplace.allow as linux.resources.cpu.mems: a hard limit of the
 *     container's cgroup for every page, with or without the agent.
 *
 * Then it execs the real runtime with the original arguments.  A bundle
 * without io.mplace.* annotations is never rewritten; a bad annotation fails
 * the command with its name, before the real runtime is run, so nothing of
 * the container exists.
 *
 * The real runtime: $MPLACE_RUNTIME, else NAME when we are invoked as
 * mplace-runtime-NAME, else runc (containerd's default).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "basic/util.h"
#include "core/combine.h"
#include "core/compiled.h"
#include "core/kind.h"
#include "core/policy.h"
#include "machine/live.h"
#include "tool.h"
#include "wire/wire.h"

#define ANNOT_PREFIX	   "io.mplace."
#define AGENT_IN_CONTAINER "/.mplace/libmplace-preload.so"

extern char **environ;

/* the runtimes' global options that take a value (runc 1.1, crun 1.8) */
static const char *const value_opts[] = {
	"--root", "--log", "--log-format", "--log-level", "--criu", "--rootless", "--cgroup-manager", NULL,
};

static const char *runtime_name(const char *argv0)
{
	const char *env = getenv("MPLACE_RUNTIME"), *base = strrchr(argv0, '/');

	if (env && *env)
		return env;
	base = base ? base + 1 : argv0;
	if (!strncmp(base, "mplace-runtime-", 15) && base[15])
		return base + 15;
	return "runc";
}

static int exec_runtime(const char *rt, int argc, char **argv, char **envp)
{
	char **av = calloc((size_t)argc + 1, sizeof(*av));

	if (!av) {
		tool_error("%s", strerror(ENOMEM));
		return EXIT_FAIL;
	}
	av[0] = (char *)rt;
	for (int i = 1; i < argc; i++)
		av[i] = argv[i];
	fflush(NULL);
	execvpe(rt, av, envp);
	tool_error("cannot run the runtime %s: %s", rt, strerror(errno));
	tool_hint("name it with MPLACE_RUNTIME=PATH");
	free(av);
	return 127;
}

static bool takes_value(const char *opt)
{
	for (unsigned i = 0; value_opts[i]; i++)
		if (!strcmp(opt, value_opts[i]))
			return true;
	return false;
}

/* The command's index in argv (0: none), and for create/run its bundle. */
static int find_command(int argc, char **argv, const char **bundle)
{
	int cmd = 0;

	*bundle = NULL;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (!strchr(argv[i], '=') && takes_value(argv[i]))
				i++;
			continue;
		}
		cmd = i;
		break;
	}
	if (!cmd || (strcmp(argv[cmd], "create") && strcmp(argv[cmd], "run")))
		return cmd;
	for (int i = cmd + 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if ((!strcmp(argv[i], "--bundle") || !strcmp(argv[i], "-b")) && i + 1 < argc)
			*bundle = argv[i + 1];
		else if (!strncmp(argv[i], "--bundle=", 9))
			*bundle = argv[i] + 9;
	}
	if (!*bundle)
		*bundle = ".";
	return cmd;
}

/* One annotation's kind: its run option ("policy", "heap", ...), or "allow". */
static const char *annotation_option(const char *key)
{
	const char *name = key + strlen(ANNOT_PREFIX);

	if (!strcmp(name, "allow") || !strcmp(name, "policy"))
		return name;
	for (unsigned i = 1; i < MP_WIRE_N_KINDS; i++)
		if (!strcmp(name, mp_kind_name(mp_wire_kinds[i].kind)))
			return name;
	return NULL;
}

/* text: value, or value behind a prefix of skip bytes ("allow=") */
static int check_annotation(const char *key, const char *value, const char *text, unsigned skip)
{
	struct mp_policy p;
	struct mp_diag diag = {0};

	mp_policy_init(&p);
	if (mp_policy_parse(text, &p, &diag) < 0) {
		tool_error("annotation %s=%s: column %u: %s", key, value, diag.pos >= skip ? diag.pos - skip + 1 : 1,
			   diag.msg);
		if (diag.hint[0])
			tool_hint("%s", diag.hint);
		mp_policy_free(&p);
		return -EINVAL;
	}
	mp_policy_free(&p);
	return 0;
}

static json_object *child(json_object *o, const char *key, json_type type)
{
	json_object *c;

	if (json_object_object_get_ex(o, key, &c) && json_object_is_type(c, type))
		return c;
	c = type == json_type_array ? json_object_new_array() : json_object_new_object();
	json_object_object_add(o, key, c);
	return c;
}

/* NAME=VALUE into process.env, replacing NAME; LD_PRELOAD gets ours first. */
static void env_put(json_object *env, const char *name, const char *value)
{
	size_t n = strlen(name), len = json_object_array_length(env);
	char *s;

	for (size_t i = 0; i < len; i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(env, i));

		if (!e || strncmp(e, name, n) || e[n] != '=')
			continue;
		if (!strcmp(name, "LD_PRELOAD") && e[n + 1]) {
			if (asprintf(&s, "%s=%s %s", name, value, e + n + 1) < 0)
				return;
		} else if (asprintf(&s, "%s=%s", name, value) < 0) {
			return;
		}
		json_object_array_put_idx(env, i, json_object_new_string(s));
		free(s);
		return;
	}
	if (asprintf(&s, "%s=%s", name, value) < 0)
		return;
	json_object_array_add(env, json_object_new_string(s));
	free(s);
}

/* io.mplace.allow resolved on this machine, as cpuset.mems wants it. */
static int allow_mems(const char *allow, char *buf, size_t size)
{
	struct mp_live live;
	struct mp_resolve_ctx rctx;
	struct mp_compiled c;
	struct mp_diag diag = {0};
	char text[4200];
	int r;

	snprintf(text, sizeof(text), "allow=%s", allow);
	r = mp_live_load(NULL, 0, NULL, &live);
	if (r < 0) {
		tool_error("cannot read this machine's topology: %s", strerror(-r));
		return r;
	}
	mp_live_resolve_ctx(&live, &rctx);
	rctx.cgroup = NULL; /* the container's cgroup does not exist yet */
	r = mp_compile(text, &rctx, &c, &diag);
	mp_live_free(&live);
	if (r < 0) {
		tool_error("annotation %sallow=%s: %s", ANNOT_PREFIX, allow, diag.msg[0] ? diag.msg : strerror(-r));
		return r;
	}
	mp_mask_format(&c.allowed, buf, size);
	mp_compiled_free(&c);
	if (!*buf) {
		tool_error("annotation %sallow=%s: no node of this machine", ANNOT_PREFIX, allow);
		return -EINVAL;
	}
	return 0;
}

static int write_config(const char *path, json_object *root)
{
	const char *text =
		json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return text ? mp_write_file_atomic(path, "mplace-tmp", text, strlen(text), 0600, false) : -ENOMEM;
}

/* Fold and write the annotations of bundle/config.json; 0 when there are
 * none (nothing written), 1 when written, -EXIT_* on error. */
static int place_bundle(const char *bundle)
{
	char path[PATH_MAX], mems[256] = "", agent[PATH_MAX] = "";
	const char *allow = NULL, *policy = NULL, *cgroup = NULL, *prog;
	json_object *root, *annots = NULL, *process, *args, *env, *o;
	char *run_argv[2 * MP_WIRE_N_KINDS + 8];
	char *owned[MP_WIRE_N_KINDS + 1] = {0};
	int run_argc = 0, n_owned = 0, status = 0, r;

	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path)) {
		tool_error("%s: path too long", bundle);
		return -EXIT_FAIL;
	}
	root = json_object_from_file(path);
	if (!root) {
		/* the real runtime says what is wrong with it */
		return 0;
	}
	if (!json_object_object_get_ex(root, "annotations", &annots) ||
	    !json_object_is_type(annots, json_type_object)) {
		json_object_put(root);
		return 0;
	}
	run_argv[run_argc++] = "run";
	run_argv[run_argc++] = "--agent";
	json_object_object_foreach(annots, key, val)
	{
		const char *opt, *value = json_object_get_string(val);
		char *arg;

		if (strncmp(key, ANNOT_PREFIX, strlen(ANNOT_PREFIX)))
			continue;
		opt = annotation_option(key);
		if (!opt) {
			tool_error("annotation %s: not one of mplace's (%spolicy, %sallow, %sKIND)", key, ANNOT_PREFIX,
				   ANNOT_PREFIX, ANNOT_PREFIX);
			tool_hint("KIND is one of heap stack text data anon shm hugetlb mlocked kernel");
			status = -EXIT_USAGE;
			goto out;
		}
		if (!value || !*value) {
			tool_error("annotation %s: empty", key);
			status = -EXIT_USAGE;
			goto out;
		}
		if (!strcmp(opt, "allow")) {
			char text[4200];

			snprintf(text, sizeof(text), "allow=%s", value);
			if (check_annotation(key, value, text, 6) < 0) {
				status = -EXIT_USAGE;
				goto out;
			}
			allow = value;
			continue;
		}
		if (!strcmp(opt, "policy")) {
			if (check_annotation(key, value, value, 0) < 0) {
				status = -EXIT_USAGE;
				goto out;
			}
			policy = value;
			continue;
		}
		if (check_annotation(key, value, value, 0) < 0) {
			status = -EXIT_USAGE;
			goto out;
		}
		if (asprintf(&arg, "--%s=%s", opt, value) < 0) {
			status = -EXIT_FAIL;
			goto out;
		}
		owned[n_owned++] = arg;
		run_argv[run_argc++] = arg;
	}
	if (run_argc == 2 && !allow && !policy) {
		json_object_put(root);
		return 0; /* no annotation of ours: not rewritten */
	}
	if (allow && allow_mems(allow, mems, sizeof(mems)) < 0) {
		status = -EXIT_FAIL;
		goto out;
	}
	if (policy || allow) {
		char *arg;

		/* allow: the limit of every kind, as in the configuration */
		if (asprintf(&arg, "--policy=%s%s%s%s", policy ? policy : "", policy && allow ? " " : "",
			     allow ? "allow=" : "", allow ? allow : "") < 0) {
			status = -EXIT_FAIL;
			goto out;
		}
		owned[n_owned++] = arg;
		run_argv[run_argc++] = arg;
	}
	process = child(root, "process", json_type_object);
	args = child(process, "args", json_type_array);
	prog = json_object_array_length(args) ? json_object_get_string(json_object_array_get_idx(args, 0)) : NULL;
	if (!prog || !*prog) {
		tool_error("%s: process.args is empty", path);
		status = -EXIT_FAIL;
		goto out;
	}
	o = json_object_object_get(json_object_object_get(root, "linux"), "cgroupsPath");
	cgroup = o ? json_object_get_string(o) : NULL;
	run_argv[run_argc++] = "--";
	run_argv[run_argc++] = (char *)prog;
	run_argv[run_argc] = NULL;

	/* resolve as mplace run would, into our environment */
	r = cmd_run_env(run_argc, run_argv, cgroup, "container annotations");
	if (r != EXIT_OK) {
		status = -r;
		goto out;
	}
	env = child(process, "env", json_type_array);
	for (char **e = environ; *e; e++) {
		char name[128];
		const char *eq = strchr(*e, '=');

		if (!eq || (size_t)(eq - *e) >= sizeof(name))
			continue;
		memcpy(name, *e, (size_t)(eq - *e));
		name[eq - *e] = '\0';
		if (!strcmp(name, "LD_PRELOAD")) {
			/* ours is its first word */
			size_t n = strcspn(eq + 1, " :");

			snprintf(agent, sizeof(agent), "%.*s", (int)n, eq + 1);
		} else if (!strncmp(name, "MPLACE_AGENT_", 13) || !strcmp(name, "MPLACE_LOG")) {
			env_put(env, name, eq + 1);
		}
	}
	if (agent[0]) {
		json_object *mounts = child(root, "mounts", json_type_array), *m = json_object_new_object(),
			    *opts = json_object_new_array();

		json_object_object_add(m, "destination", json_object_new_string(AGENT_IN_CONTAINER));
		json_object_object_add(m, "type", json_object_new_string("bind"));
		json_object_object_add(m, "source", json_object_new_string(agent));
		json_object_array_add(opts, json_object_new_string("bind"));
		json_object_array_add(opts, json_object_new_string("ro"));
		json_object_array_add(opts, json_object_new_string("nosuid"));
		json_object_array_add(opts, json_object_new_string("nodev"));
		json_object_object_add(m, "options", opts);
		json_object_array_add(mounts, m);
		env_put(env, "LD_PRELOAD", AGENT_IN_CONTAINER);
	}
	if (mems[0]) {
		json_object *cpu = child(child(child(root, "linux", json_type_object), "resources", json_type_object),
					 "cpu", json_type_object);

		json_object_object_add(cpu, "mems", json_object_new_string(mems));
	}
	r = write_config(path, root);
	if (r < 0) {
		tool_error("cannot write %s: %s", path, strerror(-r));
		status = -EXIT_FAIL;
		goto out;
	}
	status = 1;
out:
	for (int i = 0; i < n_owned; i++)
		free(owned[i]);
	json_object_put(root);
	return status;
}

int cmd_runtime(int argc, char **argv)
{
	const char *rt = runtime_name(argv[0]), *bundle;
	int cmd = find_command(argc, argv, &bundle);
	size_t n = 0;
	char **envp;

	/* the runtime runs with the environment we were given: resolving
	 * leaves the container's agent and policies in ours */
	while (environ[n])
		n++;
	envp = calloc(n + 1, sizeof(*envp));
	if (!envp) {
		tool_error("%s", strerror(ENOMEM));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		if (!(envp[i] = strdup(environ[i]))) {
			tool_error("%s", strerror(ENOMEM));
			return EXIT_FAIL;
		}
	if (cmd && bundle) {
		int r = place_bundle(bundle);

		if (r < 0)
			return -r;
	}
	return exec_runtime(rt, argc, argv, envp);
}

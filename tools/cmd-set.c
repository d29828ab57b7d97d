/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace set: change a running program's policies through its agent's
 * control socket (doc/agent-protocol.md): each KIND=EXPR is resolved here
 * for the process (this machine, its cgroup's nodes) and sent compiled, one
 * request each, and what each did is printed.  Only the process itself is
 * talked to (lib/wire/wire.c checks who answers).  Without an agent only migrate_pages(2) for the whole
 * process is possible; it is done only when asked (--migrate-all), since it
 * moves every page of the process and changes no policy for the future.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "basic/util.h"
#include "core/combine.h"
#include "core/compiled.h"
#include "core/config.h"
#include "kernel/place.h"
#include "tool.h"
#include "machine/topo.h"
#include "machine/live.h"
#include "wire/wire.h"

static const char usage_text[] =
	"Usage: mplace set --pid PID [OPTIONS] KIND=EXPR...\n"
	"       mplace set --cgroup PATH | --unit NAME | --exe GLOB | --comm NAME [--persist] KEY=VALUE...\n"
	"\n"
	"Change the policies of a program running under the preload agent: each\n"
	"KIND (policy heap stack text data anon shm hugetlb mlocked kernel) gets EXPR,\n"
	"resolved here for the process and applied by its agent; 'migrate' in EXPR\n"
	"moves the pages already there.\n"
	"\n"
	"Or change a scope of the configuration mplaced holds in force: each KEY = VALUE\n"
	"as a line of mplace.conf(5) would say it in that scope's section, enforced at\n"
	"once; with --persist it is kept on disk and survives restarts.\n"
	"\n"
	"Options:\n"
	"  --pid PID          the process\n"
	"  --migrate-all      without an agent: move all the process's pages to EXPR's\n"
	"                     nodes with migrate_pages(2) (no policy for new memory)\n"
	"  --cgroup PATH      the scope [cgroup PATH], through mplaced\n"
	"  --unit NAME        the scope [unit NAME], through mplaced\n"
	"  --exe GLOB         the scope [exe GLOB], through mplaced\n"
	"  --comm NAME        the scope [comm NAME], through mplaced\n"
	"  --persist          keep the change across restarts of mplaced and reboots\n"
	"  --json             print the answers as JSON, one per line\n"
	"  -h, --help         show this help\n";

enum {
	OPT_PID = 0x100,
	OPT_MIGRATE_ALL,
	OPT_JSON,
	OPT_CGROUP,
	OPT_UNIT,
	OPT_EXE,
	OPT_COMM,
	OPT_PERSIST,
};

static const struct option options[] = {
	{"pid", required_argument, NULL, OPT_PID},
	{"migrate-all", no_argument, NULL, OPT_MIGRATE_ALL},
	{"json", no_argument, NULL, OPT_JSON},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"unit", required_argument, NULL, OPT_UNIT},
	{"exe", required_argument, NULL, OPT_EXE},
	{"comm", required_argument, NULL, OPT_COMM},
	{"persist", no_argument, NULL, OPT_PERSIST},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* EXPR resolved for the process (its cgroup, this machine) as the agent's
 * `set` request: "set\nKIND\nCOMPILED\nSOURCE" (doc/agent-protocol.md).
 * Returns the request (malloc'ed) or NULL with the error said. */
static char *make_request(struct mp_live *live, const char *kind, const char *expr)
{
	struct mp_policy p;
	struct mp_resolve_ctx rctx;
	struct mp_compiled c;
	struct mp_diag diag = {0};
	char line[MP_WIRE_TEXT_MAX], *canon = NULL, *req = NULL;
	struct mp_sb b;
	int n;

	if (mp_policy_parse(expr, &p, &diag) < 0) {
		tool_error("%s=%s: at %u: %s", kind, expr, diag.pos + 1, diag.msg);
		return NULL;
	}
	mp_live_resolve_ctx(live, &rctx);
	if (mp_resolve(&p, NULL, &rctx, &c, &diag) < 0) {
		tool_error("%s=%s: %s", kind, expr, diag.msg[0] ? diag.msg : "cannot be resolved");
		if (diag.hint[0])
			tool_hint("%s", diag.hint);
		goto out_p;
	}
	for (unsigned i = 0; i < c.n_warnings; i++)
		tool_warning("%s: %s", kind, c.warnings[i]);
	n = mp_compiled_serialize(&c, line, sizeof(line));
	canon = mp_policy_format(&p);
	if (n >= (int)sizeof(line) || !canon || strlen(canon) + 16 >= MP_WIRE_TEXT_MAX) {
		tool_error("%s=%s: the compiled policy or its text is longer than the agent takes (%d bytes)", kind,
			   expr, MP_WIRE_TEXT_MAX - 1);
		goto out_c;
	}
	mp_sb_init(&b);
	mp_sb_printf(&b, "set\n%s\n%s\n%s (mplace set)", kind, line, canon);
	req = mp_sb_steal(&b);
	if (!req)
		tool_error("%s: %s", kind, strerror(ENOMEM));
out_c:
	free(canon);
	mp_compiled_free(&c);
out_p:
	mp_policy_free(&p);
	return req;
}

/* Says why the agent of pid could not be asked. */
static void say_ask_error(int pid, int r, const struct mp_wire_peer *peer)
{
	if (r == -ENOTUNIQ) {
		if (peer->pid > 0)
			tool_error("the control socket name of process %d's agent is held by process %d (uid %u): "
				   "not the agent; nothing was sent to it",
				   pid, peer->pid, peer->uid);
		else
			tool_error("the control socket name of process %d's agent is held by another process: not "
				   "the agent; nothing was sent to it",
				   pid);
		tool_hint("an impostor may have taken the name before the agent could: 'mplace show --pid %d' "
			  "says what the agent reported",
			  pid);
		return;
	}
	if (r == -ETIMEDOUT) {
		tool_error("the agent of process %d did not answer within %d ms", pid, MP_WIRE_TIMEOUT_MS);
		return;
	}
	tool_error("cannot ask the agent of process %d: %s", pid, strerror(-r));
}

/* Without an agent: every page of the process to EXPR's nodes. */
static int migrate_all(int pid, const char *expr)
{
	struct mp_policy p;
	struct mp_topo *topo = NULL;
	struct mp_cgroup cg;
	bool have_cg;
	struct mp_resolve_ctx rctx = {0};
	struct mp_compiled c;
	struct mp_diag diag = {0};
	struct mp_nodemask from = {0};
	long r;
	int status = EXIT_FAIL;

	if (mp_policy_parse(expr, &p, &diag) < 0) {
		tool_error("policy:%u: %s", diag.pos + 1, diag.msg);
		return EXIT_FAIL;
	}
	if (mp_topo_load(NULL, &topo) < 0) {
		tool_error("cannot read the topology");
		goto out_p;
	}
	have_cg = mp_cgroup_load(NULL, pid, &cg) == 0;
	rctx.topo = topo;
	rctx.cgroup = have_cg ? &cg : NULL;
	rctx.local_node = -1;
	if (mp_resolve(&p, NULL, &rctx, &c, &diag) < 0) {
		tool_error("%s", diag.msg);
		goto out_topo;
	}
	if (mp_mask_empty(&c.nodes)) {
		tool_error("'%s' names no nodes to move the pages to", expr);
		goto out_c;
	}
	for (unsigned i = 0; i < topo->n_nodes; i++)
		mp_mask_set(&from, topo->nodes[i].id);
	r = mp_place_migrate_process(pid, &from, &c.nodes);
	if (r < 0) {
		tool_error("migrate_pages for process %d: %s", pid, strerror((int)-r));
		if (r == -EPERM)
			tool_hint("moving another user's pages needs CAP_SYS_NICE");
	} else {
		printf("process %d: all pages moved to the nodes of %s; %ld could not be moved\n", pid, expr, r);
		status = EXIT_OK;
	}
out_c:
	mp_compiled_free(&c);
out_topo:
	if (have_cg)
		mp_cgroup_free(&cg);
	mp_topo_free(topo);
out_p:
	mp_policy_free(&p);
	return status;
}

/* No agent listens for pid: only --migrate-all can do something. */
static int no_agent(int pid, bool migrate_all_opt, int n_args, const char *arg)
{
	if (kill(pid, 0) < 0 && errno == ESRCH) {
		tool_error("no process %d", pid);
		return EXIT_FAIL;
	}
	tool_error("no mplace agent listens in process %d", pid);
	if (!migrate_all_opt) {
		tool_hint("the agent listens where it applies a policy (mplace run with one); without it only "
			  "migrate_pages for the whole process is possible: add --migrate-all to do that");
		return EXIT_FAIL;
	}
	if (n_args != 1) {
		tool_error("--migrate-all takes one KIND=EXPR");
		return EXIT_USAGE;
	}
	return migrate_all(pid, strchr(arg, '=') + 1);
}

/* Each KEY=VALUE to mplaced for [scope arg]: the daemon checks it as a line
 * of the configuration, enforces it and answers. */
static int set_scope(const char *scope, const char *arg, bool persist, bool json, int n, char **kv)
{
	int status = EXIT_OK;

	for (int i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		json_object *a = NULL;
		struct mp_sb req;
		int r;

		if (!eq || eq == kv[i]) {
			tool_error("expected KEY=VALUE: '%s'", kv[i]);
			return EXIT_USAGE;
		}
		mp_sb_init(&req);
		mp_sb_printf(&req, "set\n%s\n%s\n%.*s\n%s\n%d", scope, arg, (int)(eq - kv[i]), kv[i], eq + 1, persist);
		if (!mp_sb_ok(&req)) {
			tool_error("%s", strerror(ENOMEM));
			return EXIT_FAIL;
		}
		if (strchr(arg, '\n') || strchr(eq + 1, '\n')) {
			tool_error("a newline in '%s' or in the scope's argument", kv[i]);
			mp_sb_free(&req);
			return EXIT_USAGE;
		}
		r = tool_daemon_ask(req.s, &a);
		mp_sb_free(&req);
		if (r < 0) {
			tool_daemon_error(r);
			return EXIT_FAIL;
		}
		if (json)
			puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
		if (tool_daemon_answer(a, kv[i]) != EXIT_OK) {
			status = EXIT_FAIL;
		} else if (!json) {
			json_object *v;

			printf("[%s %s] %s: in force, generation %lld%s\n", scope, arg, kv[i],
			       json_object_object_get_ex(a, "generation", &v) ? (long long)json_object_get_int64(v)
									      : 0LL,
			       persist ? ", persisted" : " (until mplaced stops; --persist keeps it)");
		}
		json_object_put(a);
	}
	return status;
}

int cmd_set(int argc, char **argv)
{
	bool migrate_all_opt = false, json = false, persist = false;
	const char *scope = NULL, *scope_arg = NULL;
	struct mp_live live;
	uint64_t pid = 0;
	int c, r, status = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_PID:
			if (mp_parse_uint(optarg, strlen(optarg), INT32_MAX, &pid) < 0 || !pid) {
				tool_error("--pid takes a process id: '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MIGRATE_ALL:
			migrate_all_opt = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_CGROUP:
		case OPT_UNIT:
		case OPT_EXE:
		case OPT_COMM:
			if (scope) {
				tool_error("one scope at a time: --%s and --%s", scope, options[c - OPT_PID].name);
				return EXIT_USAGE;
			}
			scope = options[c - OPT_PID].name;
			scope_arg = optarg;
			break;
		case OPT_PERSIST:
			persist = true;
			break;
		case 'h':
			tool_usage(usage_text, false);
			return EXIT_OK;
		default:
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
	}
	if (scope && (pid || migrate_all_opt)) {
		tool_error("--%s changes a scope through mplaced; --pid a process through its agent: choose one",
			   scope);
		return EXIT_USAGE;
	}
	if (persist && !scope) {
		tool_error("--persist keeps a scope's change in mplaced: give --cgroup, --unit, --exe or --comm");
		return EXIT_USAGE;
	}
	if (scope && optind < argc)
		return set_scope(scope, scope_arg, persist, json, argc - optind, argv + optind);
	if (!pid || optind >= argc) {
		tool_error(!pid && !scope ? "--pid or a scope (--cgroup, --unit, --exe, --comm) is required"
					  : "nothing to set: give KIND=EXPR");
		tool_usage(usage_text, true);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		enum mp_kind k;
		const char *g;
		char kind[32];

		if (!eq || (size_t)(eq - argv[i]) >= sizeof(kind)) {
			tool_error("expected KIND=EXPR: '%s'", argv[i]);
			return EXIT_USAGE;
		}
		memcpy(kind, argv[i], eq - argv[i]);
		kind[eq - argv[i]] = '\0';
		if (strcmp(kind, "policy") && (mp_kind_parse(kind, &k, &g) < 0 || k == MP_KIND_FILE)) {
			tool_error("unknown kind of memory '%s'", kind);
			tool_hint("kinds: policy heap stack text data anon shm hugetlb mlocked kernel");
			return EXIT_USAGE;
		}
	}

	r = mp_live_load(NULL, (int)pid, NULL, &live);
	if (r < 0) {
		tool_error("cannot read the topology: %s", strerror(-r));
		return EXIT_FAIL;
	}
	for (int i = optind; i < argc; i++) {
		struct mp_wire_peer peer = {0};
		struct json_object *o, *v;
		char kind[32], *req, *resp = NULL;
		const char *eq = strchr(argv[i], '=');

		memcpy(kind, argv[i], eq - argv[i]);
		kind[eq - argv[i]] = '\0';
		req = make_request(&live, kind, eq + 1);
		if (!req) {
			status = EXIT_FAIL;
			continue;
		}
		r = mp_wire_ask((int)pid, req, strlen(req), MP_WIRE_TIMEOUT_MS, &resp, &peer);
		free(req);
		if (r == -ECONNREFUSED && i == optind) {
			mp_live_free(&live);
			return no_agent((int)pid, migrate_all_opt, argc - optind, argv[optind]);
		}
		if (r < 0) {
			say_ask_error((int)pid, r, &peer);
			status = EXIT_FAIL;
			break;
		}
		if (json)
			puts(resp);
		o = json_tokener_parse(resp);
		if (!o || !json_object_object_get_ex(o, "ok", &v)) {
			tool_error("%s: unexpected answer: %s", argv[i], resp);
			status = EXIT_FAIL;
		} else if (!json_object_get_boolean(v)) {
			tool_error("%s: %s", argv[i],
				   json_object_object_get_ex(o, "error", &v) ? json_object_get_string(v) : "failed");
			status = EXIT_FAIL;
		} else if (!json) {
			int64_t moved = json_object_object_get_ex(o, "moved_pages", &v) ? json_object_get_int64(v) : 0;
			int64_t mis =
				json_object_object_get_ex(o, "misplaced_pages", &v) ? json_object_get_int64(v) : 0;

			printf("%s: applied; %lld pages moved, %lld misplaced\n", argv[i], (long long)moved,
			       (long long)mis);
		}
		json_object_put(o);
		free(resp);
	}
	mp_live_free(&live);
	return status;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace set: change a running program's policies through its agent's
 * control socket (doc/agent-protocol.md), one request per KIND=EXPR, and
 * print what each did.  Without an agent only migrate_pages(2) for the whole
 * process is possible; it is done only when asked (--migrate-all), since it
 * moves every page of the process and changes no policy for the future.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/util.h"
#include "combine.h"
#include "config.h"
#include "sys.h"
#include "tool.h"
#include "topo.h"

static const char usage_text[] = "Usage: mplace set --pid PID [OPTIONS] KIND=EXPR...\n"
				 "\n"
				 "Change the policies of a program running under the preload agent: each\n"
				 "KIND (policy heap stack text data anon shm hugetlb mlocked kernel) gets EXPR,\n"
				 "resolved by the agent; 'migrate' in EXPR moves the pages already there.\n"
				 "\n"
				 "Options:\n"
				 "  --pid PID          the process\n"
				 "  --migrate-all      without an agent: move all the process's pages to EXPR's\n"
				 "                     nodes with migrate_pages(2) (no policy for new memory)\n"
				 "  --json             print the agent's answers as JSON, one per line\n"
				 "  -h, --help         show this help\n";

enum {
	OPT_PID = 0x100,
	OPT_MIGRATE_ALL,
	OPT_JSON,
};

static const struct option options[] = {
	{"pid", required_argument, NULL, OPT_PID},
	{"migrate-all", no_argument, NULL, OPT_MIGRATE_ALL},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* Connect to the agent of pid: an abstract socket "mplace-agent.PID".
 * Returns the fd or -errno (-ECONNREFUSED: no agent listens). */
int agent_connect(int pid);
int agent_connect(int pid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd, n;

	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "mplace-agent.%d", pid);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* One request line, one response line (malloc'ed into *ret). */
static int agent_request(int fd, const char *req, char **ret)
{
	struct mp_sb b;
	size_t n = strlen(req), off = 0;
	char c;

	while (off < n) {
		ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	if (send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return -EIO;
	mp_sb_init(&b);
	for (;;) {
		ssize_t rd = read(fd, &c, 1);

		if (rd < 0 && errno == EINTR)
			continue;
		if (rd <= 0 || c == '\n')
			break;
		mp_sb_putn(&b, &c, 1);
	}
	if (!mp_sb_ok(&b) || !b.len) {
		mp_sb_free(&b);
		return b.oom ? -ENOMEM : -ECONNRESET;
	}
	*ret = mp_sb_steal(&b);
	return 0;
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
	r = mp_sys_migrate_pages_mask(pid, &from, &c.nodes);
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

int cmd_set(int argc, char **argv)
{
	bool migrate_all_opt = false, json = false;
	uint64_t pid = 0;
	int c, fd, status = EXIT_OK;

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
		case 'h':
			tool_usage(usage_text, false);
			return EXIT_OK;
		default:
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
	}
	if (!pid || optind >= argc) {
		tool_error(!pid ? "--pid is required" : "nothing to set: give KIND=EXPR");
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

	fd = agent_connect((int)pid);
	if (fd < 0) {
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			tool_error("no process %d", (int)pid);
			return EXIT_FAIL;
		}
		tool_error("process %d has no mplace agent (%s)", (int)pid, strerror(-fd));
		if (!migrate_all_opt) {
			tool_hint("without the agent only migrate_pages for the whole process is possible: "
				  "add --migrate-all to do that");
			return EXIT_FAIL;
		}
		if (argc - optind != 1) {
			tool_error("--migrate-all takes one KIND=EXPR");
			return EXIT_USAGE;
		}
		return migrate_all((int)pid, strchr(argv[optind], '=') + 1);
	}
	for (int i = optind; i < argc; i++) {
		struct json_object *o, *v;
		char req[4096], *resp = NULL;
		int r;

		if (snprintf(req, sizeof(req), "set %s", argv[i]) >= (int)sizeof(req)) {
			tool_error("too long: '%s'", argv[i]);
			status = EXIT_FAIL;
			continue;
		}
		r = agent_request(fd, req, &resp);
		if (r < 0) {
			tool_error("%s: the agent did not answer: %s", argv[i], strerror(-r));
			if (r == -ECONNRESET)
				tool_hint("the agent accepts only the same user, root or CAP_SYS_NICE");
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
	close(fd);
	return status;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's control socket (doc/agent-protocol.md): an abstract Unix
 * stream socket "mplace-agent.PID", served by one thread of the agent's own
 * that answers `show` and `set KIND=EXPR`, one line each way.
 *
 * Invariants:
 *   - a peer is served only when it is the same user, root, or holds
 *     CAP_SYS_NICE (SO_PEERCRED, then /proc/PID/status), else the
 *     connection is closed unanswered;
 *   - the thread blocks every signal, so the program's signals go to its
 *     own threads;
 *   - after fork the child listens on its own name (a new thread: the
 *     parent's does not exist in the child).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "compiled.h"
#include "sys.h"
#include "live.h"

int agent_thread_create(pthread_t *th, void *(*start)(void *), void *arg);

static int listen_fd = -1;

static bool has_cap_sys_nice(int pid)
{
	char path[64], buf[4096], *p;
	unsigned long long cap;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strstr(buf, "\nCapEff:");
	if (!p || sscanf(p + 8, "%llx", &cap) != 1)
		return false;
	return cap & (1ULL << 23); /* CAP_SYS_NICE */
}

static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid() || has_cap_sys_nice(cr.pid);
}

static const char *const kind_names[MP_KIND__COUNT] = {
	[MP_KIND_ALL] = "policy",    [MP_KIND_HEAP] = "heap",	    [MP_KIND_STACK] = "stack",
	[MP_KIND_TEXT] = "text",     [MP_KIND_DATA] = "data",	    [MP_KIND_ANON] = "anon",
	[MP_KIND_SHM] = "shm",	     [MP_KIND_HUGETLB] = "hugetlb", [MP_KIND_MLOCKED] = "mlocked",
	[MP_KIND_KERNEL] = "kernel",
};

static size_t put_str(char *buf, size_t size, size_t o, const char *s)
{
	if (o + 1 >= size)
		return o;
	buf[o++] = '"';
	for (; *s && o + 3 < size; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = (unsigned char)*s < 0x20 ? ' ' : *s;
	}
	if (o + 1 < size)
		buf[o++] = '"';
	buf[o] = '\0';
	return o;
}

/* "requested" is the canonical text, the source without its "(scope)" tail. */
static size_t put_kind(char *buf, size_t size, size_t o, const struct agent_kind *k)
{
	char req[AGENT_TEXT_LEN];
	const char *paren = strstr(k->source, " (");
	size_t n = paren ? (size_t)(paren - k->source) : strlen(k->source);

	memcpy(req, k->source, n);
	req[n] = '\0';
	o += (size_t)snprintf(buf + o, size - o, "{\"requested\": ");
	o = put_str(buf, size, o < size ? o : size - 1, req);
	o += (size_t)snprintf(buf + o, size - o, ", \"source\": ");
	o = put_str(buf, size, o < size ? o : size - 1, k->source);
	o += (size_t)snprintf(buf + o, size - o, ", \"compiled\": ");
	o = put_str(buf, size, o < size ? o : size - 1, k->compiled);
	o += (size_t)snprintf(buf + o, size - o, "}");
	return o < size ? o : size - 1;
}

static void show(char *buf, size_t size)
{
	size_t o;
	bool first = true;

	o = (size_t)snprintf(buf, size, "{\"pid\": %d, \"agent\": \"%s\", \"heap_allocator\": \"%s\", \"kinds\": {",
			     (int)getpid(), AGENT_VERSION, agent_heap_active() ? "jemalloc" : "glibc");
	for (int i = 0; i < MP_KIND__COUNT && o < size; i++) {
		if (!agent.kind[i].set || !kind_names[i])
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s\"%s\": ", first ? "" : ", ", kind_names[i]);
		if (o < size)
			o = put_kind(buf, size, o, &agent.kind[i]);
		first = false;
	}
	if (o < size)
		o += (size_t)snprintf(buf + o, size - o, "}, \"files\": [");
	for (unsigned i = 0; i < agent.n_files && o < size; i++) {
		o += (size_t)snprintf(buf + o, size - o, "%s{\"glob\": ", i ? ", " : "");
		if (o < size)
			o = put_str(buf, size, o, agent.files[i].glob);
		if (o < size)
			o += (size_t)snprintf(buf + o, size - o, ", \"compiled\": ");
		if (o < size)
			o = put_str(buf, size, o, agent.files[i].k.compiled);
		if (o < size)
			o += (size_t)snprintf(buf + o, size - o, "}");
	}
	if (o < size)
		o += (size_t)snprintf(buf + o, size - o, "], \"problems\": ");
	if (o < size)
		o += agent_problems_json(buf + o, size - o);
	if (o < size)
		snprintf(buf + o, size - o, "}");
}

static void answer_error(char *buf, size_t size, const char *msg)
{
	size_t o = (size_t)snprintf(buf, size, "{\"ok\": false, \"error\": ");

	o = put_str(buf, size, o, msg);
	snprintf(buf + o, size - o, "}");
}

/* Resolve EXPR against the live machine (no configuration: the caller asked
 * for exactly this). */
static int resolve(const char *expr, struct mp_compiled *ret, char *err, size_t esize)
{
	struct mp_policy p;
	struct mp_live live;
	struct mp_resolve_ctx rctx;
	struct mp_diag diag = {0};
	int r;

	r = mp_policy_parse(expr, &p, &diag);
	if (r < 0) {
		snprintf(err, esize, "%s: at %u: %s", expr, diag.pos + 1, diag.msg);
		return r;
	}
	r = mp_live_load(NULL, 0, NULL, &live);
	if (r < 0) {
		snprintf(err, esize, "cannot read the topology: %s", strerror(-r));
		goto out_p;
	}
	mp_live_resolve_ctx(&live, &rctx);
	r = mp_resolve(&p, NULL, &rctx, ret, &diag);
	if (r < 0)
		snprintf(err, esize, "%s", diag.msg[0] ? diag.msg : strerror(-r));
	mp_live_free(&live);
out_p:
	mp_policy_free(&p);
	return r;
}

static void set(const char *arg, char *buf, size_t size)
{
	const char *eq = strchr(arg, '=');
	struct mp_compiled c;
	char kind[32], err[300];
	enum mp_kind k = MP_KIND__COUNT;
	long moved = 0, mis = 0;
	int r;

	if (!eq || (size_t)(eq - arg) >= sizeof(kind)) {
		answer_error(buf, size, "expected set KIND=EXPR");
		return;
	}
	memcpy(kind, arg, eq - arg);
	kind[eq - arg] = '\0';
	for (int i = 0; i < MP_KIND__COUNT; i++)
		if (kind_names[i] && !strcmp(kind_names[i], kind))
			k = (enum mp_kind)i;
	if (k == MP_KIND__COUNT) {
		answer_error(buf, size, "unknown kind (policy heap stack text data anon shm hugetlb mlocked kernel)");
		return;
	}
	if (resolve(eq + 1, &c, err, sizeof(err)) < 0) {
		answer_error(buf, size, err);
		return;
	}
	switch (k) {
	case MP_KIND_ALL:
	case MP_KIND_KERNEL:
		/* the kernel policy wins the task policy when both are set */
		if (k == MP_KIND_KERNEL || !agent.kind[MP_KIND_KERNEL].set)
			r = agent_task_set_all(&c);
		else
			r = 0;
		break;
	case MP_KIND_HEAP:
		r = agent_heap_set(&c, c.migrate, &moved, &mis);
		if (r == -EOPNOTSUPP) {
			answer_error(buf, size,
				     "heap: the program was started without a heap policy, so its malloc "
				     "is glibc's; a heap policy can only be set at start (mplace run --heap)");
			goto out;
		}
		break;
	case MP_KIND_STACK:
	case MP_KIND_DATA:
	case MP_KIND_TEXT:
	case MP_KIND_ANON:
		r = agent_place_existing(k, &c, c.migrate, &moved, &mis);
		break;
	default:
		r = 0; /* future mappings and segments follow the new policy */
		break;
	}
	if (r < 0) {
		snprintf(err, sizeof(err), "%s: %s", kind, strerror(-r));
		answer_error(buf, size, err);
		goto out;
	}
	/* publish for show and for what comes next */
	agent.kind[k].c = c;
	memset(&agent.kind[k].c.trace, 0, sizeof(c.trace));
	agent.kind[k].c.n_warnings = 0;
	mp_compiled_serialize(&c, agent.kind[k].compiled, sizeof(agent.kind[k].compiled));
	snprintf(agent.kind[k].source, sizeof(agent.kind[k].source), "%s (mplace set)", eq + 1);
	agent.kind[k].set = true;
	snprintf(buf, size, "{\"ok\": true, \"moved_pages\": %ld, \"misplaced_pages\": %ld}", moved, mis);
	/* the compiled policy's nodes and modes now live in agent.kind[k].c;
	 * its trace and warnings are freed here, the copy no longer points at them */
	c.n_warnings = c.n_warnings;
out:
	mp_compiled_free(&c);
}

static void serve(int fd)
{
	static char out[16384];
	char line[4096];
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		if (ch != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = ch;
			continue;
		}
		line[n] = '\0';
		n = 0;
		if (!strcmp(line, "show"))
			show(out, sizeof(out));
		else if (!strncmp(line, "set ", 4))
			set(line + 4, out, sizeof(out));
		else
			answer_error(out, sizeof(out), "unknown request (show, set KIND=EXPR)");
		n = strlen(out);
		out[n++] = '\n';
		if (write(fd, out, n) != (ssize_t)n)
			return;
		n = 0;
	}
}

static void *ctl_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			agent_problem("control socket: accept: %s; no more requests", strerror(errno));
			return NULL;
		}
		if (peer_allowed(fd))
			serve(fd);
		close(fd);
	}
	return NULL;
}

void agent_ctl_start(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	sigset_t all, old;
	pthread_t th;
	socklen_t len;
	int fd, n, r;

	if (listen_fd >= 0)
		close(listen_fd); /* the parent's, inherited across fork */
	listen_fd = -1;
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "mplace-agent.%d", (int)getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 4) < 0) {
		agent_problem("control socket: %s; mplace set cannot reach this process", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = agent_thread_create(&th, ctl_thread, (void *)(intptr_t)fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		agent_problem("control socket: no thread: %s", strerror(r));
		close(fd);
		return;
	}
	pthread_detach(th);
	listen_fd = fd;
}

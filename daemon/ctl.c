/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplaced's control socket, RUN_DIR/mplaced.sock (doc/daemon.md, "The
 * socket"): a Unix stream socket; a client connects, sends one request and
 * shuts its side down, reads one JSON answer to the end.
 *
 *   status                           anyone
 *   set\nSCOPE\nARG\nKEY\nVALUE\nP   root or CAP_SYS_NICE; P: 1 persist, 0 not
 *   reset\nHOW                       root or CAP_SYS_NICE; HOW: "" or "suspend"
 *   reload                           root or CAP_SYS_NICE
 *   resolve                          anyone, for itself: the records of the
 *                                    snapshot's format (snapshot.c) that every
 *                                    scope gives the connected process; not
 *                                    JSON, since the agent reads it before main
 *
 * Who asks is the kernel's word, not the client's: SO_PEERCRED for the
 * uid, and for a user other than root the capability read from
 * /proc/PID/status only where a pidfd of the peer (SO_PEERPIDFD, Linux 6.5)
 * proves that PID was not reused in between; without it, only root.
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config-mplace.h"
#include "daemon.h"
#include "wire/wire.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define REQUEST_MAX	  (64 * 1024)
#define CLIENT_TIMEOUT_MS 2000

static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

int ctl_open(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/mplaced.sock", d.p.run_dir) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (mkdir(d.p.run_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	/* anyone may connect: who may do what is decided per request, from
	 * the kernel's credentials, so that a refusal says why */
	mode_t old = umask(0);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	strcpy(sock_path, sa.sun_path);
	listen_fd = fd;
	return fd;
}

void ctl_close(void)
{
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(sock_path);
	}
	listen_fd = -1;
}

/* NULL when the peer may change things, else why not. */
static const char *refusal(int fd, const struct ucred *cr)
{
	socklen_t len = sizeof(int);
	int pidfd = -1;
	bool ok;

	if (cr->uid == 0)
		return NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0 || pidfd < 0)
		return "only root may change mplaced's policies here: this kernel cannot tie a capability to the "
		       "process that connected (SO_PEERPIDFD, Linux 6.5), so CAP_SYS_NICE is not enough";
	/* the capability read from /proc is the peer's only when its pidfd
	 * still names a live process after the read */
	ok = mp_wire_cap_sys_nice(cr->pid, cr->uid) && mp_wire_pidfd_alive(pidfd);
	close(pidfd);
	return ok ? NULL : "only root or a process with CAP_SYS_NICE may change mplaced's policies";
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void answer_error(json_object *a, const char *msg, const char *hint)
{
	json_object_object_add(a, "ok", json_object_new_boolean(0));
	json_object_object_add(a, "error", jstr(msg));
	if (hint)
		json_object_object_add(a, "hint", jstr(hint));
}

/* ---- set ------------------------------------------------------------------------- */

static const char *const settable[] = {"cgroup", "unit", "exe", "comm", "system"};

static void do_set(char *args, json_object *a)
{
	char *f[5] = {0}, *s = args, err[1024];
	struct mp_config_error e = {0};
	struct mp_config probe;
	struct mp_sb text;
	bool ok = false, persist;
	int r;

	for (int i = 0; i < 5; i++)
		f[i] = s ? strsep(&s, "\n") : NULL;
	if (!f[4] || s || (strcmp(f[4], "0") && strcmp(f[4], "1"))) {
		answer_error(a, "expected set SCOPE ARG KEY VALUE PERSIST, one a line", NULL);
		return;
	}
	for (size_t i = 0; i < sizeof(settable) / sizeof(settable[0]); i++)
		ok |= !strcmp(f[0], settable[i]);
	if (!ok) {
		answer_error(a, "unknown scope",
			     "mplace set takes --cgroup PATH, --unit NAME, --exe GLOB or --comm NAME");
		return;
	}
	persist = f[4][0] == '1';
	/* checked as the files are: the same parser, its line and column */
	mp_sb_init(&text);
	mp_sb_printf(&text, "[%s%s%s]\n%s = %s\n", f[0], *f[1] ? " " : "", f[1], f[2], f[3]);
	if (strpbrk(f[1], "]\n") || strpbrk(f[2], "=\n") || !mp_sb_ok(&text)) {
		answer_error(a, "the scope's argument or the key holds a character the configuration cannot", NULL);
		mp_sb_free(&text);
		return;
	}
	mp_config_init(&probe);
	r = mp_config_parse(&probe, "mplace set", text.s, text.len, &e, 1);
	if (r != 0) {
		snprintf(err, sizeof(err), "%s = %s: %s", f[2], f[3], r < 0 ? strerror(-r) : e.msg);
		answer_error(a, err, e.hint[0] ? e.hint : NULL);
		mp_config_free(&probe);
		mp_sb_free(&text);
		return;
	}
	/* and on this machine: a node it does not have, a strict policy it
	 * cannot meet, are refused here rather than recorded as problems */
	if (probe.n_scopes == 1 && probe.scopes[0].n_rules == 1 && d.live.topo) {
		struct mp_resolve_ctx rctx;
		struct mp_compiled c;
		struct mp_diag diag = {0};

		mp_live_resolve_ctx(&d.live, &rctx);
		rctx.cgroup = NULL;
		r = mp_resolve(&probe.scopes[0].rules[0].pol, NULL, &rctx, &c, &diag);
		if (r == 0) {
			mp_compiled_free(&c);
		} else {
			snprintf(err, sizeof(err), "%s = %s: %s", f[2], f[3], diag.msg[0] ? diag.msg : strerror(-r));
			answer_error(a, err, diag.hint[0] ? diag.hint : NULL);
			mp_config_free(&probe);
			mp_sb_free(&text);
			return;
		}
	}
	mp_config_free(&probe);
	if (persist)
		r = state_persist(f[0], *f[1] ? f[1] : NULL, f[2], f[3], err, sizeof(err));
	else
		r = state_set_volatile(f[0], *f[1] ? f[1] : NULL, f[2], f[3], err, sizeof(err));
	mp_sb_free(&text);
	if (r < 0) {
		answer_error(a, err, NULL);
		return;
	}
	if (state_load() < 0) {
		/* the files changed under us and are wrong now: the change is
		 * kept, and applies once they are fixed */
		answer_error(a, d.config_error, "the change is kept; it applies once the configuration loads again");
		return;
	}
	enforce_all();
	actions_save();
	say(LOG_NOTICE, "[%s%s%s] %s = %s set%s; generation %lu", f[0], *f[1] ? " " : "", f[1], f[2], f[3],
	    persist ? " and persisted" : "", d.generation);
	json_object_object_add(a, "ok", json_object_new_boolean(1));
	json_object_object_add(a, "generation", json_object_new_uint64(d.generation));
	json_object_object_add(a, "persisted", json_object_new_boolean(persist));
	if (persist)
		json_object_object_add(a, "file", jstr(state_file()));
}

static void do_reset(const char *how, json_object *a)
{
	bool suspend = how && !strcmp(how, "suspend");
	int r = state_forget();

	if (r < 0) {
		char err[512];

		snprintf(err, sizeof(err), "cannot remove %s: %s", state_file(), strerror(-r));
		answer_error(a, err, NULL);
		return;
	}
	enforce_undo();
	d.suspended = suspend;
	if (suspend) {
		scopes_clear();
		problems_clear();
	}
	if (!suspend && state_load() == 0)
		enforce_all();
	else if (!suspend)
		enforce_all(); /* the files in force before */
	actions_save();
	say(LOG_NOTICE, "reset: the changes of mplace set forgotten, what was put in place taken back%s",
	    suspend ? "; nothing is enforced until the next reload" : "");
	json_object_object_add(a, "ok", json_object_new_boolean(1));
	json_object_object_add(a, "generation", json_object_new_uint64(d.generation));
	json_object_object_add(a, "suspended", json_object_new_boolean(suspend));
}

void daemon_reload(json_object *a)
{
	int r = state_load();

	d.suspended = false;
	if (r == 0) {
		enforce_all();
		actions_save();
	}
	if (!a)
		return;
	if (r < 0) {
		answer_error(a, d.config_error, "the configuration in force stays; fix the file and reload again");
		json_object_object_add(a, "generation", json_object_new_uint64(d.generation));
		return;
	}
	json_object_object_add(a, "ok", json_object_new_boolean(1));
	json_object_object_add(a, "generation", json_object_new_uint64(d.generation));
}

/* ---- serving ------------------------------------------------------------------------ */

/* Read the request to its end (the client shuts down its side), within
 * the time a client is given. */
static ssize_t read_request(int fd, char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, CLIENT_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == size - 1)
			return -EMSGSIZE;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

static void write_answer(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		ssize_t w;

		if (poll(&p, 1, CLIENT_TIMEOUT_MS) <= 0)
			return;
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* The agent of process cr->pid asks what its several scopes fold to: only
 * its own process, so anyone may ask. */
static void serve_resolve(int fd, const struct ucred *cr)
{
	struct mp_sb b;
	char err[1024];
	int n;

	mp_sb_init(&b);
	mp_sb_printf(&b, "mplace-resolve/1\ngeneration %lu\n", d.generation);
	n = d.suspended ? 0 : resolve_records(cr->pid, &b, err, sizeof(err));
	if (n < 0) {
		mp_sb_free(&b);
		mp_sb_init(&b);
		mp_sb_printf(&b, "mplace-resolve/1\nerror %s\n", err);
	}
	mp_sb_puts(&b, "end\n");
	d.n_resolved++;
	if (mp_sb_ok(&b))
		write_answer(fd, b.s);
	mp_sb_free(&b);
}

static void serve_client(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	json_object *a = json_object_new_object();
	char *req = malloc(REQUEST_MAX), *args;
	const char *why;
	ssize_t n;

	if (!req || !a || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		goto out;
	n = read_request(fd, req, REQUEST_MAX);
	if (n < 0) {
		answer_error(a, n == -EMSGSIZE ? "the request is too long" : "no whole request in time", NULL);
		goto answer;
	}
	args = strchr(req, '\n');
	if (args)
		*args++ = '\0';
	if (!strcmp(req, "resolve")) {
		serve_resolve(fd, &cr);
		goto out;
	}
	if (!strcmp(req, "status")) {
		status_json(a);
		goto answer;
	}
	if (strcmp(req, "set") && strcmp(req, "reset") && strcmp(req, "reload")) {
		answer_error(a, "unknown request", "status, set, reset or reload");
		goto answer;
	}
	if ((why = refusal(fd, &cr))) {
		say(LOG_NOTICE, "%s from pid %d (uid %u) refused: %s", req, cr.pid, cr.uid, why);
		answer_error(a, why, "run it as root");
		json_object_object_add(a, "refused", json_object_new_boolean(1));
		goto answer;
	}
	if (!strcmp(req, "set"))
		do_set(args ? args : (char *)"", a);
	else if (!strcmp(req, "reset"))
		do_reset(args, a);
	else
		daemon_reload(a);
answer:
	write_answer(fd, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(a);
	free(req);
}

void ctl_serve(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN: all served */
		serve_client(fd);
		close(fd);
	}
}

/* ---- status ---------------------------------------------------------------------------- */

void status_json(json_object *a)
{
	json_object *dj = json_object_new_object(), *arr;

	json_object_object_add(a, "ok", json_object_new_boolean(1));
	json_object_object_add(dj, "pid", json_object_new_int(getpid()));
	json_object_object_add(dj, "version", jstr(MPLACE_VERSION));
	json_object_object_add(dj, "generation", json_object_new_uint64(d.generation));
	json_object_object_add(dj, "config_error", jstr(d.config_error));
	json_object_object_add(dj, "config_dir", jstr(d.p.config_dir));
	arr = json_object_new_array();
	for (unsigned i = 0; i < d.cfg.n_files; i++)
		json_object_array_add(arr, jstr(d.cfg.files[i]));
	json_object_object_add(dj, "files", arr);
	json_object_object_add(dj, "persisted", jstr(state_file()));
	json_object_object_add(dj, "system_agent", json_object_new_boolean(d.cfg.settings.system_agent == 1));
	json_object_object_add(dj, "resolves", json_object_new_int64((int64_t)d.n_resolved));
	json_object_object_add(dj, "keep", json_object_new_boolean(d.cfg.settings.keep == 1));
	json_object_object_add(dj, "suspended", json_object_new_boolean(d.suspended));
	json_object_object_add(dj, "systemd", json_object_new_boolean(sysd_present()));
	json_object_object_add(a, "daemon", dj);

	arr = json_object_new_array();
	for (unsigned i = 0; i < d.n_scopes; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "scope", jstr(d.scopes[i].label));
		json_object_object_add(o, "origin", jstr(d.scopes[i].origin));
		json_object_object_add(o, "means", jstr(d.scopes[i].means));
		json_object_array_add(arr, o);
	}
	json_object_object_add(a, "scopes", arr);

	arr = json_object_new_array();
	for (unsigned i = 0; i < d.n_actions; i++) {
		static const char *const names[] = {
			[ACT_CPUSET] = "cpuset", [ACT_PROPERTY] = "property", [ACT_DROPIN] = "dropin"};
		json_object *o = json_object_new_object();

		json_object_object_add(o, "kind", jstr(names[d.actions[i].kind]));
		json_object_object_add(o, "target", jstr(d.actions[i].target));
		json_object_object_add(o, "value", jstr(d.actions[i].value));
		if (d.actions[i].kind == ACT_CPUSET)
			json_object_object_add(o, "old", jstr(d.actions[i].old));
		json_object_object_add(o, "means", jstr(d.actions[i].means));
		json_object_array_add(arr, o);
	}
	json_object_object_add(a, "actions", arr);

	arr = json_object_new_array();
	for (unsigned i = 0; i < d.n_problems; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "scope", jstr(d.problems[i].scope));
		json_object_object_add(o, "what", jstr(d.problems[i].what));
		json_object_array_add(arr, o);
	}
	json_object_object_add(a, "problems", arr);
	status_figures(a);
}

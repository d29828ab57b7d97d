/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's control socket (doc/agent-protocol.md, lib/wire/wire.h): an
 * abstract Unix datagram socket "mplace-agent.PID", served by one thread of
 * the agent's own that answers `show` and `set`, one datagram each way.
 *
 * Invariants:
 *   - invisible to the program: the control thread has a descriptor table
 *     of its own, empty when it starts (close_range CLOSE_RANGE_UNSHARE),
 *     so its socket, and every file it opens to answer, never appear among
 *     the program's descriptors nor take a number the program uses; it
 *     holds no reference to the program's files; it blocks every signal;
 *   - made only where there is something to serve: in a process that
 *     applies a policy, at start.  Never in a child between fork and exec:
 *     a forked child closes its copy of the parent's socket and listens only
 *     once it makes a thread of its own (then it is multi-threaded anyway),
 *     or after exec;
 *   - the thread's stack is the agent's own mapping, placed by the stack
 *     policy before the thread touches it;
 *   - a request is served only when the kernel's credentials of its sender
 *     are root, this process's user, or a process that holds CAP_SYS_NICE
 *     and is provably the sender (a pidfd of the sender, SCM_PIDFD, where
 *     the kernel has it; refused where it has not);
 *   - a name already taken is reported, never silently given up.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "core/compiled.h"
#include "json.h"
#include "kernel/place.h"
#include "wire/wire.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

#define CTL_STACK_SIZE (256 << 10)

int agent_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *), void *arg);

/* the control thread runs in this process (after fork: in the parent) */
static pid_t ctl_pid;
static pthread_t ctl_th;
/* asked to stop (agent_ctl_stop): set before the "quit" datagram is sent,
 * read after the socket is bound, so the thread sees one or the other */
static _Atomic bool ctl_quit;
static bool ctl_passpidfd;
/* forked without exec from a process that listened: listen once the child
 * makes a thread of its own */
static _Atomic bool ctl_pending;

/* ---- a descriptor table of the thread's own -------------------------------- */

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/*
 * Gives the calling thread a descriptor table of its own, empty: the
 * program's descriptors are not copied, so the thread holds no reference to
 * the program's files (a pipe the program closes still reaches EOF), and
 * what the thread opens is in no table the program sees.  close_range with
 * CLOSE_RANGE_UNSHARE (5.9) does it in one step; before, unshare copies the
 * table and the copies are closed at once.  With MPLACE_LOG=1 the thread
 * keeps the program's stderr (as descriptor 2 of its table), which the user
 * asked it to write to.
 */
static int own_fd_table(bool keep_stderr)
{
	unsigned first = keep_stderr ? 3 : 0;
	struct rlimit rl;

	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_UNSHARE) < 0) {
		if (unshare(CLONE_FILES) < 0)
			return -errno;
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = 65536;
		for (rlim_t fd = first; fd < rl.rlim_cur && fd < (1U << 20); fd++)
			close((int)fd);
	}
	if (keep_stderr) {
		close(0);
		close(1);
	}
	return 0;
}

/* ---- who asks ---------------------------------------------------------------- */

/* NULL when the sender may be served, else why not. */
static const char *refusal(const struct ucred *cr, int pidfd)
{
	if (cr->uid == 0 || cr->uid == getuid() || cr->uid == geteuid())
		return NULL;
	if (pidfd < 0)
		return ctl_passpidfd ? "the request came without its sender's pidfd"
				     : "this kernel cannot tie a capability to the sender of a request (SCM_PIDFD, "
				       "Linux 6.5): only root and the process's own user are served";
	/* the capability read from /proc is the sender's only when the pidfd
	 * still names a live process after the read: then that pid was not
	 * reused in between */
	if (!mp_wire_cap_sys_nice(cr->pid, cr->uid) || !mp_wire_pidfd_alive(pidfd))
		return "only root, the process's own user, or a process with CAP_SYS_NICE may ask";
	return NULL;
}

/* ---- answers ------------------------------------------------------------------ */

static void put_kind(struct jw *w, const struct agent_kind *k)
{
	const char *paren = strstr(k->source, " (");
	char req[MP_WIRE_TEXT_MAX];
	size_t n = paren ? (size_t)(paren - k->source) : strlen(k->source);

	/* "requested" is the canonical text, the source without its "(scope)" tail */
	memcpy(req, k->source, n);
	req[n] = '\0';
	jw_raw(w, "{\"requested\": ");
	jw_str(w, req);
	jw_raw(w, ", \"source\": ");
	jw_str(w, k->source);
	jw_raw(w, ", \"compiled\": ");
	jw_str(w, k->compiled);
	jw_raw(w, "}");
}

static void show(struct jw *w)
{
	bool first = true;

	jw_printf(w, "{\"pid\": %d, \"agent\": \"%s\", \"protocol\": %d, \"heap_allocator\": \"%s\", \"kinds\": {",
		  (int)getpid(), AGENT_VERSION, MP_WIRE_PROTOCOL, agent_heap_active() ? "jemalloc" : "glibc");
	for (unsigned i = 0; i < MP_WIRE_N_KINDS; i++) {
		const struct agent_kind *k = &agent.kind[mp_wire_kinds[i].kind];

		if (!agent_has(mp_wire_kinds[i].kind))
			continue;
		jw_printf(w, "%s\"%s\": ", first ? "" : ", ", mp_kind_name(mp_wire_kinds[i].kind));
		put_kind(w, k);
		first = false;
	}
	jw_raw(w, "}, \"files\": [");
	for (unsigned i = 0; i < agent.n_files; i++) {
		jw_raw(w, i ? ", {\"glob\": " : "{\"glob\": ");
		jw_str(w, agent.files[i].glob);
		jw_raw(w, ", \"compiled\": ");
		jw_str(w, agent.files[i].k.compiled);
		jw_raw(w, "}");
	}
	jw_raw(w, "], \"ranges\": [");
	agent_heap_ranges_json(w);
	jw_raw(w, "], \"problems\": ");
	agent_problems_json(w);
	jw_raw(w, "}");
}

static void answer_error(struct jw *w, const char *msg)
{
	jw_init(w, w->buf, w->size);
	jw_raw(w, "{\"ok\": false, \"error\": ");
	jw_str(w, msg);
	jw_raw(w, "}");
}

/* "set\nKIND\nCOMPILED\nSOURCE": a policy the client resolved (against this
 * process's cgroup and machine) for one kind. */
static void set(char *args, struct jw *w)
{
	char *kind = args, *compiled, *source, err[MP_WIRE_TEXT_MAX + 64];
	const struct mp_wire_kind *wk;
	struct agent_kind *ak;
	struct mp_compiled c;
	enum mp_kind k;
	long moved = 0, mis = 0;
	int r;

	compiled = strchr(kind, '\n');
	source = compiled ? strchr(compiled + 1, '\n') : NULL;
	if (!source) {
		answer_error(w, "expected set KIND COMPILED SOURCE, one a line");
		return;
	}
	*compiled++ = '\0';
	*source++ = '\0';
	if (!(wk = mp_wire_kind_named(kind))) {
		answer_error(w, "unknown kind (policy heap stack text data anon shm hugetlb mlocked kernel)");
		return;
	}
	if (strlen(compiled) >= MP_WIRE_TEXT_MAX || strlen(source) >= MP_WIRE_TEXT_MAX) {
		answer_error(w, "the compiled policy or its source is longer than the agent keeps");
		return;
	}
	if (mp_compiled_deserialize(compiled, &c) < 0) {
		answer_error(w, "not a compiled policy this agent understands (mplace-compiled/1)");
		return;
	}
	k = wk->kind;
	switch (k) {
	case MP_KIND_ALL:
	case MP_KIND_KERNEL:
		/* the kernel policy wins the task policy when both are set */
		r = (k == MP_KIND_KERNEL || !agent_has(MP_KIND_KERNEL)) ? agent_task_set_all(&c) : 0;
		break;
	case MP_KIND_HEAP:
		r = agent_heap_set(&c, c.migrate, &moved, &mis);
		if (r == -EOPNOTSUPP) {
			answer_error(w, "heap: the program was started without a heap policy, so its malloc "
					"is glibc's; a heap policy can only be set at start (mplace run --heap)");
			return;
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
		snprintf(err, sizeof(err), "%s: %s", kind, agent_strerror(-r));
		answer_error(w, err);
		return;
	}
	/* published for show and for what comes next */
	ak = &agent.kind[k];
	ak->c = c;
	snprintf(ak->compiled, sizeof(ak->compiled), "%s", compiled);
	snprintf(ak->source, sizeof(ak->source), "%s", source);
	agent_mark(k);
	jw_printf(w, "{\"ok\": true, \"moved_pages\": %ld, \"misplaced_pages\": %ld}", moved, mis);
}

/* ---- the thread ------------------------------------------------------------- */

static void serve_one(char *req, size_t n, const struct ucred *cr, int pidfd, struct jw *w)
{
	const char *why;

	req[n] = '\0';
	if ((why = refusal(cr, pidfd))) {
		answer_error(w, why);
		return;
	}
	if (!strcmp(req, "show"))
		show(w);
	else if (!strncmp(req, "set\n", 4))
		set(req + 4, w);
	else
		answer_error(w, "unknown request (show, set)");
	if (w->over) {
		char msg[96];

		snprintf(msg, sizeof(msg), "the answer does not fit in one datagram of %d bytes", MP_WIRE_ANSWER_MAX);
		answer_error(w, msg);
	}
}

/* The socket, in the thread's own table.  -1 when it cannot listen (said). */
static int ctl_listen(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, one = 1, r;

	r = own_fd_table(agent.log);
	if (r < 0) {
		agent_problem("control socket: no descriptor table of its own (%s); not listening, so as not to "
			      "share the program's",
			      agent_strerror(-r));
		return -1;
	}
	len = mp_wire_address((int)getpid(), &sa);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		agent_problem("control socket: %s; mplace show and set cannot ask this process", agent_strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		if (errno == EADDRINUSE)
			agent_problem("control socket: the name @%s is held by another process; mplace show and set "
				      "cannot ask this process (and will say who holds it)",
				      sa.sun_path + 1);
		else
			agent_problem("control socket: bind: %s; mplace show and set cannot ask this process",
				      agent_strerror(errno));
		close(fd);
		return -1;
	}
	/* every request's sender: credentials always, a pidfd where the kernel
	 * has one (6.5) */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		agent_problem("control socket: SO_PASSCRED: %s; no requests served", agent_strerror(errno));
		close(fd);
		return -1;
	}
	ctl_passpidfd = setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one)) == 0;
	return fd;
}

static void *ctl_thread(void *arg)
{
	static char req[MP_WIRE_REQUEST_MAX + 1], out[MP_WIRE_ANSWER_MAX];
	int fd = ctl_listen();

	(void)arg;
	if (fd < 0 || atomic_load(&ctl_quit))
		return NULL;
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct sockaddr_un from;
		struct iovec iov = {.iov_base = req, .iov_len = MP_WIRE_REQUEST_MAX};
		struct msghdr mh = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cm.buf,
				    .msg_controllen = sizeof(cm.buf)};
		struct ucred cr = {.pid = 0, .uid = (uid_t)-1};
		bool have_cr = false;
		struct jw w;
		int pidfd = -1;
		ssize_t n;

		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			agent_problem("control socket: %s; no more requests", agent_strerror(errno));
			return NULL;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(cr))) {
				memcpy(&cr, CMSG_DATA(c), sizeof(cr));
				have_cr = true;
			} else if (c->cmsg_type == SCM_PIDFD && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
				memcpy(&pidfd, CMSG_DATA(c), sizeof(int));
			} else if (c->cmsg_type == SCM_RIGHTS) {
				/* nobody is to pass us descriptors: close them */
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
					int x;

					memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					close(x);
				}
			}
		}
		if (mh.msg_namelen <= offsetof(struct sockaddr_un, sun_path) || !have_cr ||
		    (mh.msg_flags & MSG_TRUNC)) {
			/* no address to answer to, or no credentials, or too long */
			if (pidfd >= 0)
				close(pidfd);
			continue;
		}
		/* the program's last thread is ending (agent_ctl_stop) */
		if (cr.pid == getpid() && atomic_load(&ctl_quit)) {
			if (pidfd >= 0)
				close(pidfd);
			return NULL;
		}
		jw_init(&w, out, sizeof(out));
		serve_one(req, (size_t)n, &cr, pidfd, &w);
		if (pidfd >= 0)
			close(pidfd);
		/* never blocks on a client that does not read */
		sendto(fd, out, w.len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&from, mh.msg_namelen);
	}
	return NULL;
}

/* A thread of the agent's own, on a stack the agent maps and places by the
 * stack policy before the thread touches it, with every signal blocked;
 * joinable, so that agent_ctl_stop can wait until it is gone. */
static int start_thread(pthread_t *ret, void *(*fn)(void *), void *arg)
{
	const struct mp_compiled *sc = agent_policy(MP_KIND_STACK);
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	pthread_attr_t attr;
	sigset_t all, old;
	char *map;
	int r;

	map = (char *)syscall(SYS_mmap, NULL, CTL_STACK_SIZE + ps, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return errno;
	/* a guard page below, as glibc's own stacks have */
	if (mprotect(map, ps, PROT_NONE) < 0) {
		r = errno;
		munmap(map, CTL_STACK_SIZE + ps);
		return r;
	}
	if (sc) {
		struct mp_compiled pc = *sc;
		struct mp_place_report rep;

		/* nothing is there yet: bound, filled by the thread's faults */
		pc.strict = false;
		r = mp_place_range(map + ps, CTL_STACK_SIZE, &pc, MP_PLACE_NO_CHECK_FREE, &rep);
		if (r < 0)
			agent_problem("stack of the agent's control thread: %s%s%s", agent_strerror(-r),
				      rep.reason[0] ? ": " : "", rep.reason);
	}
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, map + ps, CTL_STACK_SIZE);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = agent_thread_create(ret, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r)
		munmap(map, CTL_STACK_SIZE + ps);
	return r;
}

static bool anything_to_serve(void)
{
	return atomic_load(&agent.has) || agent.n_files > 0;
}

void agent_ctl_start(void)
{
	int r;

	atomic_store(&ctl_pending, false);
	if (ctl_pid == getpid() || !agent.active || !anything_to_serve())
		return;
	atomic_store(&ctl_quit, false);
	r = start_thread(&ctl_th, ctl_thread, NULL);
	if (r) {
		agent_problem("control socket: no thread: %s", agent_strerror(r));
		return;
	}
	ctl_pid = getpid();
}

bool agent_ctl_wanted(void)
{
	return ctl_pid == getpid() || atomic_load(&ctl_pending) || (agent.active && anything_to_serve());
}

void agent_ctl_stop(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, old;

	atomic_store(&ctl_pending, false);
	if (ctl_pid != getpid())
		return;
	ctl_pid = 0;
	atomic_store(&ctl_quit, true);
	/* wake it: a datagram from this process, which only it can send */
	len = mp_wire_address((int)getpid(), &sa);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		int one = 1;

		/* an address of our own (autobind), as every sender has */
		setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
		bind(fd, (struct sockaddr *)&(struct sockaddr_un){.sun_family = AF_UNIX}, sizeof(sa_family_t));
		sendto(fd, "quit", 4, MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
		close(fd);
	}
	/* a cancellation point: this runs while the thread ends */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_join(ctl_th, NULL);
	pthread_setcancelstate(old, NULL);
}

void agent_ctl_forked(void)
{
	/* the parent's thread (and its socket, in its own table) did not come
	 * along: listen once this child makes a thread of its own */
	if (ctl_pid)
		atomic_store(&ctl_pending, true);
}

void agent_ctl_thread_made(void)
{
	/* the program's threads may race here: one of them starts it */
	if (atomic_exchange(&ctl_pending, false))
		agent_ctl_start();
}

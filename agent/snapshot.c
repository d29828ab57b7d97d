/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a process's policies come from (doc/agent-protocol.md, "The system
 * agent"): the environment `mplace run` or a unit's drop-in set, or, for a
 * process started any other way while mplaced's system agent is on (the
 * agent in /etc/ld.so.preload), the daemon's snapshot of the configuration
 * (daemon/snapshot.c says its format).
 *
 * The snapshot is mapped, its selectors matched against this process (its
 * executable, command name, cgroup and unit, each read only when a scope
 * needs it), and the records of the one scope that selects it are taken,
 * already compiled.  When several select it, the daemon folds them for this
 * pid (`resolve`); when it cannot be asked, the most specific scope's
 * records are taken and that is recorded as a problem.
 *
 * Invariants: decided once, by whoever asks first (the heap's first malloc
 * or the constructor), before main; raw system calls, fixed buffers, no
 * allocation; a process no scope selects pays an open, a read of the
 * snapshot's selectors and a readlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "core/kind.h"
#include "basic/util.h"

#define SNAPSHOT_DEFAULT   "/run/mplace/snapshot"
#define RESOLVE_TIMEOUT_MS 1000

static enum agent_source source;
static const char *snap; /* the mapping, or the daemon's answer */
static size_t snap_len;
static unsigned chosen;	   /* the scope whose records apply; 0: [system] alone */
static char answer[65536]; /* the daemon's resolve answer */
static void *mapped;	   /* the snapshot's mapping, while decisions need it */
static size_t mapped_len;

/* A variable of `mplace run`'s (MPLACE_AGENT_<KIND>, _SOURCE_, _FILE_,
 * _EXE...): not MPLACE_AGENT_PATH (where mplace run finds the agent) nor
 * MPLACE_AGENT_OFF, which say nothing of policies. */
static bool any_agent_variable(void)
{
	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "MPLACE_AGENT_", 13) && strncmp(*e + 13, "PATH=", 5) && strncmp(*e + 13, "OFF=", 4))
			return true;
	return false;
}

/* The line at *pos (without its newline), advancing *pos; NULL at the end. */
static const char *next_line(const char *s, size_t len, size_t *pos, size_t *ret_n)
{
	const char *l, *nl;

	if (*pos >= len)
		return NULL;
	l = s + *pos;
	nl = memchr(l, '\n', len - *pos);
	*ret_n = nl ? (size_t)(nl - l) : len - *pos;
	*pos += *ret_n + (nl ? 1 : 0);
	return l;
}

static bool starts(const char *l, size_t n, const char *w)
{
	size_t k = strlen(w);

	return n >= k && !memcmp(l, w, k);
}

/* What the scopes may ask of this process, read once when needed. */
struct self {
	char exe[PATH_MAX];
	char comm[32];
	char cgroup[1100];
	char unit[256];
};

static void read_self(struct self *me, bool exe, bool comm, bool cgroup)
{
	ssize_t n;

	if (exe) {
		n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", me->exe, sizeof(me->exe) - 1);
		me->exe[n > 0 ? n : 0] = '\0';
	}
	if (comm)
		syscall(SYS_prctl, PR_GET_NAME, me->comm, 0, 0, 0);
	if (cgroup) {
		char buf[1100];
		int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		{
			char *v2 = mp_cgroup_v2_path(buf);

			if (v2)
				snprintf(me->cgroup, sizeof(me->cgroup), "%s", v2);
		}
		mp_cgroup_unit(me->cgroup, me->unit, sizeof(me->unit));
	}
}

/* As lib/core/combine.c matches a cgroup scope: PATH and what is below it. */
static bool cgroup_contains(const char *p, size_t n, const char *c)
{
	while (n > 1 && p[n - 1] == '/')
		n--;
	if (n == 1 && p[0] == '/')
		return true;
	return *c && !strncmp(p, c, n) && (c[n] == '\0' || c[n] == '/');
}

/* "scope ID KIND ARG": does it select this process?  Rank as the fold's:
 * cgroup 1, unit 3, exe 4, comm 5. */
static bool scope_selects(const char *l, size_t n, const struct self *me, unsigned *ret_id, int *ret_rank)
{
	char arg[PATH_MAX];
	const char *p = l + 6, *end = l + n, *kind, *a;
	unsigned id = 0;

	while (p < end && *p >= '0' && *p <= '9')
		id = id * 10 + (unsigned)(*p++ - '0');
	if (p >= end || *p++ != ' ')
		return false;
	kind = p;
	a = memchr(p, ' ', (size_t)(end - p));
	if (!a || (size_t)(end - a - 1) >= sizeof(arg))
		return false;
	memcpy(arg, a + 1, (size_t)(end - a - 1));
	arg[end - a - 1] = '\0';
	*ret_id = id;
	if (starts(kind, (size_t)(a - kind), "exe"))
		return (*ret_rank = 4, me->exe[0] && fnmatch(arg, me->exe, 0) == 0);
	if (starts(kind, (size_t)(a - kind), "comm"))
		return (*ret_rank = 5, me->comm[0] && fnmatch(arg, me->comm, 0) == 0);
	if (starts(kind, (size_t)(a - kind), "cgroup"))
		return (*ret_rank = 1, cgroup_contains(arg, strlen(arg), me->cgroup));
	if (starts(kind, (size_t)(a - kind), "unit"))
		return (*ret_rank = 3, me->unit[0] && fnmatch(arg, me->unit, 0) == 0);
	return false;
}

/* Ask mplaced (its socket next to the snapshot) to fold every scope for
 * this pid: the answer's records become the ones used.  0 or -errno. */
static int ask_daemon(const char *snapshot_path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *slash = strrchr(snapshot_path, '/');
	size_t n = 0;
	int fd, r = 0;

	if (!slash || (size_t)(slash - snapshot_path) + sizeof("/mplaced.sock") > sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, snapshot_path, (size_t)(slash - snapshot_path));
	strcpy(sa.sun_path + (slash - snapshot_path), "/mplaced.sock");
	fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_connect, fd, &sa, sizeof(sa)) < 0 || write(fd, "resolve", 7) != 7) {
		r = -errno;
		goto out;
	}
	syscall(SYS_shutdown, fd, SHUT_WR);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t got;

		if (syscall(SYS_poll, &p, 1, RESOLVE_TIMEOUT_MS) <= 0) {
			r = -ETIMEDOUT;
			goto out;
		}
		got = read(fd, answer + n, sizeof(answer) - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n == sizeof(answer) - 1) {
			r = -EMSGSIZE;
			goto out;
		}
	}
	answer[n] = '\0';
	if (strncmp(answer, "mplace-resolve/1\n", 17) || !strstr(answer, "\nend\n")) {
		r = -EBADMSG;
		goto out;
	}
	{
		const char *e = strstr(answer, "\nerror ");

		if (e) {
			const char *nl = strchrnul(e + 7, '\n');

			agent_problem("mplaced could not fold this process's scopes: %.*s", (int)(nl - e - 7), e + 7);
			r = -EINVAL;
			goto out;
		}
	}
	snap = answer;
	snap_len = n;
	chosen = 0;
out:
	close(fd);
	return r;
}

static enum agent_source decide_source(void)
{
	const char *path = getenv("MPLACE_SNAPSHOT"), *l, *v;
	bool need_exe = false, need_comm = false, need_cg = false;
	unsigned n_match = 0, best_id = 0;
	int best_rank = -1, fd;
	struct self me;
	struct stat st;
	size_t pos = 0, n;
	void *m;

	if (getauxval(AT_SECURE))
		return AGENT_SRC_NONE;
	/* before the first report; read_env reads it again */
	agent.log = (v = getenv("MPLACE_LOG")) && !strcmp(v, "1");
	if ((v = getenv("MPLACE_AGENT_OFF")) && !strcmp(v, "1"))
		return AGENT_SRC_NONE;
	if (any_agent_variable())
		return AGENT_SRC_ENV;
	if (!path || !*path)
		path = SNAPSHOT_DEFAULT;
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AGENT_SRC_NONE; /* no system agent, or mplaced not running */
	if (fstat(fd, &st) < 0 || st.st_size < 18) {
		close(fd);
		return AGENT_SRC_NONE;
	}
	/* what every process takes its placement from is root's (or, named
	 * by MPLACE_SNAPSHOT, the user's own), and nobody else may write it */
	if ((st.st_uid != 0 && st.st_uid != getuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		agent_problem("%s: owned by uid %u or writable by others; not read", path, (unsigned)st.st_uid);
		return AGENT_SRC_NONE;
	}
	m = (void *)syscall(SYS_mmap, NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return AGENT_SRC_NONE;
	snap = mapped = m;
	snap_len = mapped_len = (size_t)st.st_size;
	if (strncmp(snap, "mplace-snapshot/1\n", 18)) {
		agent_problem("%s: not a snapshot this agent reads (mplace-snapshot/1)", path);
		return AGENT_SRC_NONE;
	}
	memset(&me, 0, sizeof(me));
	while ((l = next_line(snap, snap_len, &pos, &n))) {
		if (starts(l, n, "needs")) {
			for (const char *w = l + 5; w < l + n;) {
				const char *e;

				w += *w == ' ';
				e = memchr(w, ' ', (size_t)(l + n - w));
				e = e ? e : l + n;
				need_exe |= starts(w, (size_t)(e - w), "exe");
				need_comm |= starts(w, (size_t)(e - w), "comm");
				need_cg |= starts(w, (size_t)(e - w), "cgroup") || starts(w, (size_t)(e - w), "unit");
				w = e;
			}
			read_self(&me, need_exe, need_comm, need_cg);
		} else if (starts(l, n, "scope ")) {
			unsigned id;
			int rank;

			if (scope_selects(l, n, &me, &id, &rank)) {
				n_match++;
				if (rank >= best_rank) {
					best_rank = rank;
					best_id = id;
				}
			}
		} else if (starts(l, n, "kind ") || starts(l, n, "file ") || starts(l, n, "end")) {
			break; /* the selectors come first */
		}
	}
	chosen = best_id;
	if (n_match > 1) {
		int r = ask_daemon(path);

		if (r < 0)
			agent_problem("%u scopes select this process and mplaced did not fold them (%s): only the most "
				      "specific one's policies apply",
				      n_match, agent_strerror(-r));
	}
	/* anything for the chosen scope? */
	{
		char wk[32], wf[32];
		size_t lk = (size_t)snprintf(wk, sizeof(wk), "kind %u ", chosen);
		size_t lf = (size_t)snprintf(wf, sizeof(wf), "file %u ", chosen);

		pos = 0;
		while ((l = next_line(snap, snap_len, &pos, &n)))
			if ((n > lk && !memcmp(l, wk, lk)) || (n > lf && !memcmp(l, wf, lf)))
				return AGENT_SRC_SNAPSHOT;
	}
	return AGENT_SRC_NONE;
}

/* The snapshot stays mapped only while its records are the ones in use: a
 * process it gives nothing (almost every process) keeps no trace of it in
 * its maps. */
static enum agent_source decide(void)
{
	enum agent_source s = decide_source();

	if (mapped && (s != AGENT_SRC_SNAPSHOT || snap != mapped)) {
		syscall(SYS_munmap, mapped, mapped_len);
		if (snap == mapped)
			snap = NULL, snap_len = 0;
		mapped = NULL;
	}
	return s;
}

enum agent_source agent_source(void)
{
	static _Atomic uint8_t state; /* 0 undecided, 1 deciding, 2 decided */
	static _Atomic pid_t decider;
	uint8_t expect = 0;

	if (atomic_load(&state) == 2)
		return source;
	if (!atomic_compare_exchange_strong(&state, &expect, 1)) {
		/* deciding calls libc, whose malloc comes back here: that
		 * thread is told "nothing yet" rather than waiting on itself */
		if (atomic_load(&decider) == gettid())
			return AGENT_SRC_NONE;
		while (atomic_load(&state) != 2)
			;
		return source;
	}
	atomic_store(&decider, gettid());
	source = decide();
	atomic_store(&state, 2);
	return source;
}

/* The record "kind ID NAME C<TAB>S" of the chosen scope for kind. */
int agent_snapshot_kind(enum mp_kind kind, char *compiled, size_t csize, char *src, size_t ssize)
{
	const char *name = mp_kind_name(kind), *l;
	char want[64];
	size_t pos = 0, n, w;

	w = (size_t)snprintf(want, sizeof(want), "kind %u %s ", chosen, name);
	while ((l = next_line(snap, snap_len, &pos, &n))) {
		const char *tab;

		if (n <= w || memcmp(l, want, w))
			continue;
		tab = memchr(l + w, '\t', n - w);
		if (!tab || (size_t)(tab - l - w) >= csize || (size_t)(l + n - tab - 1) >= ssize) {
			agent_problem("the snapshot's %s record is malformed or too long; ignored", name);
			return 0;
		}
		memcpy(compiled, l + w, (size_t)(tab - l - w));
		compiled[tab - l - w] = '\0';
		memcpy(src, tab + 1, (size_t)(l + n - tab - 1));
		src[l + n - tab - 1] = '\0';
		return 1;
	}
	return 0;
}

/* The i-th record "file ID GLOB<TAB>C" of the chosen scope. */
int agent_snapshot_file(unsigned i, char *glob, size_t gsize, char *compiled, size_t csize)
{
	const char *l;
	char want[32];
	size_t pos = 0, n, w;
	unsigned seen = 0;

	w = (size_t)snprintf(want, sizeof(want), "file %u ", chosen);
	while ((l = next_line(snap, snap_len, &pos, &n))) {
		const char *tab;

		if (n <= w || memcmp(l, want, w) || seen++ != i)
			continue;
		tab = memchr(l + w, '\t', n - w);
		if (!tab || (size_t)(tab - l - w) >= gsize || (size_t)(l + n - tab - 1) >= csize)
			return -EINVAL;
		memcpy(glob, l + w, (size_t)(tab - l - w));
		glob[tab - l - w] = '\0';
		memcpy(compiled, tab + 1, (size_t)(l + n - tab - 1));
		compiled[l + n - tab - 1] = '\0';
		return 1;
	}
	return 0;
}

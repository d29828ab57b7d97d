/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire between the tools and the preload agent: the kinds table, the
 * socket's name and the client side of one request (lib/wire/wire.h).
 *
 * Invariants: the tables and mp_wire_address() neither allocate nor take
 * locks (the agent uses them before main and after fork); the client side
 * allocates only the answer it returns.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/util.h"
#include "wire.h"

const struct mp_wire_kind mp_wire_kinds[MP_WIRE_N_KINDS] = {
	{MP_KIND_ALL, "POLICY"},    {MP_KIND_HEAP, "HEAP"},	  {MP_KIND_STACK, "STACK"},
	{MP_KIND_TEXT, "TEXT"},	    {MP_KIND_DATA, "DATA"},	  {MP_KIND_ANON, "ANON"},
	{MP_KIND_SHM, "SHM"},	    {MP_KIND_HUGETLB, "HUGETLB"}, {MP_KIND_MLOCKED, "MLOCKED"},
	{MP_KIND_KERNEL, "KERNEL"},
};

const struct mp_wire_kind *mp_wire_kind_of(enum mp_kind k)
{
	for (unsigned i = 0; i < MP_WIRE_N_KINDS; i++)
		if (mp_wire_kinds[i].kind == k)
			return &mp_wire_kinds[i];
	return NULL;
}

const struct mp_wire_kind *mp_wire_kind_named(const char *name)
{
	for (unsigned i = 0; i < MP_WIRE_N_KINDS; i++)
		if (!strcmp(mp_kind_name(mp_wire_kinds[i].kind), name))
			return &mp_wire_kinds[i];
	return NULL;
}

socklen_t mp_wire_address(int ns_pid, struct sockaddr_un *ret)
{
	int n;

	memset(ret, 0, sizeof(*ret));
	ret->sun_family = AF_UNIX;
	/* abstract: sun_path[0] is NUL, the name is the bytes after it, no NUL */
	n = snprintf(ret->sun_path + 1, sizeof(ret->sun_path) - 1, "mplace-agent.%d", ns_pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int mp_wire_ns_pid(int pid)
{
	char path[64], *buf, *p;
	int r, last = pid;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	r = mp_read_file(path, 1 << 16, &buf, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	p = strstr(buf, "\nNSpid:");
	if (p) {
		/* "NSpid:\t4242\t17": outermost first, the process's own last */
		p += 7;
		for (;;) {
			char *end;
			long v;

			while (*p == '\t' || *p == ' ')
				p++;
			errno = 0;
			v = strtol(p, &end, 10);
			if (end == p || errno || v <= 0 || v > INT32_MAX)
				break;
			last = (int)v;
			p = end;
		}
	}
	free(buf);
	return last;
}

/* The socket inode bound to name in /proc/PID/net/unix (the target's
 * network namespace), 0 when none. */
static int64_t name_inode(int pid, const char *name)
{
	char path[64], *buf, *line, *save = NULL;
	int64_t ino = 0;
	size_t nl = strlen(name);

	snprintf(path, sizeof(path), "/proc/%d/net/unix", pid);
	if (mp_read_file(path, 0, &buf, NULL) < 0)
		return -1;
	/* "Num RefCount Protocol Flags Type St Inode Path": path last */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t ll = strlen(line);
		unsigned long long inode;

		if (ll < nl + 2 || line[ll - nl - 1] != '@' || strcmp(line + ll - nl, name) || line[ll - nl - 2] != ' ')
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %llu", &inode) == 1) {
			ino = (int64_t)inode;
			break;
		}
	}
	free(buf);
	return ino;
}

static bool holds_inode(int pid, int64_t ino)
{
	char path[64], want[48], link[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	snprintf(want, sizeof(want), "socket:[%lld]", (long long)ino);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, want);
	}
	closedir(d);
	return found;
}

int mp_wire_holder(int pid)
{
	struct sockaddr_un sa;
	struct dirent *de;
	int ns_pid = mp_wire_ns_pid(pid), found = -ESRCH;
	int64_t ino;
	DIR *d;

	if (ns_pid < 0)
		return ns_pid;
	mp_wire_address(ns_pid, &sa);
	ino = name_inode(pid, sa.sun_path + 1);
	if (ino < 0)
		return -EACCES;
	if (ino == 0)
		return 0;
	if (holds_inode(pid, ino))
		return pid;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t v;

		if (mp_parse_uint(de->d_name, strlen(de->d_name), INT32_MAX, &v) < 0 || (int)v == pid)
			continue;
		if (holds_inode((int)v, ino)) {
			found = (int)v;
			break;
		}
	}
	closedir(d);
	return found;
}

/*
 * A datagram socket in the network namespace of process pid: abstract
 * names are per network namespace, and a container's agent binds its name
 * in the container's.  Entering it takes CAP_SYS_ADMIN; without it (or where
 * pid shares ours) the socket is made in our own, and a container's agent is
 * then not found.  setns changes the calling thread only, and we go back
 * before returning.
 */
static int socket_near(int pid)
{
	char path[64];
	struct stat there, here;
	int target, self, fd, r;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &there) < 0 || stat("/proc/thread-self/ns/net", &here) < 0 ||
	    (there.st_ino == here.st_ino && there.st_dev == here.st_dev))
		return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	target = open(path, O_RDONLY | O_CLOEXEC);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (target < 0 || self < 0 || setns(target, CLONE_NEWNET) < 0) {
		if (target >= 0)
			close(target);
		if (self >= 0)
			close(self);
		return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : 0;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* the thread would stay in the container's network: never */
		abort();
	}
	close(target);
	close(self);
	return fd < 0 ? (errno = -r, -1) : fd;
}

/* The sender's credentials of a received datagram, when the kernel gave them. */
static bool sender_of(struct msghdr *mh, struct ucred *ret)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*ret))) {
			memcpy(ret, CMSG_DATA(c), sizeof(*ret));
			return true;
		}
	}
	return false;
}

int mp_wire_ask(int pid, const char *req, size_t len, int timeout_ms, char **ret_answer, struct mp_wire_peer *ret_peer)
{
	struct sockaddr_un sa;
	sa_family_t autobind = AF_UNIX;
	socklen_t sl;
	char *buf = NULL;
	int fd, one = 1, ns_pid, r;

	if (len > MP_WIRE_REQUEST_MAX)
		return -EMSGSIZE;
	ns_pid = mp_wire_ns_pid(pid);
	if (ns_pid < 0)
		return ns_pid;
	sl = mp_wire_address(ns_pid, &sa);
	fd = socket_near(pid);
	if (fd < 0)
		return -errno;
	/* credentials on what we receive; an address of our own (autobind) so
	 * that the agent can answer */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&(struct sockaddr_un){.sun_family = autobind}, sizeof(sa_family_t)) < 0) {
		r = -errno;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sl) < 0) {
		r = -errno;
		/* a stream socket holds the name: not an agent's */
		if (r == -EPROTOTYPE) {
			r = -ENOTUNIQ;
			if (ret_peer) {
				int h = mp_wire_holder(pid);

				ret_peer->pid = h > 0 ? h : 0;
			}
		}
		goto out;
	}
	if (send(fd, req, len, MSG_NOSIGNAL) < 0) {
		r = -errno;
		goto out;
	}
	buf = malloc(MP_WIRE_ANSWER_MAX + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		union {
			char buf[CMSG_SPACE(sizeof(struct ucred))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = {.iov_base = buf, .iov_len = MP_WIRE_ANSWER_MAX};
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf)};
		struct ucred cr;
		ssize_t n;

		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			r = r < 0 ? -errno : -ETIMEDOUT;
			/* bound but silent: is it the process at all? */
			if (r == -ETIMEDOUT) {
				int h = mp_wire_holder(pid);

				if (h > 0 && h != pid) {
					r = -ENOTUNIQ;
					if (ret_peer)
						ret_peer->pid = h;
				}
			}
			goto out;
		}
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (!sender_of(&mh, &cr)) {
			r = -ENOTUNIQ;
			goto out;
		}
		if (ret_peer) {
			ret_peer->pid = cr.pid;
			ret_peer->uid = cr.uid;
		}
		/* the kernel translated the sender's pid into our namespace */
		if (cr.pid != pid) {
			r = -ENOTUNIQ;
			goto out;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			r = -EMSGSIZE;
			goto out;
		}
		buf[n] = '\0';
		*ret_answer = buf;
		buf = NULL;
		r = 0;
		break;
	}
out:
	free(buf);
	close(fd);
	return r;
}

/* CapEff has CAP_SYS_NICE, and every uid of the process is uid (a sender
 * that exec'd a set-user-ID program since is not the sender any more).
 * Read with the raw system calls: in the agent, open() is its own. */
bool mp_wire_cap_sys_nice(int pid, unsigned uid)
{
	char path[64], buf[4096], *p;
	unsigned long long cap;
	unsigned u[4];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (u[i] != uid)
			return false;
	p = strstr(buf, "\nCapEff:");
	if (!p || sscanf(p + 8, "%llx", &cap) != 1)
		return false;
	return cap & (1ULL << 23); /* CAP_SYS_NICE */
}

bool mp_wire_pidfd_alive(int pidfd)
{
	/* signal 0 checks without sending; EPERM (no right to signal it, a
	 * daemon without CAP_KILL) still says the process is there */
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

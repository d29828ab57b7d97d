/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client of mplaced's control socket (doc/daemon.md, "The socket"):
 * connect, send one request, shut the sending side, read the JSON answer
 * to its end.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/util.h"
#include "tool.h"

#define ANSWER_MAX (64u << 20)
/* a reload or a set enforces the whole configuration before it answers */
#define DAEMON_TIMEOUT_MS 30000

const char *tool_daemon_socket(void)
{
	const char *env = secure_getenv("MPLACED_SOCKET");

	return env && *env ? env : "/run/mplace/mplaced.sock";
}

int tool_daemon_ask(const char *req, struct json_object **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = tool_daemon_socket();
	struct mp_sb b;
	size_t n = strlen(req);
	int fd, r = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	while (n) {
		ssize_t w = send(fd, req, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		req += w;
		n -= (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	mp_sb_init(&b);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char buf[65536];
		ssize_t got;

		if (poll(&p, 1, DAEMON_TIMEOUT_MS) <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		mp_sb_putn(&b, buf, (size_t)got);
		if (b.len > ANSWER_MAX) {
			r = -EMSGSIZE;
			break;
		}
	}
	close(fd);
	if (r == 0 && !mp_sb_ok(&b))
		r = -ENOMEM;
	if (r == 0) {
		*ret = b.len ? json_tokener_parse(b.s) : NULL;
		if (!*ret)
			r = -EBADMSG;
	}
	mp_sb_free(&b);
	return r;
}

void tool_daemon_error(int r)
{
	if (r == -ENOENT || r == -ECONNREFUSED) {
		tool_error("mplaced is not running (nothing listens on %s)", tool_daemon_socket());
		tool_hint("start it with 'systemctl start mplaced'");
	} else if (r == -EACCES) {
		tool_error("cannot connect to %s: %s", tool_daemon_socket(), strerror(-r));
	} else if (r == -EBADMSG) {
		tool_error("mplaced's answer is not JSON");
	} else {
		tool_error("asking mplaced: %s", strerror(-r));
	}
}

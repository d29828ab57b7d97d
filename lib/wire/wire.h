/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The one wire between mplace's tools and the preload agent
 * (doc/agent-protocol.md): the kinds of memory and their environment
 * variables, the limits both ends share, the control socket's name, and the
 * client side of a request.
 *
 * The control socket is an abstract Unix datagram socket named
 * "mplace-agent.PID" (PID as the agent's own PID namespace sees it).  A
 * request is one datagram, the answer one datagram of JSON.  Datagrams, not
 * a stream: the agent serves without accepting, so a request creates no
 * descriptor in the program, and the kernel stamps every datagram with its
 * sender's credentials (SCM_CREDENTIALS), which is how each end knows who
 * it talks to.
 *
 * Abstract names belong to whoever binds them first, so a name proves
 * nothing: the client accepts an answer only when the kernel says it was
 * sent by the target process itself.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "core/kind.h"

/* A compiled policy's text, and its source text, travel whole up to this
 * many bytes (the terminating NUL included): `mplace run` refuses longer
 * ones, the agent keeps exactly this much. */
#define MP_WIRE_TEXT_MAX 8192
/* A file glob of a file:GLOB policy. */
#define MP_WIRE_GLOB_MAX 256
/* At most this many file:GLOB policies reach one agent. */
#define MP_WIRE_MAX_FILES 16
/* The largest request and the largest answer, in bytes. */
#define MP_WIRE_REQUEST_MAX (2 * MP_WIRE_TEXT_MAX + 64)
#define MP_WIRE_ANSWER_MAX  65536
/* How long a client waits for an answer. */
#define MP_WIRE_TIMEOUT_MS 2000

/* The version of this protocol, in every `show` answer ("protocol"). */
#define MP_WIRE_PROTOCOL 2

/* The kinds that travel, in the order of their variables: MPLACE_AGENT_<var>
 * holds the compiled policy, MPLACE_AGENT_SOURCE_<var> its source.  FILE is
 * not here: file policies travel as MPLACE_AGENT_FILE_<N> = GLOB TAB compiled. */
struct mp_wire_kind {
	enum mp_kind kind; /* named by mp_kind_name() */
	const char *var;   /* "HEAP" */
};
extern const struct mp_wire_kind mp_wire_kinds[];
#define MP_WIRE_N_KINDS 10

/* The entry of kind k, or NULL (MP_KIND_FILE, out of range). */
const struct mp_wire_kind *mp_wire_kind_of(enum mp_kind k);
/* The entry named name ("policy", "heap", ...), or NULL. */
const struct mp_wire_kind *mp_wire_kind_named(const char *name);

/* The control socket's address for the agent whose own getpid() is ns_pid. */
socklen_t mp_wire_address(int ns_pid, struct sockaddr_un *ret);

/* The PID process pid has in its own PID namespace (the last NSpid field
 * of /proc/PID/status; pid itself when the kernel does not say).  -errno. */
int mp_wire_ns_pid(int pid);

/* What a client learned of the peer that holds the name. */
struct mp_wire_peer {
	int pid; /* the sender of the answer, in our PID namespace; 0 unknown */
	unsigned uid;
};

/*
 * Send req (len bytes) to the agent of process pid and wait up to
 * timeout_ms for its answer, which must come from pid itself.  On success
 * *ret_answer is the answer, NUL-terminated and malloc'ed.  Errors:
 *   -ECONNREFUSED  nothing is bound to the name: no agent listens;
 *   -ENOTUNIQ      another process holds the name (an impostor, or a socket
 *                  that is not an agent's): ret_peer->pid names it when known;
 *   -ETIMEDOUT     bound, but no answer in time;
 *   -EMSGSIZE      req longer than MP_WIRE_REQUEST_MAX;
 *   other -errno   from the socket calls.
 * ret_peer may be NULL; it is filled whenever a peer was seen.
 */
int mp_wire_ask(int pid, const char *req, size_t len, int timeout_ms, char **ret_answer, struct mp_wire_peer *ret_peer);

/* Which process holds the name of pid's agent socket, from /proc/net/unix and
 * the holders' descriptors: its pid (in our namespace), 0 when nothing is
 * bound to the name, -errno when it cannot be found out. */
int mp_wire_holder(int pid);

/* Process pid holds CAP_SYS_NICE in its effective set and every one of its
 * uids is uid.  Only as good as pid is: a caller ties pid to its peer with
 * a pidfd (checked alive after this read) or accepts the race. */
bool mp_wire_cap_sys_nice(int pid, unsigned uid);

/* The process pidfd names has not exited (nor been reaped). */
bool mp_wire_pidfd_alive(int pidfd);
